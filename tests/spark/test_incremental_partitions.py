"""Incremental runs on Spark (insert_overwrite of partitions) equal one full refresh,
and a +1 % run rewrites only the partitions that hold changed rows.

A generated corpus (benchmarks/generate.py: daily loads of every provider, duplicates
re-delivered a day later, late events, malformed records, conversions) is published
as the loader publishes loads for Spark (one Parquet file a load and raw table). One
warehouse is built in several incremental runs over a random (seeded) split of the
loads, landed out of time order, then a +1 % run adds the newest load; another is
built once with every load (--full-refresh). Every mart and partitioned model is
compared row for row, and the partition folders the +1 % run rewrote are counted.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from outbound_events import dbt
from outbound_events.export import TableName, export_table
from outbound_events.loading.publish import RAW_TABLES, publish_load
from outbound_events.loading.warehouse import ensure_tables
from outbound_events.project import project_dir, sql_literal
from outbound_events.spark_snapshot import snapshot

sys.path.insert(0, str(project_dir() / "benchmarks"))
from generate import Batch, generate  # noqa: E402

SEED = 21
RUNS = 2  # incremental runs before the +1 % run
# The corpus: small enough for CI by default; larger for the figures in docs/spark.md
# (OUTBOUND_EVENTS_SPARK_EVENTS=100000 OUTBOUND_EVENTS_SPARK_DAYS=30).
EVENTS = int(os.environ.get("OUTBOUND_EVENTS_SPARK_EVENTS", "1500"))
DAYS = int(os.environ.get("OUTBOUND_EVENTS_SPARK_DAYS", "8"))
# The incremental models partitioned on Spark, and their partition column.
PARTITIONED = {
    "intermediate.int_events_validated": "load_id",
    "intermediate.int_events_deduplicated": "load_id",
    "intermediate.int_messages_aggregated": "message_date",
    "intermediate.int_conversions_attributed": "converted_date",
    "marts.message_lifecycle": "message_date",
    "marts.engagement_funnel_daily": "message_date",
    "marts.rejected_events": "load_id",
    "marts.load_ledger": "load_id",
}
# The seeds and the models in one invocation (each dbt invocation on Spark pays a fixed
# cost per node: the data tests are the other suites' business).
SEEDS_AND_MODELS = ("build", "--resource-type", "seed", "--resource-type", "model")
COMPARED = [
    *PARTITIONED,
    "marts.outbound_events",
    "marts.engagement_funnel_by_channel",
    "marts.user_engagement",
]


class SparkWarehouse:
    """A spark target folder: landing DuckDB file, published loads, Spark's tables."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing.duckdb"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "OUTBOUND_EVENTS_TARGET": "spark",
            "OUTBOUND_EVENTS_SPARK_DIR": str(self.root),
            "OUTBOUND_EVENTS_TEST_ALL_ROWS": "true",
        }

    def land(self, corpus: Path, load_ids: list[str]) -> None:
        """Copy the loads' raw rows into the landing file and publish each load."""
        self.root.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.landing)) as connection:
            ensure_tables(connection)
            connection.execute(f"attach {sql_literal(str(corpus))} as corpus (read_only)")
            for load_id in load_ids:
                connection.execute("begin")
                for table in RAW_TABLES:
                    connection.execute(
                        f"insert into raw.{table} select * from corpus.raw.{table} "
                        "where load_id = ?",
                        [load_id],
                    )
                publish_load(connection, load_id, self.root / "raw")
                connection.execute("commit")
            connection.execute("detach corpus")

    def dbt(self, *args: str) -> float:
        """`dbt <args>` on this warehouse (the sample seeds left out); its seconds."""
        started = time.monotonic()
        with self.environment():
            dbt.run_dbt([*args, "--exclude", dbt.SAMPLE_SEEDS])
        return time.monotonic() - started

    @contextmanager
    def environment(self) -> Iterator[None]:
        saved = dict(os.environ)
        os.environ.update(self.env())
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def partitions(self) -> dict[tuple[str, str], frozenset[tuple[str, int]]]:
        """Per (table, partition folder): its data files with their modification times."""
        found = {}
        for table, column in PARTITIONED.items():
            schema, name = table.split(".")
            folders = list((self.root / "warehouse").glob(f"{schema}*.db/{name}"))
            assert len(folders) == 1, (table, folders)
            for partition in folders[0].glob(f"{column}=*"):
                found[table, partition.name] = frozenset(
                    (path.name, path.stat().st_mtime_ns) for path in partition.glob("part-*")
                )
        return found

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every compared table's rows, sorted (columns by name: on Spark a partition
        column is the table's last)."""
        with self.environment(), snapshot(COMPARED) as database:
            rows = {}
            for table in COMPARED:
                out = self.root / "export" / f"{table}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                export_table(database, TableName.parse(table), out)
                data = pq.read_table(out)
                data = data.select(sorted(data.column_names))
                rows[table] = sorted((tuple(row.values()) for row in data.to_pylist()), key=repr)
            return rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The generated corpus and its load ids, oldest first."""
    database = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    with duckdb.connect(str(database)) as connection:
        generate(connection, Batch(EVENTS, days=DAYS))
        loads = [
            row[0]
            for row in connection.execute(
                " union ".join(
                    f"select load_id, loaded_at from raw.{table}" for table in RAW_TABLES[:-2]
                )
                + " order by loaded_at, load_id"
            ).fetchall()
        ]
    return database, list(dict.fromkeys(loads))


def test_incremental_runs_equal_a_full_refresh_and_rewrite_few_partitions(corpus, tmp_path):
    database, loads = corpus
    newest, earlier = loads[-1:], loads[:-1]
    assert len(loads) > 30, "enough loads for a run of one load to be a small part"

    # several runs over a random split of the loads, landed out of time order
    rng = random.Random(SEED)
    shuffled = rng.sample(earlier, len(earlier))
    cuts = sorted(rng.sample(range(1, len(shuffled)), RUNS - 1))
    incremental = SparkWarehouse(tmp_path / "incremental")
    for start, end in zip([0, *cuts], [*cuts, len(shuffled)], strict=True):
        incremental.land(database, shuffled[start:end])
        incremental.dbt(*SEEDS_AND_MODELS if start == 0 else ("run",))

    # +1 %: the newest load
    before = incremental.partitions()
    incremental.land(database, newest)
    seconds_increment = incremental.dbt("run")
    after = incremental.partitions()

    full = SparkWarehouse(tmp_path / "full")
    full.land(database, loads)
    seconds_full = full.dbt(*SEEDS_AND_MODELS, "--full-refresh")

    expected, actual = full.tables(), incremental.tables()
    for table in COMPARED:
        assert len(actual[table]) == len(expected[table]), table
        assert actual[table] == expected[table], table
        assert expected[table], f"{table} is empty: the comparison would prove nothing"

    rewritten = {key for key in after.keys() | before.keys() if before.get(key) != after.get(key)}
    report = []
    for table in PARTITIONED:
        total = sum(1 for key in after if key[0] == table)
        changed = sum(1 for key in rewritten if key[0] == table)
        report.append(f"{table}: {changed} of {total}")
    print(
        f"\n+1 % run: {len(rewritten)} of {len(after)} partitions rewritten "
        f"({'; '.join(report)}); {seconds_increment:.0f} s vs full refresh {seconds_full:.0f} s"
    )
    assert len(rewritten) < len(after) / 10, report
