"""What the dashboard reads, and how it reads it without holding the warehouse.

DuckDB lets one process write a database file and no other open it meanwhile. The
dashboard therefore never keeps the warehouse open: when the file has changed since
its last read (its size and modification time, and those of its write-ahead log), it
attaches it read-only for the few queries below, copies their (small, aggregated)
results into an in-memory DuckDB of its own and detaches at once. Every filter and
chart then runs on that copy. While a load or build holds the file, the read fails
at once and the page keeps showing the previous copy, saying so; writers wait out a
read (`--wait`, dbt-duckdb's connect retries).

Filter values are always bound as parameters, never pasted into SQL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from outbound_events.loading.warehouse_lock import lock_holder, process_description
from outbound_events.project import sql_literal

# The marts the dashboard reads (the dbt exposure `funnel_dashboard` lists them too).
MARTS = ["engagement_funnel_daily", "message_lifecycle", "rejected_events", "load_ledger"]
# Read when the warehouse has them (one built before the experiments has not): the
# page shows no experiment then, rather than "Nothing built yet".
OPTIONAL_MARTS = ["experiment_lift"]

# Funnel counts, in the order of the funnel, and the rates of engagement_funnel_daily
# (macros/funnel_helpers.sql funnel_rates()).
STAGES = ["sent", "delivered", "opened", "clicked", "converted"]
COUNTS = [
    "messages", "sent", "delivered", "reached", "opened", "clicked", "converted", "bounced",
    "unsubscribed", "spam_reported", "total_opens", "total_clicks", "machine_opened",
    "suspected_bot_clicks", "attributed_purchases", "attributed_revenue",
]  # fmt: skip
# Each rate's denominator column; its numerator is the column `<rate>_numerator`.
RATE_DENOMINATORS = {
    "delivery_rate": "delivery_rate_denominator",
    "open_rate": "reached",
    "click_rate": "reached",
    "click_to_open_rate": "opened",
    "bounce_rate": "sent",
    "unsubscribe_rate": "reached",
    "spam_rate": "reached",
    "conversion_rate": "reached",
}


def rolled_up(counts: list[str], rates: list[str] | None = None) -> str:
    """Select items rolling rows of the funnel marts up: each count summed, each rate
    its summed numerator over its summed denominator (null for none)."""
    sums = [f"sum({count}) as {count}" for count in counts]
    ratios = [
        f"sum({rate}_numerator) / nullif(sum({RATE_DENOMINATORS[rate]}), 0) as {rate}"
        for rate in (RATE_DENOMINATORS if rates is None else rates)
    ]
    return ", ".join(sums + ratios)


# Columns a breakdown can group by.
BREAKDOWNS = {
    "provider": ["provider"],
    "channel": ["provider", "channel"],
    "campaign": ["provider", "campaign_type", "campaign_or_canvas_id", "campaign"],
}

# Time from a message's first send to its first open, in buckets (upper bounds in s).
TIME_TO_OPEN_BUCKETS = [
    ("< 1 min", 60), ("1–5 min", 300), ("5–15 min", 900), ("15–60 min", 3_600),
    ("1–6 h", 21_600), ("6–24 h", 86_400), ("1–3 days", 259_200), ("> 3 days", None),
]  # fmt: skip

_BUCKET_CASE = (
    "case "
    + " ".join(
        f"when seconds_to_open < {upper} then {position}"
        for position, (_, upper) in enumerate(TIME_TO_OPEN_BUCKETS)
        if upper is not None
    )
    + f" else {len(TIME_TO_OPEN_BUCKETS) - 1} end"
)
_CAMPAIGN_ID = "coalesce(canvas_id, campaign_id)"
_CAMPAIGN_TYPE = (
    "case when canvas_id is not null then 'canvas' when campaign_id is not null then 'campaign' end"
)
# A campaign (or Canvas) the filter can choose: ids are the provider's own, so two
# providers (or a Canvas and a campaign) may share one; the key tells them apart.
_CAMPAIGN_KEY = "provider || '/' || campaign_type || '/' || campaign_or_canvas_id"

# The copy: one in-memory table per query, read from the attached warehouse `w`.
COPY_QUERIES = {
    "funnel": f"""
        select
            * exclude (funnel_day_key),
            coalesce(campaign_or_canvas_name || ' (' || campaign_or_canvas_id || ')',
                     campaign_or_canvas_id, '(no campaign)') as campaign,
            {_CAMPAIGN_KEY} as campaign_key
        from w.marts.engagement_funnel_daily
    """,
    # Every message (the time to first open says why it is empty), its bucket when
    # it is timed: opened after its send, without clock skew.
    "time_to_open": f"""
        select *, {_CAMPAIGN_KEY} as campaign_key, count(*) as messages
        from (
            select
                message_date, provider, channel,
                {_CAMPAIGN_TYPE} as campaign_type,
                {_CAMPAIGN_ID} as campaign_or_canvas_id,
                is_sent,
                is_sent and is_opened as is_sent_and_opened,
                case
                    when is_opened and seconds_to_open is not null and not has_clock_skew
                        then {_BUCKET_CASE}
                end as bucket
            from w.marts.message_lifecycle
        ) as messages
        group by all
    """,
    "rejects": """
        select provider, rejection_reason, count(*) as records
        from w.marts.rejected_events
        group by all
    """,
    "ledger": "select * from w.marts.load_ledger",
}


# experiment_lift as the page reads it (docs/experiments.md): its columns and types, so
# that a warehouse without the mart gets an empty table of the same shape, and labels
# naming each experiment and variant ("name (id)", the id alone without a name; the
# pooled row is "all variants").
EXPERIMENT_COLUMNS = {
    "provider": "varchar", "experiment_type": "varchar", "experiment_id": "varchar",
    "experiment_name": "varchar", "variant_id": "varchar", "variant_name": "varchar",
    "treatment_users": "bigint", "control_users": "bigint", "treatment_converters": "bigint",
    "control_converters": "bigint", "treatment_conversion_rate": "double",
    "control_conversion_rate": "double", "absolute_lift": "double", "relative_lift": "double",
    "lift_ci_low": "double", "lift_ci_high": "double", "z_score": "double",
    "confidence": "double", "treatment_revenue_per_user": "double",
    "control_revenue_per_user": "double",
}  # fmt: skip
_EXPERIMENT_LABELS = """
    coalesce(experiment_name || ' (' || experiment_id || ')', experiment_id) as experiment,
    case
        when variant_id is null then 'all variants'
        else coalesce(variant_name || ' (' || variant_id || ')', variant_id)
    end as variant
"""


def experiments_query(present: bool) -> str:
    """The copy of experiment_lift: the mart's rows (from the attached warehouse `w`)
    when it has the mart, else no row, in the same columns."""
    columns = ", ".join(f"cast({name} as {kind}) as {name}" for name, kind in
                        EXPERIMENT_COLUMNS.items())  # fmt: skip
    source = (
        "w.marts.experiment_lift"
        if present
        else "(select "
        + ", ".join(f"null as {name}" for name in EXPERIMENT_COLUMNS)
        + " where false) as no_experiments"
    )
    return f"select *, {_EXPERIMENT_LABELS} from (select {columns} from {source}) as lift"


@dataclass(frozen=True)
class Filters:
    """What the page's filters chose; an empty list means everything."""

    start: date | None = None
    end: date | None = None
    providers: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)

    def where(self, *, messages: bool = True) -> tuple[str, list[object]]:
        """A where clause and its parameters over the copy's columns; with
        messages=False only the provider (rejects and loads have no message day,
        channel or campaign: they show every load of the chosen providers)."""
        clauses: list[str] = ["true"]
        parameters: list[object] = []
        if messages and self.start is not None:
            clauses.append("message_date >= ?")
            parameters.append(self.start)
        if messages and self.end is not None:
            clauses.append("message_date <= ?")
            parameters.append(self.end)
        if self.providers:
            clauses.append("list_contains(?, provider)")
            parameters.append(list(self.providers))
        if messages and self.channels:
            clauses.append("list_contains(?, channel)")
            parameters.append(list(self.channels))
        if messages and self.campaigns:
            clauses.append("list_contains(?, campaign_key)")
            parameters.append(list(self.campaigns))
        return " and ".join(clauses), parameters


@dataclass(frozen=True)
class OpenTiming:
    """The filtered messages on the way to a time to first open: all of them, those
    sent, those sent and opened, and those timed (opened after their send, without
    clock skew)."""

    messages: int
    sent: int
    sent_and_opened: int
    timed: int


@dataclass
class Snapshot:
    """The in-memory copy of the marts the page reads, and when it was read."""

    connection: duckdb.DuckDBPyConnection
    read_at: datetime

    def query(self, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
        cursor = self.connection.cursor()
        try:
            return cursor.execute(sql, parameters or []).df()
        finally:
            cursor.close()

    # What the filters can choose from.
    def choices(self) -> dict[str, object]:
        days = self.query(
            "select min(message_date) as first, max(message_date) as last from funnel"
        )
        campaigns = self.query(
            "select campaign_key, any_value(campaign) || ' · ' || provider as label from funnel "
            "where campaign_key is not null group by campaign_key, provider order by label"
        )
        return {
            "providers": self._distinct("provider"),
            "channels": self._distinct("channel"),
            "campaigns": dict(
                zip(campaigns["campaign_key"], campaigns["label"], strict=True)
            ),  # fmt: skip
            "first_day": _as_date(days["first"][0]),
            "last_day": _as_date(days["last"][0]),
        }

    def _distinct(self, column: str) -> list[str]:
        frame = self.query(
            f"select distinct {column} as v from funnel where v is not null order by v"
        )
        return list(frame["v"])

    def funnel(self, filters: Filters, by: list[str] | None = None) -> pd.DataFrame:
        """Counts and rates of the filtered rows, per `by` columns (one row without)."""
        where, parameters = filters.where()
        groups = ", ".join(by or [])
        select = f"{groups + ', ' if groups else ''}{rolled_up(COUNTS)}"
        group = (
            f"group by {groups} order by sum(sent) desc, sum(messages) desc, {groups}"
            if groups
            else ""
        )
        return self.query(f"select {select} from funnel where {where} {group}", parameters)

    def rates_by_day(self, filters: Filters) -> pd.DataFrame:
        return self.funnel(filters, ["message_date"]).sort_values("message_date")

    def time_to_open(self, filters: Filters) -> pd.DataFrame:
        """Timed messages per time-to-first-open bucket, every bucket in order."""
        where, parameters = filters.where()
        counts = self.query(
            "select bucket, sum(messages) as messages from time_to_open "
            f"where {where} and bucket is not null group by bucket",
            parameters,
        )
        found = dict(zip(counts["bucket"], counts["messages"], strict=True))
        return pd.DataFrame(
            {
                "time to first open": [label for label, _ in TIME_TO_OPEN_BUCKETS],
                "messages": [int(found.get(i, 0)) for i in range(len(TIME_TO_OPEN_BUCKETS))],
            }
        )

    def open_timing(self, filters: Filters) -> OpenTiming:
        """How many of the filtered messages got as far as a time to first open."""
        where, parameters = filters.where()
        row = self.query(
            "select coalesce(sum(messages), 0) as messages, "
            "coalesce(sum(messages) filter (is_sent), 0) as sent, "
            "coalesce(sum(messages) filter (is_sent_and_opened), 0) as sent_and_opened, "
            "coalesce(sum(messages) filter (bucket is not null), 0) as timed "
            f"from time_to_open where {where}",
            parameters,
        ).iloc[0]
        return OpenTiming(*(int(row[column]) for column in row.index))

    def rejects(self, filters: Filters) -> pd.DataFrame:
        where, parameters = filters.where(messages=False)
        return self.query(
            "select rejection_reason, provider, sum(records) as records from rejects "
            f"where {where} group by all order by records desc, rejection_reason, provider",
            parameters,
        )

    def ledger(self, filters: Filters) -> pd.DataFrame:
        where, parameters = filters.where(messages=False)
        return self.query(
            f"select * from ledger where {where} order by loaded_at desc, provider, load_id",
            parameters,
        )

    def experiments(self, filters: Filters) -> pd.DataFrame:
        """experiment_lift's rows of the chosen providers (experiments have no message
        day or channel): per experiment its variants, then all variants pooled."""
        where, parameters = filters.where(messages=False)
        return self.query(
            f"select * from experiments where {where} order by provider, experiment_type, "
            "experiment, variant_id is null, variant, variant_id",
            parameters,
        )


def _as_date(value: object) -> date | None:
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, datetime | pd.Timestamp) else value  # type: ignore[return-value]


@dataclass
class Reading:
    """What the page can show: a snapshot (None before anything could be read), and why
    it may be missing or old."""

    snapshot: Snapshot | None
    state: str  # "ready", "no_warehouse", "not_built", "empty", "unreadable"
    busy: str | None = None  # the process that held the warehouse at the last try
    error: str | None = None  # why it is unreadable
    stamp: tuple | None = None  # the warehouse's stamp when this was read


class Reader:
    """Reads the warehouse when it has changed, keeping the last good copy. One per
    warehouse, shared by the page's sessions."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._reading = Reading(None, "no_warehouse")

    def stamp(self) -> tuple | None:
        """Size and modification time of the file and its write-ahead log."""
        parts = []
        for path in (self.database, Path(f"{self.database}.wal")):
            try:
                status = path.stat()
            except OSError:
                parts.append(None)
            else:
                parts.append((status.st_size, status.st_mtime_ns))
        return None if parts[0] is None else tuple(parts)

    def read(self) -> Reading:
        """The copy of the warehouse as it is now, read again if it changed; when a
        writer holds it, the last copy with `busy` set (and its old stamp, so the
        next read tries again)."""
        with self._lock:
            stamp = self.stamp()
            if stamp is None:
                self._reading = Reading(None, "no_warehouse")
            elif stamp != self._reading.stamp:
                self._reading = self._refreshed(stamp)
            return self._reading

    def _refreshed(self, stamp: tuple) -> Reading:
        memory = duckdb.connect(":memory:")
        try:
            state = self._copy(memory)
        except duckdb.Error as error:
            memory.close()
            pid = lock_holder(error)
            if pid is None:  # not a DuckDB file, a newer format, a broken file
                lines = str(error).strip().splitlines()
                return Reading(None, "unreadable", error=lines[0] if lines else "", stamp=stamp)
            return replace(self._reading, busy=process_description(pid))
        return Reading(Snapshot(memory, datetime.now().astimezone()), state, stamp=stamp)

    def _copy(self, memory: duckdb.DuckDBPyConnection) -> str:
        memory.execute(f"attach {sql_literal(str(self.database))} as w (read_only)")
        try:
            present = {
                row[0]
                for row in memory.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = 'w' and table_schema = 'marts'"
                ).fetchall()
            }
            if not set(MARTS) <= present:
                return "not_built"
            for table, sql in COPY_QUERIES.items():
                memory.execute(f"create table {table} as {sql}")
            memory.execute(
                "create table experiments as " + experiments_query(set(OPTIONAL_MARTS) <= present)
            )
        finally:
            memory.execute("detach w")
        rows = memory.execute(
            "select (select count(*) from funnel) + (select count(*) from ledger)"
        )
        return "ready" if rows.fetchone()[0] else "empty"  # type: ignore[index]
