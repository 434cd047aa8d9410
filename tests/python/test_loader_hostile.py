"""Hostile file trees and bytes: symlink loops, FIFOs, sockets, devices and broken
links are skipped and reported (the load finishes); files that are binary or not
UTF-8 are rejected with a reason naming what they are while the other files land;
no input gives a Python traceback."""

from __future__ import annotations

import gzip
import os
import socket
import sys
from pathlib import Path

import fastavro
import pytest

from fixtures.loader_files import (
    load,
    query,
    record_schema,
    rejected,
    run_cli,
    skip_lines,
    snapshot,
    summary,
    write_avro,
    write_text,
)
from outbound_events import cli as cli_module
from outbound_events.loading import avro_files, json_files, loader


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def landed(database: Path, table: str) -> list[tuple[str, int, str]]:
    rows = query(database, f"select source_file, source_position, payload from raw.{table}")
    return sorted((file, position, payload) for file, position, payload in rows)


# ---------------------------------------------------------------- walking folders


def test_symlink_loops_are_skipped_and_reported(tmp_path, database):
    export = tmp_path / "export"
    write_text(export / "a.ndjson", '{"user_id":"u1"}\n')
    write_text(export / "sub" / "b.ndjson", '{"user_id":"u2"}\n')
    os.symlink(".", export / "self1")  # two links pointing at their parent
    os.symlink(".", export / "self2")
    os.symlink("..", export / "sub" / "up")  # a link to an ancestor
    os.symlink("itself", export / "itself")  # a link to itself
    os.symlink("sub", export / "again")  # not a loop: the same folder another way
    completed = run_cli(database, "load", "-p", "outbound", export, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert landed(database, "outbound__events") == [
        (str(export / "a.ndjson"), 1, '{"user_id":"u1"}'),
        (str(export / "sub" / "b.ndjson"), 1, '{"user_id":"u2"}'),
    ]
    # in walk order: a folder's entries by name, folders behind links last
    assert skip_lines(completed.stdout) == [
        f"skipped: {export / 'itself'} (symlink loop)",
        f"skipped: {export / 'self1'} (symlink loop)",
        f"skipped: {export / 'self2'} (symlink loop)",
        f"skipped: {export / 'sub' / 'up'} (symlink loop)",
        f"skipped: {export / 'again'} (same folder as {export / 'sub'})",
    ]
    assert summary(completed.stdout) == (2, 2, 0, 0)


def test_a_fifo_a_socket_a_device_and_a_broken_link_are_never_opened(tmp_path, database):
    export = tmp_path / "export"
    write_text(export / "good.ndjson", '{"user_id":"u1"}\n')
    os.mkfifo(export / "pipe.ndjson")  # opening it for reading would block forever
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(export / "sock.json"))
    os.symlink("/dev/null", export / "device.jsonl")  # a character device
    os.symlink(export / "gone.ndjson", export / "dangling.ndjson")
    os.symlink(export / "good.ndjson", export / "linked.json")  # a link to a file: loaded
    os.mkfifo(export / "other-fifo")  # not a name the provider's files have: not reported
    try:
        completed = run_cli(database, "load", "-p", "outbound", export, timeout=60)
    finally:
        server.close()
    assert completed.returncode == 0, completed.stderr
    assert skip_lines(completed.stdout) == [
        f"skipped: {export / 'dangling.ndjson'} (broken link)",
        f"skipped: {export / 'device.jsonl'} (not a regular file)",
        f"skipped: {export / 'pipe.ndjson'} (not a regular file)",
        f"skipped: {export / 'sock.json'} (not a regular file)",
    ]
    assert landed(database, "outbound__events") == [
        (str(export / "good.ndjson"), 1, '{"user_id":"u1"}')
    ]
    # linked.json has good.ndjson's content: skipped as already loaded in this load
    assert summary(completed.stdout) == (1, 1, 0, 1)


def test_a_fifo_named_on_the_command_line_is_skipped(tmp_path, database):
    write_text(tmp_path / "good.ndjson", '{"user_id":"u1"}\n')
    os.mkfifo(tmp_path / "pipe.ndjson")
    completed = run_cli(
        database, "load", "-p", "outbound", tmp_path / "pipe.ndjson", tmp_path / "good.ndjson",
        "/dev/null", timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert skip_lines(completed.stdout) == [
        f"skipped: {tmp_path / 'pipe.ndjson'} (not a regular file)",
        "skipped: /dev/null (not a regular file)",
    ]
    assert landed(database, "outbound__events") == [
        (str(tmp_path / "good.ndjson"), 1, '{"user_id":"u1"}')
    ]


def test_a_file_that_became_a_fifo_after_the_walk_is_unreadable_not_a_hang(tmp_path, database):
    from outbound_events.loading import load_files, provider_for
    from outbound_events.loading.sources import SourceFile

    os.mkfifo(tmp_path / "late.ndjson")
    provider = provider_for("outbound")
    result = load_files(provider, [SourceFile(tmp_path / "late.ndjson")], database)
    assert result.records_rejected == 1
    assert rejected(database) == [
        ("late.ndjson", 1, "unreadable_file", "NotRegularFileError: [Errno 22] not a regular file: "
         f"'{tmp_path / 'late.ndjson'}'"),
    ]  # fmt: skip


# ------------------------------------------------------------------ bytes, not JSON

LATIN1_ARRAY = '[{"id": "u1", "name": "Jürgen"}]'  # ü is byte 0xfc in Latin-1


def test_binary_and_non_utf8_files_are_rejected_with_a_clear_reason(tmp_path, database):
    folder = tmp_path / "export"
    write_text(folder / "good.ndjson", '{"id":"u1","event":"Message Sent"}\n')
    write_text(folder / "good.json", '[{"id":"u2"}]')
    # Latin-1 text: in `[{"id": "u1", "name": "J` the J is byte 24, ü byte 25
    write_text(folder / "latin1.json", LATIN1_ARRAY.encode("latin-1"))
    write_text(folder / "latin1-gz.json.gz", gzip.compress(LATIN1_ARRAY.encode("latin-1")))
    # an API body with a stray byte: `{"id":"u","events":[{"n":"` is 26 bytes
    write_text(folder / "body.json", b'{"id":"u","events":[{"n":"\xff"}]}')
    # an Avro file given to a JSON provider
    schema = fastavro.parse_schema(record_schema("x.Event", [("id", "string")]))
    with (folder / "avro.json").open("wb") as stream:
        fastavro.writer(stream, schema, [{"id": "a"}])
    write_text(folder / "blob.json", b"{\x00\x01\x02\x03")  # NUL at byte 2
    write_text(folder / "utf16.json", '[{"id": "u3"}]'.encode("utf-16"))  # FF FE first
    write_text(folder / "archive.json", b"PK\x03\x04rest of a zip")
    result = load(database, "crossengage", folder)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert landed(database, "crossengage__events") == [
        (str(folder / "good.json"), 1, '{"id":"u2"}'),
        (str(folder / "good.ndjson"), 1, '{"id":"u1","event":"Message Sent"}'),
    ]
    escaped = LATIN1_ARRAY.replace("ü", "\\xfc")
    assert rejected(database) == [
        ("archive.json", 1, "not_json", "looks like a zip archive, not JSON text (unzip it first)"),
        ("avro.json", 1, "not_json", "looks like Avro: an Avro object container file, not JSON "
         "text (Braze Currents files load with --provider braze)"),
        ("blob.json", 1, "not_json", "not JSON: binary content (a NUL byte at byte 2)"),
        ("body.json", 1, "not_utf8", 'not UTF-8 at byte 27 (0xff): {"id":"u","events":[{"n":"'
         '\\xff"}]}'),
        ("latin1-gz.json.gz", 1, "not_utf8", f"not UTF-8 at byte 25 (0xfc): {escaped}"),
        ("latin1.json", 1, "not_utf8", f"not UTF-8 at byte 25 (0xfc): {escaped}"),
        ("utf16.json", 1, "not_utf8", "not UTF-8 at byte 1: UTF-16 text (byte-order mark)"),
    ]  # fmt: skip
    assert summary(result) == (9, 2, 7, 0)


def test_an_ndjson_line_that_is_not_utf8_is_rejected_alone(tmp_path, database):
    lines = [b'{"n":1}', '{"name":"Jürgen"}'.encode("latin-1"), b"", b'{"n":3}']
    write_text(tmp_path / "mixed.ndjson", b"\n".join(lines) + b"\n")
    result = load(database, "customerio", tmp_path / "mixed.ndjson")
    assert result.exit_code == 0, result.output
    path = str(tmp_path / "mixed.ndjson")
    assert landed(database, "customerio__events") == [(path, 1, '{"n":1}'), (path, 4, '{"n":3}')]
    # {"name":"J is 10 bytes: 0xfc is the 11th
    assert rejected(database) == [
        ("mixed.ndjson", 2, "not_utf8",
         'not UTF-8 at byte 11 of the line (0xfc): {"name":"J\\xfcrgen"}'),
    ]  # fmt: skip


def test_an_avro_file_for_a_json_provider_is_one_rejection_not_a_crash(tmp_path, database):
    write_avro(
        tmp_path / "currents" / "part-0.avro",
        record_schema("dataexport.S3.inner.users.messages.email.Send", [("id", "string")]),
        [{"id": "s1"}],
        codec="deflate",
    )
    renamed = tmp_path / "currents" / "part-0.json"
    (tmp_path / "currents" / "part-0.avro").rename(renamed)
    write_text(tmp_path / "currents" / "ok.json", '[{"id":"u1"}]')
    completed = run_cli(database, "load", "--provider", "crossengage", tmp_path / "currents")
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr and "unfinished result" not in completed.stderr
    assert [row[:3] for row in rejected(database)] == [("part-0.json", 1, "not_json")]
    assert len(landed(database, "crossengage__events")) == 1


# -------------------------------------------------------- failures are messages


SEND = "dataexport.S3.inner.users.messages.email.Send"
OPEN = "dataexport.S3.inner.users.messages.email.Open"


def test_an_unexpected_error_rejects_its_file_and_the_others_land(tmp_path, database, monkeypatch):
    failing = tmp_path / "event_type=users.messages.email.Send" / "p.avro"
    write_avro(failing, record_schema(SEND, [("id", "string")]),
               [{"id": "s1"}, {"id": "s2"}, {"id": "s3"}])  # fmt: skip
    good = tmp_path / "event_type=users.messages.email.Open" / "q.avro"
    write_avro(good, record_schema(OPEN, [("id", "string")]), [{"id": "o1"}])
    encode = avro_files.record_payload

    def fail_on_s2(record):
        if record["id"] == "s2":
            raise TypeError("cannot encode frobnicator as JSON")
        return encode(record)

    monkeypatch.setattr(avro_files, "record_payload", fail_on_s2)
    monkeypatch.setattr(avro_files, "BATCH_RECORDS", 1)  # s1 is written before s2 fails
    result = load(database, "braze", tmp_path)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    # s1, landed before the error, is taken back: the file is rejected as a whole
    assert landed(database, "braze__events") == [(str(good), 1, '{"id":"o1"}')]
    assert rejected(database) == [
        ("p.avro", 1, "unreadable_file", "the loader could not read the file (record 2): "
         "TypeError: cannot encode frobnicator as JSON"),
    ]  # fmt: skip
    assert summary(result) == (2, 1, 1, 0)
    assert query(
        database,
        "select source_file, records_landed, records_rejected from raw.loaded_files order by 1",
    ) == [(str(good), 1, 0), (str(failing), 0, 1)]  # by path: Open before Send
    assert summary(load(database, "braze", tmp_path)) == (0, 0, 0, 2)  # loaded: skipped


def test_an_error_reading_a_json_file_rejects_only_that_file(tmp_path, database, monkeypatch):
    write_text(tmp_path / "a.ndjson", '{"n":1}\n')
    write_text(tmp_path / "b.ndjson", '{"n":2}\n')
    plan = json_files.plan_file

    def fail_on_b(reader, file, *args):
        if file.path.name == "b.ndjson":
            raise ValueError("a reader that trips")
        return plan(reader, file, *args)

    monkeypatch.setattr(json_files, "plan_file", fail_on_b)
    result = load(database, "outbound", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database, "outbound__events") == [(str(tmp_path / "a.ndjson"), 1, '{"n":1}')]
    assert rejected(database) == [
        ("b.ndjson", 1, "unreadable_file", "ValueError: a reader that trips"),
    ]


def test_a_failure_of_the_warehouse_still_rolls_the_whole_load_back(
    tmp_path, database, monkeypatch
):
    write_text(tmp_path / "first.ndjson", "{}\n")
    assert load(database, "outbound", tmp_path / "first.ndjson").exit_code == 0
    before = snapshot(database)
    write_text(tmp_path / "new" / "a.ndjson", '{"user_id":"n1"}')
    write_text(tmp_path / "new" / "b.ndjson", '{"user_id":"n2"}')
    land = loader.land_json_file

    def land_then_fail(connection, context, provider, file):
        outcome = land(connection, context, provider, file)  # a.ndjson lands, then b fails
        if file.path.name == "b.ndjson":  # a statement of the load's own connection fails
            connection.execute("select error('disk on fire')")
        return outcome

    monkeypatch.setattr(loader, "land_json_file", land_then_fail)
    result = load(database, "outbound", tmp_path / "new")
    assert result.exit_code == 1
    assert f"load failed while loading {tmp_path / 'new' / 'b.ndjson'}: " in result.output
    assert "disk on fire" in result.output and f"nothing was written to {database}" in result.output
    assert snapshot(database) == before


def test_a_failure_of_a_new_warehouse_leaves_no_file(tmp_path, database, monkeypatch):
    write_text(tmp_path / "a.ndjson", "{}\n")

    def fail(connection, context, provider, file):
        connection.execute("select error('boom')")

    monkeypatch.setattr(loader, "land_json_file", fail)
    result = load(database, "outbound", tmp_path)
    assert result.exit_code == 1 and "boom" in result.output
    assert not database.exists()
    assert not Path(f"{database}.wal").exists()


def test_main_turns_any_unexpected_error_into_one_line(monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(cli_module.loading, "files_to_load", explode)
    monkeypatch.setattr(sys, "argv", ["outbound-events", "load", "-p", "outbound", "/"])
    monkeypatch.delenv(cli_module.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.strip() == (
        "error: unexpected KeyError: 'surprise' (set OUTBOUND_EVENTS_DEBUG=1 for the details)"
    )


def test_a_bad_record_size_setting_is_refused_before_anything_is_written(tmp_path, database):
    write_text(tmp_path / "a.ndjson", "{}\n")
    completed = run_cli(
        database, "load", "-p", "outbound", tmp_path,
        env={"OUTBOUND_EVENTS_MAX_RECORD_BYTES": "lots"},
    )  # fmt: skip
    assert completed.returncode == 1
    assert completed.stderr.startswith(
        "Error: OUTBOUND_EVENTS_MAX_RECORD_BYTES='lots' is not a positive whole number of bytes\n"
    )
    assert not database.exists()


@pytest.mark.parametrize("command", [["load", "-p", "outbound", "FILE"], ["summary"], ["build"]])
def test_a_warehouse_path_holding_another_file_is_refused(tmp_path, command):
    # DuckDB would open an in-memory database in its place: a load would "land"
    # records that are stored nowhere
    not_a_warehouse = write_text(tmp_path / "events.json", '{"not": "a database"}\n')
    write_text(tmp_path / "a.ndjson", '{"user_id":"u1"}\n')
    args = [str(tmp_path / "a.ndjson") if arg == "FILE" else arg for arg in command]
    completed = run_cli(not_a_warehouse, *args)
    assert completed.returncode == 1
    assert f"{not_a_warehouse} is not a DuckDB database file: point OUTBOUND_EVENTS_DB at " in (
        completed.stderr
    )
    assert "Traceback" not in completed.stderr
    assert not_a_warehouse.read_text() == '{"not": "a database"}\n'
