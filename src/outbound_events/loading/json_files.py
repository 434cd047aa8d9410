"""Landing a JSON provider's file: a JSON array, a single object, or NDJSON, plain or
gzipped, parsed in bulk by DuckDB where it can.

Each file is first read by a separate in-memory DuckDB connection: a file DuckDB
cannot read would otherwise abort the load's transaction. Only once that read has
succeeded is the file inserted, by the load's connection, straight from DuckDB's
reader; files DuckDB's readers refuse are split into lines in Python, streamed.

Before any shape is tried, the start of the content tells binary files: an Avro
container, an archive, compressed data, UTF-16 text or NUL bytes make the whole file
a rejection (`not_json`, or `not_utf8` for UTF-16).

Shapes (see `choose_shape`):
- `.ndjson` / `.jsonl`: one raw row per non-blank line, whatever the line holds.
- `.json` whose text is a JSON array: one raw row per element (`source_position` =
  element index).
- other `.json`: NDJSON when at least half its first 1000 non-blank lines are valid
  JSON on their own; else, when it starts with `{`, one raw row holding the whole text
  (a single, possibly pretty-printed object, valid or not: staging rejects an invalid
  one as `invalid_json`); else the file is rejected as `invalid_json_file`. Such a
  `.json` file that is not UTF-8 is rejected as a whole as `not_utf8`.

Records: a line, an element or a whole document over the record size limit
(LoadContext.max_record_bytes) is not landed but rejected as `record_too_large` with
its position and the start of its text; an NDJSON line that is not UTF-8 is rejected
as `not_utf8` ("not UTF-8 at byte N of the line"). The records around them land.

Line positions are physical line numbers (1-based, blank lines counted but not
landed). A line is landed exactly as read, without its line ending. Every landed
record carries content_sha256 (loading.canonical), computed in the landing statement
(DuckDB calls it on whole vectors) or per Python batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from outbound_events.loading.canonical import content_sha256_many
from outbound_events.loading.outcome import (
    RAW_TEXT_MAX_CHARS,
    RECORD_TEXT_CHARS,
    FileOutcome,
    LoadContext,
    Reason,
    Rejection,
    describe_error,
    too_large,
)
from outbound_events.loading.providers import Provider
from outbound_events.loading.sources import (
    READ_ERRORS,
    SNIFF_BYTES,
    Line,
    SourceFile,
    binary_content,
    decode,
    first_significant_char,
    is_gzip,
    not_utf8_text,
    read_document,
    read_head,
    read_lines,
)
from outbound_events.loading.warehouse import (
    CONTENT_SHA256_FUNCTION,
    RAW_INSERT_COLUMNS,
    SCHEMA,
    insert_batch,
    inserted_count,
    payload_batch,
    registered,
)

# read_csv as a line reader: one VARCHAR column, a delimiter that does not occur in
# text (a line holding it makes DuckDB fail, and the file is split in Python instead),
# no quoting or escaping. Empty lines come through as NULL, so row_number() is the
# physical line number (DuckDB keeps a file's order and numbers rows in one stream).
# Lines over read_csv's max_line_size (2 MB) or not UTF-8 make it fail too.
_CSV_OPTIONS = (
    "columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '', "
    "escape = '', auto_detect = false"
)
# Blank: empty (NULL from read_csv) or only spaces and tabs. A regular expression is
# the cheapest test here: the filter runs after row_number(), in one thread.
_NOT_BLANK = "line is not null and not regexp_full_match(line, '[ \\t]*')"
# Elements up to 256 MB are read (and then rejected when over the record limit).
_ARRAY_OPTIONS = "format = 'array', maximum_object_size = 268435456"
_COMPRESSION = {True: "gzip", False: "none"}
# How many non-blank lines of a `.json` file tell whether it is NDJSON.
SHAPE_SAMPLE_LINES = 1000
# A Python batch of lines is inserted when it holds this many lines or bytes.
BATCH_LINES = 50_000
BATCH_BYTES = 32 * 1024 * 1024


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
    """Rows straight from a DuckDB reader of the file (`relation` binds $path), those
    over the record limit left out (`rejections` lists them)."""

    relation: str
    # The same records unnumbered and unfiltered, cheaper to scan (None: relation).
    scan: str | None = None
    rejections: tuple[Rejection, ...] = ()

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        parameters = {
            **_lineage(context, file),
            "path": str(file.path),
            "max_bytes": context.max_record_bytes,
        }
        result = connection.execute(
            f"insert into {SCHEMA}.{provider.table} ({RAW_INSERT_COLUMNS}) "
            "select $source_file, source_position, $load_id, $loaded_at, line, "
            f"{CONTENT_SHA256_FUNCTION}(line) from {self.relation} "
            "where strlen(line) <= $max_bytes",
            parameters,
        )
        return FileOutcome(inserted_count(result), list(self.rejections))


@dataclass(frozen=True)
class FromLines:
    """Rows from the file's lines split in Python, streamed (files DuckDB's line
    reader refuses: a line over its size limit, a control character it would split
    on, bytes that are not UTF-8)."""

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        outcome = FileOutcome()
        positions: list[int] = []
        texts: list[str] = []
        size = 0
        for item in classified_lines(file, context.max_record_bytes):
            if isinstance(item, Rejection):
                outcome.rejections.append(item)
                continue
            positions.append(item[0])
            texts.append(item[1])
            size += len(item[1])
            if len(texts) >= BATCH_LINES or size >= BATCH_BYTES:
                outcome.records_landed += _insert_texts(connection, context, provider, file,
                                                        positions, texts)  # fmt: skip
                positions, texts, size = [], [], 0
        if texts:
            outcome.records_landed += _insert_texts(
                connection, context, provider, file, positions, texts
            )
        return outcome


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
        landed = _insert_texts(connection, context, provider, file, [1], [self.text])
        return FileOutcome(landed)


def _insert_texts(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
    positions: list[int],
    texts: list[str],
) -> int:
    batch = payload_batch(positions, texts, content_sha256_many(texts))
    return insert_batch(connection, provider.table, batch, _lineage(context, file))


def classified_lines(file: SourceFile, max_bytes: int) -> Iterator[tuple[int, str] | Rejection]:
    """(line number, text) of each non-blank line, or the Rejection of a line over
    the limit or not UTF-8."""
    for line in read_lines(file, max_bytes):
        yield _classify(line)


def _classify(line: Line) -> tuple[int, str] | Rejection:
    if line.too_large:
        return too_large(line.number, decode(line.data))
    try:
        return line.number, line.data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = " of the line"
        text = not_utf8_text(error.start + 1, line.data[error.start], where, line.data,
                             RECORD_TEXT_CHARS)  # fmt: skip
        return Rejection(Reason.NOT_UTF8, line.number, text)


def land_json_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> FileOutcome:
    """Land one JSON provider file into its raw table; file-level problems are
    returned as rejections (nothing is written for them)."""
    with duckdb.connect() as reader:
        plan = plan_file(reader, file, context.max_record_bytes)
    return plan.land(connection, context, provider, file)


def plan_file(reader: duckdb.DuckDBPyConnection, file: SourceFile, max_bytes: int) -> Plan:
    """Read the file with `reader` (never the load's connection) and decide how it
    lands."""
    try:
        head = first_significant_char(file)
        gzip = is_gzip(file)
        binary = binary_content(read_head(file, SNIFF_BYTES))
    except READ_ERRORS as error:
        return _unreadable(error)
    if head is None:
        return Rejected(FileOutcome.rejected(Reason.EMPTY_FILE))
    if binary is not None:
        return Rejected(FileOutcome.rejected(Reason(binary.reason), binary.text))

    if head == "[" and not file.named_ndjson:
        elements = _array_elements(gzip)
        try:
            return _from_reader(reader, file, elements, elements, max_bytes)
        except duckdb.Error:
            pass  # not an array as a whole: maybe NDJSON, see below

    lines = _read_lines(reader, file, gzip, max_bytes)
    if isinstance(lines, Rejected) or file.named_ndjson:
        return lines
    try:
        non_blank, valid = _line_counts(reader, file, lines, max_bytes)
    except READ_ERRORS as error:
        return _unreadable(error)
    shape = choose_shape(head, non_blank, valid)
    if shape == "lines":
        return lines
    try:
        document = read_document(file, max_bytes, 4 * RAW_TEXT_MAX_CHARS)
    except READ_ERRORS as error:
        return _unreadable(error)
    if document.bad_byte is not None:
        position, value = document.bad_byte
        text = not_utf8_text(position, value, "", document.start, RAW_TEXT_MAX_CHARS)
        return Rejected(FileOutcome.rejected(Reason.NOT_UTF8, text))
    if shape == "document":
        if document.text is None:  # too large
            return Rejected(FileOutcome(0, [too_large(1, decode(document.start).lstrip())]))
        return Document(document.text)
    return Rejected(FileOutcome.rejected(Reason.INVALID_JSON_FILE, decode(document.start)))


def _from_reader(
    reader: duckdb.DuckDBPyConnection,
    file: SourceFile,
    relation: str,
    scan: str,
    max_bytes: int,
) -> FromDuckdbReader:
    """Read the whole file with DuckDB's reader `scan` (raising duckdb.Error when it
    cannot) and note the records of `relation` (the same, numbered) over the limit."""
    parameters = {"path": str(file.path), "max_bytes": max_bytes}
    [(oversized,)] = reader.execute(
        f"select count(*) filter (where strlen(line) > $max_bytes) from {scan}", parameters
    ).fetchall()
    rejections: tuple[Rejection, ...] = ()
    if oversized:
        rows = reader.execute(
            f"select source_position, left(line, {RECORD_TEXT_CHARS}) from {relation} "
            "where strlen(line) > $max_bytes order by source_position",
            parameters,
        ).fetchall()
        rejections = tuple(too_large(position, text) for position, text in rows)
    return FromDuckdbReader(relation, None if scan == relation else scan, rejections)


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
    reader: duckdb.DuckDBPyConnection, file: SourceFile, gzip: bool, max_bytes: int
) -> FromDuckdbReader | FromLines | Rejected:
    try:
        return _from_reader(reader, file, _csv_lines(gzip), _csv_scan(gzip), max_bytes)
    except duckdb.Error:
        pass  # split in Python below, which also tells a file that cannot be read
    try:
        for _ in read_lines(file, max_bytes):
            pass
    except READ_ERRORS as error:
        return _unreadable(error)
    return FromLines()


def _line_counts(
    reader: duckdb.DuckDBPyConnection,
    file: SourceFile,
    lines: FromDuckdbReader | FromLines,
    max_bytes: int,
) -> tuple[int, int]:
    """(non-blank lines, of which valid JSON) among the first SHAPE_SAMPLE_LINES
    non-blank lines; a line over the limit or not UTF-8 counts as not JSON."""
    query = (
        "select count(*), count(*) filter (where json_valid(line)) "
        f"from (select line from {{}} where {_NOT_BLANK} limit {SHAPE_SAMPLE_LINES})"
    )
    if isinstance(lines, FromDuckdbReader):
        scan = lines.scan or lines.relation
        [(non_blank, valid)] = reader.execute(
            query.format(scan), {"path": str(file.path)}
        ).fetchall()
        return int(non_blank), int(valid)
    sample = 0
    texts: list[str] = []
    for item in classified_lines(file, max_bytes):
        sample += 1
        if not isinstance(item, Rejection):
            texts.append(item[1])
        if sample == SHAPE_SAMPLE_LINES:
            break
    with registered(reader, pa.table({"line": pa.array(texts, pa.string())})) as view:
        [(valid,)] = reader.execute(
            f"select count(*) filter (where json_valid(line)) from {view}"
        ).fetchall()
    return sample, int(valid)


def _unreadable(error: BaseException) -> Rejected:
    return Rejected(FileOutcome.rejected(Reason.UNREADABLE_FILE, describe_error(error)))
