"""Where the dbt project and the warehouse are."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "OUTBOUND_EVENTS_DB"
PROJECT_ENV = "OUTBOUND_EVENTS_PROJECT_DIR"
TARGET_ENV = "OUTBOUND_EVENTS_TARGET"
SPARK_DIR_ENV = "OUTBOUND_EVENTS_SPARK_DIR"
DEFAULT_DB_NAME = "warehouse.duckdb"
DEFAULT_SPARK_DIR = "spark-warehouse"
TARGETS = ("duckdb", "spark")
# On the spark target the loader lands into a DuckDB file of its own (its transactions,
# idempotence and bookkeeping) and publishes every load as Parquet files under raw/.
LANDING_DB_NAME = "landing.duckdb"


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


class UnknownTargetError(ValueError):
    """$OUTBOUND_EVENTS_TARGET names no target of profiles.yml."""


def target() -> str:
    """The engine: $OUTBOUND_EVENTS_TARGET (`duckdb`, the default, or `spark`)."""
    chosen = os.environ.get(TARGET_ENV, "duckdb").strip().lower() or "duckdb"
    if chosen not in TARGETS:
        raise UnknownTargetError(f"{TARGET_ENV}={chosen}: the targets are {', '.join(TARGETS)}")
    return chosen


def spark_dir() -> Path:
    """Where the spark target keeps everything locally: $OUTBOUND_EVENTS_SPARK_DIR
    (relative to the current directory), else spark-warehouse/ at the project root.
    It holds warehouse/ (Spark's tables), metastore_db/, raw/ (the published loads) and
    the loader's landing.duckdb."""
    configured = os.environ.get(SPARK_DIR_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return project_dir() / DEFAULT_SPARK_DIR


def raw_parquet_dir() -> Path:
    """The folder of the raw tables' Parquet files on the spark target."""
    return spark_dir() / "raw"


def warehouse_path() -> Path:
    """The DuckDB file the CLI opens: $OUTBOUND_EVENTS_DB (relative to the current
    directory), else warehouse.duckdb at the project root; on the spark target the
    loader's landing file in spark_dir()."""
    if target() == "spark":
        return spark_dir() / LANDING_DB_NAME
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return project_dir() / DEFAULT_DB_NAME


def dbt_environment() -> dict[str, str]:
    """Environment for dbt: the target, and the warehouse path and Spark folder made
    absolute, so the profile and the CLI point at the same places whatever dbt's
    working directory is."""
    environment = {TARGET_ENV: target(), SPARK_DIR_ENV: str(spark_dir())}
    if target() == "duckdb":
        environment[DB_ENV] = str(warehouse_path())
    return environment


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal (for a path DuckDB takes only as a literal, such
    as ATTACH's or read_parquet's; values are bound as parameters instead)."""
    return "'" + text.replace("'", "''") + "'"
