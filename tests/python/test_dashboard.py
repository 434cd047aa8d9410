"""`outbound-events dashboard`: what it reads (dashboard/data.py), the page itself run
by Streamlit's test runner (AppTest), and the page served by the command and opened
in headless Chromium (Debian's `chromium`, which the CI script installs; Playwright
drives it, its own browser download unused).

The numbers on the page are checked against the marts (sums of the daily funnel's
counts, rates as summed numerators over summed denominators) for the whole sample,
one provider chosen in the page's filter and one campaign; and against hand-worked
values on a warehouse that starts empty and gets two Customer.io loads, each loaded
and built while the page is open. Also: the tables' titles and cells (drawn on a
canvas, so read through AppTest), what the page says about an address that matches
nothing and about an empty time to first open, the years on the time axis, and that
a SIGTERM or SIGINT to the command stops its server."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from fixtures.holder import held
from fixtures.loader_files import run_cli, write_text
from outbound_events.dashboard import APP, WAREHOUSE_ENV
from outbound_events.dashboard.data import MARTS, Filters, Reader
from outbound_events.dashboard.view import (
    address_notices,
    day_axis,
    interval_text,
    lift_chart,
    markdown_text,
    rates_chart,
    significance_note,
    verdict,
)
from outbound_events.project import project_dir

HEADLINE = {
    "Sent": "sent", "Delivered": "delivered", "Opened": "opened", "Clicked": "clicked",
    "Converted": "converted", "Delivery rate": "delivery_rate", "Open rate": "open_rate",
    "Click rate": "click_rate", "Click-to-open rate": "click_to_open_rate",
    "Conversion rate": "conversion_rate",
}  # fmt: skip


def customerio_lines(day: str, users: list[str], opened: list[str]) -> str:
    """Customer.io email: one delivery per user at 08:00, an open at 09:00 for some."""

    def event(name: str, user: str, hour: str) -> str:
        return json.dumps({
            "user_id": user, "action": "track", "event": name,
            "timestamp": f"{day}T{hour}:00:00Z", "messageId": f"{name}-{day}-{user}",
            "properties": {"email_id": f"em-{day}-{user}", "campaign_id": "c1",
                           "campaign_name": "Hello"},
        })  # fmt: skip

    lines = [event("Email Delivered", user, "08") for user in users]
    lines += [event("Email Opened", user, "09") for user in opened]
    return "\n".join(lines) + "\n"


# The headline numbers worked out from message_lifecycle with the definitions of
# docs/definitions.md#rates, independently of the daily mart's numerator columns the
# page sums.
MESSAGES_WITH_CAMPAIGN_KEY = """
    select *, provider || '/' || case when canvas_id is not null then 'canvas'
        when campaign_id is not null then 'campaign' end
        || '/' || coalesce(canvas_id, campaign_id) as campaign_key
    from marts.message_lifecycle
"""
HEADLINE_SQL = {
    "sent": "count_if(is_sent)",
    "delivered": "count_if(is_delivered)",
    "opened": "count_if(is_opened)",
    "clicked": "count_if(is_clicked)",
    "converted": "count_if(is_converted)",
    "delivery_rate": "count_if(is_sent and is_delivered and is_delivery_reported)"
    " / nullif(count_if(is_sent and is_delivery_reported), 0)",
    "open_rate": "count_if(is_reached and is_opened) / nullif(count_if(is_reached), 0)",
    "click_rate": "count_if(is_reached and is_clicked) / nullif(count_if(is_reached), 0)",
    "click_to_open_rate": "count_if(is_opened and is_clicked) / nullif(count_if(is_opened), 0)",
    "conversion_rate": "count_if(is_reached and is_converted) / nullif(count_if(is_reached), 0)",
}


def mart_totals(database: Path, where: str = "true", parameters: list | None = None) -> dict:
    """The headline numbers of the messages `where` selects."""
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute(
            f"select {', '.join(HEADLINE_SQL.values())} "
            f"from ({MESSAGES_WITH_CAMPAIGN_KEY}) as messages where {where}",
            parameters or [],
        ).fetchone()
    return dict(zip(HEADLINE_SQL, row, strict=True))


def page_text(totals: dict) -> dict[str, str]:
    """How the page writes them: counts with separators, rates to 0.1 %, – for none."""

    def shown(key: str) -> str:
        value = totals[key]
        if key.endswith("_rate"):
            return "–" if value is None else f"{value:.1%}"
        return f"{int(value or 0):,}"

    return {label: shown(key) for label, key in HEADLINE.items()}


# The data layer, without a browser.


def test_reader_states_and_numbers(sample_warehouse, tmp_path):
    missing = Reader(tmp_path / "none.duckdb").read()
    assert (missing.state, missing.snapshot) == ("no_warehouse", None)

    loaded_only = tmp_path / "loaded.duckdb"
    write_text(tmp_path / "a.ndjson", customerio_lines("2024-03-04", ["u1"], []))
    assert run_cli(loaded_only, "load", "-p", "customerio", tmp_path / "a.ndjson").returncode == 0
    assert Reader(loaded_only).read().state == "not_built"

    # Built, but with nothing loaded (a plain `dbt build` on a fresh clone).
    emptied = tmp_path / "emptied.duckdb"
    shutil.copyfile(sample_warehouse, emptied)
    with duckdb.connect(str(emptied)) as connection:
        for mart in MARTS:
            connection.execute(f"delete from marts.{mart}")
    assert Reader(emptied).read().state == "empty"

    reading = Reader(sample_warehouse).read()
    assert reading.state == "ready" and reading.busy is None
    snapshot = reading.snapshot
    choices = snapshot.choices()
    assert choices["providers"] == ["activatepro", "braze", "crossengage", "customerio"]
    totals = snapshot.funnel(Filters()).iloc[0]
    assert page_text(totals) == page_text(mart_totals(sample_warehouse))
    braze = snapshot.funnel(Filters(providers=["braze"], channels=["email"])).iloc[0]
    assert page_text(braze) == page_text(
        mart_totals(sample_warehouse, "provider = 'braze' and channel = 'email'")
    )
    # Time to first open: every opened message with a send and no clock skew, once.
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        (timed,) = connection.execute(
            "select count(*) from marts.message_lifecycle "
            "where is_opened and seconds_to_open is not null and not has_clock_skew"
        ).fetchone()
        (within_hour,) = connection.execute(
            "select count(*) from marts.message_lifecycle where is_opened "
            "and seconds_to_open < 3600 and not has_clock_skew"
        ).fetchone()
    distribution = snapshot.time_to_open(Filters())
    assert distribution["messages"].sum() == timed > 0
    assert distribution["messages"].head(4).sum() == within_hour
    # Rejects and the ledger of the sample's loads.
    rejects = snapshot.rejects(Filters())
    assert rejects["records"].sum() == mart_count(sample_warehouse, "rejected_events")
    assert len(snapshot.ledger(Filters())) == mart_count(sample_warehouse, "load_ledger")


def mart_count(database: Path, mart: str) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]


def test_a_held_warehouse_keeps_the_last_copy(sample_warehouse, tmp_path):
    database = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, database)
    reader = Reader(database)
    first = reader.read()
    assert first.state == "ready"
    with held(database, 60, "write") as holder:
        busy = reader.read()  # the file changed, and its writer holds it
        assert busy.snapshot is first.snapshot
        assert busy.busy is not None and f"PID {holder.pid}" in busy.busy
    again = reader.read()
    assert again.busy is None and again.snapshot is not first.snapshot
    assert again.state == "ready"


def test_writers_wait_out_a_short_read(tmp_path):
    """A load and a plain `dbt build` that start while a reader holds the file for a
    moment (as the dashboard does) wait for it and succeed."""
    database = tmp_path / "warehouse.duckdb"
    write_text(tmp_path / "a.ndjson", customerio_lines("2024-03-04", ["u1", "u2"], ["u1"]))
    with held(database, 2, "write"):
        pass  # create the file
    with held(database, 2, "ro"):
        loaded = run_cli(database, "load", "-p", "customerio", tmp_path / "a.ndjson")
    assert loaded.returncode == 0, loaded.stderr
    with held(database, 3, "ro"):
        built = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "build", "--profiles-dir", ".",
             "--exclude", "path:seeds/sample", "test_type:unit"],
            cwd=project_dir(), env={**os.environ, "OUTBOUND_EVENTS_DB": str(database)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    totals = mart_totals(database)
    assert (totals["delivered"], totals["opened"], totals["open_rate"]) == (2, 1, 0.5)


# What the page says and shows, run by Streamlit's own test runner (AppTest: the
# script and its elements, no browser). The tables' cells are drawn on a canvas, so
# their text is checked here: each cell's display value, or the placeholder Streamlit
# draws for a missing value ("None" unless the table sets one).


@pytest.fixture
def page_run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """page_run(database, name=value, ...): the page over `database`, opened with the
    address's filters (and run again by its widgets)."""

    def run(database: Path, **address: str | list[str]) -> AppTest:
        monkeypatch.setenv(WAREHOUSE_ENV, str(database))
        app_test = AppTest.from_file(str(APP), default_timeout=120)
        for name, value in address.items():
            app_test.query_params[name] = value
        app_test.run()
        assert not app_test.exception, [error.value for error in app_test.exception]
        return app_test

    return run


def drawn_cells(element) -> list[dict[str, str]]:
    """A table's rows as drawn: column title → text."""
    raw = element.value
    if element.proto.arrow_data.HasField("styler"):
        display = convert_arrow_bytes_to_pandas_df(element.proto.arrow_data.styler.display_values)
    else:
        display = raw.astype(str)
    missing = element.proto.placeholder if element.proto.HasField("placeholder") else "None"
    return [
        {
            column: missing if pd.isna(raw.iloc[row][column]) else str(display.iloc[row][column])
            for column in raw.columns
        }
        for row in range(len(raw))
    ]


def shown_metrics(app_test: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app_test.metric if metric.label in HEADLINE}


def literal(markdown: str) -> str:
    """The text Markdown shows for `markdown` whose punctuation is escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_tables_have_titles_and_a_dash_for_a_missing_rate(sample_warehouse, page_run):
    """Every table titles its columns in words and draws "–" for a rate without a
    denominator; the breakdown by provider gives each provider's numbers as the
    headline would (from message_lifecycle, docs/definitions.md#rates): Customer.io
    reports no sends, so its delivery rate has no denominator and shows "–"."""
    app_test = page_run(sample_warehouse)
    breakdown, campaigns, experiments, rejects, ledger = app_test.dataframe
    titles = {name: list(element.value.columns) for name, element in
              [("breakdown", breakdown), ("campaigns", campaigns), ("experiments", experiments),
               ("rejects", rejects), ("ledger", ledger)]}  # fmt: skip
    assert titles == {
        "breakdown": ["Provider", *HEADLINE],
        "campaigns": ["Campaign or Canvas", "Provider", "Sent", "Opened", "Clicked",
                      "Converted", "Open rate", "Click rate", "Attributed revenue"],
        "experiments": EXPERIMENT_TITLES,
        "rejects": ["Reason", "Provider", "Records"],
        "ledger": ["Provider", "Load", "Loaded at (UTC)", "Records in", "Events out",
                   "Duplicates removed", "Rejected", "Balanced"],
    }  # fmt: skip
    rows = {row.pop("Provider"): row for row in drawn_cells(breakdown)}
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        found = connection.execute("select distinct provider from marts.message_lifecycle")
        providers = sorted(provider for (provider,) in found.fetchall())
    assert sorted(rows) == providers
    for provider in providers:
        expected = page_text(mart_totals(sample_warehouse, "provider = ?", [provider]))
        assert rows[provider] == expected, provider
    assert rows["customerio"]["Delivery rate"] == "–"
    for element in app_test.dataframe:
        for row in drawn_cells(element):
            assert not {"None", "nan", "NaN", "<NA>"} & set(row.values()), row
    # A campaign that reached nobody has no open rate: "–", as in the breakdown.
    unreached = [row for row in drawn_cells(campaigns) if row["Open rate"] == "–"]
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        (count,) = connection.execute(
            f"select count(*) from (select campaign_key from ({MESSAGES_WITH_CAMPAIGN_KEY}) "
            "where campaign_key is not null group by 1 having count_if(is_reached) = 0)"
        ).fetchone()
    assert len(unreached) == count


def test_an_address_value_that_matches_nothing_is_said(sample_warehouse, page_run):
    """?campaign=does-not-exist is no campaign of the marts: the page says so, naming
    the parameter and the value, and shows every campaign (not silently). With
    ?provider=braze&provider=nope it shows Braze and names "nope" only. Changing a
    filter puts the notice away."""
    everything = page_text(mart_totals(sample_warehouse))
    braze = page_text(mart_totals(sample_warehouse, "provider = 'braze'"))

    unknown = page_run(sample_warehouse, campaign="does-not-exist")
    (notice,) = [literal(warning.value) for warning in unknown.warning]
    assert notice.startswith(
        "The address asks for campaign “does-not-exist”, which matches no message in the "
        "marts: the page shows every campaign."
    )
    assert shown_metrics(unknown) == everything
    assert "campaign" not in unknown.query_params

    half = page_run(sample_warehouse, provider=["braze", "nope"])
    assert [literal(warning.value) for warning in half.warning] == [
        "The address asks for provider “nope”, which matches no message in the marts: "
        "the page shows only the other providers it asks for."
    ]
    assert shown_metrics(half) == braze
    assert half.query_params["provider"] == "braze"
    half.multiselect(key="channel").select("email").run()
    assert not half.warning
    assert shown_metrics(half) == page_text(
        mart_totals(sample_warehouse, "provider = 'braze' and channel = 'email'")
    )

    typo = page_run(sample_warehouse, providers="braze", to="2024-13-01")
    assert sorted(literal(warning.value) for warning in typo.warning) == [
        "The address's parameter “providers” is not a filter (from, to, provider, "
        "channel, campaign): it is ignored.",
        "The address's to=2024-13-01 is not a day (YYYY-MM-DD): the dates are not limited by it.",
    ]
    assert shown_metrics(typo) == everything


OPEN_TIMING_SQL = """
    select provider, channel, count(*) as messages, count_if(is_sent) as sent,
        count_if(is_sent and is_opened) as sent_and_opened,
        count_if(is_opened and seconds_to_open is not null and not has_clock_skew) as timed
    from marts.message_lifecycle
    group by all
    order by all
"""


def test_the_time_to_first_open_says_why_it_is_empty(sample_warehouse, page_run):
    """For a provider and channel whose messages were not sent, or sent but not
    opened, or opened with no open time after the send, the section says which
    instead of drawing zeros; with timed opens it draws them. The cases are found
    in message_lifecycle, which counts them."""
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        groups = connection.execute(OPEN_TIMING_SQL).fetchall()

    def first(condition) -> tuple:
        return next(group for group in groups if condition(*group[2:]))

    cases = [
        (first(lambda messages, sent, *_: messages and not sent),
         "Nothing to show: no message was sent ({messages} in the filters)"),
        (first(lambda _, sent, opened, __: sent and not opened),
         "Nothing to show: no sent message was opened ({sent} sent)."),
        (first(lambda _, __, opened, timed: opened and not timed),
         "Nothing to show: no opened message has an open time after its send "
         "({sent_and_opened} sent and opened)"),
    ]  # fmt: skip
    for (provider, channel, messages, sent, sent_and_opened, _), text in cases:
        app_test = page_run(sample_warehouse, provider=provider, channel=channel)
        counts = {
            "messages": f"{messages} message" + "s" * (messages != 1),
            "sent": f"{sent} message" + "s" * (sent != 1),
            "sent_and_opened": f"{sent_and_opened} message" + "s" * (sent_and_opened != 1),
        }
        said = [literal(info.value) for info in app_test.info]
        assert any(line.startswith(text.format(**counts)) for line in said), (provider, said)
    provider, channel, *_ = first(lambda *counts: counts[-1])
    app_test = page_run(sample_warehouse, provider=provider, channel=channel)
    assert not [info for info in app_test.info if "time to first open" in info.value]
    nothing = page_run(sample_warehouse, provider="customerio", channel="push")
    assert "Nothing to show: no message matches the filters." in [
        literal(info.value) for info in nothing.info
    ]


def test_the_time_axis_shows_years_when_the_days_span_them():
    """Days within one year: month and day on the axis, the year once in its title.
    Days from 2024-12-30 to 2025-01-02: the year on every label."""
    title, axis = day_axis([date(2024, 3, 4), date(2024, 3, 9)])
    assert (title, axis.format) == ("day (UTC, of the message's first send), 2024", "%b %d")
    title, axis = day_axis([date(2024, 12, 30), date(2025, 1, 2)])
    assert (title, axis.format) == ("day (UTC, of the message's first send)", "%b %d, %Y")
    frame = pd.DataFrame(
        {"message_date": [date(2024, 12, 31), date(2025, 1, 1)], "open_rate": [0.5, 0.0]}
    )
    spec = rates_chart(frame, ["open_rate"]).to_dict()
    assert spec["encoding"]["x"]["axis"]["format"] == "%b %d, %Y"
    # A day without the rate is not drawn, so the axis spans the other days only.
    one_year = rates_chart(frame.assign(open_rate=[0.5, None]), ["open_rate"]).to_dict()
    assert one_year["encoding"]["x"]["axis"]["format"] == "%b %d"
    assert rates_chart(frame.assign(open_rate=None), ["open_rate"]) is None


# The experiments' table (docs/experiments.md), left to right.
EXPERIMENT_TITLES = [
    "Experiment", "Variant", "Provider", "Treatment users", "Control users", "Treatment rate",
    "Control rate", "Lift", "95 % interval of the lift", "Relative lift", "Confidence",
    "Revenue per treatment user", "Revenue per control user", "Significant?",
]  # fmt: skip


def test_the_experiments_show_their_lift_and_say_what_is_not_significant(
    sample_warehouse, page_run
):
    """The sample's experiments: campaign cmp_spring (var_a: 4 users, b_u1 converts;
    control b_u5 alone, no conversion: lift +25.0 pp, interval ±1.959964 ·
    sqrt(0.25 · 0.75 / 4) = ±42.4 pp, z = 0.25 / sqrt(0.2 · 0.8 · 1.25) = 0.559,
    confidence erf(0.395) = 42.4 %: not significant) and Canvas cnv_onb (nobody
    converts: no variance, no comparison). The table says so per row, the note counts
    them, the chart draws each lift with its interval."""
    app_test = page_run(sample_warehouse)
    assert "Experiments: lift over the control group" in [h.value for h in app_test.subheader]
    table = next(
        element for element in app_test.dataframe
        if list(element.value.columns) == EXPERIMENT_TITLES
    )  # fmt: skip
    rows = {(row["Experiment"], row["Variant"]): row for row in drawn_cells(table)}
    spring = rows[("Spring Sale (cmp_spring)", "var_a")]
    assert (spring["Treatment users"], spring["Control users"]) == ("4", "1")
    assert (spring["Treatment rate"], spring["Control rate"]) == ("25.0%", "0.0%")
    assert (spring["Lift"], spring["95 % interval of the lift"]) == (
        "+25.0 pp",
        "[-17.4, +67.4] pp",
    )
    assert (spring["Relative lift"], spring["Confidence"]) == ("–", "42.4%")
    assert spring["Significant?"] == "not significant"
    assert rows[("Spring Sale (cmp_spring)", "all variants")]["Significant?"] == "not significant"
    onboarding = rows[("Onboarding (cnv_onb)", "Main path (cv_main)")]
    assert (onboarding["Lift"], onboarding["95 % interval of the lift"]) == ("+0.0 pp", "–")
    assert onboarding["Significant?"] == "no comparison"
    assert len(rows) == 4
    notes = [literal(info.value) for info in app_test.info]
    assert (
        "2 of 2 comparisons with a control are not significant (confidence below 95 %): "
        "their difference may be chance; do not act on it; 2 rows without a comparison (no "
        "control group, a variant without users, or no variance): no interval, no confidence."
    ) in notes
    charts = [chart for chart in app_test.get("vega_lite_chart")
              if "absolute lift over the control" in chart.proto.spec]  # fmt: skip
    assert len(charts) == 1
    # Another provider has no experiment: the section says so instead of an empty table.
    other = page_run(sample_warehouse, provider="customerio")
    assert any(info.value.startswith("No experiment:") for info in other.info)
    assert not [e for e in other.dataframe if list(e.value.columns) == EXPERIMENT_TITLES]


def test_a_warehouse_built_before_the_experiments_still_reads(sample_warehouse, tmp_path):
    """A warehouse without marts.experiment_lift (built by an older version) is read as
    before; it has no experiment."""
    database = tmp_path / "older.duckdb"
    shutil.copyfile(sample_warehouse, database)
    with duckdb.connect(str(database)) as connection:
        connection.execute("drop table marts.experiment_lift")
    reading = Reader(database).read()
    assert reading.state == "ready"
    assert reading.snapshot.experiments(Filters()).empty
    assert list(reading.snapshot.experiments(Filters()).columns) == list(
        Reader(sample_warehouse).read().snapshot.experiments(Filters()).columns
    )


def test_verdicts_intervals_and_the_lift_chart():
    """Braze's threshold is 95 % confidence; no confidence is no comparison. The chart
    draws a point per lift and a bar per interval, none for a row without a lift."""
    assert [verdict(c) for c in [0.95, 0.9499999, 0.3647, None, float("nan")]] == [
        "significant", "not significant", "not significant", "no comparison", "no comparison",
    ]  # fmt: skip
    assert interval_text(-0.4537, 0.7537) == "[-45.4, +75.4] pp"
    assert interval_text(None, 0.2) == "–"
    lift = pd.DataFrame({
        "experiment": ["Welcome (c1)", "Welcome (c1)", "Other (c2)"],
        "variant": ["A (v1)", "all variants", "B (v2)"],
        "absolute_lift": [0.15, 0.15, None], "lift_ci_low": [-0.4537, -0.4537, None],
        "lift_ci_high": [0.7537, 0.7537, None], "confidence": [0.3647, 0.3647, None],
    })  # fmt: skip
    spec = lift_chart(lift).to_dict()
    intervals, points, zero = spec["layer"]
    assert (intervals["mark"]["type"], intervals["encoding"]["x2"]["field"]) == (
        "rule", "lift_ci_high",
    )  # fmt: skip
    assert points["mark"]["type"] == "point"
    assert zero["mark"]["type"] == "rule"
    (data,) = [rows for name, rows in spec["datasets"].items() if len(rows) == 2]
    assert [row["comparison"] for row in data] == [
        "Welcome (c1) · A (v1)", "Welcome (c1) · all variants",
    ]  # fmt: skip
    assert {row["verdict"] for row in data} == {"not significant"}
    caution, note = significance_note(lift)
    assert caution and note.startswith("2 of 2 comparisons with a control are not significant")
    assert significance_note(lift.assign(confidence=[0.99, 0.99, None])) == (
        False,
        "All 2 comparisons with a control are significant (confidence 95 % or more); 1 row "
        "without a comparison (no control group, a variant without users, or no variance): "
        "no interval, no confidence.",
    )
    assert lift_chart(lift.assign(absolute_lift=None)) is None


def test_address_notices():
    """Each value that matches nothing is named with its parameter; a value that
    matches is not mentioned; days outside the data's are said with the day used."""
    options = {"provider": ["braze"], "channel": ["email"], "campaign": ["braze/campaign/c1"]}
    first, last = date(2024, 3, 4), date(2024, 3, 9)
    assert address_notices(
        {"provider": ["braze"], "channel": ["email"], "from": ["2024-03-05"]}, options, first, last
    ) == []  # fmt: skip
    assert address_notices({"embed": ["true"]}, options, first, last) == []
    notices = address_notices(
        {"channel": ["sms", "email", "push"], "from": ["2030-01-01"], "to": ["2020-01-01"],
         "campaign": ["c1"]},
        options, first, last,
    )  # fmt: skip
    assert notices == [
        "The address asks for channel “sms”, “push”, which matches no message in the marts: "
        "the page shows only the other channels it asks for.",
        "The address's from=2030-01-01 is after the last day of the data (2024-03-09): "
        "the page starts at 2024-03-09 instead.",
        "The address's to=2020-01-01 is before the first day of the data (2024-03-04): "
        "the page ends at 2024-03-04 instead.",
        "The address asks for campaign “c1”, which matches no message in the marts: the "
        "page shows every campaign. A campaign is given as provider/type/id, e.g. "
        "braze/campaign/c1.",
    ]
    assert literal(markdown_text("[x](http://e.com) *b* $1$")) == "[x](http://e.com) *b* $1$"
    assert "[" not in re.sub(r"\\.", "", markdown_text("[x](http://e.com)"))


# The page, in a browser.


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (the CI script installs Debian's chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dashboard_process(database: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`outbound-events dashboard --port N` over `database`, in a session (and process
    group) of its own, once it serves; the process and its address. Afterwards
    whatever is left of its group is stopped."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "outbound-events"),
        "dashboard",
        "--port",
        str(port),
    ]
    log = database.with_name(f"dashboard-{port}.log")
    with log.open("w") as output:  # a file: a pipe nobody reads would block the server
        server = subprocess.Popen(
            command, env={**os.environ, "OUTBOUND_EVENTS_DB": str(database)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.3)
        yield server, address
    finally:
        for stop in (signal.SIGTERM, signal.SIGKILL):
            if not group_alive(server.pid):
                break
            os.killpg(server.pid, stop)
            with suppress(subprocess.TimeoutExpired):
                server.wait(timeout=15)
        server.wait()


def group_alive(group: int) -> bool:
    """Whether a process of process group `group` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def dashboard(database: Path) -> Iterator[str]:
    """`outbound-events dashboard --port N` over `database`; its address."""
    with dashboard_process(database) as (_, address):
        yield address


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def shown_numbers(page) -> dict[str, str]:
    numbers = {}
    for metric in page.get_by_test_id("stMetric").all():
        label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
        if label in HEADLINE:
            numbers[label] = metric.get_by_test_id("stMetricValue").inner_text().strip()
    return numbers


def wait_for_numbers(page, expected: dict[str, str], seconds: float = 45) -> None:
    """The page's headline numbers become `expected` (Streamlit reruns asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.get_by_test_id("stException").count():
            pytest.fail(page.get_by_test_id("stException").first.inner_text())
        if shown_numbers(page) == expected:
            return
        page.wait_for_timeout(300)
    if shown_numbers(page) != expected and os.environ.get("OUTBOUND_EVENTS_DEBUG_SHOT"):
        page.screenshot(path=os.environ["OUTBOUND_EVENTS_DEBUG_SHOT"], full_page=True)
    assert shown_numbers(page) == expected


def wait_for_text(page, text: str, seconds: float = 45) -> None:
    page.get_by_text(text).first.wait_for(timeout=seconds * 1000)


def axis_texts(page, title_part: str) -> tuple[str, list[str]]:
    """The x axis title (containing `title_part`) and labels of a chart on the page."""
    chart = page.get_by_test_id("stVegaLiteChart").filter(has_text=title_part)
    titles = [text.strip() for text in chart.locator(".role-axis-title text").all_text_contents()]
    (title,) = [text for text in titles if title_part in text]
    axes = chart.locator(".role-axis").filter(has_text=title_part)
    return title, [
        text.strip() for text in axes.locator(".role-axis-label text").all_text_contents()
    ]


def table_titles(page) -> list[list[str]]:
    """Each table's column titles that the browser draws, scrolled fully to the left
    and then fully to the right: [left titles, right titles] per table."""
    seen = []
    for table in page.get_by_test_id("stDataFrame").all():
        scroller = table.locator(".dvn-scroller").first
        both = []
        for position in ["0", "e.scrollWidth"]:
            scroller.evaluate(f"e => {{ e.scrollLeft = {position}; }}")
            page.wait_for_timeout(300)
            both.append([header.inner_text().strip() for header in table.locator("th").all()])
        seen.append(both)
    return seen


def test_the_page_shows_the_marts_numbers_and_follows_its_filters(
    browser, sample_warehouse, tmp_path
):
    database = tmp_path / "sample.duckdb"
    shutil.copyfile(sample_warehouse, database)
    with duckdb.connect(str(database), read_only=True) as connection:
        (campaign,) = connection.execute(
            f"select campaign_key from ({MESSAGES_WITH_CAMPAIGN_KEY}) "
            "where campaign_key is not null group by all order by count(*) desc, 1 limit 1"
        ).fetchone()
    with dashboard(database) as address:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(address)
        everything = page_text(mart_totals(database))
        wait_for_numbers(page, everything)
        # The sample's days are in March 2024: the year once, in the axis title.
        title, labels = axis_texts(page, "first send")
        assert title == "day (UTC, of the message's first send), 2024"
        assert labels and all(label.startswith("Mar ") for label in labels), labels
        # Tables: titles in words; one wider than the page scrolls with the columns
        # naming its rows kept in view, and every column can be reached.
        page.get_by_test_id("stRadio").get_by_text("campaign", exact=True).click()
        wait_for_text(page, "Campaign or Canvas")
        page.wait_for_timeout(1000)
        identity = {"Provider", "Type", "Campaign or Canvas", "Reason", "Load", "Experiment",
                    "Variant"}  # fmt: skip
        for table, last in zip(table_titles(page), [
            "Conversion rate", "Attributed revenue", "Significant?", "Records", "Balanced"
        ], strict=True):  # fmt: skip
            left, right = table
            assert not [title for title in left + right if "_" in title], table
            assert [title for title in left if title in identity] == [
                title for title in right if title in identity
            ], table
            assert left[0] in identity and last in right, table
        page.get_by_test_id("stRadio").get_by_text("provider", exact=True).click()

        # A campaign of the address that does not exist: said, and not applied.
        page.goto(f"{address}/?campaign=does-not-exist")
        wait_for_text(
            page,
            "The address asks for campaign “does-not-exist”, which matches no message in the "
            "marts: the page shows every campaign.",
        )
        wait_for_numbers(page, everything)
        page.goto(address)

        # One provider, chosen in the sidebar's filter.
        provider = page.get_by_test_id("stMultiSelect").filter(has_text="Provider")
        provider.locator("input").click()
        page.keyboard.type("braze")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        wait_for_numbers(page, page_text(mart_totals(database, "provider = 'braze'")))
        assert "provider=braze" in page.url  # the filtered view has its own address
        page.screenshot(path=str(tmp_path / "dashboard-braze.png"))

        # One campaign, from a shared address.
        page.goto(f"{address}/?campaign={urllib.parse.quote(campaign)}")
        expected = mart_totals(database, "campaign_key = ?", [campaign])
        wait_for_numbers(page, page_text(expected))
        # and then a channel: a filter changed on a filtered page.
        channel = page.get_by_test_id("stMultiSelect").filter(has_text="Channel")
        channel.locator("input").click()
        page.keyboard.type("email")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        expected = mart_totals(database, "campaign_key = ? and channel = 'email'", [campaign])
        wait_for_numbers(page, page_text(expected))
        # Filters that match nothing: zeros and no rates, not an error.
        page.goto(f"{address}/?provider=customerio&channel=push")
        nothing = {label: "–" if label.endswith("rate") else "0" for label in HEADLINE}
        assert page_text(mart_totals(database, "provider = 'customerio' and channel = 'push'")) == (
            nothing
        )
        wait_for_numbers(page, nothing)
        wait_for_text(page, "Nothing to show: no message matches the filters.")
        page.goto(f"{address}/?campaign={urllib.parse.quote(campaign)}&channel=email")
        wait_for_numbers(page, page_text(expected))
        for section in ["Rates over time", "Time to first open", "Top campaigns",
                        "Experiments: lift over the control group",
                        "Rejected records by reason", "Load ledger"]:  # fmt: skip
            assert page.get_by_text(section, exact=True).count() == 1, section
        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000
        if os.environ.get("OUTBOUND_EVENTS_SCREENSHOT"):
            shutil.copyfile(screenshot, os.environ["OUTBOUND_EVENTS_SCREENSHOT"])


def test_load_and_build_while_the_page_is_open(browser, tmp_path):
    """An empty warehouse, then two loads, each loaded and built while the page is
    open: both commands succeed and the page shows each result by itself.
    Day 1 (2024-12-31): u1 delivered and opened. Day 2 (2025-01-01): u2, u3, u4
    delivered, none opened. So after day 1: delivered 1, opened 1, open rate 100.0 %;
    after both: delivered 4, opened 1, open rate 1/4 = 25.0 %, click rate 0.0 %; no
    sends (Customer.io reports none), so no delivery rate, and no time to first open
    (it counts from the send): the page says so for the 1, then 4 messages. The rates
    over time span one year after day 1 (the year in the axis title), two after day 2
    (the year on each day's label)."""
    database = tmp_path / "warehouse.duckdb"
    write_text(tmp_path / "day1" / "a.ndjson", customerio_lines("2024-12-31", ["u1"], ["u1"]))
    write_text(
        tmp_path / "day2" / "b.ndjson", customerio_lines("2025-01-01", ["u2", "u3", "u4"], [])
    )
    expected = {
        "Sent": "0", "Delivered": "1", "Opened": "1", "Clicked": "0", "Converted": "0",
        "Delivery rate": "–", "Open rate": "100.0%", "Click rate": "0.0%",
        "Click-to-open rate": "0.0%", "Conversion rate": "0.0%",
    }  # fmt: skip
    with dashboard(database) as address:
        page = browser.new_page()
        page.goto(address)
        wait_for_text(page, "Nothing loaded yet")
        days = [
            ("day1", {}, "1 message", ("day (UTC, of the message's first send), 2024",
                                        ["Dec 31"])),
            ("day2", {"Delivered": "4", "Open rate": "25.0%"}, "4 messages",
             ("day (UTC, of the message's first send)", ["Dec 31, 2024", "Jan 01, 2025"])),
        ]  # fmt: skip
        for folder, numbers, messages, axis in days:
            loaded = run_cli(database, "load", "-p", "customerio", tmp_path / folder, timeout=120)
            assert loaded.returncode == 0, loaded.stderr
            built = run_cli(database, "build", timeout=600)
            assert built.returncode == 0, built.stdout[-3000:] + built.stderr
            expected.update(numbers)
            wait_for_numbers(page, expected)
            wait_for_text(page, f"Nothing to show: no message was sent ({messages} in the filters)")
            assert axis_texts(page, "first send") == axis
        assert page.get_by_test_id("stMultiSelect").filter(has_text="Provider").count() == 1
        wait_for_text(page, "Every record of every load is accounted for.")


def test_a_file_that_is_no_warehouse_is_said_not_raised(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 10)
    reading = Reader(bogus).read()
    assert (reading.state, reading.snapshot) == ("unreadable", None)
    assert reading.error
    refused = run_cli(bogus, "dashboard", "--port", str(free_port()), timeout=60)
    assert refused.returncode == 1
    assert f"{bogus} is not a DuckDB database file" in refused.stderr


def serves(address: str) -> bool:
    """Whether something accepts connections on the address's port."""
    port = urllib.parse.urlsplit(address).port
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_command_stops_its_server(tmp_path, stop):
    """SIGTERM (a service manager, `kill`) or SIGINT (Ctrl-C) sent to the command's
    process alone, not to its group, stops the page it serves: the port stops
    accepting connections and no process of the command is left (the command runs in
    a process group of its own here, so any server it started would be in it)."""
    with dashboard_process(tmp_path / "warehouse.duckdb") as (server, address):
        assert serves(address)
        os.kill(server.pid, stop)
        assert server.wait(timeout=15) == 0
        deadline = time.monotonic() + 5
        while serves(address) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not serves(address), "the server still serves after the command stopped"
        assert not group_alive(server.pid), "a process of the command is left"
