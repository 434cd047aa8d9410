"""One `load` invocation: find the files, land each new one, all in one transaction."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from outbound_events.loading import publish
from outbound_events.loading.avro_files import land_avro_file
from outbound_events.loading.json_files import land_json_file
from outbound_events.loading.limits import max_record_bytes
from outbound_events.loading.outcome import (
    FileOutcome,
    LoadContext,
    Reason,
    RecordError,
    describe_error,
)
from outbound_events.loading.providers import PROVIDERS, FileFormat, Provider
from outbound_events.loading.sources import (
    READ_ERRORS,
    FoundFiles,
    SourceFile,
    find_files,
    fingerprint,
)
from outbound_events.loading.warehouse import (
    SCHEMA,
    FileKey,
    already_loaded,
    ensure_tables,
    record_file,
    register_functions,
)
from outbound_events.loading.warehouse_lock import NotAWarehouseError, WarehouseInUseError, connect


class UnknownProviderError(ValueError):
    """A provider key the loader does not know."""


class LoadFailedError(RuntimeError):
    """A load failed part-way and was rolled back: the warehouse is as it was."""


@dataclass
class LoadSummary:
    provider: str
    load_id: str
    files_loaded: int = 0
    records_landed: int = 0
    records_rejected: int = 0
    files_skipped: int = 0

    def line(self) -> str:
        """One line: files loaded (every new file, also one whose content was
        rejected), records landed, rejections, files skipped as already loaded."""
        return (
            f"{self.provider}: {_count(self.files_loaded, 'file')} loaded, "
            f"{_count(self.records_landed, 'record')} landed, {self.records_rejected:,} rejected, "
            f"{_count(self.files_skipped, 'file')} skipped as already loaded "
            f"(load id {self.load_id})"
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def provider_for(key: str) -> Provider:
    try:
        return PROVIDERS[key]
    except KeyError:
        known = ", ".join(PROVIDERS)
        raise UnknownProviderError(f"unknown provider {key!r} (known: {known})") from None


def files_to_load(provider: Provider, paths: Iterable[Path]) -> FoundFiles:
    """The provider's files at `paths` and what was skipped (see sources.find_files)."""
    return find_files(paths, provider)


def new_context(provider: Provider) -> LoadContext:
    now = datetime.now(UTC).replace(tzinfo=None)
    load_id = f"load-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    return LoadContext(provider.key, load_id, now, max_record_bytes())


def load_files(
    provider: Provider,
    files: Sequence[SourceFile],
    database: Path,
    on_file_done: Callable[[SourceFile], None] | None = None,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    publish_to: Path | None = None,
) -> LoadSummary:
    """Land `files` into the warehouse `database` in one transaction. Files whose
    content was loaded before are skipped; file-level problems land in
    raw.load_rejections, also any unexpected error while one file is read (the rows
    landed from it are removed again; `unreadable_file`, naming the error): the other
    files still land. A failure of the warehouse itself (or running out of memory)
    rolls the whole load back (a warehouse file the load created is removed again)
    and raises LoadFailedError naming the file (and the record, where one is to
    blame). While another process
    holds the warehouse, wait up to `wait` seconds, then raise WarehouseInUseError.
    With `publish_to` (the spark target), the load is also published as Parquet files
    there (loading.publish), renamed into place just before the commit."""
    context = new_context(provider)
    summary = LoadSummary(provider.key, context.load_id)
    created = [path for path in _database_files(database) if not path.exists()]
    try:
        connection = connect(database, wait=wait, on_wait=on_wait)
    except WarehouseInUseError:
        raise
    except NotAWarehouseError as error:
        raise LoadFailedError(str(error)) from error
    except duckdb.Error as error:
        raise LoadFailedError(
            f"cannot open the warehouse {database}: {_first_line(error)}"
        ) from error
    current: SourceFile | None = None
    published: list[Path] = []
    try:
        register_functions(connection)
        connection.execute("begin transaction")
        ensure_tables(connection)
        if publish_to is not None:
            publish.reconcile(connection, publish_to)
        loaded = already_loaded(connection, provider)
        for current in files:
            _load_file(connection, context, provider, current, loaded, summary)
            if on_file_done is not None:
                on_file_done(current)
        current = None
        if publish_to is not None:
            published = publish.publish_load(connection, context.load_id, publish_to)
        connection.execute("commit")
    except BaseException as error:
        publish.unpublish(published)
        _abandon(connection, created)
        if not isinstance(error, Exception):
            raise
        raise LoadFailedError(
            f"load failed{_where(current, error)}: {_explain(error)}; "
            f"nothing was written to {database}"
        ) from error
    connection.close()
    return summary


def _where(file: SourceFile | None, error: BaseException) -> str:
    if file is None:
        return ""
    record = f" (record {error.position})" if isinstance(error, RecordError) else ""
    return f" while loading {file.source_file}{record}"


def _explain(error: BaseException) -> str:
    """What went wrong, for a person: the system's words for an OS error or for
    DuckDB running out of memory or disk, else the error's type and first line."""
    if isinstance(error, RecordError):
        error = error.error
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    if isinstance(error, MemoryError | duckdb.OutOfMemoryException):
        return "out of memory"
    if isinstance(error, duckdb.Error):
        return f"the database refused it: {_first_line(error)}"
    return f"unexpected error ({describe_error(error)})"


def _first_line(error: BaseException) -> str:
    """The error's message on one line, at most 300 characters."""
    text = " ".join(str(error).split())
    return text[:300] if text else type(error).__name__


def _load_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
    loaded: set[FileKey],
    summary: LoadSummary,
) -> None:
    try:
        digest = fingerprint(file)
    except READ_ERRORS as error:
        digest = None
        outcome = FileOutcome.rejected(Reason.UNREADABLE_FILE, describe_error(error))
    else:
        key = FileKey.of(file, digest)
        if key in loaded:
            summary.files_skipped += 1
            return
        land = land_avro_file if provider.file_format is FileFormat.AVRO else land_json_file
        try:
            outcome = land(connection, context, provider, file)
        except (MemoryError, duckdb.OutOfMemoryException):
            raise
        except Exception as error:
            if not _forget_rows(connection, context, provider, file):
                raise  # the warehouse itself failed: the load's transaction is lost
            outcome = FileOutcome.rejected(Reason.UNREADABLE_FILE, _could_not_read(error))
        loaded.add(key)
    record_file(connection, context, file, digest, outcome.records_landed, outcome.rejections)
    summary.files_loaded += 1
    summary.records_landed += outcome.records_landed
    summary.records_rejected += len(outcome.rejections)


def _forget_rows(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> bool:
    """Remove the rows this load landed from `file` (landing it failed part-way);
    False when the warehouse refuses, i.e. the error was the warehouse's own and the
    load's transaction is lost (DuckDB aborts a transaction on any failed statement)."""
    try:
        connection.execute(
            f"delete from {SCHEMA}.{provider.table} "
            "where load_id = $load_id and source_file = $source_file",
            {"load_id": context.load_id, "source_file": file.source_file},
        ).fetchall()
    except duckdb.Error:
        return False
    return True


def _could_not_read(error: Exception) -> str:
    """The rejection text of a file whose reading failed unexpectedly."""
    record, cause = "", error
    if isinstance(error, RecordError):
        record, cause = f" (record {error.position})", error.error
    return f"the loader could not read the file{record}: {describe_error(cause)}"


def _database_files(database: Path) -> list[Path]:
    return [database, database.with_name(database.name + ".wal")]


def _abandon(connection: duckdb.DuckDBPyConnection, created: list[Path]) -> None:
    """Roll back, close, and remove the warehouse files this load created."""
    with contextlib.suppress(duckdb.Error):  # no transaction open: it failed to begin or commit
        connection.execute("rollback")
    with contextlib.suppress(duckdb.Error):
        connection.close()
    for path in created:
        if path.exists():
            os.remove(path)
