"""Run dbt commands on the project, in this process."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dbt.cli.main import dbtRunner

from outbound_events.project import dbt_environment, project_dir

# The bundled sample lives in seeds/sample; a build of loaded data must not replace
# the raw tables with it.
SAMPLE_SEEDS = "path:seeds/sample"


class DbtCommandError(RuntimeError):
    """A dbt command failed."""


@contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_dbt(args: Sequence[str]) -> None:
    """Run `dbt <args>` against the project and the configured warehouse; raise
    DbtCommandError when dbt reports a failure."""
    directory = str(project_dir())
    command = [*args, "--project-dir", directory, "--profiles-dir", directory]
    with _environment(dbt_environment()):
        result = dbtRunner().invoke(command)
    if not result.success:
        detail = f": {result.exception}" if result.exception else ""
        raise DbtCommandError(f"dbt {' '.join(args)} failed{detail}")


def build_sample() -> None:
    """Load the bundled sample into `raw` and build and test everything on it."""
    run_dbt(["seed", "--full-refresh"])
    run_dbt(["build", "--exclude", SAMPLE_SEEDS])


def build_loaded() -> None:
    """Build and test everything on the data in `raw` (sample seeds left out)."""
    run_dbt(["build", "--exclude", SAMPLE_SEEDS])
