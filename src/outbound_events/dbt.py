"""Run dbt commands on the project.

dbt runs in a child process: dbt-duckdb keeps its DuckDB connection open for the life
of the process, which would stop this process from opening the warehouse afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from outbound_events.loading.providers import PROVIDERS
from outbound_events.project import dbt_environment, project_dir, spark_dir, target

# The bundled sample lives in seeds/sample and lands in schema `sample_raw`; the models
# read it instead of `raw` when this var is true. dbt never writes to `raw`.
SAMPLE_SEEDS = "path:seeds/sample"
USE_SAMPLE = '{"outbound_events__use_sample": true}'


class DbtCommandError(RuntimeError):
    """A dbt command failed."""


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.is_file():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise DbtCommandError("dbt is not installed: run `make setup` (see README)")
    return found


def run_dbt(args: Sequence[str]) -> None:
    """Run `dbt <args>` against the project and the configured warehouse, its output
    going to ours; raise DbtCommandError when dbt fails."""
    directory = str(project_dir())
    command = [dbt_executable(), *args, "--project-dir", directory, "--profiles-dir", directory]
    environment = {**os.environ, **dbt_environment()}
    completed = subprocess.run(command, cwd=directory, env=environment, check=False)
    if completed.returncode != 0:
        raise DbtCommandError(
            f"dbt {' '.join(args)} failed (exit code {completed.returncode}); see its output above"
        )


def build_sample() -> None:
    """Seed the bundled sample (schema `sample_raw`) and build and test everything on it,
    from scratch (the incremental models then hold the sample, not the raw data)."""
    run_dbt(["seed", "--full-refresh"])
    run_dbt(["build", "--full-refresh", "--vars", USE_SAMPLE, "--exclude", SAMPLE_SEEDS])
    if target() == "spark":
        _sample_marker().parent.mkdir(parents=True, exist_ok=True)
        _sample_marker().touch()


def _sample_marker() -> Path:
    """On the spark target: present while the incremental models hold the sample."""
    return spark_dir() / ".sample_built"


# What a production build leaves out: dbt's unit tests check the models' SQL on fixed
# inputs, the same every night (dbt's advice: run them in development and CI, as
# `make test` and `outbound-events sample` do); the data tests all run.
PRODUCTION_EXCLUDES = ["--exclude-resource-type", "unit_test"]


def build_loaded(database: Path, loads_per_run: int | None = None) -> None:
    """Build and data-test everything on the data in `raw` (sample seeds left out):
    incrementally, or from scratch when the incremental models hold loads that are not
    in `raw` (after a sample build, or when loads were removed from raw). With
    `loads_per_run`, in steps of that many loads (oldest first) until none is left:
    each step's work is bounded by its loads, and the result is the same."""
    if loads_per_run and target() != "duckdb":
        raise DbtCommandError("--loads-per-run is for the duckdb target")
    sample_built = target() == "spark" and _sample_marker().exists()
    refresh = ["--full-refresh"] if sample_built or holds_foreign_loads(database) else []
    step = ["--vars", json.dumps({"outbound_events__max_loads_per_run": loads_per_run})]
    args = ["build", "--exclude", SAMPLE_SEEDS, *PRODUCTION_EXCLUDES]
    args += step if loads_per_run else []
    run_dbt([*args, *refresh])
    if sample_built:
        _sample_marker().unlink()
    while loads_per_run and pending_loads(database):
        run_dbt(args)


def pending_loads(database: Path) -> int:
    """How many load ids of `raw` int_events_validated has not processed yet."""
    landed = " union ".join(
        f"select load_id from raw.{table}"
        for table in [*(provider.table for provider in PROVIDERS.values()), "load_rejections"]
    )
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute(
            f"select count(distinct load_id) from ({landed}) as landed where load_id not in ("
            "select load_id from intermediate.int_loads_processed "
            "where model_name = 'int_events_validated')"
        ).fetchone()
    return int(row[0]) if row else 0


def holds_foreign_loads(database: Path) -> bool:
    """Whether intermediate.int_events_validated has rows of a load no raw table has."""
    if not database.exists():
        return False
    raw_loads = " union ".join(
        f"select distinct load_id from raw.{provider.table}" for provider in PROVIDERS.values()
    )
    with duckdb.connect(str(database), read_only=True) as connection:
        try:
            row = connection.execute(
                "select count(*) from (select distinct load_id from "
                f"intermediate.int_events_validated) where load_id not in ({raw_loads})"
            ).fetchone()
        except duckdb.CatalogException:
            return False  # never built, or no raw tables yet: nothing to refresh
    return bool(row and row[0])
