"""What the bundled sample must produce, worked out by hand from the stories in
scripts/generate_sample.py (the docstring there tells each story)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime

import duckdb

# docs/definitions.md#event-taxonomy: the (event_type, channel) pairs each provider's
# sample must produce.
BRAZE_EVENT_TYPES = {
    "send",
    "carrier_send",
    "delivery",
    "open",
    "impression",
    "click",
    "bounce",
    "spam_report",
    "unsubscribe",
    "ios_foreground",
    "rejection",
    "delivery_failure",
    "inbound_message",
    "dismiss",
    "subscription_change",
    "conversion",
    "canvas_entry",
    "control_enrollment",
}
CROSSENGAGE_FAMILY_TYPES = {
    "send",
    "delivery",
    "open",
    "click",
    "bounce",
    "spam_report",
    "unsubscribe",
}
CUSTOMERIO_TYPES = {"delivery", "open", "click", "bounce", "spam_report", "unsubscribe"}

# Every message-engagement event type of the Braze Currents glossary (provider docs).
BRAZE_CURRENTS_TYPES = {
    "users.messages.pushnotification.Send",
    "users.messages.pushnotification.Open",
    "users.messages.pushnotification.IosForeground",
    "users.messages.pushnotification.Bounce",
    "users.messages.email.Send",
    "users.messages.email.Delivery",
    "users.messages.email.Open",
    "users.messages.email.Click",
    "users.messages.email.Bounce",
    "users.messages.email.SoftBounce",
    "users.messages.email.MarkAsSpam",
    "users.messages.email.Unsubscribe",
    "users.behaviors.subscriptiongroup.StateChange",
    "users.messages.inappmessage.Impression",
    "users.messages.inappmessage.Click",
    "users.messages.webhook.Send",
    "users.messages.contentcard.Send",
    "users.messages.contentcard.Impression",
    "users.messages.contentcard.Click",
    "users.messages.contentcard.Dismiss",
    "users.messages.newsfeedcard.Impression",
    "users.messages.newsfeedcard.Click",
    "users.messages.sms.Send",
    "users.messages.sms.SendToCarrier",
    "users.messages.sms.Delivery",
    "users.messages.sms.Rejection",
    "users.messages.sms.DeliveryFailure",
    "users.messages.sms.InboundReceived",
    "users.campaigns.Conversion",
    "users.canvas.Conversion",
    "users.canvas.Entry",
    "users.campaigns.EnrollInControl",
}

# Events per (provider, event_type, channel), counted from the stories.
EXPECTED_COUNTS = {
    # Braze B1-B8: 47 distinct events (48 raw records, one repeated).
    ("braze", "send", "email"): 4,
    ("braze", "send", "push"): 3,
    ("braze", "send", "sms"): 3,
    ("braze", "send", "content_card"): 1,
    ("braze", "send", "webhook"): 1,
    ("braze", "carrier_send", "sms"): 2,
    ("braze", "delivery", "email"): 2,
    ("braze", "delivery", "sms"): 1,
    ("braze", "open", "email"): 3,
    ("braze", "open", "push"): 1,
    ("braze", "impression", "in_app"): 1,
    ("braze", "impression", "content_card"): 1,
    ("braze", "impression", "news_feed"): 1,
    ("braze", "click", "email"): 1,
    ("braze", "click", "in_app"): 1,
    ("braze", "click", "content_card"): 1,
    ("braze", "click", "news_feed"): 1,
    ("braze", "bounce", "email"): 2,
    ("braze", "bounce", "push"): 1,
    ("braze", "spam_report", "email"): 1,
    ("braze", "unsubscribe", "email"): 1,
    ("braze", "ios_foreground", "push"): 1,
    ("braze", "rejection", "sms"): 1,
    ("braze", "delivery_failure", "sms"): 1,
    ("braze", "inbound_message", "sms"): 1,
    ("braze", "dismiss", "content_card"): 1,
    ("braze", "subscription_change", "email"): 1,
    ("braze", "subscription_change", "sms"): 1,
    ("braze", "conversion", None): 2,
    ("braze", "canvas_entry", None): 4,
    ("braze", "control_enrollment", None): 1,
    # CrossEngage C1 (5 events) + C3 (11 good records); C2 and one C3 record rejected.
    ("crossengage", "send", "email"): 4,
    ("crossengage", "send", "push"): 1,
    ("crossengage", "delivery", "email"): 2,
    ("crossengage", "delivery", "push"): 1,
    ("crossengage", "open", "email"): 2,
    ("crossengage", "click", "email"): 1,
    ("crossengage", "bounce", "email"): 2,
    ("crossengage", "spam_report", "email"): 1,
    ("crossengage", "unsubscribe", "email"): 1,
    ("crossengage", "unmapped", "email"): 1,
    # ActivatePro A1 (3 events) + A2 (8 records).
    ("activatepro", "send", "sms"): 1,
    ("activatepro", "send", "email"): 3,
    ("activatepro", "delivery", "sms"): 1,
    ("activatepro", "click", "sms"): 1,
    ("activatepro", "open", "email"): 1,
    ("activatepro", "unsubscribe", "email"): 1,
    ("activatepro", "spam_report", "email"): 1,
    ("activatepro", "bounce", "email"): 2,
    # Outbound O1.
    ("outbound", "custom", None): 3,
    # Customer.io I1.
    ("customerio", "delivery", "email"): 2,
    ("customerio", "open", "email"): 2,
    ("customerio", "click", "email"): 1,
    ("customerio", "spam_report", "email"): 1,
    ("customerio", "unsubscribe", "email"): 1,
    ("customerio", "bounce", "email"): 1,
}


def pii_hash(value: str, salt: str = "") -> str:
    """What the marts must show for an identifier: SHA-256 of salt + lower-cased value
    (the sample is built without OUTBOUND_EVENTS_PII_SALT, so the salt is empty)."""
    return hashlib.sha256((salt + value.strip().lower()).encode()).hexdigest()


def one(db: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    relation = db.execute(sql, params or [])
    columns = [description[0] for description in relation.description]
    rows = relation.fetchall()
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql}"
    return dict(zip(columns, rows[0], strict=True))


def test_every_spec_event_type_is_there_for_every_provider(sample_db):
    pairs = sample_db.execute(
        "select distinct provider, event_type from marts.outbound_events"
    ).fetchall()
    by_provider: dict[str, set[str]] = {}
    for provider, event_type in pairs:
        by_provider.setdefault(provider, set()).add(event_type)
    assert by_provider == {
        "braze": BRAZE_EVENT_TYPES,
        "crossengage": CROSSENGAGE_FAMILY_TYPES | {"unmapped"},
        "activatepro": CROSSENGAGE_FAMILY_TYPES,
        "outbound": {"custom"},
        "customerio": CUSTOMERIO_TYPES,
    }


def test_all_32_braze_currents_event_types_land(sample_db):
    names = {
        row[0]
        for row in sample_db.execute(
            "select distinct provider_event_name from marts.outbound_events "
            "where provider = 'braze'"
        ).fetchall()
    }
    assert len(BRAZE_CURRENTS_TYPES) == 32
    assert names == BRAZE_CURRENTS_TYPES


def test_events_per_provider_type_and_channel(sample_db):
    rows = sample_db.execute(
        "select provider, event_type, channel, count(*) from marts.outbound_events group by all"
    ).fetchall()
    actual = {
        (provider, event_type, channel): count for provider, event_type, channel, count in rows
    }
    assert actual == EXPECTED_COUNTS
    totals = Counter()
    for (provider, _, _), count in EXPECTED_COUNTS.items():
        totals[provider] += count
    assert totals == {
        "braze": 47,
        "crossengage": 16,
        "activatepro": 11,
        "outbound": 3,
        "customerio": 8,
    }


def test_event_id_is_unique(sample_db):
    total, distinct = sample_db.execute(
        "select count(*), count(distinct event_id) from marts.outbound_events"
    ).fetchone()
    assert total == distinct == 85


def test_the_repeated_braze_event_appears_once_from_its_first_file(sample_db):
    row = one(
        sample_db,
        """
        select count(*) over () as n, copies_received, source_file, load_id, occurred_at
        from marts.outbound_events where provider_event_id = 'evt-b1-03'
    """,
    )
    assert row["n"] == 1
    assert row["copies_received"] == 2
    assert row["source_file"].endswith("/part-00000.avro")
    assert row["load_id"] == "load-braze-2024-03-10"
    assert row["occurred_at"] == datetime(2024, 3, 4, 9, 30)
    assert (
        sample_db.execute("select sum(copies_received - 1) from marts.outbound_events").fetchone()[
            0
        ]
        == 1
    )


def test_malformed_and_userless_records_are_rejected_with_a_reason(sample_db):
    rows = sample_db.execute("""
        select provider, rejection_reason, source_file, source_position, raw_text
        from marts.rejected_events order by source_file
    """).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("crossengage", "invalid_json", "sample/crossengage/api/2024-03-05-doc-example.json", 1),
        (
            "crossengage",
            "missing_user_id",
            "sample/crossengage/feed/outbound-events-2024-03-06.json",
            12,
        ),
    ]
    assert rows[0][4].startswith('{\n   "id": "ABC12345",')
    assert json.loads(rows[1][4])["event"] == "Message Sent"


def test_unknown_event_name_is_kept_as_unmapped(sample_db):
    row = one(
        sample_db,
        """
        select event_type, channel, user_id, message_id
        from marts.outbound_events where provider_event_name = 'Message Forwarded'
    """,
    )
    assert row == {
        "event_type": "unmapped",
        "channel": "email",
        "user_id": "ce_u1",
        "message_id": "304405",
    }


def test_timestamps_in_every_shape_become_utc(sample_db):
    def occurred(provider: str, user: str, event: str) -> tuple[datetime, str]:
        return sample_db.execute(
            """
            select occurred_at, timestamp_source from marts.outbound_events
            where provider = ? and user_id = ? and provider_event_name = ?
        """,
            [provider, user, event],
        ).fetchone()

    # ISO with an offset: 11:15 at +02:00 is 09:15 UTC
    assert occurred("crossengage", "ce_u1", "Message Viewed") == (
        datetime(2024, 3, 5, 9, 15),
        "event",
    )
    # a bare date is midnight UTC
    assert occurred("crossengage", "ce_u3", "Message soft_bounced") == (
        datetime(2024, 3, 6),
        "event",
    )
    # Braze epoch seconds
    assert occurred("braze", "b_u4", "users.messages.email.SoftBounce") == (
        datetime(2024, 3, 4, 9, 0, 12),
        "event",
    )
    # Outbound UNIX seconds
    assert occurred("outbound", "ext-002", "Viewed Pricing Page") == (
        datetime(2024, 3, 8, 10, 30),
        "event",
    )
    # no timestamp: the load time, and it says so
    assert occurred("activatepro", "ap_u1", "Message Delivered") == (
        datetime(2024, 3, 6, 16, 0),
        "ingestion",
    )
    assert occurred("activatepro", "ap_u2", "Message Viewed") == (
        datetime(2024, 3, 6, 16, 0),
        "ingestion",
    )
    assert occurred("outbound", "ext-003", "Signup Form Submitted") == (
        datetime(2024, 3, 8, 12, 0),
        "ingestion",
    )
    assert occurred("customerio", "cio_u3", "Email Bounced") == (
        datetime(2024, 3, 9, 20, 0),
        "ingestion",
    )


def test_no_local_time_zone_leaks_into_occurred_at(sample_warehouse):
    """The staging views are evaluated again in a session set to another time zone."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as db:
        db.execute("set TimeZone = 'Asia/Kathmandu'")
        rows = db.execute("""
            select raw_timestamp, occurred_at from staging.stg_crossengage__events
            where user_id = 'ce_u1' and provider_event_name in ('Message Viewed', 'Message Sent')
            order by occurred_at
        """).fetchall()
    assert rows == [
        ("2024-03-05T09:00:00Z", datetime(2024, 3, 5, 9, 0)),
        ("2024-03-05T11:15:00+02:00", datetime(2024, 3, 5, 9, 15)),
    ]


def test_braze_hard_bounce_fields(sample_db):
    row = one(
        sample_db,
        """
        select event_type, channel, bounce_type, bounce_reason, error_code, email_address,
               campaign_id, message_variation_id, dispatch_id, user_timezone, external_user_id,
               json_extract_string(properties, '$.sending_ip') as sending_ip
        from marts.outbound_events where provider_event_id = 'evt-b1-14'
    """,
    )
    assert row == {
        "event_type": "bounce",
        "channel": "email",
        "bounce_type": "hard",
        "bounce_reason": "550 5.1.1 <<email>>: Recipient address rejected",
        "error_code": "550",
        "email_address": pii_hash("cy.diaz@example.org"),
        "campaign_id": "cmp_spring",
        "message_variation_id": "var_a",
        "dispatch_id": "dsp_email_1",
        "user_timezone": "Asia/Tokyo",
        "external_user_id": "ext-003",
        "sending_ip": "198.51.100.7",
    }


def test_bounce_types(sample_db):
    rows = sample_db.execute("""
        select provider, user_id, bounce_type from marts.outbound_events
        where event_type = 'bounce' order by provider, user_id
    """).fetchall()
    assert rows == [
        ("activatepro", "ap_u3", "soft"),
        ("activatepro", "ap_u4", "hard"),
        ("braze", "b_u3", "hard"),
        ("braze", "b_u3", "hard"),
        ("braze", "b_u4", "soft"),
        ("crossengage", "ce_u3", "soft"),
        ("crossengage", "ce_u5", "hard"),
        ("customerio", "cio_u3", "unknown"),
    ]


def test_braze_sms_rejection_and_inbound(sample_db):
    rejection = one(
        sample_db,
        """
        select error_code, error_message, phone_number, sender_phone_number, subscription_group_id,
               json_extract_string(properties, '$.subscription_group_api_id') as api_id
        from marts.outbound_events where provider_event_id = 'evt-b3-07'
    """,
    )
    assert rejection == {
        "error_code": "30007",
        "error_message": "Blocked by carrier",
        "phone_number": pii_hash("+15551230002"),
        "sender_phone_number": pii_hash("+15550009999"),
        "subscription_group_id": "sg_sms_marketing",
        "api_id": "sg-api-sms",
    }
    inbound = one(
        sample_db,
        """
        select event_type, channel, message_body, message_key,
               json_extract_string(properties, '$.action') as action
        from marts.outbound_events where provider_event_id = 'evt-b3-04'
    """,
    )
    assert inbound == {
        "event_type": "inbound_message",
        "channel": "sms",
        "message_body": "STOP",
        "message_key": None,
        "action": "unsubscribed",
    }


def test_subscription_changes_take_their_channel_from_the_event(sample_db):
    rows = sample_db.execute("""
        select user_id, channel, subscription_status from marts.outbound_events
        where event_type = 'subscription_change' order by user_id
    """).fetchall()
    assert rows == [("b_u1", "sms", "Unsubscribed"), ("b_u2", "email", "Unsubscribed")]


def test_canvas_entry_control_group_flag(sample_db):
    rows = sample_db.execute("""
        select user_id, is_in_control_group from marts.outbound_events
        where event_type = 'canvas_entry' order by user_id
    """).fetchall()
    assert rows == [("b_u1", False), ("b_u2", False), ("b_u3", False), ("b_u5", True)]


def test_one_message_shares_one_key(sample_db):
    # u1's Spring Sale email: send, delivery, two opens, click -> one message_key
    rows = sample_db.execute("""
        select event_type, message_key from marts.outbound_events
        where user_id = 'b_u1' and campaign_id = 'cmp_spring'
    """).fetchall()
    keys = {key for event_type, key in rows if event_type != "conversion"}
    assert sorted(event_type for event_type, _ in rows) == [
        "click",
        "conversion",
        "delivery",
        "open",
        "open",
        "send",
    ]
    assert len(keys) == 1 and None not in keys
    assert [key for event_type, key in rows if event_type == "conversion"] == [None]
    # the content card's four events share the card's key; CrossEngage's by message_id
    for sql, expected in [
        (
            "select count(distinct message_key), count(*) from marts.outbound_events "
            "where message_id = 'cc_42'",
            (1, 4),
        ),
        (
            "select count(distinct message_key), count(*) from marts.outbound_events "
            "where provider = 'crossengage' and user_id = 'ce_u4'",
            (1, 5),
        ),
    ]:
        assert sample_db.execute(sql).fetchone() == expected
    # different users of one dispatch are different messages
    assert (
        sample_db.execute("""
        select count(distinct message_key) from marts.outbound_events
        where dispatch_id = 'dsp_email_1' and event_type = 'send'
    """).fetchone()[0]
        == 4
    )


def test_outbound_custom_event_keeps_nested_properties(sample_db):
    row = one(
        sample_db,
        """
        select event_type, channel, is_conversion_goal, occurred_at,
               json_extract_string(properties, '$.membership.renewalDate') as renewal_date,
               json_extract(properties, '$.membership.valid')::boolean as valid,
               json_extract_string(properties, '$.total') as total
        from marts.outbound_events where provider_event_name = 'renewMembership'
    """,
    )
    assert row == {
        "event_type": "custom",
        "channel": None,
        "is_conversion_goal": True,
        "occurred_at": datetime(2024, 3, 8, 10, 0),
        "renewal_date": "2025-03-08",
        "valid": True,
        "total": "45.00",
    }
    goals = sample_db.execute("""
        select provider_event_name from marts.outbound_events
        where is_conversion_goal order by provider_event_name
    """).fetchall()
    assert goals == [
        ("renewMembership",),
        ("users.campaigns.Conversion",),
        ("users.canvas.Conversion",),
    ]


def test_customerio_click_fields(sample_db):
    row = one(
        sample_db,
        """
        select provider_event_id, event_type, channel, message_id, message_subject, campaign_id,
               campaign_name, url, link_id, ip_address, email_address,
               json_extract_string(properties, '$.context.user_agent') as user_agent
        from marts.outbound_events where provider_event_id = 'msg-cio-03'
    """,
    )
    assert row == {
        "provider_event_id": "msg-cio-03",
        "event_type": "click",
        "channel": "email",
        "message_id": "em_001",
        "message_subject": "Welcome to Example!",
        "campaign_id": "abc123",
        "campaign_name": "Welcome",
        "url": "https://app.example.io/start",
        "link_id": "lnk_cta",
        "ip_address": pii_hash("203.0.113.24"),
        "email_address": pii_hash("cio.u1@example.io"),
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
    }
    unsubscribe = one(
        sample_db,
        """
        select list_id, list_name from marts.outbound_events where provider_event_id = 'msg-cio-07'
    """,
    )
    assert unsubscribe == {"list_id": "lst_news", "list_name": "Newsletter"}


def test_channels_are_normalised(sample_db):
    rows = sample_db.execute("""
        select distinct provider_channel, channel from marts.outbound_events
        where provider in ('crossengage', 'activatepro') order by all
    """).fetchall()
    assert rows == [("E-Mail", "email"), ("Email", "email"), ("Push", "push"), ("SMS", "sms")]


def test_no_clear_text_email_or_phone_anywhere_in_marts(sample_db):
    columns = sample_db.execute("""
        select table_name, column_name from information_schema.columns
        where table_schema = 'marts' and data_type = 'VARCHAR'
    """).fetchall()
    assert columns
    for table, column in columns:
        leaked = sample_db.execute(f"""
            select "{column}" from marts."{table}"
            where regexp_matches("{column}", '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+[.][A-Za-z]')
               or regexp_matches("{column}", '[+][0-9]{{7,}}')
        """).fetchall()
        assert leaked == [], f"marts.{table}.{column} holds personal data: {leaked[:3]}"
