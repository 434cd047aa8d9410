"""A plain `dbt build --vars '{outbound_events__use_sample: true}'` on a fresh
warehouse file, with no `dbt seed` before it: the staging models read the sample seeds
only after dbt has seeded them (they ref them when the var is on), so the build passes
and its marts are those of `outbound-events sample` (seed, then build). Run as a user
runs it: without OUTBOUND_EVENTS_TEST_ALL_ROWS (which `make test` sets), so the data
tests take their default window on a warehouse that has no work list yet."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fixtures.warehouse import snapshot, warehouse_env
from outbound_events import dbt
from outbound_events.project import project_dir


def test_a_plain_sample_build_on_a_fresh_file_seeds_first(tmp_path: Path, sample_warehouse: Path):
    database = tmp_path / "fresh.duckdb"
    assert not database.exists()
    with warehouse_env(database):
        environment = {k: v for k, v in os.environ.items() if k != "OUTBOUND_EVENTS_TEST_ALL_ROWS"}
        completed = subprocess.run(
            [dbt.dbt_executable(), "build", "--vars", "{outbound_events__use_sample: true}",
             "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())],
            cwd=project_dir(), env=environment, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert snapshot(database) == snapshot(sample_warehouse)
