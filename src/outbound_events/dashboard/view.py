"""How the dashboard shows what it reads: numbers as text, tables, charts, and what
it says when the page's address asks for something the marts do not have.

No Streamlit here (app.py lays the page out), so all of it can be tested without a
browser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

import altair as alt
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from pandas.io.formats.style import Styler

from outbound_events.dashboard.data import TIME_TO_OPEN_BUCKETS, OpenTiming

MISSING = "–"  # a rate without a denominator, or no value at all

RATE_LABELS = {
    "delivery_rate": "Delivery rate",
    "open_rate": "Open rate",
    "click_rate": "Click rate",
    "click_to_open_rate": "Click-to-open rate",
    "conversion_rate": "Conversion rate",
    "bounce_rate": "Bounce rate",
    "unsubscribe_rate": "Unsubscribe rate",
    "spam_rate": "Spam rate",
}
# Column titles of the tables; any other column is titled by its name in words.
TITLES = {
    **RATE_LABELS,
    "campaign_type": "Type",
    "campaign": "Campaign or Canvas",
    "attributed_revenue": "Attributed revenue",
    "attributed_purchases": "Attributed purchases",
    "rejection_reason": "Reason",
    "load_id": "Load",
    "loaded_at": "Loaded at (UTC)",
    "is_balanced": "Balanced",
    "experiment": "Experiment",
    "variant": "Variant",
    "treatment_conversion_rate": "Treatment rate",
    "control_conversion_rate": "Control rate",
    "absolute_lift": "Lift",
    "lift_interval": "95 % interval of the lift",
    "relative_lift": "Relative lift",
    "confidence": "Confidence",
    "verdict": "Significant?",
    "treatment_revenue_per_user": "Revenue per treatment user",
    "control_revenue_per_user": "Revenue per control user",
}
# Experiment columns written as percentages (fractions in the marts) and as
# percentage points (differences of fractions).
PERCENTAGES = ["treatment_conversion_rate", "control_conversion_rate", "relative_lift",
               "confidence"]  # fmt: skip
POINTS = ["absolute_lift"]
# Braze's threshold: a difference with a confidence below it may be chance.
SIGNIFICANT_CONFIDENCE = 0.95
MONEY = ["attributed_revenue", "treatment_revenue_per_user", "control_revenue_per_user"]
# Columns that say what a row is: kept in view (pinned) when a table wider than the
# page scrolls sideways.
IDENTITY = [
    "provider", "channel", "campaign_type", "campaign", "rejection_reason", "load_id",
    "experiment", "variant",
]  # fmt: skip
DAY_TITLE = "day (UTC, of the message's first send)"


def title(column: str) -> str:
    """A column's title on the page: "Open rate", not open_rate."""
    return TITLES.get(column, column.replace("_", " ").capitalize())


def count_value(value: object) -> int:
    """A summed count as a number: 0 for no rows (DuckDB's sum of nothing, NaN here)."""
    return 0 if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def count_text(value: object) -> str:
    return f"{count_value(value):,}"


def rate_text(value: object) -> str:
    return MISSING if value is None or pd.isna(value) else f"{float(value):.1%}"


def money_text(value: object) -> str:
    return MISSING if value is None or pd.isna(value) else f"{float(value):,.2f}"


def points_text(value: object) -> str:
    """A difference of two rates in percentage points, signed: +15.0 pp."""
    return MISSING if value is None or pd.isna(value) else f"{float(value) * 100:+.1f} pp"


def percent_text(value: object) -> str:
    """A fraction as a percentage to 0.1 %, as the rates are: 60.0%, -33.3%."""
    return MISSING if value is None or pd.isna(value) else f"{float(value):.1%}"


def interval_text(low: object, high: object) -> str:
    """The lift's 95 % interval in percentage points: [−45.4, +75.4] pp."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):  # type: ignore[arg-type]
        return MISSING
    return f"[{float(low) * 100:+.1f}, {float(high) * 100:+.1f}] pp"


def verdict(confidence: object) -> str:
    """Whether a comparison is significant at Braze's 95 % confidence, in words."""
    if confidence is None or pd.isna(confidence):  # type: ignore[arg-type]
        return "no comparison"
    if float(confidence) >= SIGNIFICANT_CONFIDENCE:  # type: ignore[arg-type]
        return "significant"
    return "not significant"


def table(frame: pd.DataFrame) -> Styler:
    """`frame` as st.dataframe shows it: titled columns; counts with separators, rates
    to 0.1 % as in the headline, money to the cent, and "–" for a missing value (a
    rate without a denominator), never None or nan. The cells keep their numbers, so
    a column sorts by value."""
    formats = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if column in RATE_LABELS:
            formats[title(column)] = rate_text
        elif column in PERCENTAGES:
            formats[title(column)] = percent_text
        elif column in POINTS:
            formats[title(column)] = points_text
        elif column in MONEY:
            formats[title(column)] = money_text
        elif is_numeric_dtype(dtype) and not is_bool_dtype(dtype):
            formats[title(column)] = count_text
    titled = frame.rename(columns={column: title(column) for column in frame.columns})
    return titled.style.format(formats, na_rep=MISSING)  # type: ignore[arg-type]


def day_axis(days: Sequence[date] | pd.Series) -> tuple[str, alt.Axis]:
    """The title and axis of a chart over message days: a tick per day (or per few
    days), labelled with the month and day; the year in the labels when the days span
    more than one year, else once in the title."""
    stamps = pd.to_datetime(pd.Series(list(days))).dropna()
    if stamps.empty:
        return DAY_TITLE, alt.Axis(format="%b %d")
    first, last = stamps.min(), stamps.max()
    step = max(1, -(-((last - first).days + 1) // 10))  # at most about 10 ticks
    ticks = {"interval": "day", "step": step}
    if first.year != last.year:
        return DAY_TITLE, alt.Axis(format="%b %d, %Y", tickCount=ticks, labelAngle=-45)
    return f"{DAY_TITLE}, {first.year}", alt.Axis(format="%b %d", tickCount=ticks)


def rates_chart(by_day: pd.DataFrame, rates: list[str]) -> alt.Chart | None:
    """Rates per message day, one line each; None when no day has any of them."""
    long = by_day.melt(id_vars=["message_date"], value_vars=rates, var_name="rate").dropna()
    if long.empty:
        return None
    long["rate"] = long["rate"].map(RATE_LABELS)
    axis_title, axis = day_axis(long["message_date"])
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("message_date:T", title=axis_title, axis=axis),
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("rate:N", title=None),
            tooltip=[
                alt.Tooltip("message_date:T", title="day", format="%Y-%m-%d"),
                alt.Tooltip("rate:N"),
                alt.Tooltip("value:Q", format=".1%"),
            ],
        )
    )


def time_to_open_chart(distribution: pd.DataFrame) -> alt.Chart:
    order = [label for label, _ in TIME_TO_OPEN_BUCKETS]
    return (
        alt.Chart(distribution)
        .mark_bar()
        .encode(
            x=alt.X("time to first open:N", sort=order),
            y=alt.Y("messages:Q", axis=alt.Axis(tickMinStep=1, format="d")),
            tooltip=["time to first open", "messages"],
        )
    )


def experiments_table(lift: pd.DataFrame) -> pd.DataFrame:
    """experiment_lift's rows as the page's table: who was compared, the rates, the
    lift with its interval, the confidence and the verdict."""
    shown = lift[[
        "experiment", "variant", "provider", "treatment_users", "control_users",
        "treatment_conversion_rate", "control_conversion_rate", "absolute_lift",
    ]].copy()  # fmt: skip
    shown["lift_interval"] = [
        interval_text(low, high)
        for low, high in zip(lift["lift_ci_low"], lift["lift_ci_high"], strict=True)
    ]
    for column in ["relative_lift", "confidence", "treatment_revenue_per_user",
                   "control_revenue_per_user"]:  # fmt: skip
        shown[column] = lift[column]
    shown["verdict"] = [verdict(value) for value in lift["confidence"]]
    return shown


def significance_note(lift: pd.DataFrame) -> tuple[bool, str]:
    """What the page says about the comparisons' significance, and whether it calls for
    caution (some comparison is not significant, or none can be made)."""
    verdicts = [verdict(value) for value in lift["confidence"]]
    weak = verdicts.count("not significant")
    none = verdicts.count("no comparison")
    compared = len(verdicts) - none
    if weak:
        parts = [
            f"{weak} of {compared} comparisons with a control are not significant (confidence "
            "below 95 %): their difference may be chance; do not act on it"
        ]
    elif compared:
        parts = [f"All {compared} comparisons with a control are significant (confidence 95 % "
                 "or more)"]  # fmt: skip
    else:
        parts = ["Nothing can be compared yet"]
    if none:
        parts.append(
            f"{none} row{'s' if none != 1 else ''} without a comparison (no control group, a "
            "variant without users, or no variance): no interval, no confidence"
        )
    return bool(weak or not compared), "; ".join(parts) + "."


def lift_chart(lift: pd.DataFrame) -> alt.Chart | None:
    """Each comparison's absolute lift (a point, in percentage points) with its 95 %
    interval (a bar), one row per experiment and variant, coloured by whether it is
    significant, against a line at no lift. None when nothing has a lift."""
    frame = lift[lift["absolute_lift"].notna()].copy()
    if frame.empty:
        return None
    frame["comparison"] = frame["experiment"] + " · " + frame["variant"]
    frame["verdict"] = [verdict(value) for value in frame["confidence"]]
    frame["interval"] = [
        interval_text(low, high)
        for low, high in zip(frame["lift_ci_low"], frame["lift_ci_high"], strict=True)
    ]
    frame = frame[["comparison", "absolute_lift", "lift_ci_low", "lift_ci_high", "confidence",
                   "verdict", "interval"]]  # fmt: skip
    order = list(frame["comparison"])
    y = alt.Y("comparison:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    colour = alt.Color(
        "verdict:N",
        title="at 95 % confidence",
        scale=alt.Scale(
            domain=["significant", "not significant", "no comparison"],
            range=["#1b7837", "#b35806", "#888888"],
        ),
    )
    tooltip = [
        alt.Tooltip("comparison:N"),
        alt.Tooltip("absolute_lift:Q", title="lift", format="+.1%"),
        alt.Tooltip("interval:N", title="95 % interval"),
        alt.Tooltip("confidence:Q", format=".1%"),
        alt.Tooltip("verdict:N"),
    ]
    x_title = "absolute lift over the control (percentage points), with its 95 % interval"
    base = alt.Chart(frame).encode(y=y, color=colour, tooltip=tooltip)
    intervals = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("lift_ci_low:Q", title=x_title, axis=alt.Axis(format="+.0%")),
        x2="lift_ci_high:Q",
    )
    points = base.mark_point(filled=True, size=80).encode(x="absolute_lift:Q")
    no_lift = (
        alt.Chart(pd.DataFrame({"no lift": [0.0]}))
        .mark_rule(strokeDash=[4, 4], color="#444444")
        .encode(x="no lift:Q")
    )
    return alt.layer(intervals, points, no_lift).properties(height=alt.Step(26))


def messages_text(count: int, what: str = "message") -> str:
    return f"{count:,} {what}" if count == 1 else f"{count:,} {what}s"


def why_no_time_to_open(timing: OpenTiming) -> str | None:
    """Why the time to first open has nothing to show, or None when it has."""
    if timing.timed:
        return None
    if not timing.messages:
        return "Nothing to show: no message matches the filters."
    if not timing.sent:
        return (
            f"Nothing to show: no message was sent ({messages_text(timing.messages)} in the "
            "filters), and the time to first open counts from the first send. Some providers "
            "and channels report deliveries or opens but no sends."
        )
    if not timing.sent_and_opened:
        return f"Nothing to show: no sent message was opened ({messages_text(timing.sent)} sent)."
    return (
        "Nothing to show: no opened message has an open time after its send "
        f"({messages_text(timing.sent_and_opened)} sent and opened): the open is known only "
        "from a click, or the provider's clock puts it before the send."
    )


# The page's address: the filters it can hold, and what it says about values the
# marts do not have.
DAY_PARAMETERS = {"from": "From", "to": "To"}
LIST_PARAMETERS = ["provider", "channel", "campaign"]
STREAMLIT_PARAMETERS = {"embed", "embed_options"}


def markdown_text(text: str) -> str:
    """`text` as Streamlit's Markdown shows it literally: a value from the address
    makes no link, emphasis or formula."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def quoted(values: Sequence[str]) -> str:
    return ", ".join(f"“{value}”" for value in values)


def address_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def address_notices(
    address: Mapping[str, Sequence[str]],
    options: Mapping[str, Sequence[str]],
    first: date | None,
    last: date | None,
) -> list[str]:
    """What the page says about the filters of its address (parameter name → values)
    that match nothing in the marts: `options` are each list filter's values (a
    campaign's key), `first` and `last` the data's days. Such a value is not applied,
    so the page shows the others' result; each notice names the parameter and value."""
    notices = []
    for name, values in address.items():
        values = [value for value in values if value]
        if name in STREAMLIT_PARAMETERS or not values:
            continue
        if name in DAY_PARAMETERS:
            value = values[-1]
            day = address_day(value)
            if day is None:
                notices.append(
                    f"The address's {name}={value} is not a day (YYYY-MM-DD): the dates "
                    "are not limited by it."
                )
            elif first and last and name == "from" and day > last:
                notices.append(
                    f"The address's from={value} is after the last day of the data "
                    f"({last}): the page starts at {last} instead."
                )
            elif first and last and name == "to" and day < first:
                notices.append(
                    f"The address's to={value} is before the first day of the data "
                    f"({first}): the page ends at {first} instead."
                )
        elif name in LIST_PARAMETERS:
            unknown = [value for value in values if value not in options[name]]
            if unknown:
                instead = (
                    f"every {name}"
                    if len(unknown) == len(values)
                    else f"only the other {name}s it asks for"
                )
                notice = (
                    f"The address asks for {name} {quoted(unknown)}, which matches no "
                    f"message in the marts: the page shows {instead}."
                )
                if name == "campaign" and options[name]:
                    notice += f" A campaign is given as provider/type/id, e.g. {options[name][0]}."
                notices.append(notice)
        else:
            filters = ", ".join([*DAY_PARAMETERS, *LIST_PARAMETERS])
            notices.append(
                f"The address's parameter “{name}” is not a filter ({filters}): it is ignored."
            )
    return notices
