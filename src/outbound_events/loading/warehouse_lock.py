"""Opening the warehouse while another process may hold it.

An existing file that is not a DuckDB database is refused first (NotAWarehouseError):
DuckDB would otherwise open an in-memory database in its place, and a load would
report records that were never stored.

DuckDB lets one process at a time open a database file for writing (and none may
read it meanwhile). When another process holds the file, DuckDB refuses with
`Could not set lock on file "...": Conflicting lock is held in <program> (PID n)`.
That becomes WarehouseInUseError, whose message names the process (its command line,
read from /proc, where the system tells it), or, with a wait, a retry every
POLL_SECONDS until the file is free or the wait is over.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from outbound_events.project import DB_ENV

POLL_SECONDS = 0.25
# A holder's command line is shown on one line, cut to this many characters.
COMMAND_CHARS = 300
_CONFLICT = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


# Every DuckDB database file holds these bytes at offset 8.
DUCKDB_MAGIC = b"DUCK"


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened."""


class WarehouseInUseError(WarehouseError):
    """Another process holds the warehouse file."""


class NotAWarehouseError(WarehouseError):
    """The warehouse path holds something that is not a DuckDB database file."""


def check_is_duckdb(database: Path) -> None:
    """Raise NotAWarehouseError when `database` exists and is no DuckDB database file
    (a folder, or a missing or empty file, is left for DuckDB to tell)."""
    try:
        status = os.stat(database)
    except OSError:
        return
    if stat.S_ISDIR(status.st_mode) or (stat.S_ISREG(status.st_mode) and not status.st_size):
        return
    head = b""
    if stat.S_ISREG(status.st_mode):
        with open(database, "rb") as stream:
            head = stream.read(12)
    if head[8:12] != DUCKDB_MAGIC:
        raise NotAWarehouseError(
            f"{database} is not a DuckDB database file: point {DB_ENV} at the warehouse "
            "(or at a path where it is to be created)"
        )


def lock_holder(error: BaseException) -> int | None:
    """The PID of the process holding the file, when `error` is DuckDB's lock
    conflict (else None)."""
    if not isinstance(error, duckdb.Error):
        return None
    match = _CONFLICT.search(str(error))
    return int(match["pid"]) if match else None


def process_description(pid: int) -> str:
    """`PID n: <command line>` on one line (just `PID n` when /proc does not tell)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"PID {pid}"
    command = " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())
    if len(command) > COMMAND_CHARS:
        command = command[: COMMAND_CHARS - 1] + "…"
    return f"PID {pid}: {command}" if command else f"PID {pid}"


def in_use_message(database: Path, pid: int, waited: float = 0.0) -> str:
    after = f" (still after waiting {waited:g} s)" if waited else ""
    return (
        f"the warehouse {database} is in use by another process ({process_description(pid)})"
        f"{after}; wait for it to finish and try again"
    )


def connect(
    database: Path,
    *,
    read_only: bool = False,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect(database), retrying for up to `wait` seconds while another
    process holds the file (`on_wait` is told once, with the reason); raise
    WarehouseInUseError when it is still held, NotAWarehouseError when the file is
    no DuckDB database. Other DuckDB errors pass through."""
    check_is_duckdb(database)
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            return duckdb.connect(str(database), read_only=read_only)
        except duckdb.Error as error:
            pid = lock_holder(error)
            if pid is None:
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseInUseError(in_use_message(database, pid, wait)) from None
            if on_wait is not None and not told:
                on_wait(
                    f"the warehouse {database} is in use by another process "
                    f"({process_description(pid)}); waiting up to {wait:g} s"
                )
                told = True
            time.sleep(min(POLL_SECONDS, remaining))


def wait_until_free(
    database: Path,
    *,
    read_only: bool = False,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Return once `database` can be opened (for writing, unless `read_only`): at
    once when no other process holds it or it does not exist; else after waiting up
    to `wait` seconds, or raise WarehouseInUseError."""
    if not database.exists():
        return
    connect(database, read_only=read_only, wait=wait, on_wait=on_wait).close()
