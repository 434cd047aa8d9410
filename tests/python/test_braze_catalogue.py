"""Braze Currents end to end (issue: the whole catalogue, honest engagement, revenue).

Hand-written Avro files (fastavro), one per event type, in the shapes Braze exports:
files named after their event type with the record named so too (Braze's sample
tree), some under `event_type=` folders instead, the newer fields (machine opens,
bot clicks, aborts, WhatsApp errors) where Braze documents them. They go through
`outbound-events load` and `dbt build`; every expected value below is worked out from
the records written here and the event taxonomy of docs/definitions.md#event-taxonomy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from fixtures.loader_files import load, summary, write_avro
from fixtures.warehouse import build, warehouse_env
from outbound_events import dbt

T0 = 1_714_554_000  # 2024-05-01 09:00:00 UTC
HOUR = 3600

# Every type of Braze's current Currents glossary, the older names still found in
# exports, and the types of Braze's public sample tree: (type, event_type, channel).
# Channel None: not sent on a channel.
CATALOGUE: list[tuple[str, str, str | None]] = [
    ("users.messages.email.Send", "send", "email"),
    ("users.messages.email.Delivery", "delivery", "email"),
    ("users.messages.email.Open", "open", "email"),
    ("users.messages.email.Click", "click", "email"),
    ("users.messages.email.Bounce", "bounce", "email"),
    ("users.messages.email.SoftBounce", "bounce", "email"),
    ("users.messages.email.Deferral", "deferral", "email"),
    ("users.messages.email.MarkAsSpam", "spam_report", "email"),
    ("users.messages.email.Unsubscribe", "unsubscribe", "email"),
    ("users.messages.email.Abort", "abort", "email"),
    ("users.messages.email.Retry", "retry", "email"),
    ("users.messages.pushnotification.Send", "send", "push"),
    ("users.messages.pushnotification.Open", "open", "push"),
    ("users.messages.pushnotification.IosForeground", "ios_foreground", "push"),
    ("users.messages.pushnotification.Bounce", "bounce", "push"),
    ("users.messages.pushnotification.Abort", "abort", "push"),
    ("users.messages.pushnotification.InfluencedOpen", "influenced_open", "push"),
    ("users.messages.pushnotification.Retry", "retry", "push"),
    ("users.messages.sms.Send", "send", "sms"),
    ("users.messages.sms.CarrierSend", "carrier_send", "sms"),
    ("users.messages.sms.SendToCarrier", "carrier_send", "sms"),
    ("users.messages.sms.Delivery", "delivery", "sms"),
    ("users.messages.sms.ShortLinkClick", "click", "sms"),
    ("users.messages.sms.Rejection", "rejection", "sms"),
    ("users.messages.sms.DeliveryFailure", "delivery_failure", "sms"),
    ("users.messages.sms.InboundReceive", "inbound_message", "sms"),
    ("users.messages.sms.InboundReceived", "inbound_message", "sms"),
    ("users.messages.sms.Abort", "abort", "sms"),
    ("users.messages.sms.Retry", "retry", "sms"),
    ("users.messages.whatsapp.Send", "send", "whatsapp"),
    ("users.messages.whatsapp.Delivery", "delivery", "whatsapp"),
    ("users.messages.whatsapp.Read", "open", "whatsapp"),
    ("users.messages.whatsapp.Click", "click", "whatsapp"),
    ("users.messages.whatsapp.Failure", "delivery_failure", "whatsapp"),
    ("users.messages.whatsapp.InboundReceive", "inbound_message", "whatsapp"),
    ("users.messages.whatsapp.Abort", "abort", "whatsapp"),
    ("users.messages.whatsapp.Retry", "retry", "whatsapp"),
    ("users.messages.rcs.Send", "send", "rcs"),
    ("users.messages.rcs.Delivery", "delivery", "rcs"),
    ("users.messages.rcs.Read", "open", "rcs"),
    ("users.messages.rcs.Click", "click", "rcs"),
    ("users.messages.rcs.Rejection", "rejection", "rcs"),
    ("users.messages.rcs.InboundReceive", "inbound_message", "rcs"),
    ("users.messages.rcs.Abort", "abort", "rcs"),
    ("users.messages.line.Send", "send", "line"),
    ("users.messages.line.Click", "click", "line"),
    ("users.messages.line.InboundReceive", "inbound_message", "line"),
    ("users.messages.line.Abort", "abort", "line"),
    ("users.messages.line.Retry", "retry", "line"),
    ("users.messages.webhook.Send", "send", "webhook"),
    ("users.messages.webhook.Failure", "delivery_failure", "webhook"),
    ("users.messages.webhook.Abort", "abort", "webhook"),
    ("users.messages.webhook.Retry", "retry", "webhook"),
    ("users.messages.contentcard.Send", "send", "content_card"),
    ("users.messages.contentcard.Impression", "impression", "content_card"),
    ("users.messages.contentcard.Click", "click", "content_card"),
    ("users.messages.contentcard.Dismiss", "dismiss", "content_card"),
    ("users.messages.contentcard.Abort", "abort", "content_card"),
    ("users.messages.inappmessage.Impression", "impression", "in_app"),
    ("users.messages.inappmessage.Click", "click", "in_app"),
    ("users.messages.inappmessage.Abort", "abort", "in_app"),
    ("users.messages.newsfeedcard.Impression", "impression", "news_feed"),
    ("users.messages.newsfeedcard.Click", "click", "news_feed"),
    ("users.messages.newsfeedcard.Abort", "abort", "news_feed"),
    ("users.messages.banner.Impression", "impression", "banner"),
    ("users.messages.banner.Click", "click", "banner"),
    ("users.messages.banner.Dismiss", "dismiss", "banner"),
    ("users.messages.banner.Abort", "abort", "banner"),
    ("users.messages.landingpage.Impression", "impression", "landing_page"),
    ("users.messages.landingpage.Click", "click", "landing_page"),
    ("users.messages.liveactivity.Send", "send", "live_activity"),
    ("users.messages.liveactivity.Outcome", "live_activity_outcome", "live_activity"),
    ("users.messages.featureflag.Impression", "feature_flag_impression", "feature_flag"),
    ("users.campaigns.Conversion", "conversion", None),
    ("users.campaigns.EnrollInControl", "control_enrollment", None),
    ("users.campaigns.Abort", "abort", None),
    ("users.campaigns.UniqueReceipt", "unique_receipt", None),
    ("users.campaigns.FrequencyCap", "frequency_cap", None),
    ("users.campaigns.Revenue", "campaign_revenue", None),
    ("users.canvas.Entry", "canvas_entry", None),
    ("users.canvas.Conversion", "conversion", None),
    ("users.canvas.Abort", "abort", None),
    ("users.canvas.FrequencyCap", "frequency_cap", None),
    ("users.canvas.Revenue", "campaign_revenue", None),
    ("users.canvas.exit.PerformedEvent", "canvas_exit", None),
    ("users.canvas.exit.MatchedAudience", "canvas_exit", None),
    ("users.canvas.experimentstep.SplitEntry", "experiment_entry", None),
    ("users.canvas.experimentstep.Conversion", "conversion", None),
    ("users.canvas.costep.Send", "canvas_step_send", None),
    ("users.canvas.costep.Conversion", "conversion", None),
    ("users.canvas.sendtodestination.Sent", "destination_send", None),
    ("users.canvas.sendtodestination.NotSent", "destination_not_sent", None),
    ("users.canvasstep.Progression", "canvas_step_progression", None),
    ("users.behaviors.subscriptiongroup.StateChange", "subscription_change", "sms"),
    ("users.behaviors.subscription.GlobalStateChange", "global_subscription_change", "email"),
    ("users.behaviors.Purchase", "purchase", None),
    ("users.behaviors.CustomEvent", "custom", None),
    ("users.behaviors.app.SessionStart", "session_start", None),
    ("users.behaviors.app.SessionEnd", "session_end", None),
    ("users.behaviors.app.FirstSession", "first_session", None),
    ("users.behaviors.app.NewsFeedImpression", "news_feed_view", None),
    ("users.behaviors.Uninstall", "uninstall", None),
    ("users.behaviors.UpgradedApp", "app_upgrade", None),
    ("users.behaviors.Location", "location", None),
    ("users.behaviors.InstallAttribution", "install_attribution", None),
    ("users.behaviors.geofence.DataEvent", "geofence_event", None),
    ("users.behaviors.geofence.RecordEvent", "geofence_event", None),
    ("users.behaviors.pushnotification.TokenStateChange", "push_token_change", None),
    ("users.behaviors.liveactivity.PushToStartTokenChange", "live_activity_token_change", None),
    ("users.behaviors.liveactivity.UpdateTokenChange", "live_activity_token_change", None),
    ("users.RandomBucketNumberUpdate", "random_bucket_update", None),
    ("users.UserDeleteRequest", "user_delete_request", None),
    ("users.UserOrphan", "user_orphan", None),
    ("agentconsole.AgentExecuted", "agent_execution", None),
    ("agentconsole.ToolInvocation", "agent_tool_invocation", None),
    ("contentoptimizer.ComponentStore", "content_component_store", None),
    ("changelogs.GlobalControlGroup", "global_control_group_change", None),
]
UNKNOWN = "users.messages.email.Teleport"  # no documentation has it: kept as unmapped

# Fields beyond the common ones, per type (Braze's documented names).
EXTRA: dict[str, dict[str, Any]] = {
    "users.messages.email.Open": {"machine_open": "true"},
    "users.messages.email.Click": {
        "url": "https://example.com/spring",
        "is_suspected_bot_click": True,
        "suspected_bot_click_reason": ["user_agent"],
    },
    "users.messages.email.Abort": {"abort_type": "liquid_abort_message", "abort_log": "no coupon"},
    "users.messages.sms.ShortLinkClick": {
        "url": "https://example.com/sms-offer",
        "short_url": "https://brz.ai/x1",
        "is_suspected_bot_click": False,
        "suspected_bot_click_reason": [],
    },
    "users.messages.whatsapp.Failure": {
        "provider_error_code": "131026",
        "provider_error_title": "Message undeliverable",
    },
    "users.messages.whatsapp.Abort": {"abort_type": "quiet_hours", "abort_log": "quiet hours"},
    "users.messages.webhook.Failure": {"http_status_code": 503},
    "users.canvasstep.Progression": {"exit_reason": "exited_canvas", "progression_type": "split"},
    "users.canvas.experimentstep.SplitEntry": {
        "experiment_step_id": "exp_1",
        "experiment_split_id": "split_b",
        "experiment_split_name": "Variant B",
    },
    "users.behaviors.Purchase": {
        "product_id": "sku_42",
        "price": 12.5,
        "currency": "eur",
        "properties": '{"color":"blue"}',
    },
    "users.behaviors.CustomEvent": {"name": "renewMembership", "properties": '{"plan":"gold"}'},
    "users.behaviors.subscriptiongroup.StateChange": {
        "channel": "SMS",
        "subscription_group_id": "sg_1",
        "subscription_status": "Subscribed",
    },
    "users.behaviors.subscription.GlobalStateChange": {
        "channel": "email",
        "subscription_status": "Unsubscribed",
    },
}


def avro_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, list):
        return {"type": "array", "items": "string"}
    return "string"


def write_events(path: Path, record_name: str, records: list[dict[str, Any]]) -> None:
    """One Avro file of `records`; every field but id and time optional, typed from the
    first record that has it."""
    names: dict[str, Any] = {}
    for record in records:
        for key, value in record.items():
            if value is not None and key not in names:
                names[key] = avro_type(value)
    fields = [
        {"name": name, "type": kind}
        if name in ("id", "time")
        else {"name": name, "type": ["null", kind], "default": None}
        for name, kind in names.items()
    ]
    schema = {"type": "record", "name": record_name, "fields": fields}
    write_avro(path, schema, [{name: record.get(name) for name in names} for record in records])


def catalogue_record(index: int, event_type: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"cat-{index}",
        "user_id": f"cat-user-{index}",
        "time": T0 + index,
        "campaign_id": f"cat-campaign-{index}",
        "dispatch_id": f"cat-dispatch-{index}",
    }
    return {**record, **EXTRA.get(event_type, {})}


def honest_funnel_files(root: Path) -> None:
    """The issue's hand-worked funnel: 4 emails of campaign `honest` sent and delivered
    to A, B, C, D; A only machine-opens; B machine-opens, opens and clicks; C opens and
    a suspected bot clicks; D does nothing; B buys for 19.99 USD an hour after the click."""
    users = ["A", "B", "C", "D"]

    def email(id_: str, user: str, at: int, **extra: Any) -> dict[str, Any]:
        return {"id": id_, "user_id": f"honest-{user}", "time": at, "campaign_id": "honest",
                "message_variation_id": "v1", "dispatch_id": f"honest-{user}", **extra}  # fmt: skip

    folder = root / "honest"
    write_events(folder / "users.messages.email.Send.avro", "users.messages.email.Send",
                 [email(f"send-{u}", u, T0) for u in users])  # fmt: skip
    write_events(folder / "users.messages.email.Delivery.avro", "users.messages.email.Delivery",
                 [email(f"delivery-{u}", u, T0 + 60) for u in users])  # fmt: skip
    write_events(
        folder / "users.messages.email.Open.avro",
        "users.messages.email.Open",
        [
            email("open-A", "A", T0 + HOUR, machine_open="true"),
            email("open-B-machine", "B", T0 + HOUR // 2, machine_open="true"),
            email("open-B", "B", T0 + HOUR, machine_open=None, user_agent="Mozilla/5.0"),
            email("open-C", "C", T0 + HOUR),
        ],
    )
    write_events(
        folder / "users.messages.email.Click.avro",
        "users.messages.email.Click",
        [
            email("click-B", "B", T0 + HOUR + 300, url="https://example.com/buy",
                  is_suspected_bot_click=False, suspected_bot_click_reason=[]),
            email("click-C", "C", T0 + HOUR + 600, url="https://example.com/buy",
                  is_suspected_bot_click=True, suspected_bot_click_reason=["ip_address"]),
        ],
    )  # fmt: skip
    write_events(
        folder / "users.behaviors.Purchase.avro",
        "users.behaviors.Purchase",
        [{"id": "purchase-B", "user_id": "honest-B", "time": T0 + 2 * HOUR + 300,
          "product_id": "sku_1", "price": 19.99, "currency": "USD", "properties": "{}"},
         # a currency without a rate in seed currency_rates (a warning, never converted at 1)
         {"id": "purchase-E", "user_id": "honest-E", "time": T0 + 2 * HOUR,
          "product_id": "sku_2", "price": 5.0, "currency": "XYZ", "properties": "{}"}],
    )  # fmt: skip


@pytest.fixture(scope="module")
def braze_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("braze-export")
    for index, (event_type, _, _) in enumerate([*CATALOGUE, (UNKNOWN, "unmapped", "email")]):
        record = catalogue_record(index, event_type)
        if index % 3 == 0:  # the export layout: the type is the folder, records named otherwise
            path = root / "export" / f"event_type={event_type}" / "date=2024-05-01-09" / "part.avro"
            write_events(path, "dataexport.S3.inner.Event", [record])
        else:  # Braze's sample tree: the file and the record named after the type
            write_events(root / "sample" / f"{event_type}.avro", event_type, [record])
    honest_funnel_files(root)
    database = tmp_path_factory.mktemp("braze-warehouse") / "braze.duckdb"
    loaded = load(database, "braze", root)
    assert loaded.exit_code == 0, loaded.output
    assert summary(loaded)[2] == 0  # nothing rejected
    build(database)
    return database


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_every_catalogued_type_is_mapped_to_its_event_type_and_channel(braze_warehouse: Path):
    found = {
        name: (event_type, channel)
        for name, event_type, channel in rows(
            braze_warehouse,
            "select provider_event_name, event_type, channel from marts.outbound_events "
            "where provider_event_id like 'cat-%'",
        )
    }
    expected = {name: (event_type, channel) for name, event_type, channel in CATALOGUE}
    assert {name: found.get(name) for name in expected} == expected
    # only the undocumented name is unmapped, and it is kept
    assert found[UNKNOWN] == ("unmapped", None)
    unmapped = rows(
        braze_warehouse, "select count(*) from marts.outbound_events where event_type = 'unmapped'"
    )
    assert unmapped == [(1,)]


def test_catalogue_fields_are_kept(braze_warehouse: Path):
    def one(name: str, columns: str) -> tuple[Any, ...]:
        [row] = rows(
            braze_warehouse,
            f"select {columns} from marts.outbound_events "
            f"where provider_event_name = '{name}' and provider_event_id like 'cat-%'",
        )
        return row

    assert one("users.messages.whatsapp.Failure", "error_code, error_message") == (
        "131026",
        "Message undeliverable",
    )
    assert one("users.messages.webhook.Failure", "error_code") == ("503",)
    assert one("users.messages.email.Abort", "abort_type, abort_log") == (
        "liquid_abort_message",
        "no coupon",
    )
    assert one("users.messages.whatsapp.Abort", "abort_type") == ("quiet_hours",)
    assert one("users.messages.sms.ShortLinkClick", "url, is_suspected_bot_click") == (
        "https://example.com/sms-offer",
        False,
    )
    assert one("users.messages.email.Open", "is_machine_open") == (True,)
    assert one(
        "users.messages.email.Click", "is_suspected_bot_click, suspected_bot_click_reason"
    ) == (
        True,
        '["user_agent"]',
    )
    assert one("users.canvas.exit.PerformedEvent", "exit_reason") == ("performed_event",)
    assert one("users.canvas.exit.MatchedAudience", "exit_reason") == ("matched_audience",)
    assert one("users.canvasstep.Progression", "exit_reason") == ("exited_canvas",)
    assert one(
        "users.canvas.experimentstep.SplitEntry",
        "json_extract_string(properties, '$.experiment_split_name')",
    ) == ("Variant B",)
    # a purchase without quantity is one unit; its currency upper-cased; its properties lifted
    assert one(
        "users.behaviors.Purchase",
        "product_id, price, currency, quantity, revenue, "
        "json_extract_string(properties, '$.color')",
    ) == ("sku_42", 12.5, "EUR", None, 12.5, "blue")
    # a Braze custom event carries its name (a configured goal: renewMembership) and properties
    assert one(
        "users.behaviors.CustomEvent",
        "custom_event_name, is_conversion_goal, json_extract_string(properties, '$.plan')",
    ) == ("renewMembership", True, "gold")
    assert one("users.behaviors.subscription.GlobalStateChange", "subscription_status") == (
        "Unsubscribed",
    )


def test_an_aborted_message_is_counted_aborted_and_never_sent(braze_warehouse: Path):
    index = [name for name, _, _ in CATALOGUE].index("users.messages.email.Abort")
    funnel = rows(
        braze_warehouse,
        "select messages, aborted, sent, reached from marts.engagement_funnel_daily "
        f"where campaign_or_canvas_id = 'cat-campaign-{index}'",
    )
    assert funnel == [(1, 1, 0, 0)]


def honest_funnel(database: Path) -> dict[str, Any]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(
            "select * from marts.engagement_funnel_daily where campaign_or_canvas_id = 'honest'"
        )
        names = [column[0] for column in cursor.description]
        [row] = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def test_machine_opens_and_bot_clicks_are_not_counted_as_people(braze_warehouse: Path):
    funnel = honest_funnel(braze_warehouse)
    assert {key: funnel[key] for key in [
        "messages", "sent", "delivered", "reached", "opened", "clicked", "machine_opened",
        "machine_opens", "suspected_bot_clicks", "total_opens", "total_clicks", "converted",
        "attributed_purchases",
    ]} == {
        "messages": 4, "sent": 4, "delivered": 4, "reached": 4,
        "opened": 2,  # B and C; A's only open is a machine's
        "clicked": 1,  # B; C's click is a suspected bot's
        "machine_opened": 1,  # A
        "machine_opens": 2, "suspected_bot_clicks": 1,
        "total_opens": 4, "total_clicks": 2,  # every event still counted in the totals
        "converted": 1, "attributed_purchases": 1,  # B's purchase, an hour after B's click
    }  # fmt: skip
    assert funnel["open_rate"] == pytest.approx(0.5, abs=1e-12)
    assert funnel["click_rate"] == pytest.approx(0.25, abs=1e-12)
    assert funnel["click_to_open_rate"] == pytest.approx(0.5, abs=1e-12)
    assert funnel["conversion_rate"] == pytest.approx(0.25, abs=1e-12)
    assert funnel["attributed_revenue"] == pytest.approx(19.99, abs=1e-9)

    lifecycle = {
        user: values
        for user, *values in rows(
            braze_warehouse,
            "select right(user_id, 1), is_opened, is_machine_opened, is_clicked, "
            "epoch(first_opened_at)::bigint, epoch(first_machine_opened_at)::bigint, "
            "open_count, machine_open_count, click_count, suspected_bot_click_count, "
            "attributed_revenue "
            "from marts.message_lifecycle where campaign_id = 'honest'",
        )
    }
    half, hour = T0 + HOUR // 2, T0 + HOUR
    assert lifecycle == {
        "A": [False, True, False, None, hour, 1, 1, 0, 0, 0.0],
        "B": [
            True,
            False,
            True,
            hour,
            half,
            2,
            1,
            1,
            0,
            pytest.approx(19.99),
        ],  # human open, not the machine's
        "C": [True, False, False, hour, None, 1, 0, 1, 1, 0.0],
        "D": [False, False, False, None, None, 0, 0, 0, 0, 0.0],
    }
    # every open stays in the fact table, flagged
    opens = rows(
        braze_warehouse,
        "select provider_event_id, is_machine_open from marts.outbound_events "
        "where provider_event_id like 'open-%' order by 1",
    )
    assert opens == [
        ("open-A", True),
        ("open-B", False),
        ("open-B-machine", True),
        ("open-C", False),
    ]


def test_a_purchase_in_a_currency_without_a_rate_is_a_warning(
    braze_warehouse: Path, tmp_path: Path
):
    # the build passed (the fixture) with it: a warning; as an error it fails
    database = tmp_path / "warn.duckdb"
    database.write_bytes(braze_warehouse.read_bytes())
    with warehouse_env(database), pytest.raises(dbt.DbtCommandError):
        dbt.run_dbt(["test", "--select", "purchases_without_currency_rate", "--warn-error"])
    # the purchase keeps its own revenue in outbound_events
    assert rows(database, "select currency, revenue from marts.outbound_events "
                "where provider_event_id = 'purchase-E'") == [("XYZ", 5.0)]  # fmt: skip


def test_one_var_counts_every_open_and_click(braze_warehouse: Path, tmp_path: Path):
    database = tmp_path / "count-everything.duckdb"
    database.write_bytes(braze_warehouse.read_bytes())
    with warehouse_env(database):  # models only: the unit tests pin the default
        dbt.run_dbt(
            ["run", "--full-refresh", "--vars", "{outbound_events__count_machine_engagement: true}"]
        )
    funnel = honest_funnel(database)
    assert (funnel["opened"], funnel["clicked"], funnel["machine_opened"]) == (3, 2, 1)
    assert funnel["open_rate"] == pytest.approx(0.75, abs=1e-12)
    assert funnel["click_rate"] == pytest.approx(0.5, abs=1e-12)
    # B's purchase still converts B's message (touches are the buyer's own)
    assert funnel["attributed_revenue"] == pytest.approx(19.99, abs=1e-9)
