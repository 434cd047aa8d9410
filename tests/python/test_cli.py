"""The command line: help, summary, exit codes, and clear errors for a missing project
or a warehouse directory that does not exist."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from click.testing import CliRunner

from outbound_events import cli as cli_module
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


def test_summary_before_any_build_says_what_to_do(tmp_path, monkeypatch):
    database = tmp_path / "loaded.duckdb"
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(database))
    events = tmp_path / "events.ndjson"
    events.write_text('{"event": "x", "user_id": "u1", "timestamp": 1714550400}\n')
    assert CliRunner().invoke(cli, ["load", "--provider", "outbound", str(events)]).exit_code == 0
    result = CliRunner().invoke(cli, ["summary"])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "has no marts yet: nothing has been built there" in message
    assert "Catalog Error" not in message


def test_build_on_a_warehouse_in_a_missing_directory_names_the_directory(tmp_path, monkeypatch):
    database = tmp_path / "no" / "such" / "dir" / "warehouse.duckdb"
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(database))
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"the directory {tmp_path / 'no' / 'such' / 'dir'} does not exist" in message
    assert "nothing has been loaded" not in message
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("width", [50, 80, 120])
def test_help_shows_each_commands_first_sentence_whole(width):
    """Each command's line in `--help` is the first paragraph of its help, complete (click
    cuts a line that does not fit the terminal with "..."), wrapped to the width."""
    result = CliRunner().invoke(cli, ["--help"], terminal_width=width)
    assert result.exit_code == 0
    listed: dict[str, str] = {}
    name = ""
    for line in result.output.split("Commands:\n", 1)[1].splitlines():
        words = line.split()
        if line.startswith("  ") and not line.startswith("   "):  # a command's first line
            name = words[0]
            words = words[1:]
        listed[name] = " ".join([*listed.get(name, "").split(), *words])
    assert sorted(listed) == sorted(cli.commands)
    for command_name, command in cli.commands.items():
        first_paragraph = " ".join(inspect.cleandoc(command.help or "").split("\n\n")[0].split())
        assert listed[command_name] == first_paragraph, command_name
        assert first_paragraph.endswith(".") and not first_paragraph.endswith("..."), command_name


def exit_code(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """`outbound-events <args>` through main(), as installed: its exit code and stderr."""
    monkeypatch.setattr(sys, "argv", ["outbound-events", *args])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    return int(exited.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["summary", "--no-such-option"], "No such option '--no-such-option'"),
        (["export", "marts.outbound_events"], "Missing option '--out'"),
        (["export"], "Missing argument 'SCHEMA.TABLE'"),
        (["load", "--provider", "mailchimp", "."], "'mailchimp' is not one of"),
        (["load", "--provider", "braze", "/no/such/export"], "'/no/such/export' does not exist"),
        (["build", "--wait", "-1"], "-1"),
    ],
)
def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys, args, message):
    """A command line click cannot accept: usage, the error, exit 2 (click's standard),
    before anything is opened."""
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(database))
    code, err = exit_code(monkeypatch, capsys, *args)
    assert code == 2
    assert err.startswith("Usage: outbound-events")
    assert message in err
    assert not database.exists()


def test_refusals_of_a_well_formed_command_exit_1(tmp_path, monkeypatch, capsys):
    """What the command refuses once it runs: a message, exit 1."""
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(tmp_path / "missing" / "w.duckdb"))
    assert exit_code(monkeypatch, capsys, "build")[0] == 1  # the directory does not exist
    monkeypatch.setenv("OUTBOUND_EVENTS_DB", str(tmp_path / "empty.duckdb"))
    code, err = exit_code(monkeypatch, capsys, "build")  # nothing loaded
    assert (code, "nothing has been loaded there yet" in err) == (1, True)
    code, err = exit_code(monkeypatch, capsys, "export", "marts", "--out", "x.csv")
    assert (code, "is not <schema>.<table>" in err) == (1, True)
    monkeypatch.setenv("OUTBOUND_EVENTS_TARGET", "oracle")
    code, err = exit_code(monkeypatch, capsys, "summary")  # a bad setting, not a usage error
    assert (code, "OUTBOUND_EVENTS_TARGET=oracle" in err) == (1, True)
