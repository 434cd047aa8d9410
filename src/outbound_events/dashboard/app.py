"""The funnel dashboard (Streamlit): `outbound-events dashboard` runs this script.

Everything shown comes from the marts (data.py reads them); rates are the marts'
numerators over their denominators, summed over the filtered rows, so a total equals
what the semantic layer's metrics give for the same filters.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from outbound_events.dashboard import WAREHOUSE_ENV
from outbound_events.dashboard.data import (
    BREAKDOWNS,
    STAGES,
    Filters,
    Reader,
    Reading,
    Snapshot,
)
from outbound_events.dashboard.view import (
    IDENTITY,
    MISSING,
    RATE_LABELS,
    address_notices,
    count_text,
    count_value,
    experiments_table,
    lift_chart,
    markdown_text,
    rate_text,
    rates_chart,
    significance_note,
    table,
    time_to_open_chart,
    title,
    why_no_time_to_open,
)

REFRESH_SECONDS = 3
HEADLINE_RATES = [
    "delivery_rate",
    "open_rate",
    "click_rate",
    "click_to_open_rate",
    "conversion_rate",
]
NOTICES = "address_notices"  # session state: what the page's address asked in vain


@st.cache_resource
def reader(database: str) -> Reader:
    return Reader(Path(database))


def query_list(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


def query_day(name: str, first: date, last: date, default: date) -> date:
    """The day the address gives (?from=, ?to=), within the data's days."""
    try:
        chosen = date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default
    return min(max(chosen, first), last)


def forget_notices() -> None:
    """A filter was changed: the address's values that matched nothing are gone."""
    st.session_state.pop(NOTICES, None)


def sidebar_filters(snapshot: Snapshot) -> Filters:
    """The filters, starting from the page's address (?provider=...&campaign=...) so
    a filtered view can be shared, and written back to it. A value of the address
    that matches nothing is not applied and the page says so (until a filter is
    changed)."""
    choices = snapshot.choices()
    first, last = choices["first_day"], choices["last_day"]
    labels = choices["campaigns"]
    options = {
        "provider": choices["providers"],
        "channel": choices["channels"],
        "campaign": list(labels),
    }
    if NOTICES not in st.session_state:  # the address the session was opened with
        address = {name: st.query_params.get_all(name) for name in st.query_params}
        st.session_state[NOTICES] = address_notices(address, options, first, last)
    st.sidebar.header("Filters")
    # The dates follow the data (a build that adds a day widens them) unless the
    # address pins them: a widget per data range, a bound kept only when chosen. No
    # dates when no message was built (every record rejected, say).
    span = f"{first}-{last}"
    start, end = (
        st.sidebar.date_input(
            label, value=query_day(name, first, last, default), min_value=first,
            max_value=last, key=f"{name}-{span}", on_change=forget_notices,
        ) if first and last else None
        for label, name, default in [("From", "from", first), ("To", "to", last)]
    )  # fmt: skip
    providers, channels, campaigns = (
        st.sidebar.multiselect(
            label, options[name], default=[v for v in query_list(name) if v in options[name]],
            format_func=lambda value, names=names: names.get(value, value),
            placeholder=f"All {plural}", key=name, on_change=forget_notices,
        )
        for label, name, plural, names in [
            ("Provider", "provider", "providers", {}),
            ("Channel", "channel", "channels", {}),
            ("Campaign or Canvas", "campaign", "campaigns", labels),
        ]
    )  # fmt: skip
    chosen = {
        "from": start.isoformat() if start and start != first else "",
        "to": end.isoformat() if end and end != last else "",
        "provider": providers,
        "channel": channels,
        "campaign": campaigns,
    }
    st.query_params.from_dict({name: value for name, value in chosen.items() if value})
    for notice in st.session_state[NOTICES]:
        st.warning(markdown_text(notice))
    return Filters(start, end, list(providers), list(channels), list(campaigns))


def show_table(frame: pd.DataFrame) -> None:
    """A table across the page, its titles and numbers as view.table gives them and
    "–" for a missing value; the columns naming a row stay in view when it is wider
    than the page and scrolls sideways."""
    pinned = {
        title(column): st.column_config.Column(pinned=True)
        for column in frame.columns
        if column in IDENTITY
    }
    st.dataframe(
        table(frame), hide_index=True, width="stretch", placeholder=MISSING, column_config=pinned
    )


def headline(snapshot: Snapshot, filters: Filters) -> None:
    totals = snapshot.funnel(filters).iloc[0]
    st.subheader("Funnel")
    for column, stage in zip(st.columns(len(STAGES)), STAGES, strict=True):
        column.metric(stage.capitalize(), count_text(totals[stage]))
    for column, rate in zip(st.columns(len(HEADLINE_RATES)), HEADLINE_RATES, strict=True):
        column.metric(RATE_LABELS[rate], rate_text(totals[rate]))
    st.caption(
        f"{count_text(totals['messages'])} messages; {count_text(totals['reached'])} reached "
        "(delivered where the provider reports deliveries, else sent). Rates are over reached "
        "messages (click-to-open over opened, delivery over sent on channels with delivery "
        "reports); – = no denominator. Machine opens and suspected bot clicks are not opens "
        f"or clicks: {count_text(totals['machine_opened'])} machine-opened messages, "
        f"{count_text(totals['suspected_bot_clicks'])} suspected bot clicks."
    )
    stages = pd.DataFrame({"stage": STAGES, "messages": [count_value(totals[s]) for s in STAGES]})
    chart = (
        alt.Chart(stages)
        .mark_bar()
        .encode(
            x=alt.X("messages:Q", title="messages"),
            y=alt.Y("stage:N", sort=STAGES, title=None),
            tooltip=["stage", "messages"],
        )
    )
    st.altair_chart(chart, width="stretch")


def breakdown(snapshot: Snapshot, filters: Filters) -> None:
    st.subheader("Funnel by provider, channel or campaign")
    by = st.radio("Break down by", list(BREAKDOWNS), horizontal=True, key="breakdown")
    frame = snapshot.funnel(filters, BREAKDOWNS[by])
    shown = frame[[*BREAKDOWNS[by], *STAGES, *HEADLINE_RATES]]
    if by == "campaign":
        shown = shown.drop(columns=["campaign_or_canvas_id"])
    show_table(shown)


def over_time(snapshot: Snapshot, filters: Filters) -> None:
    st.subheader("Rates over time")
    chosen = ["open_rate", "click_rate", "click_to_open_rate", "conversion_rate"]
    chart = rates_chart(snapshot.rates_by_day(filters), chosen)
    if chart is None:
        st.info("Nothing to show: no message of the filters was reached (a rate's denominator).")
    else:
        st.altair_chart(chart, width="stretch")


def time_to_open(snapshot: Snapshot, filters: Filters) -> None:
    st.subheader("Time to first open")
    why_empty = why_no_time_to_open(snapshot.open_timing(filters))
    if why_empty:
        st.info(why_empty)
        return
    st.altair_chart(time_to_open_chart(snapshot.time_to_open(filters)), width="stretch")
    st.caption("Opened messages by the time from their first send to their first open.")


def top_campaigns(snapshot: Snapshot, filters: Filters) -> None:
    st.subheader("Top campaigns")
    frame = snapshot.funnel(filters, BREAKDOWNS["campaign"])
    frame = frame[frame["campaign_or_canvas_id"].notna()].head(10)
    columns = [
        "campaign", "provider", "sent", "opened", "clicked", "converted", "open_rate",
        "click_rate", "attributed_revenue",
    ]  # fmt: skip
    show_table(frame[columns])


def experiments(snapshot: Snapshot, filters: Filters) -> None:
    """Each experiment's lift over its control group, with its interval, and whether it
    is significant (docs/experiments.md)."""
    st.subheader("Experiments: lift over the control group")
    lift = snapshot.experiments(filters)
    if lift.empty:
        st.info(
            "No experiment: no Braze campaign or Canvas of the chosen providers has a control "
            "group or two variants (campaign EnrollInControl, Canvas Entry in_control_group, "
            "experiment step SplitEntry)."
        )
        return
    chart = lift_chart(lift)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    # info, not warning: the page's warnings are about the data read and its address
    caution, note = significance_note(lift)
    (st.info if caution else st.success)(note, icon="⚠️" if caution else "✅")
    show_table(experiments_table(lift))
    st.caption(
        "Intent to treat: every user assigned to a variant or the control counts, sent or "
        "not (aborted and rate-limited users stay in their group). Converted: the "
        "experiment's own primary conversion within the window after assignment. Lift: "
        "treatment rate minus control rate, in percentage points, with its 95 % interval; "
        "confidence as Braze computes it (pooled z-test); below 95 % the result is not "
        'significant. "all variants" pools every treatment variant. Experiments follow '
        "the provider filter only (they have no message day or channel)."
    )


def accounting(snapshot: Snapshot, filters: Filters) -> None:
    st.caption("Rejected records and loads: every load of the chosen providers, whatever the days.")
    st.subheader("Rejected records by reason")
    rejects = snapshot.rejects(filters)
    if rejects.empty:
        st.write("No record was rejected.")
    else:
        show_table(rejects)
    st.subheader("Load ledger")
    ledger = snapshot.ledger(filters)
    unbalanced = int((~ledger["is_balanced"].astype(bool)).sum()) if not ledger.empty else 0
    st.metric("Loads", count_text(len(ledger)))
    if unbalanced:
        st.error(
            f"{unbalanced} load(s) do not balance: records in ≠ events + duplicates + rejected."
        )
    else:
        st.success("Every record of every load is accounted for.")
    columns = [
        "provider", "load_id", "loaded_at", "records_in", "events_out", "duplicates_removed",
        "rejected", "is_balanced",
    ]  # fmt: skip
    show_table(ledger[columns])


def empty_state(reading: Reading, database: str) -> None:
    if reading.state == "unreadable":
        st.error(f"Cannot read the warehouse {database}: {reading.error}")
        return
    st.info(
        {
            "no_warehouse": f"Nothing loaded yet: there is no warehouse at {database}.",
            "not_built": f"Nothing built yet: the warehouse {database} has no marts.",
            "empty": f"Nothing loaded yet: the marts of {database} are empty.",
        }[reading.state]
        + " Load a provider's export and build: `outbound-events load --provider <key> PATH`, "
        "then `outbound-events build` (or `outbound-events sample` for the bundled sample). "
        "This page refreshes by itself."
    )


@st.fragment(run_every=REFRESH_SECONDS)
def watch(source: Reader, shown: tuple | None) -> None:
    """Rerun the page when the warehouse changes (a load or build finished)."""
    if source.stamp() != shown:
        st.rerun(scope="app")


def main() -> None:
    st.set_page_config(page_title="outbound-events funnel", layout="wide")
    database = os.environ[WAREHOUSE_ENV]
    source = reader(database)
    reading = source.read()
    st.title("Outbound engagement funnel")
    if reading.busy:
        st.warning(
            f"The warehouse is being written ({reading.busy}); showing the data read at "
            f"{reading.snapshot.read_at:%H:%M:%S}." if reading.snapshot else
            f"The warehouse is being written ({reading.busy}); the page will show it when done."
        )  # fmt: skip
    if reading.snapshot is None and reading.busy:
        pass  # said above
    elif reading.snapshot is None or reading.state != "ready":
        empty_state(reading, database)
    else:
        snapshot = reading.snapshot
        st.caption(f"Marts of {database}, read at {snapshot.read_at:%Y-%m-%d %H:%M:%S %Z}.")
        filters = sidebar_filters(snapshot)
        headline(snapshot, filters)
        breakdown(snapshot, filters)
        left, right = st.columns(2)
        with left:
            over_time(snapshot, filters)
        with right:
            time_to_open(snapshot, filters)
        top_campaigns(snapshot, filters)
        experiments(snapshot, filters)
        accounting(snapshot, filters)
    watch(source, reading.stamp)


main()
