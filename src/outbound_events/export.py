"""`outbound-events export`: one table of the warehouse to a Parquet or CSV file, its
rows in the order of the table's key (the columns of its `unique` or
`unique_combination` test in the dbt project; every column for a table without one),
so that two exports of equal tables are equal files."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from outbound_events import dbt
from outbound_events.project import project_dir

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FORMATS = {".parquet": "parquet", ".csv": "csv"}
KEY_TESTS = {"unique", "unique_combination"}


class ExportError(ValueError):
    """The table or the output file cannot be exported as asked."""


@dataclass(frozen=True)
class TableName:
    schema: str
    table: str

    @classmethod
    def parse(cls, name: str) -> TableName:
        parts = name.split(".")
        if len(parts) != 2 or not all(IDENTIFIER.fullmatch(part) for part in parts):
            raise ExportError(f"{name!r} is not <schema>.<table> (e.g. marts.outbound_events)")
        return cls(parts[0].lower(), parts[1].lower())

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"


def output_format(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ExportError(f"{out}: the file name must end in .parquet or .csv")
    return fmt


def declared_keys() -> dict[TableName, list[str]]:
    """Key columns per relation, from the uniqueness tests of the dbt manifest (written
    by `dbt parse` when there is none yet)."""
    manifest_path = project_dir() / "target" / "manifest.json"
    if not manifest_path.is_file():
        dbt.run_dbt(["parse", "--quiet"])
    manifest = json.loads(manifest_path.read_text())
    relations = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    keys: dict[TableName, list[str]] = {}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        attached = relations.get(node.get("attached_node") or "")
        if metadata.get("name") not in KEY_TESTS or attached is None:
            continue
        kwargs = metadata.get("kwargs", {})
        columns = kwargs.get("columns") or [kwargs.get("column_name")]
        if not all(isinstance(column, str) for column in columns):
            continue
        name = TableName(
            str(attached["schema"]).lower(),
            str(attached.get("alias") or attached.get("identifier") or attached["name"]).lower(),
        )
        candidate = [column.lower() for column in columns]
        # several uniqueness tests: the narrowest key, then the first by name
        if name not in keys or (len(candidate), candidate) < (len(keys[name]), keys[name]):
            keys[name] = candidate
    return keys


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def export_table(database: Path, name: TableName, out: Path) -> int:
    """Write the table to `out` (.parquet or .csv) in key order; the number of rows.
    The file appears whole or not at all (written beside it, then renamed)."""
    fmt = output_format(out)
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = [
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns"
                " where lower(table_schema) = ? and lower(table_name) = ?"
                " order by ordinal_position",
                [name.schema, name.table],
            ).fetchall()
        ]
        if not columns:
            raise ExportError(f"the warehouse {database} has no table {name}")
        key = declared_keys().get(name) or [column.lower() for column in columns]
        by_name = {column.lower(): column for column in columns}
        missing = [column for column in key if column not in by_name]
        if missing:
            raise ExportError(f"{name} has no column {', '.join(missing)} of its declared key")
        order = ", ".join(_quoted(by_name[column]) for column in key)
        source = f"{_quoted(name.schema)}.{_quoted(name.table)}"
        rows = connection.execute(f"select count(*) from {source}").fetchall()[0][0]
        relation = connection.sql(f"select * from {source} order by {order}")
        partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
        try:
            if fmt == "parquet":
                relation.write_parquet(str(partial))
            else:
                relation.write_csv(str(partial), header=True)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    return int(rows)
