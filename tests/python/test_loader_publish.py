"""On the spark target `outbound-events load` lands into its landing DuckDB file and
publishes each load as Parquet files, one per raw table it wrote rows to: the same
rows, the same idempotence, nothing left behind by a failed load."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from fixtures.loader_files import write_text
from outbound_events.cli import cli
from outbound_events.loading import loader, publish

LINES = ['{"user_id":"u1","event":"a"}', '{"user_id":"u2","event":"b"}', "not json"]


@pytest.fixture()
def spark_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spark"
    monkeypatch.setenv("OUTBOUND_EVENTS_TARGET", "spark")
    monkeypatch.setenv("OUTBOUND_EVENTS_SPARK_DIR", str(folder))
    return folder


def load(*paths: Path) -> str:
    result = CliRunner().invoke(cli, ["load", "--provider", "outbound", *map(str, paths)])
    assert result.exit_code == 0, result.output
    return result.output


def published(spark_dir: Path, table: str) -> list[tuple]:
    files = sorted((spark_dir / "raw" / table).glob("*.parquet"))
    if not files:
        return []
    return duckdb.sql(
        "select load_id, source_position, payload, cast(loaded_at as varchar) as loaded_at"
        f" from read_parquet({[str(f) for f in files]}) order by load_id, source_position"
    ).fetchall()


def landed(spark_dir: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(spark_dir / "landing.duckdb"), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        return connection.execute(
            "select load_id, source_position, payload,"
            " cast(cast(loaded_at as timestamptz) as varchar) as loaded_at"
            f" from raw.{table} order by load_id, source_position"
        ).fetchall()


def test_each_load_is_published_as_the_rows_it_landed(spark_dir, tmp_path):
    first = write_text(tmp_path / "day1.ndjson", "\n".join(LINES[:2]))
    second = write_text(tmp_path / "day2.ndjson", LINES[2])
    load(first)
    load(second)
    events = published(spark_dir, "outbound__events")
    # day 1: two records; day 2: one record (not JSON: landed, rejected later by dbt)
    assert sorted((row[2], row[1]) for row in events) == sorted(
        [(LINES[0], 1), (LINES[1], 2), (LINES[2], 1)]
    )
    assert events == landed(spark_dir, "outbound__events")
    assert len({row[0] for row in events}) == 2  # one file per load
    assert len(list((spark_dir / "raw" / "outbound__events").glob("*.parquet"))) == 2
    files = sorted((spark_dir / "raw" / "loaded_files").glob("*.parquet"))
    counted = duckdb.sql(f"select count(*) from read_parquet({[str(f) for f in files]})")
    assert counted.fetchall() == [(2,)]
    assert not (spark_dir / "raw" / "braze__events").exists()  # no rows, no file


def test_loading_the_same_file_again_publishes_nothing(spark_dir, tmp_path):
    export = write_text(tmp_path / "day1.ndjson", "\n".join(LINES[:2]))
    load(export)
    before = sorted(path.name for path in (spark_dir / "raw").rglob("*.parquet"))
    assert "skipped" in load(export)
    assert sorted(path.name for path in (spark_dir / "raw").rglob("*.parquet")) == before


def test_a_failed_load_leaves_no_file(spark_dir, tmp_path, monkeypatch):
    good = write_text(tmp_path / "day1.ndjson", LINES[0])
    load(good)
    before = sorted((spark_dir / "raw").rglob("*"))

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loader, "record_file", fail)
    result = CliRunner().invoke(
        cli, ["load", "--provider", "outbound", str(write_text(tmp_path / "day2.ndjson", LINES[1]))]
    )
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert sorted((spark_dir / "raw").rglob("*")) == before


def test_folders_are_reconciled_with_the_landing_warehouse(spark_dir, tmp_path):
    load(write_text(tmp_path / "day1.ndjson", LINES[0]))
    folder = spark_dir / "raw" / "outbound__events"
    (kept,) = folder.glob("*.parquet")
    # a crash between the rename and the commit leaves a file of a load never landed;
    # a lost file leaves a landed load unpublished
    orphan = folder / "load-never-committed.parquet"
    orphan.write_bytes(kept.read_bytes())
    kept_bytes = kept.read_bytes()
    kept.unlink()
    load(write_text(tmp_path / "day2.ndjson", LINES[1]))
    assert not orphan.exists()
    assert kept.read_bytes() == kept_bytes
    assert sorted(row[2] for row in published(spark_dir, "outbound__events")) == LINES[:2]


def test_publish_writes_only_tables_with_rows(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        connection.execute("create schema raw")
        for table in publish.RAW_TABLES:
            connection.execute(f"create table raw.{table} (load_id varchar, loaded_at timestamp)")
        connection.execute("insert into raw.load_rejections values ('l1', '2024-01-01 10:00:00')")
        paths = publish.publish_load(connection, "l1", tmp_path / "raw")
    assert paths == [tmp_path / "raw" / "load_rejections" / "l1.parquet"]
