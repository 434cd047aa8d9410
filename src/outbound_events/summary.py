"""A short account of what a build produced, read from the marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table

from outbound_events.build_warnings import BuildRecord

# The marts the summary reads.
SUMMARY_TABLES = (
    "marts.outbound_events",
    "marts.message_lifecycle",
    "marts.rejected_events",
    "marts.engagement_funnel_by_channel",
)

EVENTS_BY_PROVIDER = """
    select
        provider,
        count(*) as events,
        count(distinct event_type) as event_types,
        count(*) filter (where event_type = 'unmapped') as unmapped,
        sum(copies_received - 1 - conflicting_copies) as duplicates_removed,
        count(*) filter (where timestamp_source = 'ingestion') as ingestion_time,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at
    from marts.outbound_events
    group by provider
"""

# Messages whose provider's clocks disagree (a stage stamped before the send).
CLOCK_SKEW_BY_PROVIDER = """
    select provider, count(*) filter (where has_clock_skew) as skewed
    from marts.message_lifecycle
    group by provider
"""

REJECTED_BY_PROVIDER = """
    select provider, rejection_reason, count(*) as records
    from marts.rejected_events
    group by provider, rejection_reason
    order by provider, rejection_reason
"""


def summary_tables(database: Path) -> list[Table]:
    """Tables describing marts.outbound_events and marts.rejected_events."""
    with duckdb.connect(str(database), read_only=True) as connection:
        events = connection.sql(EVENTS_BY_PROVIDER + " order by provider").fetchall()
        rejected = connection.sql(REJECTED_BY_PROVIDER).fetchall()
        skewed = dict(connection.execute(CLOCK_SKEW_BY_PROVIDER).fetchall())

    rejected_by_provider: dict[str, int] = {}
    for provider, _reason, records in rejected:
        rejected_by_provider[provider] = rejected_by_provider.get(provider, 0) + records

    first = min((row[6] for row in events), default=None)
    last = max((row[7] for row in events), default=None)
    caption = f"events from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC" if first else ""
    events_table = Table(title="marts.outbound_events", caption=caption)
    # provider, events, distinct event types, unmapped names, duplicates removed,
    # events without a timestamp (ingestion time), records rejected, messages with clock
    # skew (a stage stamped before the send)
    headings = ["provider", "events", "types", "unmapped", "dups", "no time", "rejected", "skew"]
    for heading in headings:
        events_table.add_column(
            heading,
            justify="left" if heading == "provider" else "right",
            no_wrap=True,
            min_width=11 if heading == "provider" else None,
        )
    for provider, count, types, unmapped, duplicates, ingestion, _first, _last in events:
        events_table.add_row(
            provider,
            str(count),
            str(types),
            str(unmapped),
            str(duplicates),
            str(ingestion),
            str(rejected_by_provider.get(provider, 0)),
            str(skewed.get(provider, 0)),
        )

    rejected_table = Table(title="marts.rejected_events")
    for heading in ["provider", "reason", "records"]:
        rejected_table.add_column(heading, justify="right" if heading == "records" else "left")
    for provider, reason, records in rejected:
        rejected_table.add_row(provider, reason, str(records))
    return [events_table, rejected_table]


FUNNEL_BY_CHANNEL = """
    select provider, channel, sent, delivered, reached, opened, clicked, converted,
           delivery_rate, open_rate, click_rate, conversion_rate
    from marts.engagement_funnel_by_channel
    order by provider, channel
"""


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def funnel_table(database: Path) -> Table:
    """The funnel per provider and channel (marts.engagement_funnel_by_channel)."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.sql(FUNNEL_BY_CHANNEL).fetchall()
    table = Table(
        title="funnel per provider and channel (marts.engagement_funnel_by_channel)",
        caption="counts are messages: sent, delivered, opened, clicked, converted; rates "
        "are over reached messages (delivered where the provider reports deliveries on the "
        "channel, else sent); - = no denominator, or deliveries not reported",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for heading in [
        "provider/channel",
        "sent",
        "dlvd",
        "open",
        "clk",
        "conv",
        "dlv%",
        "opn%",
        "clk%",
        "cnv%",
    ]:
        justify = "left" if heading == "provider/channel" else "right"
        table.add_column(heading, justify=justify, no_wrap=True)
    for (
        provider,
        channel,
        sent,
        delivered,
        _reached,
        opened,
        clicked,
        converted,
        delivery_rate,
        open_rate,
        click_rate,
        conversion_rate,
    ) in rows:
        table.add_row(
            f"{provider}/{channel or '-'}",
            str(sent),
            str(delivered),
            str(opened),
            str(clicked),
            str(converted),
            _percent(delivery_rate),
            _percent(open_rate),
            _percent(click_rate),
            _percent(conversion_rate),
        )
    return table


def warnings_lines(build: BuildRecord) -> list[str]:
    """The warnings of the warehouse's last build (`warn` tests that found rows), one
    line each: the test, what it concerns, its failing rows and its description."""
    when = f"{build.built_at:%Y-%m-%d %H:%M} UTC"
    if not build.warnings:
        return [f"dbt build of {when}: no warnings"]
    count = len(build.warnings)
    plural = "" if count == 1 else "s"
    lines = [f"dbt build of {when}: {count} warning{plural} (warn tests that found rows)"]
    for warning in build.warnings:
        rows = f"{warning.failing_rows:,} row{'' if warning.failing_rows == 1 else 's'}"
        about = f" {warning.description}" if warning.description else ""
        lines.append(f"- {warning.test_name} (on {warning.concerns}): {rows}.{about}")
    lines.append(
        "To keep a test's rows in a table: dbt test --select TEST --store-failures --profiles-dir ."
    )
    return lines


def print_summary(
    database: Path, console: Console | None = None, build: BuildRecord | None = None
) -> None:
    """The summary of `database`; with `build`, the warnings of its last build."""
    console = console or Console()
    console.print(f"Warehouse: {database}")
    for table in [*summary_tables(database), funnel_table(database)]:
        console.print(table)
    if build is not None:
        console.print()
        for line in warnings_lines(build):
            console.print(line, markup=False, highlight=False)
