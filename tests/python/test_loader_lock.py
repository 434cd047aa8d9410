"""While another process holds the warehouse (a load, a build, any DuckDB client),
`load`, `build`, `summary` and `sample` say which process and exit non-zero without a
traceback and without touching the warehouse, or, with --wait, wait for it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures.holder import HOLDER, held
from fixtures.loader_files import query, run_cli, snapshot, write_text


def in_use(database: Path, holder: subprocess.Popen[str]) -> str:
    """The message's start: the holder's command line is on one line."""
    command = " ".join(f"{sys.executable} -c {HOLDER} {database}".split())
    return f"the warehouse {database} is in use by another process (PID {holder.pid}: {command}"


@pytest.fixture()
def loaded(tmp_path: Path) -> Path:
    """A warehouse with one load in it."""
    database = tmp_path / "warehouse.duckdb"
    write_text(tmp_path / "first.ndjson", '{"user_id":"u1"}\n')
    assert run_cli(database, "load", "-p", "outbound", tmp_path / "first.ndjson").returncode == 0
    return database


@pytest.mark.parametrize(
    "command",
    [["load", "-p", "outbound", "NEW"], ["build"], ["summary"], ["sample"]],
    ids=["load", "build", "summary", "sample"],
)
def test_a_command_on_a_held_warehouse_names_the_holder(tmp_path, loaded, command):
    write_text(tmp_path / "new.ndjson", '{"user_id":"u2"}\n')
    args = [str(tmp_path / "new.ndjson") if arg == "NEW" else arg for arg in command]
    before = snapshot(loaded)
    with held(loaded) as holder:
        started = time.monotonic()
        completed = run_cli(loaded, *args, timeout=60)
        elapsed = time.monotonic() - started
        message = in_use(loaded, holder)
    assert completed.returncode == 1
    assert message in completed.stderr
    assert "wait for it to finish and try again" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "Running with dbt" not in completed.stdout  # refused before dbt starts
    assert elapsed < 30
    assert snapshot(loaded) == before


def test_a_reader_holding_the_file_blocks_a_load_too(tmp_path, loaded):
    write_text(tmp_path / "new.ndjson", '{"user_id":"u2"}\n')
    with held(loaded, mode="ro") as holder:
        completed = run_cli(loaded, "load", "-p", "outbound", tmp_path / "new.ndjson")
        message = in_use(loaded, holder)
    assert completed.returncode == 1
    assert message in completed.stderr


def test_with_wait_a_load_waits_for_the_holder_to_finish(tmp_path, loaded):
    write_text(tmp_path / "new.ndjson", '{"user_id":"u2"}\n')
    with held(loaded, seconds=2) as holder:
        started = time.monotonic()
        completed = run_cli(
            loaded, "load", "--wait", "30", "-p", "outbound", tmp_path / "new.ndjson", timeout=60
        )
        elapsed = time.monotonic() - started
        holder.wait(timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert "waiting up to 30 s" in completed.stderr
    assert 0.5 < elapsed < 30
    assert query(loaded, "select payload from raw.outbound__events order by 1") == [
        ('{"user_id":"u1"}',),
        ('{"user_id":"u2"}',),
    ]


def test_a_wait_that_runs_out_says_so(tmp_path, loaded):
    with held(loaded) as holder:
        started = time.monotonic()
        completed = run_cli(loaded, "summary", "--wait", "1", timeout=60)
        elapsed = time.monotonic() - started
        message = in_use(loaded, holder)
    assert completed.returncode == 1
    assert message in completed.stderr
    assert "(still after waiting 1 s); wait for it to finish and try again" in completed.stderr
    assert elapsed >= 1
