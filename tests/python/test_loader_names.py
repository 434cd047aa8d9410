"""File and folder names are names, never patterns: DuckDB's readers expand `*`, `?`,
`[...]` in a path, so a file named `x[ab].ndjson` would read `xa.ndjson` instead. Each
file with an odd character in its name (or its folder's) loads exactly once, its own
records, beside neighbours that the name read as a pattern would match; so does each
shape of file (gzip, array, document, NDJSON in `.json`, Avro), and a load published
as Parquet under an odd folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from fixtures.loader_files import load, query, record_schema, summary, write_avro, write_text
from outbound_events.loading import publish

# (odd name, neighbours its pattern reading would match or that look alike)
ODD_NAMES = [
    ("x[ab].ndjson", ["xa.ndjson", "xb.ndjson"]),
    ("x[!a].ndjson", ["xb.ndjson", "x!.ndjson"]),
    ("x[].ndjson", ["x.ndjson"]),
    ("x].ndjson", ["x.ndjson"]),
    ("y*.ndjson", ["y.ndjson", "yy.ndjson", "y-z.ndjson"]),
    ("**.ndjson", ["a.ndjson", "b.ndjson"]),
    ("z?.ndjson", ["za.ndjson", "zz.ndjson"]),
    ("w{a,b}.ndjson", ["wa.ndjson", "wb.ndjson"]),
    ("w{a}.ndjson", ["wa.ndjson"]),
    ("v}.ndjson", ["v.ndjson"]),
    ("v,w.ndjson", ["v.ndjson", "w.ndjson"]),
    ("with space.ndjson", ["with.ndjson", "space.ndjson"]),
    ('double"quote.ndjson', ["double.ndjson"]),
    ("it's.ndjson", ["its.ndjson"]),
    ("$HOME.ndjson", ["HOME.ndjson"]),
    ("$(echo).ndjson", ["echo.ndjson"]),
    ("ünïcödé-😀.ndjson", ["unicode.ndjson"]),
    ("-leading-dash.ndjson", ["leading-dash.ndjson"]),
    ("%41%2A.ndjson", ["A*.ndjson", "A.ndjson"]),  # URL-decoded it would be `A*`
    ("back\\slash.ndjson", ["backslash.ndjson"]),
    ("esc\\[a].ndjson", ["esc[a].ndjson", "esca.ndjson"]),
    ("~tilde.ndjson", ["tilde.ndjson"]),
    ("semi;colon&amp|pipe.ndjson", ["semi.ndjson"]),
    ("hash#at@plus+eq=.ndjson", ["hash.ndjson"]),
    ("paren(1)^caret.ndjson", ["paren1.ndjson"]),
    ("tab\there.ndjson", ["tabhere.ndjson"]),
]


def records_of(name: str) -> list[str]:
    """The two lines written into file `name`: each names its file."""
    return [json.dumps({"file": name, "n": n}, ensure_ascii=False) for n in (1, 2)]


def expected_rows(folder: Path, names: list[str]) -> list[tuple[str, int, str]]:
    """What each file of `names` in `folder` must land: its own two lines, once."""
    return [
        (str(folder / name), position, record)
        for name in names
        for position, record in enumerate(records_of(name), start=1)
    ]


def landed(database: Path, table: str = "outbound__events") -> list[tuple[str, int, str]]:
    rows = query(database, f"select source_file, source_position, payload from raw.{table}")
    return sorted(rows)


@pytest.mark.parametrize(
    ("odd", "neighbours"), ODD_NAMES, ids=[repr(name) for name, _ in ODD_NAMES]
)
def test_an_odd_file_name_loads_its_own_records_once(tmp_path, odd, neighbours):
    folder = tmp_path / "export"
    names = [odd, *neighbours]
    for name in names:
        write_text(folder / name, "\n".join(records_of(name)) + "\n")
    database = tmp_path / "warehouse.duckdb"
    result = load(database, "outbound", folder)
    assert result.exit_code == 0, result.output
    expected = expected_rows(folder, names)
    assert landed(database) == sorted(expected)
    assert query(database, "select count(*) from raw.load_rejections") == [(0,)]
    assert summary(result) == (len(names), 2 * len(names), 0, 0)
    # named on the command line instead of found in a folder: the same, once
    again = tmp_path / "again.duckdb"
    assert load(again, "outbound", folder / odd).exit_code == 0
    assert landed(again) == [(str(folder / odd), n, r) for n, r in enumerate(records_of(odd), 1)]


@pytest.mark.parametrize(
    ("odd", "neighbours"),
    [("d[12]", ["d1", "d2"]), ("e*", ["e", "ee"]), ("f?", ["ff"]), ("g{h,i}", ["gh", "gi"])],
)
def test_an_odd_folder_name_is_a_name(tmp_path, odd, neighbours):
    folder = tmp_path / "export"
    folders = [odd, *neighbours]
    for name in folders:
        write_text(folder / name / "events.ndjson", "\n".join(records_of(name)) + "\n")
        write_text(folder / name / "feed.json", "[" + ",".join(records_of(name + "/feed")) + "]")
    database = tmp_path / "warehouse.duckdb"
    result = load(database, "outbound", folder)
    assert result.exit_code == 0, result.output
    expected = []
    for name in folders:
        for file, key in (("events.ndjson", name), ("feed.json", name + "/feed")):
            for position, record in enumerate(records_of(key), start=1):
                expected.append((str(folder / name / file), position, record))
    assert landed(database) == sorted(expected)


SHAPES = {
    # suffix: (content written for the records, gzip)
    ".ndjson.gz": (lambda records: "\n".join(records) + "\n", True),
    ".jsonl": (lambda records: "\r\n".join(records) + "\r\n", False),
    ".json": (lambda records: "[\n" + ",\n".join(records) + "\n]", False),
    "-gz.json": (lambda records: "[" + ",".join(records) + "]", True),
    "-lines.json": (lambda records: "\n".join(records), False),
}


@pytest.mark.parametrize("suffix", SHAPES)
def test_every_shape_of_file_with_an_odd_name(tmp_path, suffix):
    content, gzipped = SHAPES[suffix]
    folder = tmp_path / "export"
    names = [f"x[ab]{suffix}", f"xa{suffix}", f"xb{suffix}", f"y*{suffix}", f"yy{suffix}"]
    for name in names:
        write_text(folder / name, content(records_of(name)), compress=gzipped)
    # and an API body (one record: the whole document)
    body = {"id": "u1", "events": [{"event": "Message Sent"}]}
    for name in ("b[12].json", "b1.json"):
        write_text(folder / name, json.dumps({**body, "file": name}, indent=2))
    database = tmp_path / "warehouse.duckdb"
    result = load(database, "crossengage", folder)
    assert result.exit_code == 0, result.output
    expected = expected_rows(folder, names)
    expected += [
        (str(folder / name), 1, json.dumps({**body, "file": name}, indent=2))
        for name in ("b[12].json", "b1.json")
    ]
    assert landed(database, "crossengage__events") == sorted(expected)


def test_avro_files_with_odd_names(tmp_path):
    folder = tmp_path / "event_type=users.messages.email.Send"
    schema = record_schema("users.messages.email.Send", [("id", "string")])
    names = ["p[01].avro", "p0.avro", "p1.avro", "q*.avro", "qq.avro"]
    for name in names:
        write_avro(folder / name, schema, [{"id": name}])
    database = tmp_path / "warehouse.duckdb"
    result = load(database, "braze", folder)
    assert result.exit_code == 0, result.output
    assert landed(database, "braze__events") == sorted(
        (str(folder / name), 1, '{"id":"' + name + '"}') for name in names
    )


def test_a_load_is_published_as_parquet_under_an_odd_folder(tmp_path):
    root = tmp_path / "spark [1] * ? {a,b}" / "raw"
    with duckdb.connect(str(tmp_path / "landing.duckdb")) as connection:
        connection.execute("create schema raw")
        for table in publish.RAW_TABLES:
            connection.execute(
                f"create table raw.{table} (load_id varchar, loaded_at timestamp, n integer)"
            )
        connection.execute("insert into raw.outbound__events values ('l1', '2024-01-01', 1)")
        connection.execute("insert into raw.outbound__events values ('l2', '2024-01-02', 2)")
        paths = publish.publish_load(connection, "l1", root)
        publish.reconcile(connection, root)  # publishes l2, keeps l1
    folder = root / "outbound__events"
    assert paths == [folder / "l1.parquet"]
    assert sorted(path.name for path in folder.iterdir()) == ["l1.parquet", "l2.parquet"]
    # read back from the bytes (no reader sees the folder's name as a pattern)
    table = pq.read_table(io.BytesIO((folder / "l1.parquet").read_bytes()))
    assert table.column("load_id").to_pylist() == ["l1"]
    assert table.column("n").to_pylist() == [1]
