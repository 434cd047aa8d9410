"""The loader's tables in the `raw` schema and the statements that write them.

Every statement is a constant of this module or built from identifiers of
providers.PROVIDERS; values (file paths, file contents, ids) are always bound
parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from outbound_events.loading.canonical import content_sha256_arrow
from outbound_events.loading.outcome import LoadContext, Rejection
from outbound_events.loading.providers import PROVIDERS, FileFormat, Provider
from outbound_events.loading.sources import Fingerprint, SourceFile

SCHEMA = "raw"
LINEAGE_COLUMNS = (
    "source_file varchar, source_position bigint, load_id varchar, loaded_at timestamp"
)
# Payloads are long JSON texts: zstd keeps them several times smaller than DuckDB's
# default string compression and is quicker to write.
PAYLOAD_COLUMN = "payload varchar using compression zstd"
# The last column of every provider table: SHA-256 of the payload's canonical JSON
# (loading.canonical), null when the payload is not JSON and for rows landed before
# the column existed.
CONTENT_SHA256_COLUMN = "content_sha256 varchar"
# The columns every landing statement writes, in this order.
RAW_INSERT_COLUMNS = "source_file, source_position, load_id, loaded_at, payload, content_sha256"

LOAD_REJECTIONS_DDL = f"""
create table if not exists {SCHEMA}.load_rejections (
    provider varchar, {LINEAGE_COLUMNS}, rejection_reason varchar, raw_text varchar
)"""

LOADED_FILES_DDL = f"""
create table if not exists {SCHEMA}.loaded_files (
    provider varchar, source_file varchar, file_sha256 varchar, file_bytes bigint,
    load_id varchar, loaded_at timestamp, records_landed bigint, records_rejected bigint
)"""


def provider_table_ddl(provider: Provider) -> str:
    event_type = "event_type varchar, " if provider.file_format is FileFormat.AVRO else ""
    return (
        f"create table if not exists {SCHEMA}.{provider.table} "
        f"({event_type}{LINEAGE_COLUMNS}, {PAYLOAD_COLUMN}, {CONTENT_SHA256_COLUMN})"
    )


def ensure_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the `raw` schema, every provider's raw table, raw.load_rejections and
    raw.loaded_files where they are missing (so a build works after loading any one
    provider). Existing tables keep their rows; a provider table of an older
    warehouse gains the content_sha256 column (null for the rows already there)."""
    connection.execute(f"create schema if not exists {SCHEMA}")
    for provider in PROVIDERS.values():
        connection.execute(provider_table_ddl(provider))
        connection.execute(
            f"alter table {SCHEMA}.{provider.table} add column if not exists "
            f"{CONTENT_SHA256_COLUMN}"
        )
    connection.execute(LOAD_REJECTIONS_DDL)
    connection.execute(LOADED_FILES_DDL)


# The scalar function landing statements call on each payload (a Python UDF that
# DuckDB feeds whole vectors of rows, see canonical.content_sha256_arrow).
CONTENT_SHA256_FUNCTION = "outbound_events_content_sha256"


def _content_sha256_udf(texts: pa.Array) -> pa.Array:
    # DuckDB resolves a UDF's annotations: canonical.py imports pyarrow only where used
    return content_sha256_arrow(texts)


def register_functions(connection: duckdb.DuckDBPyConnection) -> None:
    """Make CONTENT_SHA256_FUNCTION callable on `connection`."""
    connection.create_function(
        CONTENT_SHA256_FUNCTION,
        _content_sha256_udf,
        ["VARCHAR"],
        "VARCHAR",
        type="arrow",
        null_handling="special",  # it returns NULL for a payload that is not JSON
    )


@dataclass(frozen=True)
class FileKey:
    """What makes a file already loaded: its content, and for an empty file (every
    empty file has the same SHA-256) also its path."""

    sha256: str
    source_file: str | None

    @classmethod
    def of(cls, file: SourceFile, fingerprint: Fingerprint) -> FileKey:
        return cls(fingerprint.sha256, None if fingerprint.size else file.source_file)


def already_loaded(connection: duckdb.DuckDBPyConnection, provider: Provider) -> set[FileKey]:
    """Keys of the provider's files that an earlier load landed and whose rows are all
    still in the raw tables. A file whose rows were removed since (e.g. the raw tables
    were replaced by `outbound-events sample`) counts as not loaded, so it lands again."""
    rows = connection.execute(
        f"""
        with landed as (
            select load_id, source_file, count(*) as records
            from {SCHEMA}.{provider.table}
            group by all
        ),
        rejected as (
            select load_id, source_file, count(*) as records
            from {SCHEMA}.load_rejections
            where provider = $provider
            group by all
        )
        select files.file_sha256, files.file_bytes, files.source_file
        from {SCHEMA}.loaded_files as files
        left join landed using (load_id, source_file)
        left join rejected using (load_id, source_file)
        where files.provider = $provider
            and files.records_landed = coalesce(landed.records, 0)
            and files.records_rejected = coalesce(rejected.records, 0)
        """,
        {"provider": provider.key},
    ).fetchall()
    return {FileKey(sha256, None if size else source_file) for sha256, size, source_file in rows}


def record_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    file: SourceFile,
    fingerprint: Fingerprint | None,
    records_landed: int,
    rejections: Sequence[Rejection],
) -> None:
    """Write the file's rejections and, when its content could be read, its
    bookkeeping row (a file that could not even be read is tried again next time).
    The rejections are written in one statement, however many records they are."""
    if rejections:
        batch = pa.table(
            {
                "source_position": pa.array(
                    [rejection.source_position for rejection in rejections], pa.int64()
                ),
                "rejection_reason": pa.array(
                    [rejection.reason.value for rejection in rejections], pa.string()
                ),
                "raw_text": pa.array([rejection.raw_text for rejection in rejections], pa.string()),
            }
        )
        with registered(connection, batch) as view:
            connection.execute(
                f"insert into {SCHEMA}.load_rejections "
                "(provider, source_file, source_position, load_id, loaded_at, rejection_reason, "
                "raw_text) select $provider, $source_file, source_position, $load_id, "
                f"$loaded_at, rejection_reason, raw_text from {view}",
                {
                    "provider": context.provider,
                    "source_file": file.source_file,
                    "load_id": context.load_id,
                    "loaded_at": context.loaded_at,
                },
            ).fetchall()
    if fingerprint is None:
        return
    connection.execute(
        f"insert into {SCHEMA}.loaded_files "
        "(provider, source_file, file_sha256, file_bytes, load_id, loaded_at, "
        "records_landed, records_rejected) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            context.provider,
            file.source_file,
            fingerprint.sha256,
            fingerprint.size,
            context.load_id,
            context.loaded_at,
            records_landed,
            len(rejections),
        ],
    )


# Name under which an Arrow table of records is visible to DuckDB while inserted.
BATCH_VIEW = "outbound_events_loader_batch"


@contextmanager
def registered(connection: duckdb.DuckDBPyConnection, table: pa.Table) -> Iterator[str]:
    """Make an Arrow table readable as BATCH_VIEW for the time of the block."""
    connection.register(BATCH_VIEW, table)
    try:
        yield BATCH_VIEW
    finally:
        connection.unregister(BATCH_VIEW)


def inserted_count(result: duckdb.DuckDBPyConnection) -> int:
    """Rows an INSERT wrote (DuckDB returns them as its single result value). The
    result is read to its end: DuckDB refuses other work on a connection whose last
    result is unfinished."""
    rows = result.fetchall()
    return int(rows[0][0]) if rows else 0


def insert_batch(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    batch: pa.Table,
    constants: dict[str, object],
) -> int:
    """Insert an Arrow batch of (source_position, payload, content_sha256) rows into
    raw.`table`, every row with the bound `constants` (source_file, load_id, loaded_at,
    and for Braze event_type); return the rows written."""
    names = [name for name in constants if name != "source_file"]
    columns = ", ".join(["source_file", *names])
    values = ", ".join(f"${name}" for name in ["source_file", *names])
    with registered(connection, batch) as view:
        result = connection.execute(
            f"insert into {SCHEMA}.{table} ({columns}, source_position, payload, content_sha256) "
            f"select {values}, source_position, payload, content_sha256 from {view}",
            constants,
        )
        return inserted_count(result)


def payload_batch(positions: list[int], payloads: list[str], hashes: list[str | None]) -> pa.Table:
    return pa.table(
        {
            "source_position": pa.array(positions, pa.int64()),
            "payload": pa.array(payloads, pa.string()),
            "content_sha256": pa.array(hashes, pa.string()),
        }
    )


def missing_tables(database: Path) -> list[str]:
    """The raw tables a build reads that `database` does not have (all of them when the
    file does not exist)."""
    wanted = [f"{SCHEMA}.{provider.table}" for provider in PROVIDERS.values()]
    wanted.append(f"{SCHEMA}.load_rejections")
    if not database.exists():
        return wanted
    with duckdb.connect(str(database), read_only=True) as connection:
        present = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema = ?",
                [SCHEMA],
            ).fetchall()
        }
    return [table for table in wanted if table not in present]
