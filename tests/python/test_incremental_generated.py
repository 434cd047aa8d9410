"""Incremental builds equal a full refresh on generated data (benchmarks/generate.py):
30 days of daily loads of every provider, with duplicates re-delivered a day later,
late events loaded two days after they happened, malformed records and conversion
goals, built in four runs of consecutive loads and compared, mart by mart and row by
row, with one full build of everything."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from fixtures.warehouse import MARTS, build, snapshot, warehouse_env
from outbound_events import dbt
from outbound_events.loading.providers import PROVIDERS
from outbound_events.loading.warehouse import ensure_tables
from outbound_events.project import project_dir

sys.path.insert(0, str(project_dir() / "benchmarks"))
from generate import Batch, generate  # noqa: E402

# Runs cut by the day of the load (loads are daily, at 23:50 UTC).
RUN_ENDS = ["2024-05-09", "2024-05-17", "2024-05-26", "2024-06-30"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("generated") / "all.duckdb"
    with duckdb.connect(str(database)) as connection:
        generate(connection, Batch(30_000))
    return database


def copy_loads(source: Path, target: Path, after: str | None, until: str) -> int:
    """Copy the raw records of the loads landed in (after, until] into target."""
    condition = f"loaded_at < date '{until}' + interval 1 day"
    if after:
        condition += f" and loaded_at >= date '{after}' + interval 1 day"
    copied = 0
    with duckdb.connect(str(target)) as connection:
        ensure_tables(connection)
        connection.execute(f"attach '{source}' as source (read_only)")
        for provider in PROVIDERS.values():
            connection.execute(
                f"insert into raw.{provider.table} "
                f"select * from source.raw.{provider.table} where {condition}"
            )
            copied += connection.execute(
                f"select count(*) from source.raw.{provider.table} where {condition}"
            ).fetchone()[0]
        connection.execute("detach source")
    return copied


@pytest.fixture(scope="module")
def full(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("full") / "full.duckdb"
    assert copy_loads(generated, database, None, RUN_ENDS[-1]) > 20_000
    build(database, "--full-refresh")
    return database


def assert_same_marts(full: Path, incremental: Path) -> None:
    expected, actual = snapshot(full), snapshot(incremental)
    for mart in MARTS:
        assert len(actual[mart]) == len(expected[mart]), mart
        assert set(actual[mart]) == set(expected[mart]), mart


def test_four_incremental_runs_equal_one_full_build(generated, full, tmp_path):
    incremental = tmp_path / "incremental.duckdb"
    after = None
    for until in RUN_ENDS:
        assert copy_loads(generated, incremental, after, until) > 0
        build(incremental)
        after = until

    assert_same_marts(full, incremental)
    with duckdb.connect(str(full), read_only=True) as connection:
        converted = connection.execute(
            "select count(*) from marts.message_lifecycle where is_converted"
        ).fetchone()[0]
        late = connection.execute(
            "select count(*) from marts.outbound_events "
            "where loaded_at > occurred_at + interval 1 day"
        ).fetchone()[0]
    assert converted > 0 and late > 0, "the data exercises conversions and late events"


def test_loads_out_of_order_and_no_op_runs_equal_one_full_build(generated, full, tmp_path):
    """Runs follow the loads, not their times: loads stamped days earlier than the
    ones already built (a skewed clock, data landed by another tool) are picked up,
    and the copies they hold win over the later ones, as in a full build; a run with
    nothing new changes nothing."""
    incremental = tmp_path / "incremental.duckdb"
    for after, until in [
        (RUN_ENDS[0], RUN_ENDS[1]),
        (None, RUN_ENDS[0]),
        (RUN_ENDS[1], RUN_ENDS[-1]),
    ]:
        assert copy_loads(generated, incremental, after, until) > 0
        build(incremental)
    before = snapshot(incremental)
    build(incremental)  # nothing new
    assert snapshot(incremental) == before
    assert_same_marts(full, incremental)


def test_a_backfill_in_steps_of_loads_equals_one_full_build(generated, full, tmp_path, monkeypatch):
    """`outbound-events build --loads-per-run N`: from scratch, N loads per run (oldest
    first, the first run a full refresh) until none is left; each run's work follows
    its loads, and the marts are those of one full build."""
    stepped = tmp_path / "stepped.duckdb"
    copy_loads(generated, stepped, None, RUN_ENDS[-1])
    runs: list[list[str]] = []
    run_dbt = dbt.run_dbt
    monkeypatch.setattr(dbt, "run_dbt", lambda args: (runs.append(list(args)), run_dbt(args)))
    with warehouse_env(stepped):
        dbt.build_loaded(stepped, loads_per_run=50)
        assert dbt.pending_loads(stepped) == 0
    with duckdb.connect(str(stepped), read_only=True) as connection:
        steps = connection.execute(
            "select count(distinct load_id) from intermediate.int_loads_processed "
            "where model_name = 'int_events_validated'"
        ).fetchone()[0]
    assert steps > 100, "the corpus has enough loads for several steps of 50"
    assert len(runs) == -(-steps // 50)  # one run per step of 50 loads
    assert_same_marts(full, stepped)
