"""The `outbound-events` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from outbound_events import dbt, loading
from outbound_events.load_progress import file_progress
from outbound_events.loading.warehouse import missing_tables
from outbound_events.project import ProjectNotFoundError, warehouse_path
from outbound_events.summary import print_summary


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="outbound-events")
def cli() -> None:
    """Turn messaging platforms' raw engagement exports into marts.outbound_events.

    The warehouse is the DuckDB file $OUTBOUND_EVENTS_DB (default: warehouse.duckdb
    at the project root).
    """


@cli.command()
def sample() -> None:
    """Build everything on the bundled sample and print a summary.

    Loads seeds/sample into the raw schema (replacing what is there), runs
    `dbt build` (models, schema tests, unit tests) and prints what it built.
    """
    dbt.build_sample()
    print_summary(warehouse_path(), Console())


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
def load(provider: str, paths: tuple[Path, ...]) -> None:
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

    Then run `outbound-events build`.
    """
    chosen = loading.provider_for(provider.lower())
    errors = Console(stderr=True)
    try:
        files = loading.files_to_load(chosen, paths)
        if not files:
            looked_for = ", ".join(chosen.suffixes)
            errors.print(f"[yellow]no {chosen.key} files found[/] (looked for {looked_for})")
        with file_progress(errors, len(files)) as advance:
            summary = loading.load_files(chosen, files, warehouse_path(), on_file_done=advance)
    except (loading.LoadFailedError, loading.PathNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(summary.line())


@cli.command()
def build() -> None:
    """Run the dbt build (models and tests) on the data loaded into raw."""
    database = warehouse_path()
    missing = missing_tables(database)
    if missing:
        raise click.ClickException(
            f"{database} has no {', '.join(missing)}: nothing has been loaded there yet. "
            "Run `outbound-events load --provider <key> PATH` first (or "
            "`outbound-events sample` for the bundled sample)."
        )
    dbt.build_loaded(database)
    print_summary(warehouse_path(), Console())


@cli.command()
def summary() -> None:
    """Print what the marts hold, per provider."""
    print_summary(warehouse_path(), Console())


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (dbt.DbtCommandError, ProjectNotFoundError) as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
