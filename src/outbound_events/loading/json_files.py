"""Landing a JSON provider's file: a JSON array, a single object, or NDJSON, plain or
gzipped, parsed in bulk by DuckDB where it can.

Each file is first read by a separate in-memory DuckDB connection: a file DuckDB
cannot read would otherwise abort the load's transaction. Only once that read has
succeeded is the file inserted, by the load's connection, straight from DuckDB's
reader; files DuckDB's readers refuse are split into lines in Python, streamed.
DuckDB's line reader is only trusted when its lines account for every byte of the
content (it can drop a last line of more than 32 MB without an error). DuckDB never
sees the file's own path (its readers would expand `*`, `?`, `[...]` in it), only a
name of the open file (sources.duckdb_path).

Before any shape is tried, the start of the content tells binary files: an Avro
container, an archive, compressed data, UTF-16 text, or NUL bytes in lines that are
mostly not text make the whole file a rejection (`not_json`, or `not_utf8` for UTF-16).

Shapes (see `choose_shape`):
- `.ndjson` / `.jsonl`: one raw row per non-blank line, whatever the line holds.
- `.json` whose text is a JSON array: one raw row per element (`source_position` =
  element index).
- other `.json`: NDJSON when at least half its first 1000 non-blank lines are valid
  JSON on their own; else, when it starts with `{`, one raw row holding the whole text
  (a single, possibly pretty-printed object, valid or not: staging rejects an invalid
  one as `invalid_json`); else the file is rejected as `invalid_json_file`. Such a
  `.json` file that is not UTF-8 is rejected as a whole as `not_utf8`, one holding a
  NUL byte as `not_json`.

Records: a line, an element or a whole document over the record size limit
(LoadContext.max_record_bytes) is not landed but rejected as `record_too_large` with
its position and the start of its text; an NDJSON line that is not UTF-8 is rejected
as `not_utf8` ("not UTF-8 at byte N of the line"), one holding a NUL byte as
`not_json` ("not JSON: a NUL byte at byte N of the line"). The records around them
land.

Trailing NUL padding (NUL bytes, maybe with whitespace, ending the content: what a
writer that stopped leaves) is no record: the content before it lands as if it were
the whole file (read from a stand-in), and the padding is one `not_json` rejection
saying so ("NUL padding at the end of the file: N bytes from byte M on ..."), at the
position after the file's last one (its lines, or array elements, plus one).

Line positions are physical line numbers (1-based, blank lines counted but not
landed). A line is landed exactly as read, without its line ending. Every landed
record carries content_sha256 (loading.canonical), computed in the landing statement
(DuckDB calls it on whole vectors) or per Python batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol

import duckdb
import pyarrow as pa

from outbound_events.loading.canonical import content_sha256_many
from outbound_events.loading.hash_workers import HashWorkers
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
    UTF8_BOM,
    Line,
    SourceFile,
    binary_content,
    content_size,
    count_lines,
    decode,
    duckdb_path,
    find_padding,
    first_significant_char,
    is_gzip,
    not_utf8_text,
    read_document,
    read_head,
    read_lines,
    write_standin,
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
# Lines over read_csv's max_line_size (2 MB) or not UTF-8 make it fail too (or, for a
# last line over 32 MB, vanish: see `_accounts_for_content`).
_CSV_OPTIONS = (
    "columns = {'line': 'VARCHAR'}, header = false, delim = chr(1), quote = '', "
    "escape = '', auto_detect = false"
)
# Blank: empty (NULL from read_csv) or only spaces and tabs. A regular expression is
# the cheapest test here: the filter runs after row_number(), in one thread.
_NOT_BLANK = "line is not null and not regexp_full_match(line, '[ \\t]*')"
_HAS_NUL = "contains(line, chr(0))"
# Elements up to 256 MB are read (and then rejected when over the record limit).
_ARRAY_OPTIONS = "format = 'array', maximum_object_size = 268435456"
_COMPRESSION = {True: "gzip", False: "none"}
# How many non-blank lines of a `.json` file tell whether it is NDJSON.
SHAPE_SAMPLE_LINES = 1000
# A Python batch of lines is inserted when it holds this many lines or bytes.
BATCH_LINES = 50_000
BATCH_BYTES = 32 * 1024 * 1024
# Files of at least this many records (lines or elements) are hashed by worker
# processes, in batches of HASH_BATCH_ROWS rows (hash_workers.py).
PARALLEL_HASH_RECORDS = 100_000
HASH_BATCH_ROWS = 65_536


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


def nul_line(position: int, byte: int, text: str) -> Rejection:
    """A line holding a NUL byte (at `byte`, 1-based), `text` its start with NUL bytes
    (and bytes that are not UTF-8) shown as escapes."""
    where = f"not JSON: a NUL byte at byte {byte} of the line: {text}"
    return Rejection(Reason.NOT_JSON, position, where[:RECORD_TEXT_CHARS])


def _escaped(text: str) -> str:
    return text.replace("\x00", "\\x00")


class Plan(Protocol):
    """How a file that has been read lands; `file` is the file the plan was made
    for (the rows carry its source_file)."""

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
    # Told by NUL bytes (which may be padding at the end: see plan_file).
    nul: bool = False
    # The whole file is binary (its start told so).
    binary: bool = False

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        return self.outcome

    def reason(self) -> Reason | None:
        rejections = self.outcome.rejections
        return rejections[0].reason if len(rejections) == 1 else None


@dataclass(frozen=True)
class FromDuckdbReader:
    """Rows straight from a DuckDB reader of the file (`relation` binds $path, the
    file's name for DuckDB), those over the record limit or holding a NUL byte left
    out (`rejections` lists them)."""

    relation: str
    path: str
    # The same records unnumbered and unfiltered, cheaper to scan (None: relation).
    scan: str | None = None
    rejections: tuple[Rejection, ...] = ()
    records: int = 0  # rows of the scan: lines (blank ones too), or array elements
    chars: int = 0  # bytes of UTF-8 in them
    nul_records: int = 0  # records holding a NUL byte

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        parameters = {
            **_lineage(context, file),
            "path": self.path,
            "max_bytes": context.max_record_bytes,
        }
        without_nul = f" and not {_HAS_NUL}" if self.nul_records else ""
        if self.records >= PARALLEL_HASH_RECORDS:
            landed = _land_hashed_in_workers(
                connection, provider, file, self, parameters, without_nul
            )
            return FileOutcome(landed, list(self.rejections))
        result = connection.execute(
            f"insert into {SCHEMA}.{provider.table} ({RAW_INSERT_COLUMNS}) "
            "select $source_file, source_position, $load_id, $loaded_at, line, "
            f"{CONTENT_SHA256_FUNCTION}(line) from {self.relation} "
            f"where strlen(line) <= $max_bytes{without_nul}",
            parameters,
        )
        return FileOutcome(inserted_count(result), list(self.rejections))


def _land_hashed_in_workers(
    connection: duckdb.DuckDBPyConnection,
    provider: Provider,
    file: SourceFile,
    plan: FromDuckdbReader,
    parameters: dict[str, object],
    without_nul: str,
) -> int:
    """FromDuckdbReader.land for a large file: the same rows, read by a separate
    in-memory DuckDB connection in Arrow batches, hashed by HashWorkers on every core
    while the batches before are inserted."""
    lineage = {name: parameters[name] for name in ("source_file", "load_id", "loaded_at")}
    landed = 0
    with duckdb.connect() as reader, HashWorkers() as workers:
        records = reader.sql(
            f"select source_position, line as payload from {plan.relation} "
            f"where strlen(line) <= $max_bytes{without_nul}",
            params={"path": plan.path, "max_bytes": parameters["max_bytes"]},
        ).to_arrow_reader(HASH_BATCH_ROWS)
        batches = ((batch, batch.column(1)) for batch in records if batch.num_rows)
        for batch, hashes in workers.hashed(batches):
            table = pa.Table.from_batches([batch]).append_column("content_sha256", hashes)
            landed += insert_batch(connection, provider.table, table, lineage)
    return landed


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


@dataclass(frozen=True)
class Padded:
    """A file ending in NUL padding: its content before the padding (`standin`) lands
    by `plan`, and the padding is one rejection."""

    plan: Plan
    standin: SourceFile
    padding: Rejection

    def land(
        self,
        connection: duckdb.DuckDBPyConnection,
        context: LoadContext,
        provider: Provider,
        file: SourceFile,
    ) -> FileOutcome:
        outcome = self.plan.land(connection, context, provider, self.standin)
        outcome.rejections.append(self.padding)
        return outcome


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
    the limit, not UTF-8 or holding a NUL byte."""
    for line in read_lines(file, max_bytes):
        yield _classify(line)


def _classify(line: Line) -> tuple[int, str] | Rejection:
    if line.too_large:
        return too_large(line.number, decode(line.data))
    nul = line.data.find(b"\x00")
    try:
        text = line.data.decode("utf-8")
    except UnicodeDecodeError as error:
        if nul == -1 or error.start < nul:
            where = " of the line"
            text = not_utf8_text(error.start + 1, line.data[error.start], where, line.data,
                                 RECORD_TEXT_CHARS)  # fmt: skip
            return Rejection(Reason.NOT_UTF8, line.number, text)
    if nul != -1:
        return nul_line(line.number, nul + 1, decode(line.data))
    return line.number, text


def land_json_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> FileOutcome:
    """Land one JSON provider file into its raw table; file-level problems are
    returned as rejections (nothing is written for them), also an unexpected error
    while the file is read (`unreadable_file`, naming the error)."""
    with ExitStack() as resources:
        try:
            with duckdb.connect() as reader:
                plan = plan_file(reader, file, context.max_record_bytes, resources)
        except (MemoryError, duckdb.OutOfMemoryException):
            raise
        except Exception as error:  # the reader's own errors, a file it cannot make sense of
            plan = _unreadable(error)
        return plan.land(connection, context, provider, file)


def plan_file(
    reader: duckdb.DuckDBPyConnection, file: SourceFile, max_bytes: int, resources: ExitStack
) -> Plan:
    """Read the file with `reader` (never the load's connection) and decide how it
    lands. Files it opens (and a stand-in it writes) stay open until `resources`
    closes. When NUL bytes were seen, trailing NUL padding is looked for: if there is
    some, the content before it is planned instead (from a stand-in) and the padding
    becomes one rejection."""
    plan = _plan_content(reader, file, max_bytes, resources)
    if not _may_end_in_padding(plan):
        return plan
    try:
        padding = find_padding(file)
        if padding is None:
            return plan
        standin = write_standin(file, padding.offset, resources)
    except READ_ERRORS as error:
        return _unreadable(error)
    inner = _plan_content(reader, standin, max_bytes, resources)
    if isinstance(inner, Rejected) and inner.binary:
        return inner  # binary before its padding too: the whole file is rejected
    try:
        last = inner.records if isinstance(inner, FromDuckdbReader) else count_lines(standin)
    except READ_ERRORS as error:
        return _unreadable(error)
    rejection = Rejection(Reason.NOT_JSON, last + 1, padding.text())
    if isinstance(inner, Rejected) and inner.reason() is Reason.EMPTY_FILE:
        return Rejected(FileOutcome(0, [rejection]))  # nothing but the padding
    return Padded(inner, standin, rejection)


def _may_end_in_padding(plan: Plan) -> bool:
    """Whether reading the file met NUL bytes (or the file was split in Python, where
    a line's NUL bytes beyond its first few KiB are not looked at when it is too
    large)."""
    if isinstance(plan, FromDuckdbReader):
        return plan.nul_records > 0
    if isinstance(plan, Rejected):
        return plan.nul
    return isinstance(plan, FromLines)


def _plan_content(
    reader: duckdb.DuckDBPyConnection, file: SourceFile, max_bytes: int, resources: ExitStack
) -> Plan:
    try:
        head = first_significant_char(file)
        gzip = is_gzip(file)
        start = read_head(file, SNIFF_BYTES)
        binary = binary_content(start, whole=len(start) < SNIFF_BYTES)
        path = duckdb_path(file, resources)
    except READ_ERRORS as error:
        return _unreadable(error)
    if head is None:
        return Rejected(FileOutcome.rejected(Reason.EMPTY_FILE))
    if binary is not None:
        outcome = FileOutcome.rejected(Reason(binary.reason), binary.text)
        return Rejected(outcome, nul=binary.nul, binary=True)

    if head == "[" and not file.named_ndjson:
        elements = _array_elements(gzip)
        try:
            return _from_reader(reader, path, elements, elements, max_bytes)
        except duckdb.Error:
            pass  # not an array as a whole: maybe NDJSON, see below

    lines = _read_lines(reader, file, path, gzip, max_bytes)
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
    bad = document.bad_byte
    if document.nul is not None and (bad is None or document.nul < bad[0]):
        text = f"not JSON: a NUL byte at byte {document.nul}: {decode(document.start)}"
        return Rejected(FileOutcome.rejected(Reason.NOT_JSON, text), nul=True)
    if bad is not None:
        position, value = bad
        text = not_utf8_text(position, value, "", document.start, RAW_TEXT_MAX_CHARS)
        return Rejected(FileOutcome.rejected(Reason.NOT_UTF8, text))
    if shape == "document":
        if document.text is None:  # too large
            return Rejected(FileOutcome(0, [too_large(1, decode(document.start).strip())]))
        return Document(document.text)
    return Rejected(FileOutcome.rejected(Reason.INVALID_JSON_FILE, decode(document.start)))


def _from_reader(
    reader: duckdb.DuckDBPyConnection,
    path: str,
    relation: str,
    scan: str,
    max_bytes: int,
) -> FromDuckdbReader:
    """Read the whole file with DuckDB's reader `scan` (raising duckdb.Error when it
    cannot) and note the records of `relation` (the same, numbered) over the limit or
    holding a NUL byte."""
    parameters = {"path": path, "max_bytes": max_bytes}
    [(records, chars, oversized, nul_records)] = reader.execute(
        "select count(*), coalesce(sum(strlen(line)), 0), "
        "count(*) filter (where strlen(line) > $max_bytes), "
        f"count(*) filter (where {_HAS_NUL}) from {scan}",
        parameters,
    ).fetchall()
    rejections: list[Rejection] = []
    if oversized:
        rows = reader.execute(
            f"select source_position, left(line, {RECORD_TEXT_CHARS}) from {relation} "
            "where strlen(line) > $max_bytes",
            parameters,
        ).fetchall()
        rejections.extend(too_large(position, _escaped(text)) for position, text in rows)
    if nul_records:
        rows = reader.execute(
            "select source_position, strlen(left(line, instr(line, chr(0)) - 1)) + 1, "
            f"left(line, {RECORD_TEXT_CHARS}) from {relation} "
            f"where {_HAS_NUL} and strlen(line) <= $max_bytes",
            parameters,
        ).fetchall()
        rejections.extend(nul_line(position, byte, _escaped(text)) for position, byte, text in rows)
    rejections.sort(key=lambda rejection: rejection.source_position)
    return FromDuckdbReader(
        relation,
        path,
        None if scan == relation else scan,
        tuple(rejections),
        int(records),
        int(chars),
        int(nul_records),
    )


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
    reader: duckdb.DuckDBPyConnection, file: SourceFile, path: str, gzip: bool, max_bytes: int
) -> FromDuckdbReader | FromLines | Rejected:
    try:
        lines = _from_reader(reader, path, _csv_lines(gzip), _csv_scan(gzip), max_bytes)
        if _accounts_for_content(file, lines):
            return lines
    except (duckdb.Error, *READ_ERRORS):
        pass  # split in Python below, which also tells a file that cannot be read
    try:
        for _ in read_lines(file, max_bytes):
            pass
    except READ_ERRORS as error:
        return _unreadable(error)
    return FromLines()


def _accounts_for_content(file: SourceFile, lines: FromDuckdbReader) -> bool:
    """Whether DuckDB's lines hold every byte of the content: their bytes plus one line
    ending (`\\n` or `\\r\\n`) after each (but maybe the last), plus maybe a
    byte-order mark. DuckDB's reader drops a last line over 32 MB without an error;
    its lines are then not used."""
    size, modulus = content_size(file)
    if _adds_up(size, modulus, lines.records, lines.chars):
        return True
    if modulus is None:
        return False
    size, _ = content_size(file, exact=True)  # e.g. gzip of several members
    return _adds_up(size, None, lines.records, lines.chars)


def _adds_up(size: int, modulus: int | None, records: int, chars: int) -> bool:
    for bom in (0, len(UTF8_BOM)):
        for ending in (1, 2):
            for endings in (records, records - 1):
                difference = size - (bom + chars + ending * endings)
                if difference % modulus == 0 if modulus else difference == 0:
                    return True
    return False


def _line_counts(
    reader: duckdb.DuckDBPyConnection,
    file: SourceFile,
    lines: FromDuckdbReader | FromLines,
    max_bytes: int,
) -> tuple[int, int]:
    """(non-blank lines, of which valid JSON) among the first SHAPE_SAMPLE_LINES
    non-blank lines; a line over the limit, not UTF-8 or holding a NUL byte counts as
    not JSON."""
    query = (
        "select count(*), count(*) filter (where strlen(line) <= $max_bytes "
        f"and not {_HAS_NUL} and json_valid(line)) "
        f"from (select line from {{}} where {_NOT_BLANK} limit {SHAPE_SAMPLE_LINES})"
    )
    if isinstance(lines, FromDuckdbReader):
        scan = lines.scan or lines.relation
        parameters = {"path": lines.path, "max_bytes": max_bytes}
        [(non_blank, valid)] = reader.execute(query.format(scan), parameters).fetchall()
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
