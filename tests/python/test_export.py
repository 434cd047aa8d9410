"""`outbound-events export`: a table to Parquet or CSV, in the order of its key."""

from __future__ import annotations

import csv

import duckdb
import pytest
from click.testing import CliRunner

from outbound_events.cli import cli

# Events per provider in the bundled sample (the stories of seeds/sample, README).
SAMPLE_EVENTS = {"activatepro": 11, "braze": 47, "crossengage": 16, "customerio": 8, "outbound": 3}


@pytest.fixture()
def exporting(sample_warehouse, monkeypatch):
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(sample_warehouse))

    def export(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["export", *args])
        return result.exit_code, result.output

    return export


def test_csv_export_is_in_key_order_and_whole(exporting, tmp_path):
    out = tmp_path / "ledger.csv"
    code, output = exporting("marts.load_ledger", "--out", str(out))
    assert code == 0, output
    with out.open() as file:
        rows = list(csv.DictReader(file))
    # the ledger's key is (provider, load_id): its unique_combination test
    keys = [(row["provider"], row["load_id"]) for row in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    events_out: dict[str, int] = {}
    for row in rows:
        events_out[row["provider"]] = events_out.get(row["provider"], 0) + int(row["events_out"])
    assert events_out == SAMPLE_EVENTS
    assert f"exported {len(rows)} rows of marts.load_ledger" in output
    assert [path.name for path in tmp_path.iterdir()] == ["ledger.csv"]  # no partial file left


def test_parquet_export_round_trips_in_key_order(exporting, sample_warehouse, tmp_path):
    out = tmp_path / "events.parquet"
    code, output = exporting("marts.outbound_events", "--out", str(out))
    assert code == 0, output
    exported = duckdb.sql(f"select event_id, provider from '{out}'").fetchall()
    assert [event_id for event_id, _ in exported] == sorted(event_id for event_id, _ in exported)
    counts: dict[str, int] = {}
    for _, provider in exported:
        counts[provider] = counts.get(provider, 0) + 1
    assert counts == SAMPLE_EVENTS
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        differing = connection.execute(
            f"select count(*) from ((select * from '{out}') except all"
            " (select * from marts.outbound_events))"
        ).fetchall()[0][0]
    assert differing == 0


def test_two_exports_of_one_table_are_equal_files(exporting, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert exporting("marts.message_lifecycle", "--out", str(first))[0] == 0
    assert exporting("marts.message_lifecycle", "--out", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("table", "file_name", "message"),
    [
        ("marts.outbound_events; drop table raw.x", "x.csv", "is not <schema>.<table>"),
        ("outbound_events", "x.csv", "is not <schema>.<table>"),
        ("marts.no_such_table", "x.csv", "has no table marts.no_such_table"),
        ("marts.outbound_events", "x.xlsx", "must end in .parquet or .csv"),
    ],
)
def test_a_bad_request_is_a_clear_error(exporting, tmp_path, table, file_name, message):
    code, output = exporting(table, "--out", str(tmp_path / file_name))
    assert code == 1
    assert message in output
    assert list(tmp_path.iterdir()) == []
