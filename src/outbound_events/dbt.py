"""Run dbt commands on the project.

dbt runs in a child process: dbt-duckdb keeps its DuckDB connection open for the life
of the process, which would stop this process from opening the warehouse afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from outbound_events.project import dbt_environment, project_dir

# The bundled sample lives in seeds/sample; a build of loaded data must not replace
# the raw tables with it.
SAMPLE_SEEDS = "path:seeds/sample"


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
    """Load the bundled sample into `raw` and build and test everything on it."""
    run_dbt(["seed", "--full-refresh"])
    run_dbt(["build", "--exclude", SAMPLE_SEEDS])


def build_loaded() -> None:
    """Build and test everything on the data in `raw` (sample seeds left out)."""
    run_dbt(["build", "--exclude", SAMPLE_SEEDS])
