"""Classes of hostile input that reach dbt (issue: trust), each with a hand-written
fixture and the outcome worked out from it: named time zones, conflicting duplicates,
clock skew, personal data in every field, and dbt never touching raw.

Raw records are written straight into the raw tables (fixtures.raw), as the loader
lands them."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fixtures.loader_files import load as cli_load
from fixtures.loader_files import record_schema, snapshot, write_avro, write_text
from fixtures.raw import Raw, empty_warehouse, land
from fixtures.warehouse import MARTS, warehouse_env
from outbound_events import dbt
from outbound_events.loading.providers import PROVIDERS

E = "users.messages.email."


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def braze(event_type: str, event_id: str, user: str, at: str, **fields: object) -> Raw:
    record = {"id": event_id, "user_id": user, "time": epoch(at), **fields}
    return Raw("braze", json.dumps(record), event_type)


def record(provider: str, fields: dict[str, object]) -> Raw:
    return Raw(provider, json.dumps(fields))


def build(database: Path) -> None:
    with warehouse_env(database):
        dbt.run_dbt(["build", "--exclude", dbt.SAMPLE_SEEDS])


# --- named zones, conflicting duplicates, clock skew -------------------------------

BATCH = [
    # 09:00 in Berlin (CEST, UTC+2) is 07:00 UTC; 09:00 in New York (EDT, UTC-4) 13:00.
    record("crossengage", {"id": "z1", "event": "Message Sent", "channel": "Email",
                           "timestamp": "2024-05-01 09:00:00 Europe/Berlin", "message_id": "mz1"}),
    record("crossengage", {"id": "z2", "event": "Message Sent", "channel": "Email",
                           "timestamp": "2024-05-01T09:00:00 America/New_York",
                           "message_id": "mz2"}),
    # a zone no one has: rejected, never read as UTC
    record("crossengage", {"id": "z3", "event": "Message Sent", "channel": "Email",
                           "timestamp": "2024-05-01 09:00:00 Mars/Olympus", "message_id": "mz3"}),
    # Braze id b1 reused for another user: the first landed is kept, the other rejected
    braze(E + "Send", "b1", "ann", "2024-05-01 10:00:00", dispatch_id="d1"),
    braze(E + "Send", "b1", "bob", "2024-05-01 10:00:00", dispatch_id="d1"),
    # an exact copy of b1's first record: an ordinary duplicate
    braze(E + "Send", "b1", "ann", "2024-05-01 10:00:00", dispatch_id="d1"),
    # Customer.io messageId m-1 twice with the same content: an ordinary duplicate
    record("customerio", {"user_id": "c1", "event": "Email Delivered", "messageId": "m-1",
                          "timestamp": "2024-05-01T10:00:00Z", "properties": {"email_id": "e1"}}),
    record("customerio", {"user_id": "c1", "event": "Email Delivered", "messageId": "m-1",
                          "timestamp": "2024-05-01T10:00:00Z", "properties": {"email_id": "e1"}}),
    # messageId m-2 with another time: a conflict
    record("customerio", {"user_id": "c2", "event": "Email Opened", "messageId": "m-2",
                          "timestamp": "2024-05-01T11:00:00Z", "properties": {"email_id": "e2"}}),
    record("customerio", {"user_id": "c2", "event": "Email Opened", "messageId": "m-2",
                          "timestamp": "2024-05-01T12:00:00Z", "properties": {"email_id": "e2"}}),
    # clocks disagree: the open is stamped 10 minutes before its send
    braze(E + "Send", "s1", "cara", "2024-05-01 10:00:00", dispatch_id="d9"),
    braze(E + "Open", "o1", "cara", "2024-05-01 09:50:00", dispatch_id="d9"),
]  # fmt: skip


@pytest.fixture(scope="module")
def classes_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("classes") / "classes.duckdb"
    empty_warehouse(database)
    land(database, "L1", "2024-05-02 00:00:00", BATCH)
    build(database)  # a failing data test of provider data would raise here
    return database


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_named_time_zones_are_converted_or_rejected(classes_db):
    kept = query(classes_db, """
        select user_id, occurred_at from marts.outbound_events
        where provider = 'crossengage' order by user_id
    """)  # fmt: skip
    assert kept == [("z1", datetime(2024, 5, 1, 7, 0)), ("z2", datetime(2024, 5, 1, 13, 0))]
    rejected = query(classes_db, """
        select rejection_reason, raw_timestamp, source_position from marts.rejected_events
        where provider = 'crossengage'
    """)  # fmt: skip
    assert rejected == [("timestamp_unparseable", "2024-05-01 09:00:00 Mars/Olympus", 3)]


def test_a_reused_event_id_keeps_the_first_copy_and_rejects_the_conflict(classes_db):
    kept = query(classes_db, """
        select provider_event_id, user_id, source_position, copies_received, conflicting_copies
        from marts.outbound_events where provider_event_id in ('b1', 'm-1', 'm-2')
        order by provider_event_id
    """)  # fmt: skip
    assert kept == [("b1", "ann", 4, 3, 1), ("m-1", "c1", 7, 2, 0), ("m-2", "c2", 9, 2, 1)]
    conflicts = query(classes_db, """
        select provider, source_position, user_id from marts.rejected_events
        where rejection_reason = 'conflicting_duplicate' order by provider, source_position
    """)  # fmt: skip
    assert conflicts == [("braze", 5, "bob"), ("customerio", 10, "c2")]


def test_the_ledger_counts_conflicts_and_balances(classes_db):
    ledger = query(classes_db, """
        select provider, records_in, events_out, duplicates_removed, conflicting_duplicates,
               rejected, is_balanced
        from marts.load_ledger order by provider
    """)  # fmt: skip
    assert ledger == [
        # 6 records: b1 kept + 1 exact copy + 1 conflict, s1, o1 -> 3 events
        ("braze", 5, 3, 1, 1, 1, True),
        ("crossengage", 3, 2, 0, 0, 1, True),
        ("customerio", 4, 2, 1, 1, 1, True),
    ]


def test_clock_skew_is_flagged_and_measured_not_a_failed_build(classes_db):
    rows = query(classes_db, """
        select user_id, seconds_to_open, has_clock_skew from marts.message_lifecycle
        where provider = 'braze' order by user_id
    """)  # fmt: skip
    assert rows == [("ann", None, False), ("cara", -600, True)]


# --- personal data in every field ---------------------------------------------------

EMAIL = "ann.smith@example.com"
PHONES = ["+49 171 1234567", "0171 1234567", "(555) 123-4567", "+49 (0)30 1234567",
          "030/1234567", "555.123.4567"]  # fmt: skip
PII_FILE_LOAD = "P1"
PLANTED = f"mail {EMAIL} or call " + " / ".join(PHONES)
PRICE, CAMPAIGN, DISPATCH = "1234.56", "cmp-2024-05", "dispatch_00042"

PII_BATCH = [
    braze(E + "Click", "p1", EMAIL, "2024-05-01 10:00:00", external_user_id="+4917112345678",
          campaign_id=CAMPAIGN, campaign_name=PLANTED, canvas_step_name=PLANTED,
          dispatch_id=DISPATCH, email_address=EMAIL, url=f"https://shop.example/a/b?email={EMAIL}"
          "&phone=%2B4917112345678&utm=x", bounce_reason=PLANTED, unknown_field=PLANTED,
          price=PRICE),
    record("crossengage", {"id": EMAIL, "event": "Message Clicked", "channel": "Email",
                           "timestamp": "2024-05-01T10:00:00Z", "campaign_id": CAMPAIGN,
                           "type": PLANTED, "url": "https://x.example/p?mail=ann%40example.com",
                           "properties": {"nested": {"deeper": [PLANTED]}}}),
    record("outbound", {"event": "renewMembership", "user_id": EMAIL,
                        "timestamp": epoch("2024-05-01 11:00:00"),
                        "properties": {"contact": {"phone": PHONES[1], "price": PRICE}}}),
    record("customerio", {"user_id": "0171 1234567", "event": "Unsubscribed",
                          "messageId": "cio-1", "timestamp": "2024-05-01T10:00:00Z",
                          "context": {"ip": "203.0.113.9", "traits": {"email": EMAIL,
                                                                      "phone": PHONES[2]}},
                          "properties": {"list_name": PLANTED, "email_subject": PLANTED}}),
    record("activatepro", {"userId": "ap-1", "event": "Message Sent",
                           "timestamp": "not a time " + EMAIL}),  # rejected, raw text masked
]  # fmt: skip

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
PHONE_RE = re.compile(r"(\+[0-9][0-9 ()/.-]{5,18}[0-9])|(\b0[0-9]{1,5}[ /-][0-9]{4,})"
                      r"|(\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4})")  # fmt: skip


@pytest.fixture(scope="module")
def pii_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("pii") / "pii.duckdb"
    empty_warehouse(database)
    land(database, PII_FILE_LOAD, "2024-05-02 00:00:00", PII_BATCH)
    with duckdb.connect(str(database)) as connection:  # an export named after a person
        connection.execute(
            "update raw.outbound__events set source_file = 'exports/ann.smith@example.com.ndjson'"
        )
    build(database)
    return database


def test_no_mart_text_column_holds_an_email_or_a_phone(pii_db):
    with duckdb.connect(str(pii_db), read_only=True) as connection:
        columns = connection.execute("""
            select table_name, column_name from information_schema.columns
            where table_schema = 'marts' and data_type = 'VARCHAR'
        """).fetchall()  # fmt: skip
        assert {table for table, _ in columns} == set(MARTS)  # every mart is scanned
        hits = []
        for table, column in columns:
            for (value,) in connection.execute(
                f'select "{column}" from marts."{table}" where "{column}" is not null'
            ).fetchall():
                if EMAIL_RE.search(value) or PHONE_RE.search(value):
                    hits.append((table, column, value[:80]))
    assert hits == []


def test_ids_holding_personal_data_are_hashed_and_still_join(pii_db):
    rows = query(pii_db, """
        select provider, user_id, length(user_id), external_user_id like '+%'
        from marts.outbound_events order by provider
    """)  # fmt: skip
    by_provider = {row[0]: row for row in rows}
    for provider in ["braze", "crossengage", "outbound", "customerio"]:
        assert by_provider[provider][2] == 64, provider  # a SHA-256, not the address
    # the same address is the same hash everywhere: Braze, CrossEngage and Outbound users
    assert by_provider["braze"][1] == by_provider["crossengage"][1] == by_provider["outbound"][1]
    engaged = query(pii_db, "select count(distinct user_id) from marts.user_engagement "
                            "where provider in ('braze', 'crossengage')")  # fmt: skip
    assert engaged == [(1,)]


def test_ids_times_and_prices_are_not_over_masked(pii_db):
    row = query(pii_db, """
        select campaign_id, dispatch_id, occurred_at, price, url
        from marts.outbound_events where provider = 'braze'
    """)  # fmt: skip
    url = "https://shop.example/a/b?email=<redacted>&phone=<redacted>&utm=x"
    # a Braze `price` is a column of its own (purchases), a number
    assert row == [(CAMPAIGN, DISPATCH, datetime(2024, 5, 1, 10, 0), float(PRICE), url)]
    outbound = query(pii_db, """
        select json_extract_string(properties, '$.contact.price'),
               json_extract_string(properties, '$.contact.phone'), source_file
        from marts.outbound_events where provider = 'outbound'
    """)  # fmt: skip
    # `phone` is a key of the personal-data policy (hash: salted SHA-256 of the
    # lower-cased value; the test build has no salt); `ann.smith@example.com.ndjson` is
    # itself a well-formed address: masked whole
    phone_hash = hashlib.sha256(PHONES[1].lower().encode()).hexdigest()
    assert outbound == [(PRICE, phone_hash, "exports/<email>")]
    name = query(pii_db, "select campaign_name from marts.outbound_events where provider = 'braze'")
    assert name == [("mail <email> or call " + " / ".join(["<phone>"] * len(PHONES)),)]


# --- dbt build never touches raw ------------------------------------------------------


def raw_counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            provider.table: connection.execute(
                f"select count(*) from raw.{provider.table}"
            ).fetchone()[0]
            for provider in PROVIDERS.values()
        }


def test_plain_dbt_build_on_a_fresh_warehouse_works_and_leaves_raw_empty(tmp_path):
    database = tmp_path / "fresh.duckdb"
    with warehouse_env(database):
        dbt.run_dbt(["build"])  # what every dbt user types first, sample seeds included
    assert raw_counts(database) == {provider.table: 0 for provider in PROVIDERS.values()}
    assert query(database, "select count(*) from marts.outbound_events") == [(0,)]
    sample = query(database, "select count(*) from sample_raw.braze__events")[0][0]
    assert sample > 0, "the sample seeds land in their own schema"


def test_loaded_data_survives_a_plain_dbt_build(tmp_path):
    database = tmp_path / "loaded.duckdb"
    empty_warehouse(database)
    land(database, "L1", "2024-05-02 00:00:00", BATCH)
    before = raw_counts(database)
    assert sum(before.values()) == len(BATCH)
    with warehouse_env(database):
        dbt.run_dbt(["build"])
        dbt.run_dbt(["build"])
    assert raw_counts(database) == before
    assert query(database, "select count(*) from marts.outbound_events") == [(7,)]


# --- one API body with 50,000 events -----------------------------------------------

BIG_BODY_EVENTS = 50_000
PEAK_RSS_LIMIT_KIB = 1024 * 1024  # 1 GiB


def peak_rss_of_build_kib(database: Path) -> int:
    """Peak RSS of a dbt build of `database`, measured in a fresh process tree."""
    script = (
        "import resource, sys\n"
        "from outbound_events import dbt\n"
        "dbt.run_dbt(['build', '--exclude', dbt.SAMPLE_SEEDS])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    with warehouse_env(database):
        completed = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
    return int(completed.stdout.strip().splitlines()[-1])


def test_a_50000_event_api_body_builds_in_bounded_memory(tmp_path):
    events = [
        {"event": "Message Sent", "timestamp": "2024-05-01T09:00:00Z",
         "properties": {"channel": "Email", "campaign_id": "c1", "message_id": f"m{n}",
                        "type": "Newsletter"}}
        for n in range(BIG_BODY_EVENTS)
    ]  # fmt: skip
    body = json.dumps({"id": "big-user", "events": events})
    assert len(body) > 5_000_000
    database = tmp_path / "big.duckdb"
    land(database, "L1", "2024-05-02 00:00:00", [Raw("crossengage", body)])
    peak = peak_rss_of_build_kib(database)
    assert peak < PEAK_RSS_LIMIT_KIB, f"peak RSS {peak / 1024:.0f} MiB"
    ledger = query(database, """
        select records_in, events_out, rejected, is_balanced from marts.load_ledger
    """)  # fmt: skip
    assert ledger == [(BIG_BODY_EVENTS, BIG_BODY_EVENTS, 0, True)]
    positions = query(database, """
        select min(event_position), max(event_position), count(distinct message_id)
        from marts.outbound_events
    """)  # fmt: skip
    assert positions == [(1, BIG_BODY_EVENTS, BIG_BODY_EVENTS)]


def test_files_loaded_by_the_cli_survive_a_plain_dbt_build(tmp_path):
    database = tmp_path / "cli.duckdb"
    lines = [json.dumps({"id": "u1", "event": "Message Sent", "timestamp": "2024-05-01T09:00:00Z",
                         "channel": "Email", "message_id": "m1"}),
             '{"id": "u1", "event": "Message Delivered" "timestamp": 1}']  # fmt: skip
    feed = write_text(tmp_path / "ce" / "feed.ndjson", "\n".join(lines) + "\n")
    schema = record_schema("dataexport.S3.inner.users.messages.email.Send",
                           [("id", "string"), ("user_id", "string"), ("time", "int"),
                            ("dispatch_id", "?string")])  # fmt: skip
    avro = tmp_path / "braze" / "event_type=users.messages.email.Send" / "part.avro"
    write_avro(avro, schema, [{"id": "s1", "user_id": "u9", "time": epoch("2024-05-01 09:00:00"),
                               "dispatch_id": "d1"}])  # fmt: skip
    assert cli_load(database, "crossengage", feed).exit_code == 0
    assert cli_load(database, "braze", tmp_path / "braze").exit_code == 0
    before = snapshot(database)
    assert sum(len(rows) for rows in before.values()) > 0
    with warehouse_env(database):
        dbt.run_dbt(["build"])
        dbt.run_dbt(["build", "--full-refresh"])
    assert snapshot(database) == before
    events = "select provider, count(*) from marts.outbound_events group by all order by 1"
    assert query(database, events) == [("braze", 1), ("crossengage", 1)]
    assert query(database, "select rejection_reason from marts.rejected_events") == [
        ("invalid_json",)
    ]
