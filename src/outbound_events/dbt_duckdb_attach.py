"""A dbt-duckdb plugin (profiles.yml, duckdb target) that gives the warehouse file one
fixed database name, whatever the file is called.

DuckDB names a database file's catalog after the file (`/data/loader.duckdb` is
`loader`), and dbt writes that name into every relation it compiles, MetricFlow's
target/semantic_manifest.json included: `mf query` on another file would then ask
for `loader.marts.message_lifecycle`. So the profile opens an in-memory database and
attaches the warehouse file under the alias `warehouse` (profile `attach`, `database`).

dbt-duckdb runs the profile's ATTACH once, without retrying, while another process
holds the file (a dashboard's read of a moment): this plugin runs the same ATTACH
first, retrying as the profile's `retries.connect_attempts` says (1, 2, 4 s apart),
which makes dbt-duckdb's own `ATTACH IF NOT EXISTS` a no-op. It also makes the
warehouse the default database of every cursor, so that unqualified names in macros
(`create schema if not exists intermediate`) land in the file, not in memory.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

# What DuckDB says when another process holds the file.
LOCK_CONFLICT = "lock"


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.attempts = 1
        if self.creds is not None and self.creds.retries is not None:
            self.attempts = max(1, int(self.creds.retries.connect_attempts))

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        if self.creds is None:
            return
        for attachment in self.creds.attach or []:
            self._attach(conn, attachment.to_sql())

    def _attach(self, conn: duckdb.DuckDBPyConnection, statement: str) -> None:
        """Run `statement` (an ATTACH); while the file is locked by another process,
        try again after 1, 2, 4, ... seconds, up to `attempts` tries in all."""
        for attempt in range(self.attempts):
            try:
                conn.execute(statement)
                return
            except duckdb.IOException as error:
                if LOCK_CONFLICT not in str(error).lower() or attempt + 1 >= self.attempts:
                    raise
                time.sleep(2**attempt)

    def configure_cursor(self, cursor: Any) -> None:
        if self.creds is not None and self.creds.database:
            cursor.execute(f"use {_quoted(self.creds.database)}")
