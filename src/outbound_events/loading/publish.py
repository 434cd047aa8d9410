"""Publishing loads as Parquet files, for the spark target.

There the loader lands into a DuckDB file of its own (the landing warehouse: the same
raw tables, one transaction per load, the same file-level idempotence), and every load
also becomes one Parquet file per raw table it wrote rows to,
`<raw dir>/<table>/<load id>.parquet`. Spark's raw tables are external Parquet tables
over those folders (macros/create_raw_tables.sql), so dbt reads them and never writes
them.

A load's files are written under hidden names (Spark skips files starting with `.`),
renamed into place just before the landing transaction commits, and removed again if
it does not commit. `reconcile` makes the folders agree with the landing warehouse
before every load: a file of a load the warehouse does not hold (a crash between the
rename and the commit) is removed, a load without its files is published again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from outbound_events.loading.providers import PROVIDERS

SCHEMA = "raw"
# Every raw table the loader writes: the providers', the file rejections, the files.
RAW_TABLES = (
    *(provider.table for provider in PROVIDERS.values()),
    "load_rejections",
    "loaded_files",
)


def load_file(root: Path, table: str, load_id: str) -> Path:
    return root / table / f"{load_id}.parquet"


def _hidden(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def _write(connection: duckdb.DuckDBPyConnection, table: str, load_id: str, path: Path) -> bool:
    """Write the load's rows of `table` to `path` (loaded_at as an instant, so Spark
    reads the same time in any session time zone); False when it has none."""
    source = f"{SCHEMA}.{table}"
    rows = connection.execute(
        f"select count(*) from {source} where load_id = ?", [load_id]
    ).fetchall()[0][0]
    if not rows:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    connection.sql(
        f"select * replace (cast(loaded_at as timestamptz) as loaded_at) from {source}"
        " where load_id = $load_id order by all",
        params={"load_id": load_id},
    ).write_parquet(str(path))
    return True


def publish_load(connection: duckdb.DuckDBPyConnection, load_id: str, root: Path) -> list[Path]:
    """Write the load's files (from `connection`, inside the load's transaction) and
    rename them into place; the files published. On failure nothing is left."""
    connection.execute("set TimeZone = 'UTC'")
    staged: list[tuple[Path, Path]] = []
    published: list[Path] = []
    try:
        for table in RAW_TABLES:
            target = load_file(root, table, load_id)
            if _write(connection, table, load_id, _hidden(target)):
                staged.append((_hidden(target), target))
        for hidden, target in staged:
            hidden.replace(target)
            published.append(target)
    except BaseException:
        unpublish(published + [hidden for hidden, _ in staged])
        raise
    return published


def unpublish(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def reconcile(connection: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Make each table's Parquet folder hold exactly one file per load the landing
    warehouse has rows of in that table."""
    connection.execute("set TimeZone = 'UTC'")
    for table in RAW_TABLES:
        folder = root / table
        files = {path.stem: path for path in folder.glob("*.parquet")} if folder.is_dir() else {}
        loads = {
            row[0]
            for row in connection.execute(
                f"select distinct load_id from {SCHEMA}.{table} where load_id is not null"
            ).fetchall()
        }
        for hidden in folder.glob(".*.partial") if folder.is_dir() else []:
            hidden.unlink()
        for load_id, path in files.items():
            if load_id not in loads:
                path.unlink()
        for load_id in sorted(loads - files.keys()):
            target = load_file(root, table, load_id)
            if _write(connection, table, load_id, _hidden(target)):
                _hidden(target).replace(target)
