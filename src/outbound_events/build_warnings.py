"""The warnings of a dbt build: `warn`-severity tests that found rows (a purchase in a
currency without a rate, messages with clock skew). dbt reports them only in its log;
after each `outbound-events build` or `sample` they are read from dbt's
target/run_results.json and manifest.json and kept in the warehouse
(meta.build_warnings, replaced by every build), so that `summary` shows the warnings
of the warehouse's last build, whichever dbt command ran since."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from outbound_events.project import project_dir

SCHEMA = "meta"
TABLE = f"{SCHEMA}.build_warnings"
COLUMNS = (
    "built_at timestamp, test_name varchar, concerns varchar, failing_rows bigint, "
    "description varchar"
)
# What a build's record holds when the build had no warning: one row with no test.
NO_WARNING = None


@dataclass(frozen=True)
class BuildWarning:
    test_name: str
    # The model it tests (`model.column` for a column's test), else the models and
    # seeds it reads.
    concerns: str
    failing_rows: int
    description: str = ""


@dataclass(frozen=True)
class BuildRecord:
    """The warnings of one build, and when it finished (UTC, naive)."""

    built_at: datetime
    warnings: list[BuildWarning]


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


def _node_name(manifest: dict[str, Any], unique_id: str) -> str:
    node = manifest.get("nodes", {}).get(unique_id) or manifest.get("sources", {}).get(unique_id)
    return str(node["name"]) if node else unique_id.rsplit(".", 1)[-1]


def _concerns(manifest: dict[str, Any], test: dict[str, Any]) -> str:
    attached = test.get("attached_node")
    if attached:
        column = test.get("column_name")
        name = _node_name(manifest, attached)
        return f"{name}.{column}" if column else name
    parents = list(test.get("depends_on", {}).get("nodes", []))
    models = [parent for parent in parents if parent.startswith("model.")]
    return ", ".join(_node_name(manifest, parent) for parent in models or parents)


def _parsed_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def read_build_record(target: Path | None = None, since: datetime | None = None) -> BuildRecord:
    """The warnings of the last `dbt build`, from `target` (default: the project's
    target/): every result with status `warn`, named after its test, with what it
    concerns, its failing rows and its description. Raise ValueError when the last
    run results are not of a build finished after `since` (naive UTC): another dbt
    command wrote them since."""
    folder = target or project_dir() / "target"
    run_results = json.loads((folder / "run_results.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    built_at = _parsed_time(run_results["metadata"]["generated_at"])
    if run_results.get("args", {}).get("which") != "build" or (since and built_at < since):
        raise ValueError("target/run_results.json is not of this build")
    warnings = []
    for result in run_results.get("results", []):
        if str(result.get("status", "")).lower() != "warn":
            continue
        test = manifest.get("nodes", {}).get(result["unique_id"], {})
        warnings.append(
            BuildWarning(
                test_name=str(test.get("name") or result["unique_id"]),
                concerns=_concerns(manifest, test),
                failing_rows=int(result.get("failures") or 0),
                description=_text(test.get("description")),
            )
        )
    warnings.sort(key=lambda warning: (warning.concerns, warning.test_name))
    return BuildRecord(built_at, warnings)


def record(connection: duckdb.DuckDBPyConnection, build: BuildRecord) -> None:
    """Replace the warehouse's record of its last build's warnings with `build`."""
    connection.execute(f"create schema if not exists {SCHEMA}")
    connection.execute(f"create or replace table {TABLE} ({COLUMNS})")
    rows = [
        [build.built_at, w.test_name, w.concerns, w.failing_rows, w.description]
        for w in build.warnings
    ] or [[build.built_at, NO_WARNING, NO_WARNING, NO_WARNING, NO_WARNING]]
    connection.executemany(f"insert into {TABLE} values (?, ?, ?, ?, ?)", rows)


def recorded(connection: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    """The warehouse's record of its last build's warnings; None when it has none (it
    was never built by `outbound-events build` or `sample`)."""
    try:
        rows = connection.execute(
            f"select built_at, test_name, concerns, failing_rows, description from {TABLE} "
            "order by concerns, test_name"
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows:
        return None
    warnings = [
        BuildWarning(name, concerns or "", int(failing or 0), description or "")
        for _built, name, concerns, failing, description in rows
        if name is not None
    ]
    return BuildRecord(rows[0][0], warnings)
