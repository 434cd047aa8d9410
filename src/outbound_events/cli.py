"""The `outbound-events` command."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from outbound_events import dbt
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
def build() -> None:
    """Run the dbt build (models and tests) on the data loaded into raw."""
    dbt.build_loaded()
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
