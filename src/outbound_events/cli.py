"""The `outbound-events` command."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import duckdb
from rich.console import Console
from rich.markup import escape

from outbound_events import build_warnings, dbt, loading
from outbound_events.build_warnings import BuildRecord
from outbound_events.dashboard import serve, spark_copy
from outbound_events.export import ExportError, TableName, export_table
from outbound_events.load_progress import file_progress
from outbound_events.load_report import rejections_of_load, report_lines
from outbound_events.loading.warehouse import missing_tables
from outbound_events.loading.warehouse_lock import (
    WarehouseError,
    WarehouseInUseError,
    check_is_duckdb,
    connect,
    in_use_message,
    lock_holder,
    wait_until_free,
)
from outbound_events.project import (
    DB_ENV,
    TARGET_ENV,
    TARGETS,
    ProjectNotFoundError,
    UnknownTargetError,
    raw_parquet_dir,
    spark_dir,
    target,
    warehouse_path,
)
from outbound_events.spark_snapshot import snapshot
from outbound_events.summary import SUMMARY_TABLES, print_summary

# Set to 1 to see the Python traceback of an unexpected error (for developers).
DEBUG_ENV = "OUTBOUND_EVENTS_DEBUG"


# A dashboard's read holds the file for a moment: wait that out by default.
DEFAULT_WAIT_SECONDS = 5.0


def wait_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--wait",
        "wait",
        type=click.FloatRange(min=0),
        default=DEFAULT_WAIT_SECONDS,
        show_default=True,
        metavar="SECONDS",
        help="While another process (a load, a build, a dashboard's read) holds the "
        "warehouse, wait up to this long for it to finish; 0 stops at once.",
    )(command)


def _waiting(console: Console) -> Callable[[str], None]:
    return lambda message: console.print(f"[yellow]{escape(message)}[/]")


def _warehouse() -> Path:
    """The warehouse path; on the duckdb target, refused when its directory does not
    exist (DuckDB cannot create the file there, and nothing can have been loaded)."""
    database = warehouse_path()
    if target() == "duckdb" and not database.parent.is_dir():
        configured = os.environ.get(DB_ENV)
        source = f"{DB_ENV}={configured}" if configured else "the default warehouse"
        raise click.ClickException(
            f"the directory {database.parent} does not exist, so there is no warehouse "
            f"{database} ({source}): create the directory, or point {DB_ENV} at a file in "
            "an existing one"
        )
    return database


def _wait_for_warehouse(wait: float, *, read_only: bool = False) -> Path:
    """The warehouse path, once no other process holds it (see --wait)."""
    database = _warehouse()
    wait_until_free(
        database,
        read_only=read_only,
        wait=wait,
        on_wait=_waiting(Console(stderr=True, soft_wrap=True)),
    )
    return database


class _Command(click.Command):
    """A command whose line in the group's --help is the first paragraph of its help,
    whole (wrapped to the terminal), where click would cut it mid-sentence to fit one
    line: so each command's help starts with one short sentence."""

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help or not self.help:
            return super().get_short_help_str(limit)
        return " ".join(inspect.cleandoc(self.help).split("\n\n", 1)[0].split())


class _Group(click.Group):
    command_class = _Command


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="outbound-events")
@click.option(
    "--target",
    type=click.Choice(TARGETS, case_sensitive=False),
    default=None,
    help=f"The engine (default: ${TARGET_ENV}, else duckdb).",
)
def cli(target: str | None) -> None:
    """Turn messaging platforms' raw engagement exports into marts.outbound_events.

    On the duckdb target the warehouse is the DuckDB file $OUTBOUND_EVENTS_DB
    (default: warehouse.duckdb at the project root). On the spark target (a local
    Spark session, `pip install -e ".[spark]"`) everything lives in
    $OUTBOUND_EVENTS_SPARK_DIR (default: spark-warehouse/ at the project root).
    """
    if target:
        os.environ[TARGET_ENV] = target.lower()


@cli.command()
@wait_option
def sample(wait: float) -> None:
    """Build everything on the bundled sample and print a summary.

    Loads seeds/sample into the raw schema (replacing what is there), runs
    `dbt build` (models, schema tests, unit tests) and prints what it built.
    """
    database = _wait_for_warehouse(wait)
    _build(database, dbt.build_sample, wait)
    _print_summary(database)


@cli.command()
@click.option(
    "--provider",
    "-p",
    required=True,
    type=click.Choice(list(loading.PROVIDERS), case_sensitive=False),
    help="Whose export the files are.",
)
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH [PATH ...]",
)
@wait_option
def load(provider: str, paths: tuple[Path, ...], wait: float) -> None:
    """Land a provider's raw export files in the warehouse's `raw` schema.

    Each PATH is a file or a folder, walked recursively: for braze its `*.avro` files
    (Braze Currents object-container files, any codec), for the other providers its
    `*.json`, `*.ndjson` and `*.jsonl` files, each optionally gzipped (`.gz`). A JSON
    file may hold an array, a single object or one JSON value per line.

    One row per raw record lands in raw.<provider>__events, with its source file,
    position, load id and load time; files that cannot be read (empty, not Avro,
    truncated, bad gzip, not JSON) are listed in raw.load_rejections. A file whose
    content was loaded before is skipped, so loading a folder twice adds nothing. The
    load is one transaction: if it fails, the warehouse is left as it was.

    Folders are walked without following symlink loops; FIFOs, sockets, devices and
    broken links are skipped, each listed as `skipped: PATH (reason)`. A record over
    $OUTBOUND_EVENTS_MAX_RECORD_BYTES (default 16 MiB) is rejected as
    record_too_large; files that are binary or not UTF-8 are rejected as not_json or
    not_utf8.

    Then run `outbound-events build`.
    """
    chosen = loading.provider_for(provider.lower())
    errors = Console(stderr=True, soft_wrap=True)
    database = _warehouse()
    try:
        found = loading.files_to_load(chosen, paths)
        for skipped in found.skipped:
            click.echo(skipped.line())
        files = found.files
        if not files:
            looked_for = ", ".join(chosen.suffixes)
            errors.print(f"[yellow]no {chosen.key} files found[/] (looked for {looked_for})")
        if target() == "spark":
            raw_parquet_dir().mkdir(parents=True, exist_ok=True)
        with file_progress(errors, len(files)) as advance:
            summary = loading.load_files(
                chosen,
                files,
                database,
                on_file_done=advance,
                wait=wait,
                on_wait=_waiting(errors),
                publish_to=raw_parquet_dir() if target() == "spark" else None,
            )
    except (
        loading.LoadFailedError,
        loading.PathNotFoundError,
        loading.InvalidSettingError,
        WarehouseInUseError,
    ) as error:
        raise click.ClickException(str(error)) from error
    click.echo(summary.line())
    if summary.records_rejected:
        _print_rejections(database, summary.load_id, wait, errors)


def _print_rejections(database: Path, load_id: str, wait: float, errors: Console) -> None:
    """Each rejection of the load (the first MAX_SHOWN), read back from the warehouse."""
    try:
        with connect(database, read_only=True, wait=wait, on_wait=_waiting(errors)) as connection:
            lines, total = rejections_of_load(connection, load_id)
    except (WarehouseError, duckdb.Error) as error:
        errors.print(
            f"[yellow]the rejections are in raw.load_rejections (load id {load_id}); "
            f"cannot list them now:[/] {escape(str(error))}"
        )
        return
    for line in report_lines(lines, total, load_id):
        click.echo(line)


@cli.command()
@wait_option
@click.option(
    "--loads-per-run",
    type=click.IntRange(min=1),
    default=None,
    help="Build in steps of this many loads (oldest first) until all are built: a "
    "backfill whose memory and temporary disk follow the step, not the whole history.",
)
def build(wait: float, loads_per_run: int | None) -> None:
    """Run dbt build (models and data tests) on the data loaded into raw.

    Then print the summary, with the warnings of the build (`warn` tests that found
    rows).
    """
    database = _wait_for_warehouse(wait)
    missing = missing_tables(database)
    if missing:
        raise click.ClickException(
            f"{database} has no {', '.join(missing)}: nothing has been loaded there yet. "
            "Run `outbound-events load --provider <key> PATH` first (or "
            "`outbound-events sample` for the bundled sample)."
        )
    _build(database, lambda: dbt.build_loaded(database, loads_per_run), wait)
    _print_summary(database)


@cli.command()
@wait_option
def summary(wait: float) -> None:
    """Print what the marts hold, per provider, and the last build's warnings."""
    if target() == "spark":
        _print_summary(None)
        return
    database = _wait_for_warehouse(wait, read_only=True)
    with duckdb.connect(str(database), read_only=True) as connection:
        [(built,)] = connection.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'marts' and table_name = 'outbound_events'"
        ).fetchall()
    if not built:
        raise click.ClickException(
            f"{database} has no marts yet: nothing has been built there. Run "
            "`outbound-events build` (after `outbound-events load`), or `outbound-events sample`."
        )
    _print_summary(database)


def _print_summary(database: Path | None) -> None:
    """The summary of the DuckDB warehouse, or of the Spark warehouse (a snapshot)."""
    build = _last_build(warehouse_path())
    if target() == "spark":
        with snapshot(SUMMARY_TABLES) as copy:
            print_summary(copy, Console(), build)
    else:
        assert database is not None
        print_summary(database, Console(), build)


def _last_build(database: Path) -> BuildRecord | None:
    """The warnings of the warehouse's last build, as `build` or `sample` kept them."""
    if not database.is_file():
        return None
    with duckdb.connect(str(database), read_only=True) as connection:
        return build_warnings.recorded(connection)


def _build(database: Path, run: Callable[[], None], wait: float) -> None:
    """Run a dbt build, then keep its warnings in the warehouse (for the summary)."""
    started = datetime.now(UTC).replace(tzinfo=None)
    _run_dbt(database, run)
    errors = Console(stderr=True, soft_wrap=True)
    try:
        build = build_warnings.read_build_record(since=started)
    except (OSError, ValueError, KeyError) as error:
        errors.print(f"[yellow]cannot tell the build's warnings:[/] {escape(str(error))}")
        return
    try:
        with connect(database, wait=wait, on_wait=_waiting(errors)) as connection:
            build_warnings.record(connection, build)
    except WarehouseError as error:  # the build is done: say so, do not fail it
        errors.print(f"[yellow]the build's warnings were not kept:[/] {escape(str(error))}")


@cli.command()
@click.argument("table", metavar="SCHEMA.TABLE")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write: .parquet or .csv.",
)
@wait_option
def export(table: str, out: Path, wait: float) -> None:
    """Write one table, such as marts.outbound_events, to a Parquet or CSV file.

    Rows come in the order of the table's key (the columns of its uniqueness test in
    the dbt project; every column, left to right, for a table without one), so two
    exports of equal tables are equal files: the hand-off to BI tools and other teams.
    The file appears whole or not at all.
    """
    try:
        name = TableName.parse(table)
        if target() == "spark":
            with snapshot([str(name)]) as database:
                rows = export_table(database, name, out)
        else:
            rows = export_table(_wait_for_warehouse(wait, read_only=True), name, out)
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"exported {rows:,} rows of {name} to {out}")


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8501,
    show_default=True,
    help="The port to serve on (on 127.0.0.1 only).",
)
def dashboard(port: int) -> None:
    """Serve the funnel dashboard on http://127.0.0.1:PORT until interrupted.

    The funnel per provider, channel and campaign, rates over time, the time to
    first open, top campaigns, rejected records and the load ledger, with filters
    for dates, provider, channel and campaign. It never holds the warehouse: it reads
    the marts through a short read-only connection whenever they have changed, so a
    `load` or `build` can run meanwhile and the page shows its result when done. On
    the spark target it shows a copy of Spark's marts taken when it starts.
    """
    if target() == "spark":
        database = spark_copy(spark_dir() / "dashboard.duckdb")
    else:
        database = _warehouse()
        check_is_duckdb(database)
    click.echo(f"serving the dashboard of {database} on http://127.0.0.1:{port} (Ctrl-C stops)")
    code = serve(database, port)
    if code:
        raise click.ClickException(f"the dashboard stopped (Streamlit exit code {code})")


def _run_dbt(database: Path, run: Callable[[], None]) -> None:
    """Run a dbt command; when it fails because another process took the warehouse
    meanwhile, say so."""
    try:
        run()
    except dbt.DbtCommandError as error:
        try:
            wait_until_free(database)
        except WarehouseInUseError as in_use:
            raise in_use from error
        raise


def main() -> None:
    """The command, with every failure as a message and a non-zero exit code, never
    a traceback (set OUTBOUND_EVENTS_DEBUG=1 to see one for an unexpected error)."""
    errors = Console(stderr=True, soft_wrap=True)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        errors.print("[bold red]interrupted[/]")
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (dbt.DbtCommandError, ProjectNotFoundError, UnknownTargetError, WarehouseError) as error:
        errors.print(f"[bold red]error:[/] {escape(str(error))}")
        sys.exit(1)
    except duckdb.Error as error:
        if os.environ.get(DEBUG_ENV):
            raise
        errors.print(f"[bold red]error:[/] {escape(_warehouse_error(error))}")
        sys.exit(1)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        errors.print(
            f"[bold red]error:[/] unexpected {escape(type(error).__name__)}: {escape(str(error))} "
            f"(set {DEBUG_ENV}=1 for the details)"
        )
        sys.exit(1)


def _warehouse_error(error: duckdb.Error) -> str:
    pid = lock_holder(error)
    if pid is not None:
        return in_use_message(warehouse_path(), pid)
    lines = str(error).strip().splitlines()
    return f"cannot read the warehouse {warehouse_path()}: {lines[0] if lines else error}"


if __name__ == "__main__":
    main()
