"""What `outbound-events load` says about the files and records it rejected: one line
each (file, reason code, detail), read back from raw.load_rejections for the load,
the first MAX_SHOWN of them and how many more there are."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# Rejections listed one by one after a load; the rest are counted.
MAX_SHOWN = 20
# A rejection's detail (its raw_text) is cut to this many characters on its line.
DETAIL_CHARS = 160
# Reason codes of one record of a file (the others are about a whole file, or the
# rest of a file from the record where it breaks).
RECORD_REASONS = {"record_too_large"}


@dataclass(frozen=True)
class RejectionLine:
    source_file: str
    source_position: int
    reason: str
    detail: str

    def line(self) -> str:
        """`rejected: FILE: reason: detail`; FILE names the record where it is one
        record of the file (or the file breaks after its first record)."""
        where = self.source_file
        if self.reason in RECORD_REASONS or self.source_position > 1:
            where += f" (record {self.source_position})"
        text = " ".join(self.detail.split())
        if len(text) > DETAIL_CHARS:
            text = text[: DETAIL_CHARS - 1] + "…"
        return f"rejected: {where}: {self.reason}" + (f": {text}" if text else "")


def rejections_of_load(
    connection: duckdb.DuckDBPyConnection, load_id: str, limit: int = MAX_SHOWN
) -> tuple[list[RejectionLine], int]:
    """The first `limit` rejections of the load (by file and position) and how many
    it has in all."""
    rows = connection.execute(
        "select source_file, source_position, rejection_reason, raw_text "
        "from raw.load_rejections where load_id = ? "
        "order by source_file, source_position, rejection_reason limit ?",
        [load_id, limit],
    ).fetchall()
    total_row = connection.execute(
        "select count(*) from raw.load_rejections where load_id = ?", [load_id]
    ).fetchone()
    lines = [
        RejectionLine(str(file), int(position or 0), str(reason), str(text or ""))
        for file, position, reason, text in rows
    ]
    return lines, int(total_row[0]) if total_row else len(lines)


def report_lines(lines: list[RejectionLine], total: int, load_id: str) -> list[str]:
    """One line per rejection shown, then how many more there are and where."""
    shown = [line.line() for line in lines]
    if total > len(lines):
        shown.append(
            f"… and {total - len(lines):,} more, see marts.rejected_events (after a build) "
            f"or raw.load_rejections where load_id = '{load_id}'"
        )
    return shown
