"""Realistic raw data at any size, written straight into a warehouse's raw tables.

Every provider and raw shape: Braze Currents records (email and push: send, delivery,
open, click, bounce), CrossEngage Data Feed records and API bodies, ActivatePro
camelCase records (some without a timestamp), Outbound custom events with nested
properties, Customer.io email events with context. One load per provider and day;
about 2 % duplicates (re-delivered the next day), 0.3 % malformed records (a missing
comma), 1 % late events (loaded two days after they happened).

It is one SQL statement per table, run by DuckDB, and reproducible: every choice is a
hash of the record number and the seed (no random()). Payloads are written in
canonical JSON (keys sorted, no white space), so their SHA-256 is the loader's
`content_sha256` (tests/python check a sample against outbound_events.loading).

    python benchmarks/generate.py --events 1M --database bench.duckdb
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb

from outbound_events.loading.warehouse import ensure_tables

START = "2024-05-01"  # day 0, UTC
DAY_SECONDS = 86_400
# Share of the events per provider (Outbound's are customer actions, not messages).
SHARES = {"braze": 0.50, "crossengage": 0.15, "activatepro": 0.10, "customerio": 0.15}
OUTBOUND_SHARE = 0.10
# Funnel stages of a message: (stage, order, percent of messages that reach it).
STAGES = [("send", 0, 100), ("delivery", 1, 95), ("open", 2, 40), ("click", 3, 10),
          ("bounce", 4, 3)]  # fmt: skip
EVENTS_PER_MESSAGE = sum(percent for _, _, percent in STAGES) / 100
DUPLICATE_PER_MILLE, MALFORMED_PER_MILLE, LATE_PER_MILLE = 20, 3, 10


@dataclass(frozen=True)
class Batch:
    """`events` events over `days` days starting at day `first_day` (UTC)."""

    events: int
    days: int = 30
    first_day: int = 0
    seed: int = 1

    @property
    def tag(self) -> str:  # keeps ids of different batches apart
        return f"g{self.seed}d{self.first_day}"


def parse_count(text: str) -> int:
    """`1M`, `10M`, `250k` or a plain number."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def h(expression: str, salt: str, modulo: int, seed: int) -> str:
    """A deterministic pseudo-random integer in [0, modulo) from an expression."""
    return f"(hash({expression}, '{salt}', {seed}) % {modulo})"


# Stages a push message can have: Braze reports no push delivery, bounce or click.
PUSH_STAGES = {"braze": ("send", "open"), "crossengage": ("send", "delivery", "open", "click"),
               "activatepro": ("send", "delivery", "open", "click"), "customerio": ()}  # fmt: skip


def message_events_sql(batch: Batch, provider: str, share: float) -> str:
    """One row per event of the provider's messages: who, which campaign, when, which
    stage, and the lineage choices (duplicate, malformed, late)."""
    messages = max(1, int(batch.events * share / EVENTS_PER_MESSAGE))
    users = max(10, messages // 4)
    stages = ", ".join(f"('{s}', {o}, {p})" for s, o, p in STAGES)
    s = batch.seed
    return f"""
        with messages as (
            select
                range as m,
                '{batch.tag}-{provider}-u' || {h("range", "user", users, s)} as user_id,
                'c' || {h("range", "campaign", 60, s)} as campaign_id,
                case when {h("range", "channel", 10, s)} < 8 then 'email' else 'push' end as channel,
                {batch.first_day} + {h("range", "day", batch.days, s)} as day,
                {h("range", "second", DAY_SECONDS - 7200, s)} as second_of_day
            from range({messages})
        ),
        stages(stage, stage_order, percent) as (values {stages}),
        events as (
            select
                messages.*, stages.stage,
                to_timestamp(epoch(timestamp '{START}') + day * {DAY_SECONDS} + second_of_day
                    + stage_order * 600 + {h("m", "delay" + "' || stage || '", 600, s)})::timestamp
                    as occurred_at,
                {h("m", "dup' || stage || '", 1000, s)} < {DUPLICATE_PER_MILLE} as is_duplicated,
                {h("m", "bad' || stage || '", 1000, s)} < {MALFORMED_PER_MILLE} as is_malformed,
                {h("m", "late' || stage || '", 1000, s)} < {LATE_PER_MILLE} as is_late
            from messages
            cross join stages
            where {h("m", "stage' || stages.stage || '", 100, s)} < stages.percent
                and (messages.channel = 'email' or stages.stage in {PUSH_STAGES[provider] or "('')"})
        )
        select * from events
    """


def braze_sql(batch: Batch) -> str:
    types = {"send": "Send", "delivery": "Delivery", "open": "Open", "click": "Click",
             "bounce": "Bounce"}  # fmt: skip
    event_type = " ".join(f"when '{k}' then '{v}'" for k, v in types.items())
    return f"""
        select
            'users.messages.' || case channel when 'email' then 'email' else 'pushnotification' end
                || '.' || case stage {event_type} end as event_type,
            occurred_at,
            '{{"campaign_id":"' || campaign_id || '","dispatch_id":"' || '{batch.tag}-d' || m
                || case when channel = 'email' then '","email_address":"' || user_id || '@example.com'
                    else '' end
                || '","id":"' || '{batch.tag}-' || m || '-' || stage
                || '","time":' || epoch(occurred_at)::bigint
                || case when stage = 'click' then ',"url":"https://shop.example.com/p/' || m || '"'
                    else '' end
                || ',"user_id":"' || user_id || '"}}' as payload,
            is_duplicated, is_malformed, is_late
        from ({message_events_sql(batch, "braze", SHARES["braze"])})
    """


CE_NAMES = ("case stage when 'send' then 'Message Sent' when 'delivery' then 'Message Delivered' "
            "when 'open' then 'Message Viewed' when 'click' then 'Message Clicked' "
            "else 'Message hard_bounced' end")  # fmt: skip
ISO = "strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ')"


def crossengage_sql(batch: Batch) -> str:
    """Half the events as Data Feed records, half in API bodies (one per user, day and
    campaign: a message's whole story)."""
    events = message_events_sql(batch, "crossengage", SHARES["crossengage"])
    element = (f"'{{\"event\":\"' || {CE_NAMES} || '\",\"properties\":{{\"campaign_id\":\"' "
               "|| campaign_id || '\",\"channel\":\"' || (upper(channel[1]) || channel[2:]) || '\",\"message_id\":\"' "
               f"|| '{batch.tag}-' || m || '\"}},\"timestamp\":\"' || {ISO} || '\"}}'")  # fmt: skip
    return f"""
        with events as ({events}),
        feed as (
            select
                occurred_at,
                '{{"campaign_id":"' || campaign_id || '","channel":"' || (upper(channel[1]) || channel[2:])
                    || '","event":"' || {CE_NAMES} || '","id":"' || user_id
                    || '","message_id":"' || '{batch.tag}-' || m || '","timestamp":"' || {ISO}
                    || '"}}' as payload,
                is_duplicated, is_malformed, is_late
            from events where m % 2 = 0
        ),
        bodies as (
            select
                max(occurred_at) as occurred_at,
                '{{"events":[' || string_agg({element}, ',' order by occurred_at, stage)
                    || '],"id":"' || user_id || '"}}' as payload,
                bool_or(is_duplicated) as is_duplicated, bool_or(is_malformed) as is_malformed,
                bool_or(is_late) as is_late
            from events where m % 2 = 1
            group by user_id, campaign_id, m
        )
        select null as event_type, * from feed
        union all
        select null as event_type, * from bodies
    """


def activatepro_sql(batch: Batch) -> str:
    events = message_events_sql(batch, "activatepro", SHARES["activatepro"])
    timestamp = (f"case when {h('m', 'notime', 20, batch.seed)} = 0 then '' "
                 f"else ',\"timestamp\":\"' || {ISO} || '\"' end")  # fmt: skip
    return f"""
        select
            null as event_type,
            occurred_at,
            '{{"campaignId":"' || campaign_id || '","channel":"' || (upper(channel[1]) || channel[2:])
                || '","event":"' || {CE_NAMES} || '","messageId":"' || '{batch.tag}-' || m || '"'
                || {timestamp} || ',"userId":"' || user_id || '"}}' as payload,
            is_duplicated, is_malformed, is_late
        from ({events})
    """


def customerio_sql(batch: Batch) -> str:
    names = ("case stage when 'delivery' then 'Email Delivered' when 'open' then 'Email Opened' "
             "when 'click' then 'Email Link Clicked' else 'Email Bounced' end")  # fmt: skip
    return f"""
        select
            null as event_type,
            occurred_at,
            '{{"action":"track","context":{{"ip":"203.0.113.' || (m % 250) || '","traits":{{"email":"'
                || user_id || '@example.io"}}}},"event":"' || {names} || '","messageId":"'
                || '{batch.tag}-cio-' || m || '-' || stage || '","properties":{{"campaign_id":"'
                || campaign_id || '","email_id":"' || '{batch.tag}-' || m || '"}},"timestamp":"'
                || {ISO} || '","user_id":"' || user_id || '"}}' as payload,
            is_duplicated, is_malformed, is_late
        from ({message_events_sql(batch, "customerio", SHARES["customerio"])})
        where channel = 'email' and stage != 'send'  -- Customer.io reports no sends
    """


def outbound_sql(batch: Batch) -> str:
    count = max(1, int(batch.events * OUTBOUND_SHARE))
    s = batch.seed
    return f"""
        with actions as (
            select
                range as a,
                to_timestamp(epoch(timestamp '{START}')
                    + ({batch.first_day} + {h("range", "oday", batch.days, s)}) * {DAY_SECONDS}
                    + {h("range", "osecond", DAY_SECONDS, s)})::timestamp as occurred_at,
                '{batch.tag}-braze-u' || {h("range", "ouser", max(10, count // 2), s)} as user_id,
                case when {h("range", "goal", 10, s)} = 0 then 'renewMembership' else 'pageView' end
                    as event
            from range({count})
        )
        select
            null as event_type,
            occurred_at,
            '{{"event":"' || event || '","properties":{{"membership":{{"renewalDate":"'
                || strftime(occurred_at + interval 365 day, '%Y-%m-%d') || '"}},"page":"/p/' || a
                || '"}},"timestamp":' || epoch(occurred_at)::bigint || ',"user_id":"' || user_id
                || '"}}' as payload,
            {h("a", "odup", 1000, s)} < {DUPLICATE_PER_MILLE} as is_duplicated,
            {h("a", "obad", 1000, s)} < {MALFORMED_PER_MILLE} as is_malformed,
            {h("a", "olate", 1000, s)} < {LATE_PER_MILLE} as is_late
        from actions
    """


GENERATORS = {
    "braze": braze_sql,
    "crossengage": crossengage_sql,
    "activatepro": activatepro_sql,
    "outbound": outbound_sql,
    "customerio": customerio_sql,
}


def insert_sql(provider: str, batch: Batch) -> str:
    """Land the provider's records: one load per day (late ones two days later), each
    duplicate again in the next day's load, malformed ones with a comma missing. A
    batch's loads are its own (load ids carry the batch's tag); a batch that follows
    another must start at least 2 days after the other ends, so that its loads come
    later, as real loads do."""
    event_type = "event_type, " if provider == "braze" else ""
    return f"""
        insert into raw.{provider}__events
            ({event_type}source_file, source_position, load_id, loaded_at, payload, content_sha256)
        with records as ({GENERATORS[provider](batch)}),
        landed as (
            select event_type, occurred_at, is_late, 0 as copy,
                case when is_malformed then regexp_replace(payload, '",', '" ') else payload end
                    as payload, is_malformed
            from records
            union all
            select event_type, occurred_at, is_late, 1 as copy, payload, false from records
            where is_duplicated and not is_malformed
        ),
        dated as (
            select *,
                (epoch(occurred_at)::bigint // {DAY_SECONDS}) + copy + case when is_late then 2 else 0 end
                    as load_day
            from landed
        )
        select
            {"event_type, " if provider == "braze" else ""}
            'bench/{provider}/' || strftime(to_timestamp(load_day * {DAY_SECONDS}), '%Y-%m-%d')
                || '.ndjson' as source_file,
            row_number() over (partition by load_day order by occurred_at, payload) as source_position,
            '{provider}-' || strftime(to_timestamp(load_day * {DAY_SECONDS}), '%Y-%m-%d') || '-{batch.tag}'
                as load_id,
            to_timestamp(load_day * {DAY_SECONDS} + {DAY_SECONDS - 600})::timestamp as loaded_at,
            payload,
            case when not is_malformed then sha256(payload) end as content_sha256
        from dated
    """


def generate(connection: duckdb.DuckDBPyConnection, batch: Batch) -> dict[str, int]:
    """Write the batch into the raw tables; the raw records landed per provider."""
    ensure_tables(connection)
    landed = {}
    for provider in GENERATORS:
        before = connection.execute(f"select count(*) from raw.{provider}__events").fetchone()
        connection.execute("set timezone = 'UTC'")
        connection.execute(insert_sql(provider, batch))
        after = connection.execute(f"select count(*) from raw.{provider}__events").fetchone()
        landed[provider] = int(after[0]) - int(before[0])  # type: ignore[index]
    return landed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="1M", help="how many events (1M, 250k, ...)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--first-day", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", type=Path, required=True)
    args = parser.parse_args()
    batch = Batch(parse_count(args.events), args.days, args.first_day, args.seed)
    with duckdb.connect(str(args.database)) as connection:
        landed = generate(connection, batch)
    print(", ".join(f"{provider}: {count:,}" for provider, count in landed.items()))


if __name__ == "__main__":
    main()
