"""`outbound-events load --provider braze`: Braze Currents Avro files of every codec
and two schema versions land one row per record, with the event type from the path
or the schema; files that are empty, not Avro or truncated are listed in
raw.load_rejections."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from pathlib import Path

import pytest

from fixtures.loader_files import load, query, record_schema, write_avro, write_text
from outbound_events.loading.avro_files import event_type_from_schema, event_type_of, record_payload
from outbound_events.loading.sources import SourceFile

EXPORT = "dataexport.prod-01.S3.integration.abc"
SEND = "dataexport.S3.inner.users.messages.email.Send"
OPEN = "dataexport.S3.inner.users.messages.email.Open"
SEND_V1 = [
    ("id", "string"),
    ("user_id", "string"),
    ("external_user_id", "?string"),
    ("time", "int"),
    ("campaign_id", "?string"),
]
# version 2 of the schema: two new optional fields
SEND_V2 = [*SEND_V1, ("ip_pool", "?string"), ("message_extras", "?bytes")]


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def partition(root: Path, event_type: str, hour: str) -> Path:
    return root / EXPORT / f"event_type={event_type}" / f"date=2024-03-04-{hour}"


def braze_rows(database: Path) -> list[tuple[str, str, int, dict[str, object]]]:
    """(event type, path below the export root, position, payload) of every raw row."""
    rows = query(
        database, "select event_type, source_file, source_position, payload from raw.braze__events"
    )
    return sorted(
        (event_type, file.split(EXPORT + "/")[-1], position, json.loads(payload))
        for event_type, file, position, payload in rows
    )


def test_every_codec_and_schema_version_lands_one_row_per_record(tmp_path, database):
    root = tmp_path / "currents"
    write_avro(
        partition(root, "users.messages.email.Send", "09") / "part-0.avro",
        record_schema(SEND, SEND_V1),
        [
            {"id": "s1", "user_id": "u1", "external_user_id": "ext-1", "time": 1709542800,
             "campaign_id": "cmp1"},
            {"id": "s2", "user_id": "u2", "external_user_id": None, "time": 1709542801,
             "campaign_id": None},
        ],
        codec="null",
    )  # fmt: skip
    write_avro(
        partition(root, "users.messages.email.Send", "10") / "part-0.avro",
        record_schema(SEND, SEND_V2),
        [
            {"id": "s3", "user_id": "u3", "external_user_id": None, "time": 1709546400,
             "campaign_id": "cmp1", "ip_pool": "pool_a", "message_extras": b"\x00\x01\xff"},
        ],
        codec="deflate",
    )  # fmt: skip
    write_avro(
        partition(root, "users.messages.email.Open", "09") / "nested" / "part-1.avro",
        record_schema(OPEN, [("id", "string"), ("user_id", "string"), ("time", "int")]),
        [
            {"id": "o1", "user_id": "u1", "time": 1709544600},
            {"id": "o2", "user_id": "u1", "time": 1709548200},
        ],
        codec="snappy",
    )
    result = load(database, "braze", root)
    assert result.exit_code == 0, result.output
    send = "users.messages.email.Send"
    assert braze_rows(database) == [
        ("users.messages.email.Open", "event_type=users.messages.email.Open/date=2024-03-04-09/"
         "nested/part-1.avro", 1, {"id": "o1", "user_id": "u1", "time": 1709544600}),
        ("users.messages.email.Open", "event_type=users.messages.email.Open/date=2024-03-04-09/"
         "nested/part-1.avro", 2, {"id": "o2", "user_id": "u1", "time": 1709548200}),
        (send, f"event_type={send}/date=2024-03-04-09/part-0.avro", 1,
         {"id": "s1", "user_id": "u1", "external_user_id": "ext-1", "time": 1709542800,
          "campaign_id": "cmp1"}),
        (send, f"event_type={send}/date=2024-03-04-09/part-0.avro", 2,
         {"id": "s2", "user_id": "u2", "time": 1709542801}),
        (send, f"event_type={send}/date=2024-03-04-10/part-0.avro", 1,
         {"id": "s3", "user_id": "u3", "time": 1709546400, "campaign_id": "cmp1",
          "ip_pool": "pool_a", "message_extras": "AAH/"}),
    ]  # fmt: skip
    assert result.output.startswith("braze: 3 files loaded, 5 records landed, 0 rejected, ")


def test_the_payload_text_is_compact_json_in_schema_order(tmp_path, database):
    path = partition(tmp_path, "users.messages.email.Send", "09") / "p.avro"
    write_avro(
        path,
        record_schema(SEND, SEND_V1),
        [{"id": "s1", "user_id": "ü1", "external_user_id": None, "time": 5, "campaign_id": "c"}],
    )
    assert load(database, "braze", path).exit_code == 0
    assert query(database, "select payload from raw.braze__events") == [
        ('{"id":"s1","user_id":"ü1","time":5,"campaign_id":"c"}',)
    ]


def test_without_an_event_type_folder_the_schema_name_tells_the_event_type(tmp_path, database):
    write_avro(
        tmp_path / "flat" / "sms.avro",
        record_schema("dataexport.S3.inner.users.messages.sms.Delivery", [("id", "string")]),
        [{"id": "d1"}],
        codec="deflate",
    )
    write_avro(
        tmp_path / "flat" / "custom.avro",
        record_schema("com.example.Custom", [("id", "string"), ("score", "double")]),
        [{"id": "c1", "score": math.nan}, {"id": "c2", "score": -math.inf}],
        codec="snappy",
    )
    assert load(database, "braze", tmp_path / "flat").exit_code == 0
    assert query(
        database,
        "select event_type, source_position, payload from raw.braze__events order by all",
    ) == [
        ("com.example.Custom", 1, '{"id":"c1","score":"NaN"}'),
        ("com.example.Custom", 2, '{"id":"c2","score":"-Infinity"}'),
        ("users.messages.sms.Delivery", 1, '{"id":"d1"}'),
    ]


def test_a_truncated_file_lands_the_records_before_the_break(tmp_path, database):
    path = partition(tmp_path, "users.messages.email.Send", "11") / "cut.avro"
    records = [
        {"id": f"s{n}", "user_id": "u", "external_user_id": None, "time": n, "campaign_id": None}
        for n in range(1, 51)
    ]
    block_ends = write_avro(path, record_schema(SEND, SEND_V1), records, "deflate", block_size=10)
    # keep the header and three whole blocks (records 1-30) and a little of the fourth
    path.write_bytes(path.read_bytes()[: block_ends[2] + 7])
    result = load(database, "braze", path)
    assert result.exit_code == 0, result.output
    positions = "select count(*), min(source_position), max(source_position) from raw.braze__events"
    assert query(database, positions) == [(30, 1, 30)]
    assert query(
        database, "select rejection_reason, source_position, source_file from raw.load_rejections"
    ) == [("truncated_avro", 31, str(path))]
    assert result.output.startswith("braze: 1 file loaded, 30 records landed, 1 rejected, ")


def test_files_that_are_not_avro_are_rejected(tmp_path, database):
    folder = partition(tmp_path, "users.messages.email.Send", "12")
    write_text(folder / "empty.avro", b"")
    write_text(folder / "text.avro", '{"id": "not avro at all"}\n')
    write_text(folder / "header-only.avro", b"Obj\x01\x04\x16avro.sch")
    write_text(folder / "readme.txt", "not picked: not .avro")
    result = load(database, "braze", tmp_path)
    assert result.exit_code == 0, result.output
    assert query(database, "select count(*) from raw.braze__events") == [(0,)]
    rows = query(
        database,
        "select source_file, source_position, rejection_reason, raw_text from raw.load_rejections",
    )
    found = sorted((Path(file).name, *rest) for file, *rest in rows)
    assert [row[:3] for row in found] == [
        ("empty.avro", 1, "empty_file"),
        ("header-only.avro", 1, "truncated_avro"),
        ("text.avro", 1, "not_avro"),
    ]
    assert found[0][3] == ""
    assert found[2][3] == '{"id": "not avro at all"}\n'
    assert result.output.startswith("braze: 3 files loaded, 0 records landed, 3 rejected, ")


def test_an_empty_avro_file_is_rejected_per_path(tmp_path, database):
    # every empty file has the same content; each is still reported once
    write_text(tmp_path / "a" / "empty.avro", b"")
    write_text(tmp_path / "b" / "empty.avro", b"")
    assert load(database, "braze", tmp_path).exit_code == 0
    assert query(database, "select count(*) from raw.load_rejections") == [(2,)]
    second = load(database, "braze", tmp_path)
    assert second.output.startswith("braze: 0 files loaded, 0 records landed, 0 rejected, 2 files")
    assert query(database, "select count(*) from raw.load_rejections") == [(2,)]


@pytest.mark.parametrize(
    ("schema", "event_type"),
    [
        ({"type": "record", "name": SEND, "fields": []}, "users.messages.email.Send"),
        (
            {"type": "record", "name": "StateChange", "namespace": "x.users.behaviors.group"},
            "users.behaviors.group.StateChange",
        ),
        ({"type": "record", "name": "a.b.C"}, "a.b.C"),
        (
            {"type": "record", "name": "dataexport.S3.messages.email.Open"},
            "users.messages.email.Open",
        ),
        (
            {"type": "record", "name": "Executed", "namespace": "x.agentconsole"},
            "agentconsole.Executed",
        ),
        ("string", None),
    ],
)
def test_event_type_from_schema(schema, event_type):
    assert event_type_from_schema(schema) == event_type


@pytest.mark.parametrize(
    ("path", "schema_name", "event_type"),
    [
        # the export folder wins over everything
        (
            "event_type=users.messages.sms.Send/x.avro",
            "users.messages.email.Send",
            "users.messages.sms.Send",
        ),
        # then the record name, when it holds an event type
        (
            "users.messages.email.Open.avro",
            "users.messages.email.Click",
            "users.messages.email.Click",
        ),
        # then the file name (Braze's sample files: one file per type, record named otherwise)
        ("users.messages.whatsapp.Read.avro", "Event", "users.messages.whatsapp.Read"),
        ("behaviors.Purchase.avro", "Event", "users.behaviors.Purchase"),
        # else the record's full name, kept (and counted unmapped downstream)
        ("Email_Click.avro", "EmailClick", "EmailClick"),
    ],
)
def test_event_type_of_a_file(tmp_path, path, schema_name, event_type):
    file = SourceFile(tmp_path / path)
    assert event_type_of(file, {"type": "record", "name": schema_name, "fields": []}) == event_type


def test_payload_of_logical_and_nested_values():
    record = {
        "a": datetime.datetime(2024, 3, 4, 9, 0, tzinfo=datetime.UTC),
        "b": datetime.date(2024, 3, 4),
        "c": decimal.Decimal("1.50"),
        "d": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "e": {"k": None, "l": [b"\xff", math.inf]},
        "f": None,
    }
    assert json.loads(record_payload(record)) == {
        "a": "2024-03-04T09:00:00+00:00",
        "b": "2024-03-04",
        "c": "1.50",
        "d": "12345678-1234-5678-1234-567812345678",
        "e": {"k": None, "l": ["/w==", "Infinity"]},
    }


@pytest.mark.parametrize(
    ("schema", "records", "text"),
    [
        ("string", ["a", "b"], 'Avro schema is "string", not a record'),
        ({"type": "array", "items": "string"}, [["x"]], 'Avro schema is "array", not a record'),
        (
            ["null", "string"],
            ["s", None],
            'Avro schema is a union ["null", "string"], not a record',
        ),
    ],
)
def test_an_avro_file_whose_schema_is_no_record_is_rejected_alone(
    tmp_path, database, schema, records, text
):
    root = tmp_path / "currents"
    write_avro(root / "odd.avro", schema, records)
    send = partition(root, "users.messages.email.Send", "09") / "part-0.avro"
    write_avro(send, record_schema(SEND, [("id", "string")]), [{"id": "s1"}])
    result = load(database, "braze", root)
    assert result.exit_code == 0, result.output
    assert braze_rows(database) == [
        ("users.messages.email.Send", "event_type=users.messages.email.Send/date=2024-03-04-09/"
         "part-0.avro", 1, {"id": "s1"}),
    ]  # fmt: skip
    assert query(
        database, "select source_file, source_position, rejection_reason, raw_text "
        "from raw.load_rejections"
    ) == [(str(root / "odd.avro"), 1, "not_avro", text)]  # fmt: skip
