"""`outbound-events load` as a command: errors, idempotency and atomicity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from fixtures.loader_files import (
    RAW_TABLES,
    load,
    query,
    record_schema,
    snapshot,
    summary,
    write_avro,
    write_text,
)
from outbound_events.cli import cli
from outbound_events.loading import loader

LINES = ['{"user_id":"u1","event":"a"}', '{"user_id":"u2","event":"b"}', '{"user_id":"u3"}']


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    """Three files of one export: 3 + 2 + 1 records."""
    folder = tmp_path / "export"
    write_text(folder / "day1.ndjson", "\n".join(LINES))
    write_text(folder / "day2.json", "[" + ",".join(LINES[:2]) + "]")
    write_text(folder / "more" / "day3.jsonl.gz", LINES[2], compress=True)
    return folder


def test_help_explains_the_load_command():
    result = CliRunner().invoke(cli, ["load", "--help"])
    assert result.exit_code == 0
    for text in ["--provider", "braze", "customerio", "PATH", "raw.load_rejections"]:
        assert text in result.output


def test_an_unknown_provider_is_an_error_that_names_it(tmp_path, database, export):
    result = load(database, "mailchimp", export)
    assert result.exit_code != 0
    assert "mailchimp" in result.output
    assert not database.exists()


def test_a_path_that_does_not_exist_is_an_error_that_names_it(tmp_path, database, export):
    missing = tmp_path / "no" / "such-export"
    result = load(database, "outbound", export, missing)
    assert result.exit_code != 0
    assert str(missing) in result.output
    assert not database.exists()


def test_the_installed_command_exits_non_zero_for_a_missing_path(tmp_path, database):
    completed = subprocess.run(
        [sys.executable, "-m", "outbound_events.cli", "load", "-p", "braze", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env={"OUTBOUND_EVENTS_DB": str(database), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode != 0
    assert str(tmp_path / "x") in completed.stderr


def test_loading_one_provider_creates_every_raw_table(database, export):
    assert load(database, "outbound", export).exit_code == 0
    tables = query(
        database, "select table_name from duckdb_tables() where schema_name = 'raw' order by all"
    )
    assert [name for (name,) in tables] == sorted(RAW_TABLES)
    assert query(database, "select count(*) from raw.braze__events") == [(0,)]


def test_a_second_load_of_the_same_folder_adds_nothing(database, export):
    first = load(database, "outbound", export)
    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        "outbound: 3 files loaded, 6 records landed, 0 rejected, 0 files skipped as already loaded"
    )
    before = snapshot(database)
    second = load(database, "outbound", export)
    assert second.exit_code == 0, second.output
    assert second.output.startswith(
        "outbound: 0 files loaded, 0 records landed, 0 rejected, 3 files skipped as already loaded"
    )
    assert snapshot(database) == before
    assert query(database, "select sum(records_landed), count(*) from raw.loaded_files") == [(6, 3)]


def test_the_same_content_under_another_name_is_skipped(tmp_path, database, export):
    write_text(tmp_path / "copy" / "day1-again.ndjson", (export / "day1.ndjson").read_text())
    result = load(database, "outbound", export, tmp_path / "copy")
    assert summary(result) == (3, 6, 0, 1)


def test_a_changed_file_is_loaded_again(database, export):
    assert load(database, "outbound", export).exit_code == 0
    write_text(export / "day1.ndjson", "\n".join([*LINES, '{"user_id":"u4"}']))
    result = load(database, "outbound", export)
    assert summary(result) == (1, 4, 0, 2)


def test_the_same_file_for_another_provider_is_loaded(database, export):
    assert load(database, "outbound", export).exit_code == 0
    result = load(database, "customerio", export)
    assert summary(result) == (3, 6, 0, 0)


def test_a_file_whose_rows_were_removed_from_raw_is_loaded_again(database, export):
    # e.g. `outbound-events sample` replaced the raw tables with the sample seeds
    assert load(database, "outbound", export).exit_code == 0
    with duckdb.connect(str(database)) as connection:
        connection.execute("delete from raw.outbound__events where source_file like '%day2.json'")
    result = load(database, "outbound", export)
    assert summary(result) == (1, 2, 0, 2)


def warehouse_fails(connection: duckdb.DuckDBPyConnection) -> None:
    """The warehouse itself fails: a statement fails, and DuckDB aborts the load's
    transaction (an error reading one file only rejects that file)."""
    with pytest.raises(duckdb.Error):
        connection.execute("select * from raw.no_such_table")


def test_a_load_that_fails_part_way_leaves_the_warehouse_as_it_was(
    tmp_path, database, export, monkeypatch
):
    assert load(database, "outbound", export).exit_code == 0
    write_text(tmp_path / "new" / "a.ndjson", '{"user_id":"n1"}')
    write_text(tmp_path / "new" / "b.ndjson", '{"user_id":"n2"}')
    write_text(tmp_path / "new" / "c.avro", b"")  # not picked for outbound
    write_text(tmp_path / "new" / "empty.json", "")
    before = snapshot(database)
    land = loader.land_json_file

    def land_then_fail(connection, context, provider, file):
        outcome = land(connection, context, provider, file)  # a.ndjson lands, then b fails
        if file.path.name == "b.ndjson":
            warehouse_fails(connection)
            raise RuntimeError("disk on fire")
        return outcome

    monkeypatch.setattr(loader, "land_json_file", land_then_fail)
    result = load(database, "outbound", tmp_path / "new")
    assert result.exit_code == 1
    assert str(tmp_path / "new" / "b.ndjson") in result.output
    assert "disk on fire" in result.output
    assert snapshot(database) == before


def test_a_failed_first_load_leaves_no_warehouse_file(tmp_path, database, export, monkeypatch):
    def fail(connection, context, provider, file):
        warehouse_fails(connection)
        raise RuntimeError("boom")

    monkeypatch.setattr(loader, "land_json_file", fail)
    result = load(database, "outbound", export)
    assert result.exit_code == 1 and "boom" in result.output
    assert not database.exists()
    assert not Path(f"{database}.wal").exists()


def test_a_folder_without_matching_files_loads_nothing(tmp_path, database):
    write_text(tmp_path / "only" / "notes.txt", "nothing to load")
    result = load(database, "braze", tmp_path / "only")
    assert result.exit_code == 0
    assert "no braze files found" in result.output
    assert "braze: 0 files loaded, 0 records landed, 0 rejected" in result.output


def rejected_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("rejected: ", "… and "))]


def test_a_load_without_rejections_lists_none(database, export):
    result = load(database, "outbound", export)
    assert result.exit_code == 0, result.output
    assert rejected_lines(result.output) == []


def test_a_braze_file_loaded_as_another_provider_is_named_with_its_reason(tmp_path, database):
    # an Avro container file (Braze Currents) given to a JSON provider
    avro = tmp_path / "users.messages.email.Send.avro"
    schema = record_schema("users.messages.email.Send", [("id", "string"), ("user_id", "string")])
    write_avro(avro, schema, [{"id": "e1", "user_id": "u1"}])
    result = load(database, "customerio", avro)
    assert result.exit_code == 0, result.output
    assert summary(result) == (1, 0, 1, 0)
    [line] = rejected_lines(result.output)
    assert line.startswith(f"rejected: {avro}: not_json: looks like Avro")
    assert line.endswith("(Braze Currents files load with --provider braze)")
    # the same words as in raw.load_rejections
    [(reason, detail)] = query(
        database, "select rejection_reason, raw_text from raw.load_rejections"
    )
    assert line == f"rejected: {avro}: {reason}: {detail}"


def test_a_rejected_record_is_named_with_its_position(tmp_path, database, monkeypatch):
    # a limit of 40 bytes: line 2 (45 bytes) is too large, lines 1 and 3 land
    monkeypatch.setenv("OUTBOUND_EVENTS_MAX_RECORD_BYTES", "40")
    big = '{"user_id":"u2","event":"' + "x" * 18 + '"}'
    assert len(big) == 45
    path = write_text(tmp_path / "day.ndjson", "\n".join([LINES[0], big, LINES[2]]))
    result = load(database, "outbound", path)
    assert summary(result) == (1, 2, 1, 0)
    assert rejected_lines(result.output) == [
        f"rejected: {path} (record 2): record_too_large: {big}"
    ]


def test_the_rejections_listed_stop_at_twenty_then_are_counted(tmp_path, database):
    # 25 empty files: each is rejected as empty_file; the first 20 by name are listed
    folder = tmp_path / "empty"
    for number in range(25):
        write_text(folder / f"day{number:02}.json", "")
    result = load(database, "outbound", folder)
    assert result.exit_code == 0, result.output
    assert summary(result) == (25, 0, 25, 0)
    lines = rejected_lines(result.output)
    assert lines[:20] == [f"rejected: {folder / f'day{n:02}.json'}: empty_file" for n in range(20)]
    [(load_id,)] = query(database, "select distinct load_id from raw.load_rejections")
    assert lines[20:] == [
        "… and 5 more, see marts.rejected_events (after a build) or raw.load_rejections "
        f"where load_id = '{load_id}'"
    ]
