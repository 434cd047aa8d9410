"""Personal data (docs/personal-data.md), on records shaped like real exports.

Two corpora, written by hand:
- IDS: Braze records whose every id and name is shaped like Braze's own (UUID v1/v4,
  24-hex object ids, ULIDs, numeric ids, UUID segments such as `-0123-4567-` that look
  like phone numbers on their own, names embedding them, timestamps, versions, prices).
  None of it is personal: every value must reach the marts byte for byte.
- PLANTED: personal values in every kind of column and in `properties` at depth 3,
  each listed in PLANTED_VALUES: none may reach any mart in clear text. The expected
  masked forms are worked out from the policy seed (seeds/semantics/personal_data_keys.csv).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fixtures.raw import Raw, empty_warehouse, land
from fixtures.warehouse import MARTS, build, warehouse_env
from outbound_events import dbt


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def sha(value: str) -> str:
    """The policy's hash: SHA-256 of salt + lower-cased trimmed value (no salt in tests)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def braze(event_type: str, **fields: object) -> Raw:
    return Raw("braze", json.dumps(fields), event_type)


# --- ids shaped like Braze's own ----------------------------------------------------

UUID4 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
UUID1 = "c0a80101-0000-1000-8000-00805f9b34fb"
DIGIT_UUID = "12345678-0123-4567-8901-234567890123"  # segments that read as phones alone
HEX24 = "5f0c2b8e9d1a4b3c2d1e0f9a"
OBJECT_ID = "507f1f77bcf86cd799439011"
ULID = "01ARZ3NDEKTSV4RYFFQ69G5FAV"
UUID_0049 = "a1b2c3d4-0049-3012-3456-7890abcdef12"  # `0049-3012-3456` inside

IDS = {
    "id": DIGIT_UUID,
    "user_id": UUID_0049,
    "external_user_id": "4930123456789",  # a numeric id, no `+`: no phone
    "campaign_id": UUID4,
    "campaign_name": "Test Campaign 11234567-89ab-cdef-0123-456789abcdef",
    "message_variation_id": "00000000-0123-4567-89ab-0123456789ab",
    "canvas_id": HEX24,
    "canvas_name": f"Onboarding v2.14.0 {HEX24} 2024-05-01 10:00:00",
    "canvas_variation_id": UUID1,
    "canvas_variation_name": "Variant B-0123-4567-beta",
    "canvas_step_id": OBJECT_ID,
    "canvas_step_name": f"Step 3 - wait 24h ({OBJECT_ID}) EUR 19.99",
    "dispatch_id": ULID,
    "send_id": "1700000000123",
    "app_id": "0171-1234567-app",  # phone-shaped digits glued to a word
}
ID_EVENT_TIME = "2024-05-01 10:00:00"


def id_records() -> list[Raw]:
    at = epoch(ID_EVENT_TIME)
    send = braze("users.messages.email.Send", time=at, email_address="x@example.com", **IDS)
    open_ = braze("users.messages.email.Open", time=at + 60,
                  **{**IDS, "id": "0f8fad5b-d9cb-469f-a165-70867728950e"})  # fmt: skip
    return [send, open_]


# --- planted personal data ------------------------------------------------------------

NAME_FIRST, NAME_LAST = "Annegret", "Ziegler-Wolff2"
STREET, ZIP, CITY = "Hauptstrasse 5a", "10115", "Berlin"
EMAIL = "anna.schmidt@example.de"
PHONE_00, PHONE_UK = "0049-30-1234567", "+44 20 7946 0958"
IPV4, IPV6 = "198.51.100.23", "2001:db8::8a2e:370:7334"
DOB, PASSPORT = "1985-04-12", "C01X00T47"
LONE_CITY = "Hamburg"  # a city without a street is no address: kept

PLANTED_VALUES = [NAME_FIRST, NAME_LAST, STREET, ZIP, CITY, EMAIL, PHONE_00, PHONE_UK, IPV4, IPV6,
                  DOB, PASSPORT, "Lindenweg 12", "Marta", "Kowalska"]  # fmt: skip


def planted_records() -> list[Raw]:
    customer = {
        "first_name": NAME_FIRST,
        "last_name": NAME_LAST,
        "address": {"street": STREET, "zip": ZIP, "city": CITY},
        "phone": PHONE_00,
        "ip_address": IPV4,
        "dob": DOB,
        "passport": PASSPORT,
    }
    customerio = {
        "event": "Email Opened",
        "messageId": "4d3b2a10-0123-4567-89ab-cdef01234567",
        "user_id": EMAIL,
        "timestamp": "2024-05-01T10:00:00Z",
        "context": {"ip": IPV6, "traits": {"email": EMAIL}},
        "properties": {
            "campaign_id": "1200345",
            "campaign_name": f"Hallo {NAME_FIRST} {NAME_LAST}, call {PHONE_UK}",
            "email_subject": f"Your order to {STREET}",
            "data": {"customer": {"profile": customer}},  # depth 3
            "note": f"login from {IPV6} and {IPV4}",
            "shipping": {"recipient": {"full_name": "Marta Kowalska", "street": "Lindenweg 12"}},
            "store": {"city": LONE_CITY},
        },
    }
    at = epoch("2024-05-01 11:00:00")
    braze_record = braze(
        "users.messages.email.Click", id="9b2e8c1e-0123-4567-89ab-0123456789ab", user_id="u-1",
        time=at, campaign_name=f"Win back {NAME_FIRST}", email_address=EMAIL,
        url=f"https://shop.example/p?first_name={NAME_FIRST}&x=1",
        bounce_reason=f"mailbox {EMAIL} full; relay {IPV4}",
        billing_first_name=NAME_FIRST,
        sending_ip="203.0.113.77",  # Braze's sending server: declared not personal (keep)
    )  # fmt: skip
    return [Raw("customerio", json.dumps(customerio)), braze_record]


@pytest.fixture(scope="module")
def pd_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("personal") / "pd.duckdb"
    empty_warehouse(database)
    land(database, "L1", "2024-05-02 00:00:00", id_records() + planted_records())
    build(database)
    return database


def rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_real_shaped_ids_and_names_stay_byte_identical(pd_db):
    columns = [c for c in IDS if c not in ("id",)]
    selected = ", ".join(["provider_event_id", *columns])
    got = rows(pd_db, f"""
        select {selected} from marts.outbound_events
        where provider = 'braze' and event_type in ('send', 'open') order by occurred_at
    """)  # fmt: skip
    assert len(got) == 2
    send, open_ = (dict(zip(["id", *columns], row, strict=True)) for row in got)
    assert send == IDS
    assert open_ == {**IDS, "id": "0f8fad5b-d9cb-469f-a165-70867728950e"}


def test_ids_reach_the_funnels_unchanged(pd_db):
    lifecycle = rows(pd_db, """
        select campaign_id, canvas_id, canvas_step_id, user_id from marts.message_lifecycle
        where provider = 'braze' and is_opened
    """)  # fmt: skip
    assert lifecycle == [(UUID4, HEX24, OBJECT_ID, UUID_0049)]
    daily = rows(pd_db, """
        select campaign_or_canvas_id, campaign_or_canvas_name from marts.engagement_funnel_daily
        where provider = 'braze' and opened = 1
    """)  # fmt: skip
    # a message in a Canvas is reported under its Canvas
    assert daily == [(HEX24, IDS["canvas_name"])]


def test_no_planted_value_reaches_any_mart_in_clear_text(pd_db):
    hits = []
    with duckdb.connect(str(pd_db), read_only=True) as connection:
        columns = connection.execute("""
            select table_name, column_name from information_schema.columns
            where table_schema = 'marts' and data_type = 'VARCHAR'
        """).fetchall()  # fmt: skip
        assert {table for table, _ in columns} == set(MARTS)
        for table, column in columns:
            for (value,) in connection.execute(
                f'select "{column}" from marts."{table}" where "{column}" is not null'
            ).fetchall():
                hits += [(table, column, planted) for planted in PLANTED_VALUES if planted in value]
    assert hits == []


def test_the_policy_hashes_redacts_and_drops_keys_at_any_depth(pd_db):
    [(properties, campaign_name, subject, email, ip)] = rows(pd_db, """
        select properties, campaign_name, message_subject, email_address, ip_address
        from marts.outbound_events where provider = 'customerio'
    """)  # fmt: skip
    props = json.loads(properties)
    profile = props["data"]["customer"]["profile"]
    assert profile == {
        "first_name": "<redacted>",  # a name: redact
        "last_name": "<redacted>",
        "address": "<redacted>",  # an address object: redacted whole
        "phone": sha(PHONE_00),  # hash: still joinable
        "ip_address": sha(IPV4),
        "dob": "<redacted>",
        # passport: drop (the key is gone)
    }
    assert props["shipping"]["recipient"] == {"full_name": "<redacted>", "street": "<redacted>"}
    assert props["store"] == {"city": LONE_CITY}  # no street beside it: no address
    assert props["note"] == "login from <ip> and <ip>"
    # the redacted name is masked where it appears again in the record's text
    assert campaign_name == "Hallo <redacted> <redacted>, call <phone>"
    assert subject == "Your order to <redacted>"
    assert (email, ip) == (sha(EMAIL), sha(IPV6))  # columns the policy names


def test_braze_free_text_urls_and_unmapped_fields(pd_db):
    [(name, url, reason, properties, email, user)] = rows(pd_db, """
        select campaign_name, url, bounce_reason, properties, email_address, user_id
        from marts.outbound_events where provider = 'braze' and event_type = 'click'
    """)  # fmt: skip
    # billing_first_name is a name by the policy, so its value is masked where it recurs
    assert name == "Win back <redacted>"
    assert url == "https://shop.example/p?first_name=<redacted>&x=1"
    assert reason == "mailbox <email> full; relay <ip>"
    assert json.loads(properties) == {
        "billing_first_name": "<redacted>",
        "sending_ip": "203.0.113.77",  # a `keep` key: exact, no format detection
    }
    assert (email, user) == (sha(EMAIL), "u-1")


def test_a_key_added_to_the_policy_is_masked_on_rebuild(tmp_path):
    database = tmp_path / "policy.duckdb"
    empty_warehouse(database)
    record = {"event": "upgrade", "user_id": "u-7", "timestamp": epoch("2024-05-01 10:00:00"),
              "properties": {"plan": {"loyalty_card": "LC-998877", "tier": "gold"}}}  # fmt: skip
    land(database, "L1", "2024-05-02 00:00:00", [Raw("outbound", json.dumps(record))])
    build(database)
    query = "select properties from marts.outbound_events"
    # not personal by the shipped policy: kept
    assert json.loads(rows(database, query)[0][0])["plan"]["loyalty_card"] == "LC-998877"
    with duckdb.connect(str(database)) as connection:  # what editing the seed does
        connection.execute(
            "insert into intermediate.personal_data_keys values"
            " ('loyalty_?card(_?number)?', 'redact', null, 'a customer card number')"
        )
    with warehouse_env(database):
        dbt.run_dbt(["run", "--select", "int_events_deduplicated", "--full-refresh"])
    assert json.loads(rows(database, query)[0][0])["plan"] == {
        "loyalty_card": "<redacted>",
        "tier": "gold",
    }


def test_the_personal_data_test_reads_the_policy(tmp_path):
    database = tmp_path / "leak.duckdb"
    empty_warehouse(database)
    record = {"event": "upgrade", "user_id": "u-8", "timestamp": epoch("2024-05-01 10:00:00"),
              "properties": {"tier": "gold"}}  # fmt: skip
    land(database, "L1", "2024-05-02 00:00:00", [Raw("outbound", json.dumps(record))])
    build(database)
    # a leak no format sees: a name under a policy key (as a bug in masking would leave it)
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "update intermediate.int_events_deduplicated"
            """ set properties = '{"contact":{"last_name":"Nowak"}}'"""
        )
    command = [dbt.dbt_executable(), "test", "--select",
               "test_name:has_no_personal_data,int_events_deduplicated", "--vars",
               '{"outbound_events__test_all_rows": true}']  # fmt: skip
    with warehouse_env(database):
        from outbound_events.project import dbt_environment, project_dir

        completed = subprocess.run(
            command, cwd=project_dir(), env={**__import__("os").environ, **dbt_environment()},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert completed.returncode == 1, completed.stdout[-2000:]
    assert "has_no_personal_data_int_events_deduplicated" in completed.stdout


def test_ids_and_names_reach_mf_and_the_dashboard_unchanged(pd_db, tmp_path):
    from outbound_events.dashboard.data import Reader
    from test_metrics import mf_query

    # MetricFlow's `campaign` entity is the Canvas, else the campaign (as the funnels'):
    # the opened Braze message's Canvas and the planted Customer.io record's campaign
    rows_by_campaign = mf_query(pd_db, ["opened"], ["campaign"], tmp_path / "mf.csv")
    opened = {row["campaign"] for row in rows_by_campaign if row["opened"] not in ("", "0")}
    assert opened == {HEX24, "1200345"}
    # the dashboard's campaign filter: key and label as the marts hold them
    campaigns = Reader(pd_db).read().snapshot.choices()["campaigns"]
    assert campaigns[f"braze/canvas/{HEX24}"] == f"{IDS['canvas_name']} ({HEX24}) · braze"
