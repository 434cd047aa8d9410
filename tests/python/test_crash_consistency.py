"""A build killed at any point and then run again gives the marts of a clean build
(issue #21, "crash-consistent"), on DuckDB.

Corpus: benchmarks/generate.py, 3,000 events over 6 days (daily loads of every
provider, duplicates re-delivered a day later, late events loaded two days after they
happened, malformed records, conversion goals). Loads A (until 2024-05-04) are built;
loads B (the rest) land on top. The reference is one clean `dbt build --full-refresh`
of A and B.

For each kill point: from a copy of that state (A built, B landed), `dbt build` (the
production one: sample seeds and unit tests left out, one dbt thread so that the
state at a point is always the same) is SIGKILLed, its whole process group, at the
exact point (fixtures/killed_build.py: a dbt event callback kills from inside the
thread that fires the event; no sleeps, no races); then a normal `dbt build` runs to
completion, and every mart must equal the reference row for row. An uninterrupted run
from the same state is checked first, and gives the kill points:

- `start` of a node: its `NodeStart` (everything before it committed, nothing of it
  done); the start of the next node is the end of the one before;
- `commit` of a model: its `SQLCommit` (all of its statements, hooks included, run;
  none committed);
- `end` of a model: its `NodeFinished` (committed);
- `hook`: during the on-run-start hooks (before the first statement of the first
  hook, and before the last statement of the last).

Which points run, by env var OUTBOUND_EVENTS_CRASH_SWEEP:

- unset (default, a deterministic representative subset: 17 points at b66a204, about
  20-35 s a point on the shared 2-core box, 6-10 minutes in all): during the last
  on-run-start hook; the start of every incremental model (the models that keep
  state between runs), and its end unless the next node other than a test is an
  incremental model (whose start is the same state); the commit of `load_ledger`; the
  start of the first test after `load_ledger`.
- `models` (about 70 points, 30-40 minutes): the two hook points and the start,
  commit and end of every model.
- `all` (about 230 points, about 2 hours): the hook points, the start of every node
  (seeds, models, tests, exposures: every boundary between two nodes), the commit and
  end of every model, the end of the last node.

Every point is tried before the test fails; the failure lists each failing point,
the marts that differ with their row counts, and an example row.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from fixtures.killed_build import (
    NODE_FINISHED,
    NODE_START,
    SQL_COMMIT,
    SQL_QUERY,
    KillPoint,
    Outcome,
    run_build,
)
from fixtures.warehouse import MARTS, snapshot
from outbound_events import dbt
from outbound_events.project import dbt_environment, project_dir
from test_incremental_generated import copy_loads

sys.path.insert(0, str(project_dir() / "benchmarks"))
from generate import Batch, generate  # noqa: E402

SWEEP_ENV = "OUTBOUND_EVENTS_CRASH_SWEEP"
SPLIT, LAST = "2024-05-04", "2024-05-31"  # loads A: until SPLIT; loads B: the rest
BUILD = ["build", "--exclude", dbt.SAMPLE_SEEDS, *dbt.PRODUCTION_EXCLUDES]
TIMEOUT = 300  # seconds for one dbt build of this corpus (about 15 s when alone)


@dataclass
class Crash:
    """Where the builds run: one warehouse path for every build (the dbt profile, and
    so partial parsing, stay the same), the state each kill starts from, the
    reference marts and the uninterrupted run's events and manifest."""

    work: Path
    warehouse: Path
    landed: Path  # loads A built, loads B landed
    reference: dict[str, list[tuple]]
    events: list[tuple[str, str]]
    materialized: dict[str, str]  # model unique id -> materialization
    runs: int = 0

    def env(self) -> dict[str, str]:
        environment = {**os.environ, **dbt_environment()}
        environment["OUTBOUND_EVENTS_DB"] = str(self.warehouse)
        environment["OUTBOUND_EVENTS_DUCKDB_TEMP_DIR"] = str(self.work / "duckdb_tmp")
        return environment

    def build(self, *extra: str, kill_at: KillPoint | None = None) -> Outcome:
        self.runs += 1
        directory = str(project_dir())
        args = [*BUILD, *extra, "--project-dir", directory, "--profiles-dir", directory]
        args += ["--target-path", str(self.work / "target"), "--log-path", str(self.work)]
        return run_build(
            args, cwd=project_dir(), env=self.env(), workdir=self.work,
            name=f"run{self.runs:03d}", kill_at=kill_at, timeout=TIMEOUT,
        )  # fmt: skip

    def restore(self, state: Path) -> None:
        """Put the warehouse in `state` (a closed DuckDB file, so no WAL)."""
        for stale in (self.warehouse, self.warehouse.with_name(self.warehouse.name + ".wal")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(state, self.warehouse)


def completed(outcome: Outcome, what: str) -> None:
    assert outcome.returncode == 0, f"{what} failed ({outcome.returncode}):\n{outcome.tail()}"


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Crash:
    work = tmp_path_factory.mktemp("crash")
    generated, landed = work / "generated.duckdb", work / "landed.duckdb"
    with duckdb.connect(str(generated)) as connection:
        generate(connection, Batch(3_000, days=6))
    crash = Crash(work, work / "warehouse.duckdb", landed, {}, [], {})

    assert copy_loads(generated, crash.warehouse, None, LAST) > 2_000
    completed(crash.build("--full-refresh"), "the clean build")
    crash.reference = snapshot(crash.warehouse)
    with duckdb.connect(str(crash.warehouse), read_only=True) as connection:
        converted, late = connection.execute(
            "select (select count(*) from marts.message_lifecycle where is_converted), "
            "(select count(*) from marts.outbound_events "
            "where loaded_at > occurred_at + interval 1 day)"
        ).fetchone()
    assert converted > 0 and late > 0, "the corpus exercises conversions and late events"
    assert crash.reference["rejected_events"], "the corpus exercises rejects"

    crash.warehouse.unlink()  # a new warehouse ...
    assert copy_loads(generated, crash.warehouse, None, SPLIT) > 0  # ... then loads A
    completed(crash.build(), "the build of loads A")
    assert copy_loads(generated, crash.warehouse, SPLIT, LAST) > 0
    shutil.copyfile(crash.warehouse, landed)

    uninterrupted = crash.build("--threads", "1")
    completed(uninterrupted, "the uninterrupted build of loads B")
    assert_same_marts(crash.reference, snapshot(crash.warehouse), "no kill")
    crash.events = uninterrupted.events
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    crash.materialized = {
        unique_id: node["config"]["materialized"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    return crash


def difference(expected: dict[str, list[tuple]], actual: dict[str, list[tuple]]) -> str:
    """Each mart that differs with its row counts, and an example row of the first;
    '' when none differs."""
    differing = [mart for mart in MARTS if expected[mart] != actual[mart]]
    if not differing:
        return ""
    counts = ", ".join(
        f"{mart} {len(actual[mart])} rows (clean build {len(expected[mart])})" for mart in differing
    )
    want, got = set(expected[differing[0]]), set(actual[differing[0]])
    missing, extra = sorted(want - got, key=repr), sorted(got - want, key=repr)
    example = (
        f"missing {missing[0]!r}" if missing else f"extra {extra[0]!r}" if extra else
        "the same rows, other multiplicities"
    )  # fmt: skip
    return f"{counts}; {differing[0]} {example[:300]}"


def assert_same_marts(expected: dict, actual: dict, what: str) -> None:
    differs = difference(expected, actual)
    assert not differs, f"{what}: {differs}"


def kill_points(crash: Crash, sweep: str) -> list[KillPoint]:
    """The points of a sweep (module docstring), in the order the run reaches them."""
    events = crash.events
    started = [node for event, node in events if event == NODE_START]
    models = [node for node in started if node.startswith("model.")]
    incremental = [node for node in models if crash.materialized.get(node) == "incremental"]
    hooks = [node for event, node in events if event == SQL_QUERY and "on-run-start" in node]
    points: list[KillPoint] = []
    if hooks and sweep in ("models", "all"):
        points.append(KillPoint(SQL_QUERY, hooks[0], 1, f"hook: first statement of {hooks[0]}"))
    if hooks:
        last = hooks[-1]
        points.append(KillPoint(SQL_QUERY, last, hooks.count(last), f"hook: last of {last}"))
    if sweep in ("models", "all"):
        for node in started:
            if node in models or sweep == "all":
                points.append(KillPoint(NODE_START, node, 1, f"start of {node}"))
            if node in models:
                if (SQL_COMMIT, node) in events:
                    points.append(KillPoint(SQL_COMMIT, node, 1, f"commit of {node}"))
                points.append(KillPoint(NODE_FINISHED, node, 1, f"end of {node}"))
        if sweep == "all" and not started[-1].startswith("model."):
            points.append(KillPoint(NODE_FINISHED, started[-1], 1, f"end of {started[-1]}"))
        return points

    # The representative subset: the start of every incremental model, and its end
    # unless the next node but tests is an incremental model (whose start is the
    # same state); the commit of load_ledger; a test after load_ledger.
    ledger = "model.outbound_events.load_ledger"
    for node in incremental:
        points.append(KillPoint(NODE_START, node, 1, f"start of {node}"))
        if node == ledger and (SQL_COMMIT, node) in events:
            points.append(KillPoint(SQL_COMMIT, node, 1, f"commit of {node}"))
        after = started[started.index(node) + 1 :]
        following = [other for other in after if not other.startswith("test.")]
        if not following or following[0] not in incremental:
            points.append(KillPoint(NODE_FINISHED, node, 1, f"end of {node}"))
        if node == ledger and after and after[0].startswith("test."):
            points.append(KillPoint(NODE_START, after[0], 1, f"start of {after[0]}"))
    return points


def test_a_killed_build_then_a_normal_build_equals_a_clean_build(crash: Crash) -> None:
    sweep = os.environ.get(SWEEP_ENV, "").strip().lower()
    points = kill_points(crash, sweep)
    assert len(points) >= 10, [str(point) for point in points]
    failures, timings = [], []
    for point in points:
        began = time.monotonic()
        crash.restore(crash.landed)
        killed = crash.build("--threads", "1", kill_at=point)
        assert killed.killed, f"{point}: the run ended ({killed.returncode}) before the point"
        rerun = crash.build()
        if rerun.returncode != 0:
            failure = f"the normal build after it failed:\n{rerun.tail(15)}"
        else:
            failure = difference(crash.reference, snapshot(crash.warehouse))
        if failure:
            failures.append(f"{point}: {failure}")
        timings.append(time.monotonic() - began)
        print(f"{timings[-1]:5.1f} s  {point}: {'FAILED' if failure else 'ok'}")
    print(f"{len(points)} kill points in {sum(timings):.0f} s ({SWEEP_ENV}={sweep or 'unset'})")
    assert not failures, f"{len(failures)} of {len(points)} kill points:\n" + "\n".join(failures)
