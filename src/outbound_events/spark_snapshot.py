"""Reading the spark target's tables from the CLI without a Spark session of its own:
dbt (`run-operation export_relations`) writes each table as a folder of Parquet files,
and a throwaway DuckDB file gets one table per folder, so `summary` and `export` read
Spark's tables with the same code as DuckDB's."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb

from outbound_events import dbt
from outbound_events.loading.sources import SourceFile, duckdb_path
from outbound_events.project import sql_literal


@contextmanager
def snapshot(tables: Sequence[str]) -> Iterator[Path]:
    """A DuckDB file holding a copy of each `schema.table` of the Spark warehouse
    (names already checked to be plain identifiers), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="outbound-events-spark-") as temporary:
        folder = Path(temporary) / "tables"
        arguments = {"relations": list(tables), "directory": str(folder)}
        dbt.run_dbt(["run-operation", "export_relations", "--args", json.dumps(arguments)])
        database = Path(temporary) / "snapshot.duckdb"
        with duckdb.connect(str(database)) as connection:
            for name in tables:
                schema, table = name.split(".")
                connection.execute(f'create schema if not exists "{schema}"')
                # each file by a name DuckDB cannot read as a pattern (the temporary
                # folder may hold `[`, `*` or `?`)
                with ExitStack() as resources:
                    files = [
                        sql_literal(duckdb_path(SourceFile(path), resources))
                        for path in sorted((folder / name).glob("*.parquet"))
                    ]
                    connection.execute(
                        f'create table "{schema}"."{table}" as '
                        f"select * from read_parquet([{', '.join(files)}])"
                    )
        yield database
