"""The command line: help, summary, and a clear error for a missing project."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from outbound_events.cli import cli


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ["sample", "load", "build", "summary", "export"]:
        assert command in result.output


def test_summary_reports_each_provider(sample_warehouse, monkeypatch):
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(sample_warehouse))
    result = CliRunner().invoke(cli, ["summary"])
    assert result.exit_code == 0, result.output
    events_part = result.output.split("marts.rejected_events")[0]
    lines = {
        line.split("│")[1].strip(): line for line in events_part.splitlines() if line.count("│") > 3
    }
    # provider, events, event types, unmapped, duplicates removed, ingestion time, rejected
    expected = {
        "braze": ["47", "18", "0", "1", "0", "0"],
        "crossengage": ["16", "8", "1", "0", "0", "2"],
        "activatepro": ["11", "7", "0", "0", "2", "0"],
        "outbound": ["3", "1", "0", "0", "1", "0"],
        "customerio": ["8", "6", "0", "0", "1", "0"],
    }
    for provider, numbers in expected.items():
        cells = [cell.strip() for cell in lines[provider].split("│")[2:8]]
        assert cells == numbers, provider
    assert "invalid_json" in result.output and "missing_user_id" in result.output


def test_a_failing_command_exits_non_zero_with_a_message(tmp_path):
    env = {"OUTBOUND_EVENTS_PROJECT_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        [sys.executable, "-m", "outbound_events.cli", "summary"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 1
    assert "holds no dbt_project.yml" in completed.stderr


def test_build_without_loaded_data_says_what_to_do(tmp_path, monkeypatch):
    database = tmp_path / "empty.duckdb"
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(database))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1
    assert "nothing has been loaded there yet" in result.output
    assert "raw.braze__events" in result.output
    assert not database.exists()
