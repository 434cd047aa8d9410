"""The semantic layer (models/semantic, MetricFlow's `mf`) gives the marts' numbers:
every funnel count and rate of engagement_funnel_daily has a metric of its name, and
`mf query` grouped by day, provider, channel and campaign returns the mart's rows, on
the bundled sample and on a generated corpus (benchmarks/generate.py). Rolled up to
day × provider × channel, the metrics equal the mart's rows summed (rates: summed
numerators over summed denominators), which is what the dashboard shows."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fixtures.loader_files import load, write_text
from fixtures.warehouse import build, warehouse_env
from outbound_events import dbt
from outbound_events.dashboard.data import RATE_DENOMINATORS, rolled_up
from outbound_events.project import project_dir

sys.path.insert(0, str(project_dir() / "benchmarks"))
from generate import Batch, generate  # noqa: E402

ROOT = project_dir()
# The mart's grain as MetricFlow names it, and as the mart does.
MF_GRAIN = ["metric_time__day", "provider", "channel", "message__campaign_type", "campaign"]
MART_GRAIN = ["message_date", "provider", "channel", "campaign_type", "campaign_or_canvas_id"]


def mf_executable() -> str:
    beside = Path(sys.executable).parent / "mf"
    found = str(beside) if beside.is_file() else shutil.which("mf")
    assert found, "mf (dbt-metricflow) is not installed: make setup"
    return found


def parse(database: Path) -> dict:
    """`dbt parse` for `database`: target/semantic_manifest.json, the same for every
    warehouse (the profile attaches any file as database `warehouse`)."""
    with warehouse_env(database):
        dbt.run_dbt(["parse"])
    return json.loads((ROOT / "target" / "semantic_manifest.json").read_text())


def mf_query(database: Path, metrics: list[str], group_by: list[str], out: Path) -> list[dict]:
    completed = subprocess.run(
        [mf_executable(), "query", "--metrics", ",".join(metrics),
         "--group-by", ",".join(group_by), "--csv", str(out)],
        cwd=ROOT, env={**os.environ, "OUTBOUND_EVENTS_DB": str(database)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0 and out.exists(), completed.stdout + completed.stderr
    with out.open(newline="") as stream:
        return list(csv.DictReader(stream))


def funnel_metrics(semantic_manifest: dict, mart_columns: list[str]) -> list[str]:
    """The metrics named like a column of the mart; every count and rate has one."""
    metrics = {metric["name"] for metric in semantic_manifest["metrics"]}
    measures = [c for c in mart_columns if c not in {*MART_GRAIN, "funnel_day_key"}]
    measures.remove("campaign_or_canvas_name")
    missing = [c for c in measures if c not in metrics]
    assert not missing, f"engagement_funnel_daily columns without a metric: {missing}"
    return measures


def text_key(value: object) -> str:
    """A group-by value as both sides spell it: '' for null (MetricFlow's CSV), a day
    as YYYY-MM-DD (the CSV has metric_time__day as a timestamp at midnight)."""
    if value is None:
        return ""
    text = str(value)
    return text[:10] if hasattr(value, "isoformat") or text.endswith(" 00:00:00") else text


def number(value: object) -> float | None:
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]


def assert_same_numbers(expected: dict, actual: dict, where: str) -> None:
    assert expected.keys() == actual.keys(), where
    for key, columns in expected.items():
        for column, value in columns.items():
            got = actual[key][column]
            if value is None or got is None:
                assert value is None and got is None, (where, key, column, value, got)
            else:
                assert math.isclose(value, got, rel_tol=1e-9, abs_tol=1e-9), (
                    where, key, column, value, got,
                )  # fmt: skip


def mart_rows(database: Path, sql: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def check_metrics_equal_mart(database: Path, tmp_path: Path) -> int:
    semantic_manifest = parse(database)
    columns, rows = mart_rows(database, "select * from marts.engagement_funnel_daily")
    metrics = funnel_metrics(semantic_manifest, columns)
    assert rows, "the mart is empty: nothing to compare"

    # At the mart's grain: row for row.
    expected = {}
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        key = tuple(text_key(record[c]) for c in MART_GRAIN)
        expected[key] = {m: number(record[m]) for m in metrics}
    queried = mf_query(database, metrics, MF_GRAIN, tmp_path / "grain.csv")
    actual = {
        tuple(text_key(r[c] or None) for c in MF_GRAIN): {m: number(r[m]) for m in metrics}
        for r in queried
    }
    assert len(queried) == len(actual)
    assert_same_numbers(expected, actual, "day × provider × channel × campaign")

    # Rolled up to day × provider × channel: sums, and rates from summed numerators.
    # (what the dashboard shows: dashboard.data.rolled_up)
    rates = [m for m in metrics if m in RATE_DENOMINATORS]
    counts = [m for m in metrics if m not in RATE_DENOMINATORS]
    columns, rows = mart_rows(
        database,
        f"select message_date, provider, channel, {rolled_up(counts, rates)} "
        "from marts.engagement_funnel_daily group by all",
    )
    expected = {
        tuple(text_key(v) for v in row[:3]): {
            m: number(v) for m, v in zip(columns[3:], row[3:], strict=True)
        }
        for row in rows
    }
    queried = mf_query(database, metrics, MF_GRAIN[:3], tmp_path / "day.csv")
    actual = {
        tuple(text_key(r[c] or None) for c in MF_GRAIN[:3]): {m: number(r[m]) for m in metrics}
        for r in queried
    }
    assert_same_numbers(expected, actual, "day × provider × channel")
    return len(rows)


def test_every_metric_validates(sample_warehouse):
    """`mf validate-configs`: the semantic manifest, and every metric run on the sample."""
    parse(sample_warehouse)
    completed = subprocess.run(
        [mf_executable(), "validate-configs"],
        cwd=ROOT, env={**os.environ, "OUTBOUND_EVENTS_DB": str(sample_warehouse)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "ERRORS: 0" in completed.stdout


def test_metrics_equal_the_daily_funnel_on_the_sample(sample_warehouse, tmp_path):
    # The sample spans 2024-03-04 to 2024-03-09 on all five providers.
    days = check_metrics_equal_mart(sample_warehouse, tmp_path)
    assert days >= 10


def test_metrics_equal_the_daily_funnel_on_a_generated_corpus(tmp_path):
    database = tmp_path / "generated.duckdb"
    with duckdb.connect(str(database)) as connection:
        landed = generate(connection, Batch(8_000, days=10))
    assert sum(landed.values()) > 5_000
    build(database, "--full-refresh", "--exclude", "test_type:data")
    # 10 days × 5 providers × their channels.
    assert check_metrics_equal_mart(database, tmp_path) >= 50


def test_open_rate_over_days_is_not_the_mean_of_daily_rates(tmp_path):
    """A hand-worked case where a rate re-derived as an average goes wrong and the
    metric does not: Customer.io email (which reports deliveries), day 1 one message
    delivered and opened, day 2 three delivered, none opened. Over both days open_rate
    is 1/4, not the mean of 1 and 0."""

    def event(name: str, user: str, email: str, at: str) -> str:
        return json.dumps({
            "user_id": user, "action": "track", "event": name, "timestamp": at,
            "messageId": f"{name}-{email}",
            "properties": {"email_id": email, "campaign_id": "c1", "campaign_name": "Hello"},
        })  # fmt: skip

    lines = [
        event("Email Delivered", "u1", "em1", "2024-03-04T08:00:00Z"),
        event("Email Opened", "u1", "em1", "2024-03-04T09:00:00Z"),
        *[event("Email Delivered", f"u{n}", f"em{n}", "2024-03-05T08:00:00Z") for n in (2, 3, 4)],
    ]
    database = tmp_path / "two_days.duckdb"
    result = load(database, "customerio", write_text(tmp_path / "events.ndjson", "\n".join(lines)))
    assert result.exit_code == 0, result.output
    build(database, "--full-refresh", "--exclude", "test_type:data")
    by_day = mf_query(database, ["open_rate"], ["metric_time__day"], tmp_path / "d.csv")
    assert sorted((r["metric_time__day"][:10], number(r["open_rate"])) for r in by_day) == [
        ("2024-03-04", 1.0), ("2024-03-05", 0.0),
    ]  # fmt: skip
    overall = mf_query(
        database, ["open_rate", "reached", "opened"], ["provider"], tmp_path / "o.csv"
    )
    assert [(r["provider"], number(r["reached"]), number(r["opened"]), number(r["open_rate"]))
            for r in overall] == [("customerio", 4.0, 1.0, 0.25)]  # fmt: skip


def test_metrics_follow_the_warehouse_with_no_extra_step(tmp_path):
    """`mf query` reads the file OUTBOUND_EVENTS_DB names, whichever file the last dbt
    command ran on: the relations dbt compiles name the database `warehouse`, never
    the file. B (built first) has 3 delivered Customer.io emails, 1 opened; A (built
    last) 1 delivered, 1 opened."""

    def customerio(day: str, delivered: list[str], opened: list[str]) -> str:
        def event(name: str, user: str) -> str:
            return json.dumps({
                "user_id": user, "action": "track", "event": name,
                "timestamp": f"{day}T08:00:00Z", "messageId": f"{name}-{user}",
                "properties": {"email_id": f"em-{user}", "campaign_id": "c1"},
            })  # fmt: skip

        return "\n".join(
            [event("Email Delivered", u) for u in delivered]
            + [event("Email Opened", u) for u in opened]
        )

    files = {
        "b": customerio("2024-03-05", ["u1", "u2", "u3"], ["u1"]),
        "a": customerio("2024-03-04", ["u9"], ["u9"]),
    }
    for name, lines in files.items():  # b first, then a: the last build is a's
        database = tmp_path / f"{name}.duckdb"
        loaded = load(database, "customerio", write_text(tmp_path / f"{name}.ndjson", lines))
        assert loaded.exit_code == 0, loaded.output
        build(database, "--full-refresh", "--exclude", "test_type:data")

    def totals(name: str) -> list[tuple]:
        rows = mf_query(tmp_path / f"{name}.duckdb", ["reached", "opened", "open_rate"],
                        ["metric_time__day"], tmp_path / f"{name}.csv")  # fmt: skip
        return [(r["metric_time__day"][:10], number(r["reached"]), number(r["opened"]),
                 number(r["open_rate"])) for r in rows]  # fmt: skip

    assert totals("b") == [("2024-03-05", 3.0, 1.0, pytest.approx(1 / 3, rel=1e-9))]
    assert totals("a") == [("2024-03-04", 1.0, 1.0, 1.0)]
    semantic = json.loads((ROOT / "target" / "semantic_manifest.json").read_text())
    relations = {model["node_relation"]["relation_name"] for model in semantic["semantic_models"]}
    assert relations and all(name.startswith('"warehouse".') for name in relations), relations


def test_experiment_metrics_equal_the_lift_mart(sample_warehouse, tmp_path):
    """The group conversion rates as metrics (models/semantic/_experiments__semantic.yml):
    per provider × experiment type × experiment they are experiment_lift's pooled rows
    (variant_id null), per variant its groups. The sample has a campaign with a
    control (cmp_spring) and a Canvas with one (cnv_onb)."""
    parse(sample_warehouse)
    columns = ["treatment_users", "control_users", "treatment_converters", "control_converters",
               "treatment_conversion_rate", "control_conversion_rate"]  # fmt: skip
    names, rows = mart_rows(
        sample_warehouse,
        f"select provider, experiment_type, experiment_id, {', '.join(columns)} "
        "from marts.experiment_lift where variant_id is null",
    )
    expected = {
        tuple(row[:3]): dict(zip(names[3:], map(number, row[3:]), strict=True)) for row in rows
    }
    assert {key[2] for key in expected} == {"cmp_spring", "cnv_onb"}
    grain = ["provider", "assignment__experiment_type", "experiment"]
    queried = mf_query(sample_warehouse, columns, grain, tmp_path / "pooled.csv")
    actual = {tuple(r[c] for c in grain): {m: number(r[m]) for m in columns} for r in queried}
    assert_same_numbers(expected, actual, "provider × experiment")

    names, rows = mart_rows(
        sample_warehouse,
        "select experiment_id, variant_id, treatment_users, treatment_conversion_rate "
        "from marts.experiment_lift where variant_id is not null",
    )
    variants = mf_query(
        sample_warehouse, ["assigned_users", "experiment_conversion_rate"],
        ["experiment", "assignment__variant_id", "assignment__is_control"], tmp_path / "v.csv",
    )  # fmt: skip
    by_variant = {
        (r["experiment"], r["assignment__variant_id"]): (
            number(r["assigned_users"]),
            number(r["experiment_conversion_rate"]),
        )
        for r in variants
        if r["assignment__is_control"].lower() == "false"
    }
    assert {(e, v): (float(n), rate) for e, v, n, rate in rows} == by_variant
