"""Build the bundled sample once into a temporary DuckDB file for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from fixtures.warehouse import warehouse_env
from outbound_events import dbt


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("warehouse") / "sample.duckdb"
    with warehouse_env(database):
        dbt.build_sample()
    return database


@pytest.fixture()
def sample_db(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        yield connection
    finally:
        connection.close()
