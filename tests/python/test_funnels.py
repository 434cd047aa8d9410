"""The engagement funnels on the bundled sample: hand-worked numbers for the stories,
and an independent pandas recomputation of the whole daily funnel from
marts.outbound_events, compared both ways."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from outbound_events.project import project_dir

ROOT = project_dir()

WINDOW_HOURS = {"email": 120, "sms": 24, "push": 24}  # project defaults
DEFAULT_WINDOW_HOURS = 24  # the other channels' default in dbt_project.yml
FUNNEL_KEYS = ["message_date", "provider", "channel", "campaign_type", "campaign_or_canvas_id"]
COUNTS = [
    "messages", "sent", "delivered", "reached", "opened", "clicked", "converted", "bounced",
    "hard_bounced", "soft_bounced", "unsubscribed", "spam_reported", "total_opens",
    "total_clicks",
]  # fmt: skip
RATES = {
    # rate: (numerator flag, denominator flag), docs/definitions.md#rates
    "delivery_rate": ("is_delivered", "is_sent"),
    "open_rate": ("is_opened", "is_reached"),
    "click_rate": ("is_clicked", "is_reached"),
    "click_to_open_rate": ("is_clicked", "is_opened"),
    "bounce_rate": ("is_bounced", "is_sent"),
    "unsubscribe_rate": ("is_unsubscribed", "is_reached"),
    "spam_rate": ("is_spam_reported", "is_reached"),
    "conversion_rate": ("is_converted", "is_reached"),
}


def frame(db, sql: str) -> pd.DataFrame:
    return db.execute(sql).df()


def messages_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per message_key with its stage flags, straight from the events."""
    message_events = events[events["message_key"].notna()]

    def first(event_types: set[str]) -> pd.Series:
        chosen = message_events[message_events["event_type"].isin(event_types)]
        return chosen.groupby("message_key")["occurred_at"].min()

    grouped = message_events.groupby("message_key")
    messages = grouped.agg(
        provider=("provider", "first"),
        channel=("channel", "first"),
        user_id=("user_id", "first"),
        campaign_id=("campaign_id", "max"),
        campaign_name=("campaign_name", "max"),
        canvas_id=("canvas_id", "max"),
        canvas_name=("canvas_name", "max"),
        first_event_at=("occurred_at", "min"),
    )
    for column, types in {
        "sent_at": {"send"}, "delivered_at": {"delivery"}, "opened_at": {"open", "impression"},
        "clicked_at": {"click"}, "bounced_at": {"bounce"}, "unsubscribed_at": {"unsubscribe"},
        "spam_at": {"spam_report"},
    }.items():  # fmt: skip
        messages[column] = first(types)
    bounce_types = (
        message_events[message_events["event_type"] == "bounce"]
        .groupby("message_key")["bounce_type"]
        .agg(set)
    )
    messages["bounce_type"] = bounce_types.map(
        lambda kinds: next(kind for kind in ["hard", "soft", "unknown"] if kind in kinds)
    )
    for column, types in {"open_count": {"open", "impression"}, "click_count": {"click"}}.items():
        chosen = message_events[message_events["event_type"].isin(types)]
        messages[column] = chosen.groupby("message_key").size()
        messages[column] = messages[column].fillna(0).astype(int)

    # what each provider documents it reports per channel (a channel without a row:
    # sends only)
    documented = pd.read_csv(ROOT / "seeds" / "semantics" / "provider_channels.csv")
    reports = {
        (row.provider, row.channel): (bool(row.reports_sends), bool(row.reports_deliveries))
        for row in documented.itertuples()
    }
    reports_deliveries = messages.apply(
        lambda m: reports.get((m["provider"], m["channel"]), (True, False))[1], axis=1
    )

    messages["is_sent"] = messages["sent_at"].notna()
    messages["is_delivered"] = messages["delivered_at"].notna()
    messages["is_delivery_reported"] = reports_deliveries
    messages["is_opened"] = messages["opened_at"].notna() | messages["clicked_at"].notna()
    # the seed's rule per provider × channel (no row: the send); an abort alone never
    # reaches a message
    reached_by = {(row.provider, row.channel): row.reached_by for row in documented.itertuples()}
    messages["is_reached"] = [
        {"delivery": delivered, "send": sent, "engagement": opened}[
            reached_by.get((provider, channel), "send")
        ]
        for provider, channel, delivered, sent, opened in zip(
            messages["provider"],
            messages["channel"],
            messages["is_delivered"],
            messages["is_sent"],
            messages["is_opened"],
            strict=True,
        )
    ]
    messages["is_clicked"] = messages["clicked_at"].notna()
    messages["is_bounced"] = messages["bounced_at"].notna()
    messages["is_unsubscribed"] = messages["unsubscribed_at"].notna()
    messages["is_spam_reported"] = messages["spam_at"].notna()
    converted = attributed_conversions(events, messages)
    messages["is_converted"] = messages.index.isin(converted)
    messages["message_date"] = messages["sent_at"].fillna(messages["first_event_at"]).dt.date
    return messages


def attributed_conversions(events: pd.DataFrame, messages: pd.DataFrame) -> set[str]:
    """message_keys with a conversion: Braze conversions -> the user's latest message of
    the campaign / Canvas started before; goal events -> the latest touch in the window."""
    converted: set[str] = set()
    for _, conversion in events[events["event_type"] == "conversion"].iterrows():
        candidates = messages[
            (messages["provider"] == conversion["provider"])
            & (messages["user_id"] == conversion["user_id"])
            & (
                (messages["campaign_id"] == conversion["campaign_id"])
                | (messages["canvas_id"] == conversion["canvas_id"])
            )
            & (messages["first_event_at"] <= conversion["occurred_at"])
        ]
        if len(candidates):
            converted.add(candidates["first_event_at"].idxmax())
    touches = events[
        events["event_type"].isin(["open", "impression", "click"]) & events["message_key"].notna()
    ]
    goals = events[(events["event_type"] == "custom") & events["is_conversion_goal"]]
    for _, goal in goals.iterrows():
        best = None
        for _, touch in touches.iterrows():
            if goal["user_id"] not in (touch["user_id"], touch["external_user_id"]):
                continue
            hours = WINDOW_HOURS.get(touch["channel"], DEFAULT_WINDOW_HOURS)
            elapsed = goal["occurred_at"] - touch["occurred_at"]
            if pd.Timedelta(0) <= elapsed <= pd.Timedelta(hours=hours) and (
                best is None or touch["occurred_at"] > best["occurred_at"]
            ):
                best = touch
        if best is not None:
            converted.add(best["message_key"])
    return converted


def daily_funnel(messages: pd.DataFrame) -> pd.DataFrame:
    messages = messages.copy()
    messages["campaign_type"] = messages.apply(
        lambda m: "canvas" if pd.notna(m["canvas_id"])
        else ("campaign" if pd.notna(m["campaign_id"]) else None),
        axis=1,
    )  # fmt: skip
    messages["campaign_or_canvas_id"] = messages["canvas_id"].fillna(messages["campaign_id"])
    rows = []
    for key, group in messages.groupby(FUNNEL_KEYS, dropna=False):
        row = dict(zip(FUNNEL_KEYS, key, strict=True))
        row.update(
            messages=len(group), sent=group["is_sent"].sum(),
            delivered=group["is_delivered"].sum(), reached=group["is_reached"].sum(),
            opened=group["is_opened"].sum(), clicked=group["is_clicked"].sum(),
            converted=group["is_converted"].sum(), bounced=group["is_bounced"].sum(),
            hard_bounced=(group["bounce_type"] == "hard").sum(),
            soft_bounced=(group["bounce_type"] == "soft").sum(),
            unsubscribed=group["is_unsubscribed"].sum(),
            spam_reported=group["is_spam_reported"].sum(),
            total_opens=group["open_count"].sum(), total_clicks=group["click_count"].sum(),
        )  # fmt: skip
        for rate, (numerator, denominator) in RATES.items():
            base = group[group[denominator]]
            if rate == "delivery_rate":  # only where the provider reports deliveries
                base = base[base["is_delivery_reported"]]
            row[rate] = None if len(base) == 0 else base[numerator].sum() / len(base)
        rows.append(row)
    return pd.DataFrame(rows)


def normalised(funnel: pd.DataFrame) -> set[tuple]:
    """Rows as comparable tuples (nulls as None, rates rounded to 9 places)."""
    result = set()
    for row in funnel[FUNNEL_KEYS + COUNTS + list(RATES)].itertuples(index=False):
        values = []
        for value in row:
            if value is None or (not isinstance(value, str | date) and pd.isna(value)):
                values.append(None)
            elif isinstance(value, float):
                values.append(round(value, 9))
            elif hasattr(value, "item"):
                values.append(
                    round(value.item(), 9) if isinstance(value.item(), float) else value.item()
                )
            else:
                values.append(value)
        result.add(tuple(values))
    return result


def test_daily_funnel_recomputed_from_outbound_events(sample_db):
    events = frame(sample_db, "select * from marts.outbound_events")
    expected = daily_funnel(messages_from_events(events))
    actual = frame(sample_db, "select * from marts.engagement_funnel_daily")
    actual["message_date"] = pd.to_datetime(actual["message_date"]).dt.date
    assert len(actual) == len(expected)
    expected_rows, actual_rows = normalised(expected), normalised(actual)
    assert len(expected_rows) == len(expected)
    assert actual_rows - expected_rows == set(), "rows in the mart but not recomputed"
    assert expected_rows - actual_rows == set(), "rows recomputed but not in the mart"


def test_spring_sale_email_funnel(sample_db):
    """B1: u1 complete (+ conversion), u2 opened/spam/unsubscribed, u3 hard bounce, u4 soft."""
    relation = sample_db.execute("""
        select * from marts.engagement_funnel_daily
        where campaign_or_canvas_id = 'cmp_spring' and channel = 'email'
    """)
    columns = [description[0] for description in relation.description]
    rows = relation.fetchall()
    assert len(rows) == 1
    row = dict(zip(columns, rows[0], strict=True))
    assert row["message_date"] == date(2024, 3, 4)
    assert row["campaign_type"] == "campaign"
    assert {column: int(row[column]) for column in COUNTS} == {
        "messages": 4, "sent": 4, "delivered": 2, "reached": 2, "opened": 2, "clicked": 1,
        "converted": 1, "bounced": 2, "hard_bounced": 1, "soft_bounced": 1, "unsubscribed": 1,
        "spam_reported": 1, "total_opens": 3, "total_clicks": 1,
    }  # fmt: skip
    assert {rate: float(row[rate]) for rate in RATES} == {
        "delivery_rate": 0.5, "open_rate": 1.0, "click_rate": 0.5, "click_to_open_rate": 0.5,
        "bounce_rate": 0.5, "unsubscribe_rate": 0.5, "spam_rate": 0.5, "conversion_rate": 0.5,
    }  # fmt: skip


def test_customerio_without_sends_has_no_delivery_rate(sample_db):
    row = sample_db.execute("""
        select messages, sent, delivered, reached, opened, clicked, bounced, delivery_rate,
               bounce_rate, open_rate, click_rate
        from marts.engagement_funnel_daily where provider = 'customerio'
    """).fetchall()
    # cio_u1 and cio_u2 delivered + opened (u1 clicked), cio_u3 bounced (no send, no delivery)
    assert row == [(3, 0, 2, 2, 2, 1, 1, None, None, 1.0, 0.5)]


def test_conversions_are_attributed(sample_db):
    rows = sample_db.execute("""
        select user_id, channel, coalesce(campaign_id, canvas_id), converted_at, conversion_count
        from marts.message_lifecycle where is_converted order by user_id, channel
    """).fetchall()
    # u1's Spring email: the Braze campaign conversion (18:20) and renewMembership of
    # ext-001 on 03-08 10:00 (88 h after the email click, inside 120 h; the push opened
    # 74 h before is outside its 24 h window). u1's Onboarding push: the Canvas conversion.
    assert rows == [
        ("b_u1", "email", "cmp_spring", datetime(2024, 3, 4, 18, 20), 2),
        ("b_u1", "push", "cnv_onb", datetime(2024, 3, 5, 9, 0), 1),
    ]


def test_message_lifecycle_of_the_complete_email_story(sample_db):
    row = sample_db.execute("""
        select first_sent_at, first_delivered_at, first_opened_at, first_clicked_at, open_count,
               click_count, seconds_to_open, seconds_to_click, is_opened, is_open_inferred
        from marts.message_lifecycle where user_id = 'b_u1' and campaign_id = 'cmp_spring'
    """).fetchall()
    assert row == [(
        datetime(2024, 3, 4, 9, 0), datetime(2024, 3, 4, 9, 0, 5), datetime(2024, 3, 4, 9, 30),
        datetime(2024, 3, 4, 18, 1), 2, 1, 1800, 32460, True, False,
    )]  # fmt: skip


def test_one_lifecycle_row_per_message_even_without_a_send(sample_db):
    total, keys, without_send = sample_db.execute("""
        select count(*), count(distinct message_key), count(*) filter (where not is_sent)
        from marts.message_lifecycle
    """).fetchone()
    events_keys = sample_db.execute(
        "select count(distinct message_key) from marts.outbound_events"
    ).fetchone()[0]
    assert total == keys == events_keys
    # without a send: 3 Customer.io emails, Braze in-app (u4) and news feed (u5)
    assert without_send == 5


@pytest.mark.parametrize(
    ("provider", "user", "expected"),
    [
        ("braze", "b_u1", ("unsubscribed", "sms", False, 3, 2, 1)),
        ("braze", "b_u2", ("unsubscribed", "email", False, 3, 1, 0)),
        ("braze", "b_u3", (None, None, True, 3, 0, 0)),
        ("crossengage", "ce_u5", (None, None, True, 1, 0, 0)),
        ("activatepro", "ap_u2", ("unsubscribed", "email", False, 1, 1, 0)),
        ("customerio", "cio_u3", (None, None, False, 1, 0, 0)),
        ("outbound", "ext-001", (None, None, False, 0, 0, 0)),
    ],
)
def test_user_engagement(sample_db, provider, user, expected):
    row = sample_db.execute(
        """
        select subscription_status, subscription_channel, is_hard_bounced, messages,
               messages_opened, messages_clicked
        from marts.user_engagement where provider = ? and user_id = ?
    """,
        [provider, user],
    ).fetchall()
    assert row == [expected]


def test_summary_prints_the_funnel(sample_warehouse, monkeypatch):
    from click.testing import CliRunner

    from outbound_events.cli import cli

    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(sample_warehouse))
    output = CliRunner().invoke(cli, ["summary"]).output
    funnel_lines = {
        line.split()[0]: line.split()[1:]
        for line in output.splitlines()
        if line.split() and "/" in line.split()[0]
    }
    # sent, delivered, opened, clicked, converted, then rates
    assert funnel_lines["braze/email"] == ["4", "2", "2", "1", "1", "50%", "100%", "50%", "50%"]
    assert funnel_lines["customerio/email"] == ["0", "2", "2", "1", "0", "-", "100%", "50%", "0%"]


def test_delivery_rate_is_null_where_deliveries_are_not_reported(sample_db):
    rows = sample_db.execute("""
        select provider, channel, sent, delivered, delivery_rate
        from marts.engagement_funnel_by_channel order by provider, channel
    """).fetchall()
    rates = {(provider, channel): rate for provider, channel, _, _, rate in rows}
    # Braze reports no push, webhook or content-card deliveries
    for unreported in [("braze", "push"), ("braze", "webhook"), ("braze", "content_card")]:
        assert rates[unreported] is None, unreported
    # ActivatePro (the CrossEngage platform) reports deliveries on every channel: its three
    # email sends of the sample have none yet, which is 0 %, not "unknown"
    assert rates[("activatepro", "email")] == 0.0
    assert rates[("braze", "email")] == 0.5  # 2 of 4 sent (u3, u4 bounced)
    assert rates[("braze", "sms")] == 1 / 3  # u1 of u1..u3
