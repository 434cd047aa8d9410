"""Write the bundled sample (seeds/sample/*.csv) from the stories below.

The sample is raw landing data in exactly the shape the file loader produces: one
row per raw record with its lineage (source file, position, load id, load time) and
the record's text as it arrived. Run `python scripts/generate_sample.py` after editing
a story; the CSVs are committed so that `dbt seed` needs nothing else.

The stories (times are UTC; tests/python/test_sample_stories.py works out what each
one must produce):

Braze (all 32 message-engagement event types of the Currents glossary)
  B1 email campaign "Spring Sale" (cmp_spring / var_a, dispatch dsp_email_1):
     u1 send, delivery, open, open again, click, campaign conversion;
     u1's first open is delivered twice (a second export file repeats event id);
     u2 send, delivery, open, mark as spam, unsubscribe, email subscription-group
     state change to Unsubscribed;
     u3 send, hard bounce (server reason quotes the address);
     u4 send, soft bounce.
  B2 Canvas "Onboarding" (cnv_onb / cv_main, push step stp_push, dispatch dsp_push_1):
     u1 canvas entry, push send, push open, canvas conversion;
     u2 canvas entry, push send, iOS foreground;
     u3 canvas entry, push send, push bounce;
     u5 canvas entry in the control group.
  B3 SMS campaign "Flash Deal" (cmp_sms / var_sms, dispatch dsp_sms_1):
     u1 send, send to carrier, delivery, inbound STOP, sms subscription-group change;
     u2 send, rejection; u3 send, send to carrier, delivery failure.
  B4 in-app message (cmp_iam): u4 impression, click.
  B5 content card (cmp_cc, card cc_42): u5 send, impression, click, dismiss.
  B6 news feed card nf_7: u5 impression, click.
  B7 webhook (cmp_hook): u4 send.
  B8 u5 enrolled in the control group of cmp_spring.
CrossEngage
  C1 API body for ce_u1 (email, campaign 9001, message 304405): sent, delivered,
     viewed (offset timestamp +02:00), clicked, and "Message Forwarded" (no mapping).
  C2 API body copied from the provider's documentation: missing commas -> rejected.
  C3 Data Feed file: ce_u2 push sent + delivered (message 304406); ce_u3 email sent +
     soft bounce with a bare-date timestamp; ce_u4 email sent, delivered, viewed,
     unsubscribed, marked as spam (one record names the user `User_id`); ce_u5 email
     sent + hard bounce; one record with no user id -> rejected.
ActivatePro
  A1 API body for ap_u1 (SMS, campaignId 7001, messageId 88001): sent, delivered
     without timestamp (ingestion time), clicked.
  A2 Data Feed: ap_u2 email (messageId 88002) sent, viewed without timestamp,
     unsubscribed, marked as spam; ap_u3 email (88003) sent, soft bounce;
     ap_u4 email (88004) sent, hard bounce.
Outbound
  O1 ext-001 renewMembership with nested properties (membership.renewalDate);
     ext-002 "Viewed Pricing Page"; ext-003 "Signup Form Submitted" without timestamp.
Customer.io
  I1 "Welcome" email (campaign abc123): cio_u1 delivered, opened, link clicked;
     cio_u2 delivered, opened, marked as spam, unsubscribed (list news);
     cio_u3 bounced (no timestamp -> ingestion time).
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "seeds" / "sample"
# content_sha256 is computed as the loader computes it (the package, from the checkout
# when it is not installed).
sys.path.insert(1, str(ROOT / "src"))
from outbound_events.loading.canonical import content_sha256  # noqa: E402

COLUMNS = ["source_file", "source_position", "load_id", "loaded_at", "payload", "content_sha256"]
BRAZE_COLUMNS = ["event_type", *COLUMNS]


def epoch(text: str) -> int:
    """UTC seconds since the epoch of an ISO `YYYY-MM-DD HH:MM:SS` (UTC) string."""
    parsed = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(parsed.timestamp())


def dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- Braze

BRAZE_PREFIX = "sample/braze/dataexport.prod-03.S3.integration.5f1e0c2a"
BRAZE_LOAD = ("load-braze-2024-03-10", "2024-03-10 06:00:00")
BRAZE_LATE_LOAD = ("load-braze-2024-03-11", "2024-03-11 06:00:00")

USERS = {
    "u1": {
        "user_id": "b_u1",
        "external_user_id": "ext-001",
        "timezone": "America/New_York",
        "email_address": "ann.lee@example.com",
        "phone": "+15551230001",
    },
    "u2": {
        "user_id": "b_u2",
        "external_user_id": "ext-002",
        "timezone": "Europe/Berlin",
        "email_address": "bo.chen@example.net",
        "phone": "+15551230002",
    },
    "u3": {
        "user_id": "b_u3",
        "external_user_id": "ext-003",
        "timezone": "Asia/Tokyo",
        "email_address": "cy.diaz@example.org",
        "phone": "+15551230003",
    },
    "u4": {
        "user_id": "b_u4",
        "external_user_id": "ext-004",
        "timezone": "UTC",
        "email_address": "di.evans@example.com",
        "phone": "+15551230004",
    },
    "u5": {
        "user_id": "b_u5",
        "external_user_id": "ext-005",
        "timezone": "Australia/Sydney",
        "email_address": "ed.fox@example.com",
        "phone": "+15551230005",
    },
}

SPRING = {
    "campaign_id": "cmp_spring",
    "campaign_name": "Spring Sale",
    "message_variation_id": "var_a",
    "dispatch_id": "dsp_email_1",
    "send_id": "spring_2024",
}
ONBOARDING = {
    "canvas_id": "cnv_onb",
    "canvas_name": "Onboarding",
    "canvas_variation_id": "cv_main",
    "canvas_variation_name": "Main path",
    "canvas_step_id": "stp_push",
    "canvas_step_name": "Welcome push",
    "dispatch_id": "dsp_push_1",
}
FLASH = {
    "campaign_id": "cmp_sms",
    "campaign_name": "Flash Deal",
    "message_variation_id": "var_sms",
    "dispatch_id": "dsp_sms_1",
    "subscription_group_id": "sg_sms_marketing",
    "subscription_group_api_id": "sg-api-sms",
    "from_phone_number": "+15550009999",
}
IAM = {
    "campaign_id": "cmp_iam",
    "campaign_name": "In-app upsell",
    "message_variation_id": "var_iam",
    "app_id": "app_ios",
    "platform": "ios",
    "os_version": "iOS 17.3",
    "device_model": "iPhone15,2",
    "device_id": "dev_u4_ios",
    "send_id": "iam_2024",
}
CARD = {
    "campaign_id": "cmp_cc",
    "campaign_name": "Loyalty card",
    "message_variation_id": "var_cc",
    "content_card_id": "cc_42",
    "send_id": "cc_2024",
}
CARD_DEVICE = {
    "app_id": "app_android",
    "platform": "android",
    "os_version": "Android 14",
    "device_model": "Pixel 8",
    "device_id": "dev_u5_android",
    "ad_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
    "ad_id_type": "google_ad_id",
    "ad_tracking_enabled": True,
}
PUSH_DEVICE = {"app_id": "app_ios", "platform": "ios", "device_id": None}

braze_rows: list[dict[str, Any]] = []
_braze_positions: dict[str, int] = {}


def braze(
    event_type: str,
    event_id: str,
    user: str,
    at: str,
    fields: dict[str, Any],
    load: tuple[str, str] = BRAZE_LOAD,
    part: str = "part-00000",
) -> None:
    """One Currents record: user fields, then the event's fields (nulls dropped, as the
    loader drops Avro nulls)."""
    profile = USERS[user]
    record: dict[str, Any] = {
        "id": event_id,
        "user_id": profile["user_id"],
        "external_user_id": profile["external_user_id"],
        "time": epoch(at),
    }
    if not event_type.startswith("users.messages.sms."):
        record["timezone"] = profile["timezone"]
    record.update({k: v for k, v in fields.items() if v is not None})
    hour = at[:13].replace(" ", "-")
    path = f"{BRAZE_PREFIX}/event_type={event_type}/date={hour}/{part}.avro"
    position = _braze_positions.get(path, 0) + 1
    _braze_positions[path] = position
    braze_rows.append(
        {
            "event_type": event_type,
            "source_file": path,
            "source_position": position,
            "load_id": load[0],
            "loaded_at": load[1],
            "payload": dumps(record),
        }
    )


def email_fields(user: str, **extra: Any) -> dict[str, Any]:
    return {
        **SPRING,
        "email_address": USERS[user]["email_address"],
        "ip_pool": "pool_marketing",
        **extra,
    }


def sms_fields(user: str, **extra: Any) -> dict[str, Any]:
    return {**FLASH, "to_phone_number": USERS[user]["phone"], **extra}


def push_fields(user: str, **extra: Any) -> dict[str, Any]:
    return {**ONBOARDING, **PUSH_DEVICE, "device_id": f"dev_{user}_ios", **extra}


E = "users.messages.email."
# B1 email campaign
braze(E + "Send", "evt-b1-01", "u1", "2024-03-04 09:00:00", email_fields("u1"))
braze(
    E + "Delivery",
    "evt-b1-02",
    "u1",
    "2024-03-04 09:00:05",
    email_fields("u1", sending_ip="198.51.100.7"),
)
braze(
    E + "Open",
    "evt-b1-03",
    "u1",
    "2024-03-04 09:30:00",
    email_fields("u1", user_agent="Mozilla/5.0 (iPhone)"),
)
braze(
    E + "Open",
    "evt-b1-04",
    "u1",
    "2024-03-04 18:00:00",
    email_fields("u1", user_agent="Mozilla/5.0 (Macintosh)"),
)
braze(
    E + "Click",
    "evt-b1-05",
    "u1",
    "2024-03-04 18:01:00",
    email_fields(
        "u1",
        url="https://shop.example.com/spring?utm_source=braze",
        user_agent="Mozilla/5.0 (Macintosh)",
    ),
)
braze(
    "users.campaigns.Conversion",
    "evt-b1-06",
    "u1",
    "2024-03-04 18:20:00",
    {
        "app_id": "app_web",
        "campaign_id": "cmp_spring",
        "campaign_name": "Spring Sale",
        "conversion_behavior_index": 0,
        "conversion_behavior": "Makes Purchase",
        "message_variation_id": "var_a",
        "send_id": "spring_2024",
    },
)
braze(E + "Send", "evt-b1-07", "u2", "2024-03-04 09:00:00", email_fields("u2"))
braze(
    E + "Delivery",
    "evt-b1-08",
    "u2",
    "2024-03-04 09:00:07",
    email_fields("u2", sending_ip="198.51.100.7"),
)
braze(
    E + "Open",
    "evt-b1-09",
    "u2",
    "2024-03-04 10:00:00",
    email_fields("u2", user_agent="Mozilla/5.0 (Windows NT 10.0)"),
)
braze(
    E + "MarkAsSpam",
    "evt-b1-10",
    "u2",
    "2024-03-04 10:02:00",
    email_fields("u2", user_agent="Mozilla/5.0 (Windows NT 10.0)"),
)
braze(E + "Unsubscribe", "evt-b1-11", "u2", "2024-03-04 10:03:00", email_fields("u2"))
braze(
    "users.behaviors.subscriptiongroup.StateChange",
    "evt-b1-12",
    "u2",
    "2024-03-04 10:03:01",
    {
        "channel": "email",
        "campaign_id": "cmp_spring",
        "campaign_name": "Spring Sale",
        "message_variation_id": "var_a",
        "send_id": "spring_2024",
        "email_address": USERS["u2"]["email_address"],
        "subscription_group_id": "sg_email_news",
        "subscription_status": "Unsubscribed",
    },
)
braze(E + "Send", "evt-b1-13", "u3", "2024-03-04 09:00:00", email_fields("u3"))
braze(
    E + "Bounce",
    "evt-b1-14",
    "u3",
    "2024-03-04 09:00:09",
    email_fields(
        "u3",
        sending_ip="198.51.100.7",
        bounce_reason="550 5.1.1 <cy.diaz@example.org>: Recipient address rejected",
        bounce_code="550",
    ),
)
braze(E + "Send", "evt-b1-15", "u4", "2024-03-04 09:00:00", email_fields("u4"))
braze(
    E + "SoftBounce",
    "evt-b1-16",
    "u4",
    "2024-03-04 09:00:12",
    email_fields(
        "u4", sending_ip="198.51.100.7", bounce_reason="452 4.2.2 Mailbox full", bounce_code="452"
    ),
)
# the first open of u1 arrives again in the next day's export (at-least-once delivery)
braze(
    E + "Open",
    "evt-b1-03",
    "u1",
    "2024-03-04 09:30:00",
    email_fields("u1", user_agent="Mozilla/5.0 (iPhone)"),
    load=BRAZE_LATE_LOAD,
    part="part-00001-retry",
)

P = "users.messages.pushnotification."
# B2 Canvas with a push step
for user, event_id, at, in_control in [
    ("u1", "evt-b2-01", "2024-03-05 08:00:00", False),
    ("u2", "evt-b2-05", "2024-03-05 08:00:00", False),
    ("u3", "evt-b2-08", "2024-03-05 08:00:00", False),
    ("u5", "evt-b2-11", "2024-03-05 08:00:00", True),
]:
    braze(
        "users.canvas.Entry",
        event_id,
        user,
        at,
        {
            k: ONBOARDING[k]
            for k in [
                "canvas_id",
                "canvas_name",
                "canvas_variation_id",
                "canvas_variation_name",
                "canvas_step_id",
                "canvas_step_name",
            ]
        }
        | {"in_control_group": in_control},
    )
braze(P + "Send", "evt-b2-02", "u1", "2024-03-05 08:05:00", push_fields("u1"))
braze(
    P + "Open",
    "evt-b2-03",
    "u1",
    "2024-03-05 08:07:30",
    push_fields("u1", os_version="iOS 17.3", device_model="iPhone15,2"),
)
braze(
    "users.canvas.Conversion",
    "evt-b2-04",
    "u1",
    "2024-03-05 09:00:00",
    {
        "app_id": "app_ios",
        **{
            k: ONBOARDING[k]
            for k in [
                "canvas_id",
                "canvas_name",
                "canvas_variation_id",
                "canvas_variation_name",
                "canvas_step_id",
                "canvas_step_name",
            ]
        },
        "conversion_behavior_index": 1,
        "conversion_behavior": "Starts Session",
    },
)
braze(P + "Send", "evt-b2-06", "u2", "2024-03-05 08:05:00", push_fields("u2"))
braze(P + "IosForeground", "evt-b2-07", "u2", "2024-03-05 08:05:02", push_fields("u2"))
braze(P + "Send", "evt-b2-09", "u3", "2024-03-05 08:05:00", push_fields("u3"))
braze(P + "Bounce", "evt-b2-10", "u3", "2024-03-05 08:05:01", push_fields("u3"))

S = "users.messages.sms."
# B3 SMS campaign
braze(S + "Send", "evt-b3-01", "u1", "2024-03-06 12:00:00", sms_fields("u1"))
braze(S + "SendToCarrier", "evt-b3-02", "u1", "2024-03-06 12:00:01", sms_fields("u1"))
braze(S + "Delivery", "evt-b3-03", "u1", "2024-03-06 12:00:04", sms_fields("u1"))
braze(
    S + "InboundReceived",
    "evt-b3-04",
    "u1",
    "2024-03-06 12:10:00",
    {
        "user_phone_number": USERS["u1"]["phone"],
        "subscription_group_id": "sg_sms_marketing",
        "inbound_phone_number": "+15550009999",
        "action": "unsubscribed",
        "message_body": "STOP",
    },
)
braze(
    "users.behaviors.subscriptiongroup.StateChange",
    "evt-b3-05",
    "u1",
    "2024-03-06 12:10:01",
    {
        "channel": "sms",
        "phone_number": USERS["u1"]["phone"],
        "subscription_group_id": "sg_sms_marketing",
        "subscription_status": "Unsubscribed",
    },
)
braze(S + "Send", "evt-b3-06", "u2", "2024-03-06 12:00:00", sms_fields("u2"))
braze(
    S + "Rejection",
    "evt-b3-07",
    "u2",
    "2024-03-06 12:00:02",
    sms_fields("u2", error="Blocked by carrier", provider_error_code="30007"),
)
braze(S + "Send", "evt-b3-08", "u3", "2024-03-06 12:00:00", sms_fields("u3"))
braze(S + "SendToCarrier", "evt-b3-09", "u3", "2024-03-06 12:00:01", sms_fields("u3"))
braze(
    S + "DeliveryFailure",
    "evt-b3-10",
    "u3",
    "2024-03-06 12:00:30",
    sms_fields("u3", error="Unreachable destination handset", provider_error_code="30003"),
)

# B4 in-app message
braze(
    "users.messages.inappmessage.Impression",
    "evt-b4-01",
    "u4",
    "2024-03-07 15:00:00",
    {**IAM, "card_id": None},
)
braze(
    "users.messages.inappmessage.Click",
    "evt-b4-02",
    "u4",
    "2024-03-07 15:00:20",
    {**IAM, "button_id": "1"},
)
# B5 content card
braze(
    "users.messages.contentcard.Send",
    "evt-b5-01",
    "u5",
    "2024-03-07 10:00:00",
    {**CARD, "device_id": "dev_u5_android"},
)
braze(
    "users.messages.contentcard.Impression",
    "evt-b5-02",
    "u5",
    "2024-03-07 19:00:00",
    {**CARD, **CARD_DEVICE},
)
braze(
    "users.messages.contentcard.Click",
    "evt-b5-03",
    "u5",
    "2024-03-07 19:00:40",
    {**CARD, **CARD_DEVICE},
)
braze(
    "users.messages.contentcard.Dismiss",
    "evt-b5-04",
    "u5",
    "2024-03-07 19:01:00",
    {**CARD, **CARD_DEVICE},
)
# B6 news feed card
NEWSFEED = {
    "card_id": "nf_7",
    "app_id": "app_android",
    "platform": "android",
    "os_version": "Android 14",
    "device_model": "Pixel 8",
    "device_id": "dev_u5_android",
}
braze("users.messages.newsfeedcard.Impression", "evt-b6-01", "u5", "2024-03-07 19:05:00", NEWSFEED)
braze("users.messages.newsfeedcard.Click", "evt-b6-02", "u5", "2024-03-07 19:05:10", NEWSFEED)
# B7 webhook
braze(
    "users.messages.webhook.Send",
    "evt-b7-01",
    "u4",
    "2024-03-08 07:00:00",
    {
        "campaign_id": "cmp_hook",
        "campaign_name": "CRM sync",
        "message_variation_id": "var_hook",
        "send_id": "hook_2024",
    },
)
# B8 control group
braze(
    "users.campaigns.EnrollInControl",
    "evt-b8-01",
    "u5",
    "2024-03-04 09:00:00",
    {
        "campaign_id": "cmp_spring",
        "campaign_name": "Spring Sale",
        "message_variation_id": "var_control",
        "send_id": "spring_2024",
    },
)


# ---------------------------------------------------------------- CrossEngage family


def json_rows(source_file: str, load: tuple[str, str], records: list[Any]) -> list[dict[str, Any]]:
    """One raw row per top-level record; a str record is raw text kept as it arrived."""
    return [
        {
            "source_file": source_file,
            "source_position": index,
            "load_id": load[0],
            "loaded_at": load[1],
            "payload": record if isinstance(record, str) else dumps(record),
        }
        for index, record in enumerate(records, start=1)
    ]


CE_API_DOC_EXAMPLE = """{
   "id": "ABC12345",
   "events": [{
           "event": "Message Sent",
           "timestamp": "2022-01-11T00:00:00Z"
          "properties": {
               "channel": "Email",
               "type": "Newsletter"
           }},
       {
           "event": "Message Delivered",
           "timestamp": "2022-01-11T00:00:00Z"
          "properties": {
               "channel": "Email",
               "type": "Newsletter"
           }}]}"""

ce_email = {"channel": "Email", "type": "Newsletter", "campaign_id": "9001", "message_id": "304405"}
crossengage_rows = (
    json_rows(
        "sample/crossengage/api/2024-03-05-ce_u1.json",
        ("load-ce-2024-03-10", "2024-03-10 07:00:00"),
        [
            {
                "id": "ce_u1",
                "events": [
                    {
                        "event": "Message Sent",
                        "timestamp": "2024-03-05T09:00:00Z",
                        "properties": ce_email,
                    },
                    {
                        "event": "Message Delivered",
                        "timestamp": "2024-03-05T09:00:03Z",
                        "properties": ce_email,
                    },
                    {
                        "event": "Message Viewed",
                        "timestamp": "2024-03-05T11:15:00+02:00",
                        "properties": ce_email,
                    },
                    {
                        "event": "Message Clicked",
                        "timestamp": "2024-03-05T09:20:00Z",
                        "properties": {
                            **ce_email,
                            "url": "https://www.example.com/newsletter/march",
                        },
                    },
                    {
                        "event": "Message Forwarded",
                        "timestamp": "2024-03-05T09:25:00Z",
                        "properties": ce_email,
                    },
                ],
            }
        ],
    )
    + json_rows(
        "sample/crossengage/api/2024-03-05-doc-example.json",
        ("load-ce-2024-03-10", "2024-03-10 07:00:00"),
        [CE_API_DOC_EXAMPLE],
    )
    + json_rows(
        "sample/crossengage/feed/outbound-events-2024-03-06.json",
        ("load-ce-2024-03-10", "2024-03-10 07:00:00"),
        [
            {
                "id": "ce_u2",
                "event": "Message Sent",
                "timestamp": "2024-03-06T07:30:00Z",
                "channel": "Push",
                "type": "Reminder",
                "campaign_id": "9002",
                "message_id": "304406",
            },
            {
                "id": "ce_u2",
                "event": "Message Delivered",
                "timestamp": "2024-03-06T07:30:02Z",
                "channel": "Push",
                "type": "Reminder",
                "campaign_id": "9002",
                "message_id": "304406",
            },
            {
                "id": "ce_u3",
                "event": "Message Sent",
                "timestamp": "2024-03-05T09:00:00Z",
                "channel": "Email",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u3",
                "event": "Message soft_bounced",
                "timestamp": "2024-03-06",
                "channel": "Email",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u4",
                "event": "Message Sent",
                "timestamp": "2024-03-05T09:00:00Z",
                "channel": "E-Mail",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u4",
                "event": "Message Delivered",
                "timestamp": "2024-03-05T09:00:04Z",
                "channel": "E-Mail",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "User_id": "ce_u4",
                "event": "Message Viewed",
                "timestamp": "2024-03-05T13:00:00Z",
                "channel": "E-Mail",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u4",
                "event": "Message Unsubscribed",
                "timestamp": "2024-03-05T13:01:00Z",
                "channel": "E-Mail",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u4",
                "event": "Message marked_as_spam",
                "timestamp": "2024-03-05T13:02:00Z",
                "channel": "E-Mail",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u5",
                "event": "Message Sent",
                "timestamp": "2024-03-05T09:00:00Z",
                "channel": "Email",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "id": "ce_u5",
                "event": "Message hard_bounced",
                "timestamp": "2024-03-05T09:00:02Z",
                "channel": "Email",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
            {
                "event": "Message Sent",
                "timestamp": "2024-03-05T09:00:00Z",
                "channel": "Email",
                "type": "Newsletter",
                "campaign_id": "9001",
                "message_id": "304405",
            },
        ],
    )
)

ap_sms = {"channel": "SMS", "type": "Promotion", "campaignId": "7001", "messageId": "88001"}
activatepro_rows = json_rows(
    "sample/activatepro/api/2024-03-06-ap_u1.json",
    ("load-ap-2024-03-06", "2024-03-06 16:00:00"),
    [
        {
            "id": "ap_u1",
            "events": [
                {
                    "event": "Message Sent",
                    "timestamp": "2024-03-06T15:00:00Z",
                    "properties": ap_sms,
                },
                {"event": "Message Delivered", "properties": ap_sms},
                {
                    "event": "Message Clicked",
                    "timestamp": "2024-03-06T15:45:00Z",
                    "properties": {**ap_sms, "url": "https://m.example.com/deal"},
                },
            ],
        }
    ],
) + json_rows(
    "sample/activatepro/feed/outbound-events-2024-03-06.ndjson",
    ("load-ap-2024-03-06", "2024-03-06 16:00:00"),
    [
        {
            "userId": "ap_u2",
            "event": "Message Sent",
            "timestamp": "2024-03-06T08:00:00Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88002",
        },
        {
            "userId": "ap_u2",
            "event": "Message Viewed",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88002",
        },
        {
            "userId": "ap_u2",
            "event": "Message Unsubscribed",
            "timestamp": "2024-03-06T16:05:00Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88002",
        },
        {
            "userId": "ap_u2",
            "event": "Message marked_as_spam",
            "timestamp": "2024-03-06T16:06:00Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88002",
        },
        {
            "userId": "ap_u3",
            "event": "Message Sent",
            "timestamp": "2024-03-06T08:00:00Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88003",
        },
        {
            "userId": "ap_u3",
            "event": "Message soft_bounced",
            "timestamp": "2024-03-06T08:00:05Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88003",
        },
        {
            "userId": "ap_u4",
            "event": "Message Sent",
            "timestamp": "2024-03-06T08:00:00Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88004",
        },
        {
            "userId": "ap_u4",
            "event": "Message hard_bounced",
            "timestamp": "2024-03-06T08:00:03Z",
            "channel": "Email",
            "type": "Newsletter",
            "campaignId": "7002",
            "messageId": "88004",
        },
    ],
)

outbound_rows = json_rows(
    "sample/outbound/track-2024-03-08.ndjson",
    ("load-ob-2024-03-08", "2024-03-08 12:00:00"),
    [
        {
            "event": "renewMembership",
            "user_id": "ext-001",
            "timestamp": epoch("2024-03-08 10:00:00"),
            "properties": {
                "total": "45.00",
                "items": 5,
                "membership": {"valid": True, "renewalDate": "2025-03-08"},
            },
        },
        {
            "event": "Viewed Pricing Page",
            "user_id": "ext-002",
            "timestamp": epoch("2024-03-08 10:30:00"),
            "properties": {"page": {"path": "/pricing", "referrer": "https://www.example.com/"}},
        },
        {
            "event": "Signup Form Submitted",
            "user_id": "ext-003",
            "properties": {"form": {"id": "newsletter-footer", "fields": 2}},
        },
    ],
)


def cio(
    event: str,
    user: str,
    email_id: str,
    at: str | None,
    message_id: str,
    extra_properties: dict[str, Any] | None = None,
    ip: bool = True,
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if ip:
        context["ip"] = "203.0.113.24"
        context["user_agent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
    context["traits"] = {"email": f"{user.replace('_', '.')}@example.io"}
    record: dict[str, Any] = {
        "user_id": user,
        "action": "track",
        "event": event,
        "context": context,
        "properties": {
            "email_id": email_id,
            "email_subject": "Welcome to Example!",
            "campaign_id": "abc123",
            "campaign_name": "Welcome",
            **(extra_properties or {}),
        },
        "messageId": message_id,
    }
    if at is not None:
        record["timestamp"] = at
    return record


customerio_rows = json_rows(
    "sample/customerio/email-events-2024-03-09.json",
    ("load-cio-2024-03-09", "2024-03-09 20:00:00"),
    [
        cio("Email Delivered", "cio_u1", "em_001", "2024-03-09T08:00:02Z", "msg-cio-01", ip=False),
        cio("Email Opened", "cio_u1", "em_001", "2024-03-09T08:40:00Z", "msg-cio-02"),
        cio(
            "Email Link Clicked",
            "cio_u1",
            "em_001",
            "2024-03-09T08:41:00Z",
            "msg-cio-03",
            {"link_id": "lnk_cta", "link_url": "https://app.example.io/start"},
        ),
        cio("Email Delivered", "cio_u2", "em_002", "2024-03-09T08:00:03Z", "msg-cio-04", ip=False),
        cio("Email Opened", "cio_u2", "em_002", "2024-03-09T09:00:00Z", "msg-cio-05"),
        cio("Email Marked as Spam", "cio_u2", "em_002", "2024-03-09T09:01:00Z", "msg-cio-06"),
        cio(
            "Unsubscribed",
            "cio_u2",
            "em_002",
            "2024-03-09T09:02:00Z",
            "msg-cio-07",
            {"list_id": "lst_news", "list_name": "Newsletter"},
        ),
        cio("Email Bounced", "cio_u3", "em_003", None, "msg-cio-08", ip=False),
    ],
)


def write(name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """One seed CSV; every row gets content_sha256 of its payload, as the loader lands
    it (empty, i.e. null, for a payload that is not JSON)."""
    path = OUT / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "content_sha256": content_sha256(row["payload"])} for row in rows)
    print(f"{path.relative_to(ROOT)}: {len(rows)} raw records")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write("braze__events", BRAZE_COLUMNS, braze_rows)
    write("crossengage__events", COLUMNS, crossengage_rows)
    write("activatepro__events", COLUMNS, activatepro_rows)
    write("outbound__events", COLUMNS, outbound_rows)
    write("customerio__events", COLUMNS, customerio_rows)
