"""End to end: a Braze Currents export tree goes through `outbound-events load` and
`outbound-events build` into marts.outbound_events, with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.loader_files import query, record_schema, write_avro, write_text

EXPORT = "dataexport.prod-01.S3.integration.abc"
FIELDS_V1 = [
    ("id", "string"),
    ("user_id", "?string"),
    ("external_user_id", "?string"),
    ("time", "int"),
    ("campaign_id", "?string"),
    ("dispatch_id", "?string"),
]
FIELDS_V2 = [*FIELDS_V1, ("ip_pool", "?string")]  # schema evolution: a new optional field


def event(id_: str, user: str | None, time: int, **extra: str | None) -> dict[str, object]:
    return {
        "id": id_,
        "user_id": user,
        "external_user_id": None,
        "time": time,
        "campaign_id": "cmp_spring",
        "dispatch_id": "dsp_1",
        **extra,
    }


def currents_file(root: Path, event_type: str, hour: str) -> Path:
    return root / EXPORT / f"event_type={event_type}" / f"date=2024-03-04-{hour}" / "part-0.avro"


def schema(name: str, fields: list[tuple[str, str]]) -> dict[str, object]:
    return record_schema(f"dataexport.S3.inner.{name}", fields)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """Write the export tree, load it, build; return the warehouse and both outputs."""
    root = tmp_path_factory.mktemp("currents")
    send = "users.messages.email.Send"
    write_avro(
        currents_file(root, send, "09"),
        schema(send, FIELDS_V1),
        [event("s1", "u1", 1709542800), event("s2", "u2", 1709542801)],
        codec="null",
    )
    # s1 delivered again (at least once), in a file of the newer schema: the same
    # content (its new optional field is null, so its payload is the same JSON)
    write_avro(
        currents_file(root, send, "10"),
        schema(send, FIELDS_V2),
        [
            event("s1", "u1", 1709542800, ip_pool=None),
            event("s3", "u3", 1709546400, ip_pool="pool_b"),
        ],
        codec="deflate",
    )
    opened = "users.messages.email.Open"
    write_avro(
        currents_file(root, opened, "11"),
        schema(opened, FIELDS_V1),
        [event("o1", "u1", 1709550000), event("o2", None, 1709550001)],  # o2: no user
        codec="snappy",
    )
    unknown = "users.messages.pigeon.Read"  # no documentation has it: kept as unmapped
    write_avro(
        currents_file(root, unknown, "12"),
        schema(unknown, FIELDS_V1),
        [event("w1", "u1", 1709553600)],
    )
    delivered = "users.messages.email.Delivery"
    cut = currents_file(root, delivered, "09")
    block_ends = write_avro(
        cut,
        schema(delivered, FIELDS_V1),
        [event(f"d{n}", "u1", 1709542805 + n) for n in range(1, 7)],
        codec="deflate",
        block_size=2,
    )
    cut.write_bytes(cut.read_bytes()[: block_ends[1] + 3])  # d1-d4 readable, d5 breaks
    write_text(currents_file(root, "users.messages.email.Click", "13"), "not avro\n")

    database = tmp_path_factory.mktemp("warehouse") / "loaded.duckdb"
    env = {**os.environ, "OUTBOUND_EVENTS_DB": str(database)}
    outputs = []
    for command in (["load", "--provider", "braze", str(root)], ["build"]):
        completed = subprocess.run(
            [sys.executable, "-m", "outbound_events.cli", *command],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        outputs.append(completed.stdout)
    return database, outputs[0], outputs[1]


def test_the_load_reports_what_it_read(built):
    _, load_output, _ = built
    # 6 files; 2 + 2 + 2 + 1 + 4 records; the truncated and the non-Avro file rejected
    assert load_output.startswith("braze: 6 files loaded, 11 records landed, 2 rejected, ")


def test_every_event_of_the_export_is_in_outbound_events(built):
    database, _, _ = built
    assert query(
        database,
        "select event_type, count(*) from marts.outbound_events group by all order by all",
    ) == [("delivery", 4), ("open", 1), ("send", 3), ("unmapped", 1)]
    assert query(
        database,
        "select provider_event_id, provider_event_name from marts.outbound_events "
        "where event_type = 'unmapped'",
    ) == [("w1", "users.messages.pigeon.Read")]


def test_a_duplicate_event_id_appears_once(built):
    database, _, _ = built
    rows = query(
        database,
        "select copies_received, source_file from marts.outbound_events "
        "where provider_event_id = 's1'",
    )
    assert len(rows) == 1
    copies, source_file = rows[0]
    assert copies == 2
    # the first copy landed survives: the earlier file by path
    assert source_file.endswith("date=2024-03-04-09/part-0.avro")


def test_a_field_the_newer_schema_added_is_kept_in_properties(built):
    database, _, _ = built
    [(properties,)] = query(
        database, "select properties from marts.outbound_events where provider_event_id = 's3'"
    )
    assert json.loads(properties)["ip_pool"] == "pool_b"


def test_what_could_not_become_an_event_is_in_rejected_events(built):
    database, _, _ = built
    rows = query(
        database,
        "select rejection_reason, source_file, source_position from marts.rejected_events "
        "where provider = 'braze'",
    )
    found = sorted((reason, Path(file).parts[-3], position) for reason, file, position in rows)
    assert found == [
        ("missing_user_id", "event_type=users.messages.email.Open", 2),
        ("not_avro", "event_type=users.messages.email.Click", 1),
        ("truncated_avro", "event_type=users.messages.email.Delivery", 5),
    ]


def test_nothing_is_lost(built):
    database, _, _ = built
    [(raw_records,)] = query(database, "select count(*) from raw.braze__events")
    [(events, copies)] = query(
        database, "select count(*), sum(copies_received) from marts.outbound_events"
    )
    [(rejected_records,)] = query(
        database,
        "select count(*) from marts.rejected_events where provider = 'braze' "
        "and rejection_reason not in "
        "('empty_file', 'not_avro', 'truncated_avro', 'unreadable_file', 'invalid_json_file')",
    )
    duplicates_removed = copies - events
    assert (raw_records, events, duplicates_removed, rejected_records) == (11, 9, 1, 1)
    assert events + duplicates_removed + rejected_records == raw_records
