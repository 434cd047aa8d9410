"""A build's warnings (`warn` tests that found rows) are in the summary that `build`,
`sample` and `summary` print: the test, what it concerns, its failing rows and its
description; they are read from dbt's run results and kept in the warehouse."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from fixtures.loader_files import load, record_schema, write_avro
from outbound_events import build_warnings
from outbound_events.build_warnings import BuildRecord, BuildWarning, read_build_record
from outbound_events.cli import cli
from outbound_events.summary import warnings_lines

# 2024-05-01 09:00:00 UTC
T0 = 1714554000


def one_line(text: str) -> str:
    return " ".join(text.split())


def write_run(target: Path, which: str = "build") -> None:
    """dbt's run results and manifest of a build with a passing test, a warn test on a
    column, a warn singular test and an error."""
    target.mkdir(parents=True, exist_ok=True)
    results = [
        ("test.p.unique_outbound_events_event_id.1", "pass", 0),
        ("test.p.message_lifecycle_no_clock_skew.2", "warn", 3),
        ("test.p.purchases_without_currency_rate", "warn", 1234),
        ("test.p.not_null_outbound_events_provider.3", "fail", 2),
    ]
    run_results = {
        "metadata": {"generated_at": "2024-05-01T10:15:30.5Z"},
        "args": {"which": which},
        "results": [
            {"unique_id": uid, "status": status, "failures": failures}
            for uid, status, failures in results
        ],
    }
    nodes = {
        "model.p.outbound_events": {"name": "outbound_events"},
        "model.p.message_lifecycle": {"name": "message_lifecycle"},
        "test.p.message_lifecycle_no_clock_skew.2": {
            "name": "message_lifecycle_no_clock_skew",
            "attached_node": "model.p.message_lifecycle",
            "column_name": "seconds_to_open",
            "description": "",
            "depends_on": {"nodes": ["model.p.message_lifecycle"]},
        },
        "test.p.purchases_without_currency_rate": {
            "name": "purchases_without_currency_rate",
            "attached_node": None,
            "column_name": None,
            "description": "Purchases without a rate.\n  Add one.\n",
            "depends_on": {"nodes": ["model.p.outbound_events", "seed.p.currency_rates"]},
        },
    }
    (target / "run_results.json").write_text(json.dumps(run_results))
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes, "sources": {}}))


def test_the_warnings_are_the_warn_results_named_after_their_tests(tmp_path):
    write_run(tmp_path)
    build = read_build_record(tmp_path, since=datetime(2024, 5, 1, 10, 15))
    assert build == BuildRecord(
        datetime(2024, 5, 1, 10, 15, 30, 500000),
        [
            # a column's test: model.column; no description
            BuildWarning("message_lifecycle_no_clock_skew", "message_lifecycle.seconds_to_open", 3),
            # a singular test: the models it reads (not the seed); its description on one line
            BuildWarning(
                "purchases_without_currency_rate",
                "outbound_events",
                1234,
                "Purchases without a rate. Add one.",
            ),
        ],
    )
    assert warnings_lines(build) == [
        "dbt build of 2024-05-01 10:15 UTC: 2 warnings (warn tests that found rows)",
        "- message_lifecycle_no_clock_skew (on message_lifecycle.seconds_to_open): 3 rows.",
        "- purchases_without_currency_rate (on outbound_events): 1,234 rows. "
        "Purchases without a rate. Add one.",
        "To keep a test's rows in a table: "
        "dbt test --select TEST --store-failures --profiles-dir .",
    ]


@pytest.mark.parametrize(
    ("which", "since"),
    [("test", None), ("build", datetime(2024, 5, 1, 10, 16))],
    ids=["not a build", "older than this build"],
)
def test_run_results_of_another_command_are_not_taken(tmp_path, which, since):
    write_run(tmp_path, which)
    with pytest.raises(ValueError, match="not of this build"):
        read_build_record(tmp_path, since=since)


def test_each_build_replaces_the_record_of_the_last(tmp_path):
    built = datetime(2024, 5, 1, 10, 0)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        assert build_warnings.recorded(connection) is None  # never built by the CLI
        first = BuildRecord(built, [BuildWarning("t", "m.c", 2, "d")])
        build_warnings.record(connection, first)
        assert build_warnings.recorded(connection) == first
        clean = BuildRecord(datetime(2024, 5, 2, 10, 0), [])
        build_warnings.record(connection, clean)
        assert build_warnings.recorded(connection) == clean
    assert warnings_lines(clean) == ["dbt build of 2024-05-02 10:00 UTC: no warnings"]


def purchase(event_id: str, currency: str, price: float) -> dict[str, object]:
    return {
        "id": event_id, "user_id": f"buyer-{event_id}", "time": T0, "product_id": "sku_1",
        "price": price, "currency": currency, "properties": "{}",
    }  # fmt: skip


def test_build_and_summary_list_a_purchase_in_a_currency_without_a_rate(tmp_path, monkeypatch):
    # 3 purchases: one in USD (seed currency_rates has it), two in XYZ (it has not)
    database = tmp_path / "warn.duckdb"
    name = "users.behaviors.Purchase"
    schema = record_schema(
        name,
        [("id", "string"), ("user_id", "string"), ("time", "long"), ("product_id", "string"),
         ("price", "double"), ("currency", "string"), ("properties", "string")],
    )  # fmt: skip
    purchases = [
        purchase("p1", "USD", 10.0),
        purchase("p2", "XYZ", 5.0),
        purchase("p3", "XYZ", 7.0),
    ]
    write_avro(tmp_path / "export" / f"{name}.avro", schema, purchases)
    loaded = load(database, "braze", tmp_path / "export")
    assert loaded.exit_code == 0, loaded.output
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(database))

    built = CliRunner().invoke(cli, ["build"])
    assert built.exit_code == 0, built.output
    expected = (
        "1 warning (warn tests that found rows) "
        "- purchases_without_currency_rate (on outbound_events): 2 rows. Purchases in a "
        "currency without a rate in seed currency_rates"
    )
    assert expected in one_line(built.output)
    assert "Add the currency's rate to seeds/semantics/currency_rates.csv" in one_line(built.output)

    again = CliRunner().invoke(cli, ["summary"])
    assert again.exit_code == 0, again.output
    assert expected in one_line(again.output)
    with duckdb.connect(str(database), read_only=True) as connection:
        record = build_warnings.recorded(connection)
    assert record is not None
    assert [(w.test_name, w.concerns, w.failing_rows) for w in record.warnings] == [
        ("purchases_without_currency_rate", "outbound_events", 2)
    ]
