"""A Spark run killed between two statements, then a normal run, gives the tables of a
clean build (issue #21, "crash-consistent", on Spark).

On Spark a model is not one transaction: its pre-hook may drop partitions
(drop_deleted_partitions), its `insert overwrite` replaces the partitions it writes,
and its post-hook records the loads it processed (record_processed_loads) afterwards.
Between any two of those statements a kill must leave a state the next run repairs:
the loads are not recorded, so the next run recomputes the same work and writes the
same partitions again.

The corpus is test_incremental_partitions.py's (benchmarks/generate.py, published as
the loader publishes loads for Spark). Every load but one is built, then that one is
landed (the first load that re-delivers copies of events other loads hold, found in
the clean build's ledger); that state is saved. From it, for each kill point, `dbt run` (in a child
process, the Spark session in it: fixtures/killed_build.py kills its process group,
the JVM with it) is SIGKILLed at the point, then a normal `dbt run` completes, and
every compared table must equal a clean build (every load, --full-refresh) row for
row. The uninterrupted run from the saved state is checked first and gives the points
(fixtures/killed_build.py records each statement's first words): by default, in
`load_ledger` (partitioned by load; the load held back re-delivers copies of events
of other loads, so its run recomputes those loads and drops their partitions first), the
start of each statement after a partition drop (the partitions dropped, not yet
written again) and of its post-hook (its rows written, its loads not yet recorded).
Each point costs two Spark runs (about two minutes on the 2-core box);
OUTBOUND_EVENTS_SPARK_CRASH=all kills at the start of every statement of every model.

Not covered (no event marks it): a kill inside Spark's commit of one `insert
overwrite` (the old partition folder deleted, the new one not yet moved in, or not yet
in the metastore), a window of milliseconds that plain Parquet tables cannot close
(docs/spark.md "Crashes").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from fixtures.killed_build import SQL_QUERY, KillPoint, Outcome, run_build
from outbound_events.project import dbt_environment, project_dir
from outbound_events.spark_snapshot import snapshot
from test_incremental_partitions import (  # noqa: F401 (corpus: a fixture)
    COMPARED,
    SEEDS_AND_MODELS,
    SparkWarehouse,
    corpus,
)

SWEEP_ENV = "OUTBOUND_EVENTS_SPARK_CRASH"
# The model killed by default: the ledger (partitions by load). The load held back
# re-delivers copies of other loads' events, so its run recomputes those loads too:
# the pre-hook drops their partitions, then the overwrite writes them again.
KILL_MODEL = "model.outbound_events.load_ledger"
TIMEOUT = 900  # seconds for one Spark run of this corpus (about 60 s when alone)


def spark_run(
    warehouse: SparkWarehouse, work: Path, name: str, kill_at: KillPoint | None = None
) -> Outcome:
    """`dbt run` on the warehouse in a child process (one thread), killed at `kill_at`."""
    directory = str(project_dir())
    with warehouse.environment():
        environment = {**os.environ, **dbt_environment()}
    args = ["run", "--exclude", "path:seeds/sample", "--threads", "1"]
    args += ["--project-dir", directory, "--profiles-dir", directory]
    args += ["--target-path", str(work / "target"), "--log-path", str(work)]
    return run_build(
        args, cwd=project_dir(), env=environment, workdir=work, name=name,
        kill_at=kill_at, timeout=TIMEOUT,
    )  # fmt: skip


def kill_points(statements: list[tuple[str, str]], every_statement: bool) -> list[KillPoint]:
    """By default, in KILL_MODEL: each statement that follows a partition drop (the
    partitions dropped, not yet written again) and its last statement (the post-hook:
    rows written, loads not yet recorded). With `every_statement`: the start of every
    statement of every model."""
    points, seen = [], {}
    for index, (node, head) in enumerate(statements):
        seen[node] = seen.get(node, 0) + 1
        point = KillPoint(SQL_QUERY, node, seen[node], f"statement {seen[node]} of {node} ({head})")
        previous = statements[index - 1] if index else ("", "")
        after_drop = previous[0] == node and previous[1].startswith("alter table")
        after_drop = after_drop and previous[1].endswith(" drop")
        last = index + 1 == len(statements) or statements[index + 1][0] != node
        if every_statement or (node == KILL_MODEL and (after_drop or last)):
            points.append(point)
    return points


def test_a_killed_spark_run_then_a_normal_run_equals_a_clean_build(corpus, tmp_path):  # noqa: F811
    database, loads = corpus
    full = SparkWarehouse(tmp_path / "full")
    full.land(database, loads)
    full.dbt(*SEEDS_AND_MODELS, "--full-refresh")
    expected = full.tables()
    for table in COMPARED:
        assert expected[table], f"{table} is empty: the comparison would prove nothing"

    # the load held back: the first that re-delivers copies of events first landed in
    # other loads, so its run recomputes those loads (and drops their partitions first)
    with (
        full.environment(),
        snapshot(["marts.load_ledger"]) as ledger,
        duckdb.connect(str(ledger), read_only=True) as connection,
    ):
        (held,) = connection.execute(
            "select min(load_id) from marts.load_ledger where duplicates_removed > 0"
        ).fetchone()
    assert held is not None, "the corpus re-delivers copies"

    warehouse = SparkWarehouse(tmp_path / "crash")
    warehouse.land(database, [load for load in loads if load != held])
    warehouse.dbt(*SEEDS_AND_MODELS)
    warehouse.land(database, [held])
    saved = tmp_path / "saved"
    shutil.copytree(warehouse.root, saved)

    def restore() -> None:  # the same folder: Spark's metastore names absolute paths
        shutil.rmtree(warehouse.root)
        shutil.copytree(saved, warehouse.root)

    work = tmp_path / "runs"
    work.mkdir()
    uninterrupted = spark_run(warehouse, work, "uninterrupted")
    assert uninterrupted.returncode == 0, uninterrupted.tail()
    assert warehouse.tables() == expected, "the uninterrupted run differs from a clean build"

    every_statement = os.environ.get(SWEEP_ENV, "").strip().lower() == "all"
    points = kill_points(uninterrupted.statements, every_statement)
    assert len(points) >= 2, [str(point) for point in points]  # a drop, and the post-hook
    failures = []
    for number, point in enumerate(points):
        restore()
        killed = spark_run(warehouse, work, f"killed{number:03d}", kill_at=point)
        assert killed.killed, f"{point}: the run ended ({killed.returncode}) before the point"
        rerun = spark_run(warehouse, work, f"rerun{number:03d}")
        if rerun.returncode != 0:
            failures.append(f"{point}: the normal run after it failed:\n{rerun.tail(15)}")
            continue
        actual = warehouse.tables()
        differing = [table for table in COMPARED if actual[table] != expected[table]]
        counts = ", ".join(f"{t} {len(actual[t])} rows ({len(expected[t])})" for t in differing)
        if differing:
            failures.append(f"{point}: {counts}")
        print(f"{point}: {'FAILED ' + counts if differing else 'ok'}")
    assert not failures, f"{len(failures)} of {len(points)} kill points:\n" + "\n".join(failures)


@pytest.mark.parametrize("every_statement", [False, True])
def test_kill_points(every_statement: bool) -> None:
    """The default points: after each partition drop of the ledger, and its post-hook."""
    funnel = "model.outbound_events.engagement_funnel_daily"
    statements = [
        (funnel, "alter table marts.engagement_funnel_daily drop"), (funnel, "insert overwrite"),
        (KILL_MODEL, "select existing.load_id from"),
        (KILL_MODEL, "alter table marts.load_ledger drop"),
        (KILL_MODEL, "insert overwrite table marts.load_ledger"),
        (KILL_MODEL, "insert overwrite table intermediate.int_loads_processed"),
    ]  # fmt: skip
    points = [(point.node, point.occurrence) for point in kill_points(statements, every_statement)]
    if every_statement:
        assert points == [(funnel, 1), (funnel, 2), *[(KILL_MODEL, n) for n in range(1, 5)]]
    else:
        assert points == [(KILL_MODEL, 3), (KILL_MODEL, 4)]
