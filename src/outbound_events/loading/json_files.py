"""Landing a JSON provider's file: a JSON array, a single object, or NDJSON, plain or
gzipped, parsed in bulk by DuckDB.

Each file is first read by a separate in-memory DuckDB connection: a file DuckDB
cannot read would otherwise abort the load's transaction. Only once that read has
succeeded is the file inserted, by the load's connection, straight from DuckDB's
reader.

Shapes (see `choose_shape`):
- `.ndjson` / `.jsonl`: one raw row per non-blank line, whatever the line holds.
- `.json` whose text is a JSON array: one raw row per element (`source_position` =
  element index).
- other `.json`: NDJSON when at least half its first 1000 non-blank lines are valid
  JSON on their own; else, when it starts with `{`, one raw row holding the whole text (a single,
  possibly pretty-printed object, valid or not: staging rejects an invalid one as
  `invalid_json`); else the file is rejected as `invalid_json_file`.

Line positions are physical line numbers (1-based, blank lines counted but not
landed). A line is landed exactly as read, without its line ending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from outbound_events.loading.outcome import FileOutcome, LoadContext, Reason, describe_error
from outbound_events.loading.providers import Provider
from outbound_events.loading.sources import (
    READ_ERRORS,
    UTF8_BOM,
    SourceFile,
    decode,
    first_significant_char,
    is_gzip,
    read_content,
)
from outbound_events.loading.warehouse import SCHEMA, inserted_count, registered

# read_csv as a line reader: one VARCHAR column, a delimiter that does not occur in
# text (a line holding it makes DuckDB fail, and the file is split in Python instead),
# no quoting or escaping. Empty lines come through as NULL, so row_number() is the
# physical line number (DuckDB keeps a file's order and numbers rows in one stream).
_CSV_OPTIONS = (
    "columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '', "
    "escape = '', auto_detect = false"
)
# Blank: empty (NULL from read_csv) or only spaces and tabs. A regular expression is
# the cheapest test here: the filter runs after row_number(), in one thread.
_NOT_BLANK = "line is not null and not regexp_full_match(line, '[ \\t]*')"
_ARRAY_OPTIONS = "format = 'array', maximum_object_size = 268435456"
_COMPRESSION = {True: "gzip", False: "none"}
# How many non-blank lines of a `.json` file tell whether it is NDJSON.
SHAPE_SAMPLE_LINES = 1000


def _csv_scan(gzip: bool) -> str:
    return f"read_csv($path, {_CSV_OPTIONS}, compression = '{_COMPRESSION[gzip]}')"


def _csv_lines(gzip: bool) -> str:
    return (
        "(select source_position, line from ("
        f"select row_number() over () as source_position, line from {_csv_scan(gzip)}"
        f") where {_NOT_BLANK})"
    )


def _array_elements(gzip: bool) -> str:
    return (
        "(select row_number() over () as source_position, json as line "
        f"from read_json_objects($path, {_ARRAY_OPTIONS}, compression = '{_COMPRESSION[gzip]}'))"
    )


def _insert(provider: Provider, relation: str) -> str:
    return (
        f"insert into {SCHEMA}.{provider.table} "
        "(source_file, source_position, load_id, loaded_at, payload) "
        f"select $source_file, source_position, $load_id, $loaded_at, line from {relation}"
    )


def _lineage(context: LoadContext, file: SourceFile) -> dict[str, object]:
    return {
        "source_file": file.source_file,
        "load_id": context.load_id,
        "loaded_at": context.loaded_at,
    }


class Plan(Protocol):
    """How a file that has been read lands."""

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome: ...


@dataclass(frozen=True)
class Rejected:
    outcome: FileOutcome

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        return self.outcome


@dataclass(frozen=True)
class FromDuckdbReader:
    """Rows straight from a DuckDB reader of the file (`relation` binds $path)."""

    relation: str
    # The same records unnumbered and unfiltered, cheaper to scan (None: relation).
    scan: str | None = None

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        parameters = {**_lineage(context, file), "path": str(file.path)}
        result = connection.execute(_insert(provider, self.relation), parameters)
        return FileOutcome(inserted_count(result))


@dataclass(frozen=True)
class FromLines:
    """Rows from lines split in Python (files DuckDB's CSV reader refuses: a line
    over its size limit, a control character it would split on, bytes that are not
    UTF-8)."""

    lines: pa.Table  # source_position int64, line string

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        with registered(connection, self.lines) as view:
            result = connection.execute(_insert(provider, view), _lineage(context, file))
            return FileOutcome(inserted_count(result))


@dataclass(frozen=True)
class Document:
    """The whole file as one raw row at position 1."""

    text: str

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        connection.execute(
            f"insert into {SCHEMA}.{provider.table} "
            "(source_file, source_position, load_id, loaded_at, payload) "
            "values ($source_file, 1, $load_id, $loaded_at, $text)",
            {**_lineage(context, file), "text": self.text},
        )
        return FileOutcome(1)


def land_json_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> FileOutcome:
    """Land one JSON provider file into its raw table; file-level problems are
    returned as rejections (nothing is written for them)."""
    with duckdb.connect() as reader:
        plan = plan_file(reader, file)
    return plan.land(connection, context, provider, file)


def plan_file(reader: duckdb.DuckDBPyConnection, file: SourceFile) -> Plan:
    """Read the file with `reader` (never the load's connection) and decide how it
    lands."""
    try:
        head = first_significant_char(file)
        gzip = is_gzip(file)
    except READ_ERRORS as error:
        return _unreadable(error)
    if head is None:
        return Rejected(FileOutcome.rejected(Reason.EMPTY_FILE))

    if head == "[" and not file.named_ndjson:
        elements = _array_elements(gzip)
        try:
            reader.execute(f"select count(*) from {elements}", {"path": str(file.path)})
            return FromDuckdbReader(elements)
        except duckdb.Error:
            pass  # not an array as a whole: maybe NDJSON, see below

    lines = _read_lines(reader, file, gzip)
    if isinstance(lines, Rejected) or file.named_ndjson:
        return lines
    non_blank, valid = _line_counts(reader, file, lines)
    shape = choose_shape(head, non_blank, valid)
    if shape == "lines":
        return lines
    try:
        text = decode(read_content(file))
    except READ_ERRORS as error:
        return _unreadable(error)
    if shape == "document":
        return Document(text.strip())
    return Rejected(FileOutcome.rejected(Reason.INVALID_JSON_FILE, text))


def choose_shape(head: str, non_blank_lines: int, valid_lines: int) -> str:
    """How a `.json` file that is not a JSON array lands, from its first non-blank
    lines (up to SHAPE_SAMPLE_LINES): `lines` (NDJSON: at least half of them are JSON on
    their own), `document` (starts with `{`: one
    object, maybe pretty-printed, maybe broken) or `invalid` (anything else)."""
    if valid_lines and 2 * valid_lines >= non_blank_lines:
        return "lines"
    if head == "{":
        return "document"
    return "invalid"


def _read_lines(
    reader: duckdb.DuckDBPyConnection, file: SourceFile, gzip: bool
) -> FromDuckdbReader | FromLines | Rejected:
    try:
        reader.execute(f"select count(*) from {_csv_scan(gzip)}", {"path": str(file.path)})
        return FromDuckdbReader(_csv_lines(gzip), _csv_scan(gzip))
    except duckdb.Error:
        pass  # split in Python below, which also tells a file that cannot be read
    try:
        content = read_content(file)
    except READ_ERRORS as error:
        return _unreadable(error)
    return FromLines(split_lines(content))


def _line_counts(
    reader: duckdb.DuckDBPyConnection, file: SourceFile, lines: FromDuckdbReader | FromLines
) -> tuple[int, int]:
    query = (
        "select count(*), count(*) filter (where json_valid(line)) "
        f"from (select line from {{}} where {_NOT_BLANK} limit {SHAPE_SAMPLE_LINES})"
    )
    if isinstance(lines, FromLines):
        with registered(reader, lines.lines) as view:
            row = reader.execute(query.format(view)).fetchone()
    else:
        scan = lines.scan or lines.relation
        row = reader.execute(query.format(scan), {"path": str(file.path)}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def split_lines(content: bytes) -> pa.Table:
    """Non-blank lines of `content` with their physical line numbers, as DuckDB's
    line reader would give them (line ending and byte-order mark dropped)."""
    positions: list[int] = []
    texts: list[str] = []
    for number, line in enumerate(content.removeprefix(UTF8_BOM).split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if line.strip(b" \t"):
            positions.append(number)
            texts.append(decode(line))
    return pa.table(
        {
            "source_position": pa.array(positions, pa.int64()),
            "line": pa.array(texts, pa.string()),
        }
    )


def _unreadable(error: BaseException) -> Rejected:
    return Rejected(FileOutcome.rejected(Reason.UNREADABLE_FILE, describe_error(error)))
