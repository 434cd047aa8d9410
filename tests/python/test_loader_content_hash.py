"""raw.<provider>__events.content_sha256: every landed record of every shape carries
the SHA-256 of its canonical JSON (keys sorted, compact, UTF-8), null when it is not
JSON; an older warehouse gains the column. Expected values are the SHA-256 of
canonical texts written out by hand."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from fixtures.loader_files import load, query, record_schema, write_avro, write_text

ROOT = Path(__file__).resolve().parents[2]


def sha(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def hashes(database: Path, table: str) -> list[tuple[str, int, str | None]]:
    rows = query(database, f"select source_file, source_position, content_sha256 from raw.{table}")
    return sorted((Path(file).name, position, digest) for file, position, digest in rows)


def test_every_json_shape_lands_with_its_content_hash(tmp_path, database):
    write_text(tmp_path / "feed.json", '[{"b": 1, "a": "é"},\n {"id": "x", "n": 1.0}]')
    write_text(tmp_path / "lines.ndjson", '{"z": [1, {"y": 2, "x": 3}]}\n{"id": broken\n[1, 2]\n')
    # a control character DuckDB's line reader splits on: these lines are split in Python
    write_text(tmp_path / "odd.ndjson", '{"b":2,"a":1}\n{"c":"x\x01"}\n')
    write_text(tmp_path / "body.json", '{\n  "id": "u",\n  "events": [{"event": "Sent"}]\n}\n')
    write_text(tmp_path / "packed.jsonl.gz", '{"k": "\\u00fc", "j": null}\n', compress=True)
    result = load(database, "crossengage", tmp_path)
    assert result.exit_code == 0, result.output
    assert hashes(database, "crossengage__events") == [
        ("body.json", 1, sha('{"events":[{"event":"Sent"}],"id":"u"}')),
        ("feed.json", 1, sha('{"a":"é","b":1}')),
        ("feed.json", 2, sha('{"id":"x","n":1.0}')),
        ("lines.ndjson", 1, sha('{"z":[1,{"x":3,"y":2}]}')),
        ("lines.ndjson", 2, None),  # not JSON
        ("lines.ndjson", 3, sha("[1,2]")),
        ("odd.ndjson", 1, sha('{"a":1,"b":2}')),
        ("odd.ndjson", 2, None),  # a raw control character in a string is not JSON
        ("packed.jsonl.gz", 1, sha('{"j":null,"k":"ü"}')),
    ]


def test_avro_records_land_with_the_hash_of_their_payload(tmp_path, database):
    write_avro(
        tmp_path / "event_type=users.messages.email.Send" / "p.avro",
        record_schema(
            "dataexport.S3.inner.users.messages.email.Send",
            [("user_id", "string"), ("id", "string"), ("time", "int"), ("extra", "?string")],
        ),
        [{"user_id": "u1", "id": "s1", "time": 5, "extra": None}],
        codec="deflate",
    )
    assert load(database, "braze", tmp_path).exit_code == 0
    assert query(database, "select payload, content_sha256 from raw.braze__events") == [
        ('{"user_id":"u1","id":"s1","time":5}', sha('{"id":"s1","time":5,"user_id":"u1"}'))
    ]


def test_copies_that_differ_only_in_layout_share_the_hash(tmp_path, database):
    write_text(tmp_path / "a.ndjson", '{"user_id":"u1","event":"open"}\n')
    write_text(tmp_path / "b.json", '[{ "event" : "open",\n  "user_id" : "u1" }]')
    write_text(tmp_path / "c.ndjson", '{"user_id":"u1","event":"click"}\n')
    assert load(database, "outbound", tmp_path).exit_code == 0
    assert hashes(database, "outbound__events") == [
        ("a.ndjson", 1, sha('{"event":"open","user_id":"u1"}')),
        ("b.json", 1, sha('{"event":"open","user_id":"u1"}')),
        ("c.ndjson", 1, sha('{"event":"click","user_id":"u1"}')),
    ]


def test_content_sha256_is_the_last_column_of_every_provider_table(tmp_path, database):
    write_text(tmp_path / "a.ndjson", "{}\n")
    assert load(database, "outbound", tmp_path).exit_code == 0
    rows = query(
        database,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name like '%__events' "
        "and ordinal_position = (select max(ordinal_position) from information_schema.columns c "
        "where c.table_schema = 'raw' and c.table_name = columns.table_name) order by all",
    )
    assert rows == [
        (f"{provider}__events", "content_sha256", "VARCHAR")
        for provider in ["activatepro", "braze", "crossengage", "customerio", "outbound"]
    ]


def test_an_older_warehouse_gains_the_column_and_keeps_its_rows(tmp_path, database):
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.outbound__events (source_file varchar, source_position bigint, "
            "load_id varchar, loaded_at timestamp, payload varchar)"
        )
        connection.execute(
            "insert into raw.outbound__events values "
            "('/old/file.ndjson', 1, 'load-old', '2024-01-01 00:00:00', '{\"b\":1}')"
        )
    write_text(tmp_path / "new.ndjson", '{"b":1}\n')
    result = load(database, "outbound", tmp_path / "new.ndjson")
    assert result.exit_code == 0, result.output
    assert query(
        database, "select source_file, payload, content_sha256 from raw.outbound__events order by 1"
    ) == [
        ("/old/file.ndjson", '{"b":1}', None),
        (str(tmp_path / "new.ndjson"), '{"b":1}', sha('{"b":1}')),
    ]
    # the other tables were created with the column
    assert query(database, "select count(*) from raw.customerio__events") == [(0,)]
    columns = query(
        database,
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = 'outbound__events' order by ordinal_position",
    )
    assert [name for (name,) in columns][-1] == "content_sha256"


@pytest.mark.parametrize(
    "name",
    [
        "braze__events",
        "crossengage__events",
        "activatepro__events",
        "outbound__events",
        "customerio__events",
    ],
)
def test_the_sample_seeds_carry_the_hash_of_each_payload(name):
    with (ROOT / "seeds" / "sample" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0])[-1] == "content_sha256"
    for row in rows:
        try:
            parsed = json.loads(row["payload"])
        except ValueError:
            assert row["content_sha256"] == "", row["payload"]  # null in the seed
            continue
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["content_sha256"] == sha(canonical)
