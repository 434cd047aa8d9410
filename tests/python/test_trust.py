"""Numbers that do not drift: incremental builds equal a full refresh, a second build
changes nothing, the ledger balances, and hostile input ends as a rejected record with
a reason (or a kept event), never a crash and never a silent loss.

Raw records are written straight into the raw tables here (as the loader would), so
that each batch's load time is chosen by the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fixtures.raw import Raw, empty_warehouse, land
from fixtures.warehouse import MARTS, build, snapshot
from outbound_events import dbt

PROVIDERS = ["braze", "crossengage", "activatepro", "outbound", "customerio"]
HOSTILE = 'x\'; drop table marts.outbound_events; -- "select" ; union all'


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def braze(event_type: str, event_id: str, user: str, at: str | int | None, **fields: object) -> Raw:
    record: dict[str, object] = {"id": event_id, "user_id": user, **fields}
    if at is not None:
        record["time"] = epoch(at) if isinstance(at, str) and "-" in at else at
    return Raw("braze", json.dumps(record), event_type)


def record(provider: str, fields: dict[str, object] | str | list) -> Raw:
    return Raw(provider, fields if isinstance(fields, str) else json.dumps(fields))


E = "users.messages.email."
BIG = "ü" * 500_000  # 1 MB of UTF-8

# Three loads. e3 arrives three times over two loads (L1 once, L2 twice); e5 happens on
# 05-02 but is loaded on 05-04 (two days late); the CrossEngage record is repeated in L2.
BATCHES: list[tuple[str, str, list[Raw]]] = [
    ("L1", "2024-05-01 10:00:00", [
        braze(E + "Send", "e1", "u1", "2024-05-01 09:00:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1", email_address="ann@example.com"),
        braze(E + "Delivery", "e2", "u1", "2024-05-01 09:00:05", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        braze(E + "Open", "e3", "u1", "2024-05-01 09:10:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        braze(E + "Send", "e6", "u2", "2024-05-01 09:00:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        record("crossengage", {"id": "ce1", "event": "Message Sent",
                               "timestamp": "2024-05-01T09:00:00Z", "channel": "Email",
                               "message_id": "m1"}),
    ]),
    ("L2", "2024-05-02 10:00:00", [
        braze(E + "Open", "e3", "u1", "2024-05-01 09:10:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        braze(E + "Open", "e3", "u1", "2024-05-01 09:10:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        braze(E + "Click", "e4", "u1", "2024-05-01 09:30:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1", url="https://shop.example.com/?a=1&b=2"),
        record("crossengage", {"id": "ce1", "event": "Message Sent",
                               "timestamp": "2024-05-01T09:00:00Z", "channel": "Email",
                               "message_id": "m1"}),
        record("outbound", {"event": "purchase", "user_id": "u1", "timestamp": epoch(
            "2024-05-01 12:00:00"), "properties": {"order": {"total": 12.5}}}),
    ]),
    ("L3", "2024-05-04 10:00:00", [
        braze(E + "Open", "e5", "u2", "2024-05-02 08:00:00", campaign_id="c1", dispatch_id="d1",
              message_variation_id="v1"),
        # hostile input, one case per record (expected outcome in HOSTILE_CASES)
        record("crossengage", '{"id": "ce1", "event": "Message Viewed" "timestamp": 1}'),
        record("crossengage", '{"id": "ce2", "event": "Message Sent", "timestamp": '),
        record("crossengage", ["an", "array"]),
        record("activatepro", "just a string"),
        record("activatepro", '"a JSON string"'),
        record("crossengage", {"event": "Message Sent", "timestamp": "2024-05-03T00:00:00Z"}),
        record("crossengage", {"id": "ce3", "event": "", "timestamp": "2024-05-03T00:00:00Z"}),
        braze(E + "Send", "ms", "u3", 1714550400000),
        record("outbound", {"event": "negative", "user_id": "u3", "timestamp": -5}),
        record("outbound", {"event": "future", "user_id": "u3",
                            "timestamp": epoch("2099-01-01 00:00:00")}),
        record("outbound", {"event": "epoch zero", "user_id": "u3", "timestamp": 0}),
        record("crossengage", {"id": "ce4", "event": "Message Delivered",
                               "timestamp": "2024-05-03", "channel": "Email"}),
        record("activatepro", {"userId": "ap1", "event": "Message Viewed",
                               "timestamp": "2024-05-03T12:00:00+02:00", "channel": "Push"}),
        record("crossengage", {"id": "ce5", "event": "Message Teleported",
                               "timestamp": "2024-05-03T00:00:00Z", "channel": "Hologram"}),
        braze("users.messages.pigeon.Send", "wa1", "u3", "2024-05-03 00:00:00"),
        record("crossengage", {"id": 12345, "event": "Message Sent",
                               "timestamp": "2024-05-03T00:00:00Z", "campaign_id": 777}),
        braze(E + "Send", "tstr", "u3", "not a time"),
        braze(E + "Send", "tnum", "u3", str(epoch("2024-05-03 00:00:00"))),
        record("outbound", {"event": "big", "user_id": "u3", "timestamp": epoch(
            "2024-05-03 00:00:00"), "properties": {"blob": BIG}}),
        record("crossengage", '{"id": "ce6", "event": "Message Sent", "blob": "' + BIG + '"'),
        record("outbound", {"event": "Kauf abgeschlossen 🎉", "user_id": "Zoë 😀",
                            "timestamp": epoch("2024-05-03 00:00:00"),
                            "properties": {"url": "https://例え.jp/🎉?q=ü"}}),
        record("crossengage", {"id": HOSTILE, "event": "Message Clicked",
                               "timestamp": "2024-05-03T00:00:00Z", "channel": HOSTILE,
                               "type": HOSTILE, "url": HOSTILE, "campaign_id": HOSTILE,
                               "message_id": HOSTILE}),
        braze(E + "Bounce", "h1", HOSTILE, "2024-05-03 00:00:00", campaign_id=HOSTILE,
              campaign_name=HOSTILE, bounce_reason=HOSTILE, dispatch_id=HOSTILE),
    ]),
]  # fmt: skip


@pytest.fixture(scope="module")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("full") / "full.duckdb"
    empty_warehouse(database)
    for load_id, loaded_at, raws in BATCHES:
        land(database, load_id, loaded_at, raws)
    build(database, "--full-refresh")
    return database


@pytest.fixture(scope="module")
def incremental_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("incremental") / "incremental.duckdb"
    empty_warehouse(database)
    for load_id, loaded_at, raws in BATCHES:
        land(database, load_id, loaded_at, raws)
        build(database)
    return database


@pytest.fixture()
def db(full_build: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(full_build), read_only=True) as connection:
        yield connection


def test_incremental_batches_equal_a_full_refresh(full_build, incremental_build):
    full, incremental = snapshot(full_build), snapshot(incremental_build)
    for table in MARTS:
        assert len(incremental[table]) == len(full[table]), table
        assert set(incremental[table]) - set(full[table]) == set(), f"{table}: extra rows"
        assert set(full[table]) - set(incremental[table]) == set(), f"{table}: missing rows"


def test_a_second_build_changes_nothing(incremental_build):
    before = snapshot(incremental_build)
    build(incremental_build)
    assert snapshot(incremental_build) == before


def test_three_copies_over_two_loads_are_one_event(db):
    rows = db.execute("""
        select copies_received, load_id, source_position from marts.outbound_events
        where provider_event_id = 'e3'
    """).fetchall()
    assert rows == [(3, "L1", 3)]
    ledger = db.execute("""
        select load_id, duplicates_removed from marts.load_ledger
        where provider = 'braze' order by load_id
    """).fetchall()
    assert ledger == [("L1", 0), ("L2", 2), ("L3", 0)]
    ce = db.execute("""
        select copies_received, load_id from marts.outbound_events where provider = 'crossengage'
        and user_id = 'ce1'
    """).fetchall()
    assert ce == [(2, "L1")]


def test_an_event_two_days_late_is_kept_with_its_own_time(db):
    row = db.execute("""
        select occurred_at, loaded_at, event_type from marts.outbound_events
        where provider_event_id = 'e5'
    """).fetchall()
    assert row == [(datetime(2024, 5, 2, 8, 0), datetime(2024, 5, 4, 10, 0), "open")]
    # it counts in u2's message of campaign c1 (sent on 05-01)
    message = db.execute("""
        select first_sent_at, first_opened_at, is_opened from marts.message_lifecycle
        where user_id = 'u2'
    """).fetchall()
    assert message == [(datetime(2024, 5, 1, 9, 0), datetime(2024, 5, 2, 8, 0), True)]


def test_the_ledger_balances_for_every_load(db):
    rows = db.execute("""
        select provider, load_id, records_in, events_out, duplicates_removed, rejected,
               is_balanced
        from marts.load_ledger order by provider, load_id
    """).fetchall()
    assert all(row[-1] for row in rows), rows
    for _provider, _load, records_in, events_out, duplicates, rejected, _ in rows:
        assert records_in == events_out + duplicates + rejected
    totals = {raws_provider: 0 for raws_provider in PROVIDERS}
    for _, _, raws in BATCHES:
        for raw in raws:
            totals[raw.provider] += 1
    raw_in = dict(
        db.execute(
            "select provider, sum(raw_records) from marts.load_ledger group by provider"
        ).fetchall()
    )
    assert raw_in == {provider: count for provider, count in totals.items() if count}


def test_the_ledger_test_fails_when_an_event_goes_missing(tmp_path):
    database = tmp_path / "broken.duckdb"
    empty_warehouse(database)
    land(database, *BATCHES[0][:2], BATCHES[0][2])
    build(database)
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "delete from intermediate.int_events_deduplicated where provider_event_id = 'e2'"
        )
    # the ledger of a load is computed when the load is built: recompute it
    with pytest.raises(dbt.DbtCommandError):
        build(database, "--select", "load_ledger", "--full-refresh")


HOSTILE_CASES = [
    # (what, provider, predicate on rejected_events, expected reason)
    ("truncated JSON", "crossengage", "raw_text like '{\"id\": \"ce2\"%'", "invalid_json"),
    ("missing commas", "crossengage", "raw_text like '%Message Viewed\" \"timestamp%'",
     "invalid_json"),
    ("a JSON array", "crossengage", "raw_text = '[\"an\", \"array\"]'", "not_a_json_object"),
    ("not JSON at all", "activatepro", "raw_text = 'just a string'", "invalid_json"),
    ("a JSON string", "activatepro", "raw_text = '\"a JSON string\"'", "not_a_json_object"),
    ("no user id", "crossengage", "raw_text like '{\"event\": \"Message Sent\"%'",
     "missing_user_id"),
    ("empty event name", "crossengage", "raw_text like '%\"ce3\"%'", "missing_event_name"),
    ("epoch milliseconds", "braze", "raw_text like '%\"ms\"%'", "timestamp_out_of_range"),
    ("negative epoch", "outbound", "provider_event_name = 'negative'", "timestamp_out_of_range"),
    ("far future", "outbound", "provider_event_name = 'future'", "timestamp_out_of_range"),
    ("year 1970", "outbound", "provider_event_name = 'epoch zero'", "timestamp_out_of_range"),
    ("time as a word", "braze", "raw_text like '%\"tstr\"%'", "timestamp_unparseable"),
    ("1 MB broken record", "crossengage", "raw_text like '{\"id\": \"ce6\"%'", "invalid_json"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "provider", "predicate", "reason"), HOSTILE_CASES)
def test_bad_records_are_rejected_with_a_reason(db, what, provider, predicate, reason):
    rows = db.execute(f"""
        select rejection_reason, load_id, source_file, length(raw_text)
        from marts.rejected_events where provider = ? and {predicate}
    """, [provider]).fetchall()  # fmt: skip
    assert len(rows) == 1, what
    assert rows[0][:3] == (reason, "L3", f"test/L3/{provider}.ndjson"), what
    assert rows[0][3] <= 2000, "raw text is cut to a safe size"


def test_rejections_are_exactly_the_hostile_cases(db):
    count = db.execute("select count(*) from marts.rejected_events").fetchone()[0]
    # the thirteen records of HOSTILE_CASES, nothing else
    assert count == len(HOSTILE_CASES)


def test_bare_date_and_offset_timestamps(db):
    rows = db.execute("""
        select provider, user_id, occurred_at, channel from marts.outbound_events
        where (provider = 'crossengage' and user_id = 'ce4') or provider = 'activatepro'
        order by provider
    """).fetchall()
    assert rows == [
        ("activatepro", "ap1", datetime(2024, 5, 3, 10, 0), "push"),
        ("crossengage", "ce4", datetime(2024, 5, 3, 0, 0), "email"),
    ]


def test_unknown_names_and_types_are_kept_as_unmapped(db):
    rows = db.execute("""
        select provider, provider_event_name, channel, provider_channel
        from marts.outbound_events where event_type = 'unmapped' order by provider
    """).fetchall()
    assert rows == [
        ("braze", "users.messages.pigeon.Send", None, None),
        ("crossengage", "Message Teleported", "other", "Hologram"),
    ]


def test_wrong_field_types_are_read_as_text(db):
    row = db.execute("""
        select user_id, campaign_id from marts.outbound_events
        where provider = 'crossengage' and user_id = '12345'
    """).fetchall()
    assert row == [("12345", "777")]
    numeric_string_time = db.execute(
        "select occurred_at from marts.outbound_events where provider_event_id = 'tnum'"
    ).fetchall()
    assert numeric_string_time == [(datetime(2024, 5, 3),)]


def test_a_1_mb_payload_is_kept_whole(db):
    blob = db.execute("""
        select json_extract_string(properties, '$.blob') from marts.outbound_events
        where provider_event_name = 'big'
    """).fetchone()[0]
    assert blob == BIG


def test_unicode_and_emoji_survive(db):
    row = db.execute("""
        select user_id, event_type, json_extract_string(properties, '$.url')
        from marts.outbound_events where provider_event_name = 'Kauf abgeschlossen 🎉'
    """).fetchall()
    assert row == [("Zoë 😀", "custom", "https://例え.jp/🎉?q=ü")]


def test_quotes_semicolons_and_sql_keywords_are_just_text(db):
    ce = db.execute("""
        select user_id, provider_channel, channel, message_type, url, campaign_id, message_id
        from marts.outbound_events where provider = 'crossengage' and event_type = 'click'
    """).fetchall()
    assert ce == [(HOSTILE, HOSTILE, "other", HOSTILE, HOSTILE, HOSTILE, HOSTILE)]
    braze_row = db.execute("""
        select user_id, campaign_id, campaign_name, bounce_reason, dispatch_id
        from marts.outbound_events where provider_event_id = 'h1'
    """).fetchall()
    assert braze_row == [(HOSTILE,) * 5]
    assert db.execute("select count(*) from marts.outbound_events").fetchone()[0] > 0


def test_the_sample_rebuilds_to_the_same_marts_and_its_ledger_balances(sample_warehouse):
    before = snapshot(sample_warehouse)
    build(sample_warehouse, "--vars", dbt.USE_SAMPLE)
    assert snapshot(sample_warehouse) == before
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        ledger = connection.execute("""
            select provider, bool_and(is_balanced), sum(records_in), sum(events_out),
                   sum(duplicates_removed), sum(rejected)
            from marts.load_ledger group by provider order by provider
        """).fetchall()
    # from the sample stories: Braze 48 records = 47 events + 1 duplicate; CrossEngage
    # 18 staged records (5 of an API body, 1 broken body, 12 feed records) = 16 + 2 rejected
    assert ledger == [
        ("activatepro", True, 11, 11, 0, 0),
        ("braze", True, 48, 47, 1, 0),
        ("crossengage", True, 18, 16, 0, 2),
        ("customerio", True, 8, 8, 0, 0),
        ("outbound", True, 3, 3, 0, 0),
    ]
