"""Build the bundled sample once into a temporary DuckDB file for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from outbound_events import dbt


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    database = tmp_path_factory.mktemp("warehouse") / "sample.duckdb"
    previous = os.environ.get("OUTBOUND_EVENTS_DB")
    os.environ["OUTBOUND_EVENTS_DB"] = str(database)
    try:
        dbt.build_sample()
        yield database
    finally:
        if previous is None:
            os.environ.pop("OUTBOUND_EVENTS_DB", None)
        else:
            os.environ["OUTBOUND_EVENTS_DB"] = previous


@pytest.fixture()
def sample_db(sample_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(sample_warehouse), read_only=True)
    try:
        yield connection
    finally:
        connection.close()
