"""Where the dbt project and the warehouse are."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "OUTBOUND_EVENTS_DB"
PROJECT_ENV = "OUTBOUND_EVENTS_PROJECT_DIR"
DEFAULT_DB_NAME = "warehouse.duckdb"


class ProjectNotFoundError(RuntimeError):
    """No dbt_project.yml of outbound-events could be found."""


def _is_project(path: Path) -> bool:
    return (path / "dbt_project.yml").is_file() and (path / "profiles.yml").is_file()


def project_dir() -> Path:
    """The dbt project: $OUTBOUND_EVENTS_PROJECT_DIR, else the checkout this package
    was installed from, else the current directory or one of its parents."""
    configured = os.environ.get(PROJECT_ENV)
    if configured:
        path = Path(configured).expanduser().resolve()
        if not _is_project(path):
            raise ProjectNotFoundError(f"{PROJECT_ENV}={configured} holds no dbt_project.yml")
        return path
    candidates = [Path(__file__).resolve().parents[2], *[Path.cwd(), *Path.cwd().parents]]
    for candidate in candidates:
        if _is_project(candidate):
            return candidate
    raise ProjectNotFoundError(
        f"cannot find the outbound-events dbt project: run from its folder or set {PROJECT_ENV}"
    )


def warehouse_path() -> Path:
    """The DuckDB file: $OUTBOUND_EVENTS_DB (relative to the current directory), else
    warehouse.duckdb at the project root."""
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return project_dir() / DEFAULT_DB_NAME


def dbt_environment() -> dict[str, str]:
    """Environment for dbt: the warehouse path made absolute, so the profile and the
    CLI point at the same file whatever dbt's working directory is."""
    return {DB_ENV: str(warehouse_path())}
