"""`outbound-events load` for the JSON providers: every shape lands as the raw layer
expects it (one row per top-level record, its text as it arrived, physical position),
and files that cannot be read are listed in raw.load_rejections."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.loader_files import load, query, write_text
from outbound_events.loading.json_files import choose_shape

FEED_ELEMENTS = [
    '{"id": "ce_u1", "event": "Message Sent", "timestamp": "2024-03-05T09:00:00Z"}',
    '{"id": "ce_u1", "event": "Message Delivered",\n    "timestamp": "2024-03-05T09:00:03Z"}',
    '{"id": "ce_u2", "event": "Message Viewed", "timestamp": "2024-03-05"}',
]
API_BODY = """{
  "id": "ce_u3",
  "events": [
    {"event": "Message Sent", "timestamp": "2024-03-05T09:00:00Z"},
    {"event": "Message Clicked", "timestamp": "2024-03-05T09:20:00Z",
     "properties": {"url": "https://example.com/a?b=\\"c\\"&d=\\\\e"}}
  ]
}"""
# The CrossEngage documentation's own API example: commas missing after "timestamp".
DOC_EXAMPLE = """{
   "id": "ABC12345",
   "events": [{
           "event": "Message Sent",
           "timestamp": "2022-01-11T00:00:00Z"
          "properties": {
               "channel": "Email",
               "type": "Newsletter"
           }},
       {
           "event": "Message Delivered",
           "timestamp": "2022-01-11T00:00:00Z"
          "properties": {
               "channel": "Email",
               "type": "Newsletter"
           }}]}"""
NDJSON_LINES = [
    '{"id":"u1","event":"Message Sent","timestamp":"2024-03-05T09:00:00Z"}',
    "",
    '{"id":"u1","event":"Clicked","url":"https://x.test/?q=\\"a\\"&b=\\\\c","note":"ünï ✓ 😀"}',
    '{"id": "u2", "event": broken',
    "[1, 2, 3]",
    '"just a string"',
    "   ",
    '\t{"id":"u3","event":"Message Sent","delim":"a,b;c|d"}  ',
]


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def landed(database: Path, table: str = "crossengage__events") -> list[tuple[str, int, str]]:
    """(file name, position, payload) of every raw row, by file and position."""
    rows = query(database, f"select source_file, source_position, payload from raw.{table}")
    return sorted((Path(file).name, position, payload) for file, position, payload in rows)


def rejections(database: Path) -> list[tuple[str, str, int, str, str]]:
    rows = query(
        database,
        "select provider, source_file, source_position, rejection_reason, raw_text "
        "from raw.load_rejections",
    )
    return sorted((p, Path(f).name, position, r, text) for p, f, position, r, text in rows)


def test_a_json_array_lands_one_row_per_element_with_its_text(tmp_path, database):
    feed = write_text(tmp_path / "feed.json", "[\n  " + ",\n  ".join(FEED_ELEMENTS) + "\n]\n")
    result = load(database, "crossengage", feed)
    assert result.exit_code == 0, result.output
    assert landed(database) == [
        ("feed.json", 1, FEED_ELEMENTS[0]),
        ("feed.json", 2, FEED_ELEMENTS[1]),
        ("feed.json", 3, FEED_ELEMENTS[2]),
    ]
    lineage = query(
        database, "select distinct source_file, load_id, loaded_at from raw.crossengage__events"
    )
    assert len(lineage) == 1
    source_file, load_id, loaded_at = lineage[0]
    assert source_file == str(feed)
    assert load_id.startswith("load-") and loaded_at is not None
    assert f"(load id {load_id})" in result.output


def test_an_api_body_is_one_row_and_a_broken_one_too(tmp_path, database):
    write_text(tmp_path / "api" / "body.json", API_BODY + "\n")
    write_text(tmp_path / "api" / "doc-example.json", "\n" + DOC_EXAMPLE + "\n\n")
    result = load(database, "crossengage", tmp_path / "api")
    assert result.exit_code == 0, result.output
    assert landed(database) == [
        ("body.json", 1, API_BODY),
        ("doc-example.json", 1, DOC_EXAMPLE),
    ]
    assert rejections(database) == []


def test_ndjson_lines_land_as_they_are_at_their_line_numbers(tmp_path, database):
    write_text(tmp_path / "events.ndjson", "\n".join(NDJSON_LINES) + "\n")
    write_text(tmp_path / "events-crlf.jsonl", "\r\n".join(NDJSON_LINES[:3]) + "\r\n")
    result = load(database, "crossengage", tmp_path)
    assert result.exit_code == 0, result.output
    # blank lines (2, 7) are skipped but counted; broken lines, arrays and strings land
    assert landed(database) == [
        ("events-crlf.jsonl", 1, NDJSON_LINES[0]),
        ("events-crlf.jsonl", 3, NDJSON_LINES[2]),
        ("events.ndjson", 1, NDJSON_LINES[0]),
        ("events.ndjson", 3, NDJSON_LINES[2]),
        ("events.ndjson", 4, NDJSON_LINES[3]),
        ("events.ndjson", 5, NDJSON_LINES[4]),
        ("events.ndjson", 6, NDJSON_LINES[5]),
        ("events.ndjson", 8, NDJSON_LINES[7]),
    ]
    assert result.output.startswith("crossengage: 2 files loaded, 8 records landed, 0 rejected, ")


def test_gzipped_files_of_every_shape(tmp_path, database):
    write_text(tmp_path / "a.ndjson.gz", "\n".join(NDJSON_LINES[:3]), compress=True)
    write_text(tmp_path / "b.json.gz", "[" + ",".join(FEED_ELEMENTS[:2]) + "]", compress=True)
    write_text(tmp_path / "c.jsonl.gz", NDJSON_LINES[5] + "\n", compress=True)
    write_text(tmp_path / "d.json.gz", API_BODY, compress=True)
    # gzipped though not named so: told by its first bytes
    write_text(tmp_path / "e.json", "[" + FEED_ELEMENTS[2] + "]", compress=True)
    result = load(database, "activatepro", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database, "activatepro__events") == [
        ("a.ndjson.gz", 1, NDJSON_LINES[0]),
        ("a.ndjson.gz", 3, NDJSON_LINES[2]),
        ("b.json.gz", 1, FEED_ELEMENTS[0]),
        ("b.json.gz", 2, FEED_ELEMENTS[1]),
        ("c.jsonl.gz", 1, NDJSON_LINES[5]),
        ("d.json.gz", 1, API_BODY),
        ("e.json", 1, FEED_ELEMENTS[2]),
    ]


def test_a_json_file_holding_ndjson_lands_line_by_line(tmp_path, database):
    # 3 of 4 non-blank lines are JSON on their own: NDJSON, even with a broken line
    lines = ['{"event":"a"}', '{"event": broken', "", '{"event":"b"}', '["x"]']
    write_text(tmp_path / "feed-lines.json", "\n".join(lines))
    # starts with [ but is not one array: NDJSON of arrays and objects
    write_text(tmp_path / "arrays.json", '["a", 1]\n{"event":"c"}\n')
    result = load(database, "outbound", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database, "outbound__events") == [
        ("arrays.json", 1, '["a", 1]'),
        ("arrays.json", 2, '{"event":"c"}'),
        ("feed-lines.json", 1, lines[0]),
        ("feed-lines.json", 2, lines[1]),
        ("feed-lines.json", 4, lines[3]),
        ("feed-lines.json", 5, lines[4]),
    ]


def test_bytes_duckdb_cannot_read_as_lines_are_split_in_python(tmp_path, database):
    content = b'{"a":"x\x01y"}\n\n{"b":"\xff\xfe"}\r\n' + b'{"c":"' + b"z" * 3_000_000 + b'"}\n'
    write_text(tmp_path / "odd.ndjson", content)
    result = load(database, "customerio", tmp_path / "odd.ndjson")
    assert result.exit_code == 0, result.output
    assert landed(database, "customerio__events") == [
        ("odd.ndjson", 1, '{"a":"x\x01y"}'),
        ("odd.ndjson", 4, '{"c":"' + "z" * 3_000_000 + '"}'),
    ]
    # the line that is not UTF-8 is rejected by the loader, naming the byte: {"b":" is
    # 6 bytes, so 0xff is the 7th
    assert rejections(database) == [
        ("customerio", "odd.ndjson", 3, "not_utf8",
         'not UTF-8 at byte 7 of the line (0xff): {"b":"\\xff\\xfe"}'),
    ]  # fmt: skip
    assert result.output.startswith("customerio: 1 file loaded, 2 records landed, 1 rejected, ")


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path, database):
    write_text(tmp_path / "bom.json", "\ufeff[" + FEED_ELEMENTS[0] + "]")
    write_text(tmp_path / "bom.ndjson", "\ufeff" + NDJSON_LINES[0] + "\n")
    assert load(database, "crossengage", tmp_path).exit_code == 0
    assert landed(database) == [
        ("bom.json", 1, FEED_ELEMENTS[0]),
        ("bom.ndjson", 1, NDJSON_LINES[0]),
    ]


def test_files_that_cannot_be_read_are_rejected_with_a_reason(tmp_path, database):
    write_text(tmp_path / "empty.json", "")
    write_text(tmp_path / "blank.ndjson", " \n\n\t\n")
    write_text(tmp_path / "bad-array.json", '[{"a": 1} {"b": 2}]')
    write_text(tmp_path / "prose.json", "hello\nworld\n")
    write_text(tmp_path / "not-gzip.ndjson.gz", '{"a": 1}\n')
    cut = write_text(tmp_path / "cut.ndjson.gz", "\n".join(NDJSON_LINES * 50), compress=True)
    cut.write_bytes(cut.read_bytes()[:40])
    # cut far into the stream: the first megabytes decompress, then the stream ends
    many = "\n".join(f'{{"id":"u{n}","n":{n * 7919 % 100003}}}' for n in range(150_000))
    cut_late = write_text(tmp_path / "cut-late.ndjson.gz", many, compress=True)
    cut_late.write_bytes(cut_late.read_bytes()[: cut_late.stat().st_size * 9 // 10])
    result = load(database, "crossengage", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database) == []
    found = rejections(database)
    assert [(name, position, reason) for _, name, position, reason, _ in found] == [
        ("bad-array.json", 1, "invalid_json_file"),
        ("blank.ndjson", 1, "empty_file"),
        ("cut-late.ndjson.gz", 1, "unreadable_file"),
        ("cut.ndjson.gz", 1, "unreadable_file"),
        ("empty.json", 1, "empty_file"),
        ("not-gzip.ndjson.gz", 1, "unreadable_file"),
        ("prose.json", 1, "invalid_json_file"),
    ]
    raw_texts = {name: text for _, name, _, _, text in found}
    assert raw_texts["bad-array.json"] == '[{"a": 1} {"b": 2}]'
    assert raw_texts["prose.json"] == "hello\nworld\n"
    assert raw_texts["empty.json"] == ""
    assert "gzip" in raw_texts["not-gzip.ndjson.gz"].lower()
    assert result.output.startswith("crossengage: 7 files loaded, 0 records landed, 7 rejected, ")


def test_an_invalid_json_file_keeps_only_its_first_2000_characters(tmp_path, database):
    write_text(tmp_path / "big.json", "x" * 5000)
    assert load(database, "crossengage", tmp_path).exit_code == 0
    assert query(database, "select length(raw_text) from raw.load_rejections") == [(2000,)]


def test_folders_are_walked_for_json_files_only(tmp_path, database):
    write_text(tmp_path / "a" / "b" / "deep.jsonl", NDJSON_LINES[0])
    write_text(tmp_path / "a" / "notes.txt", "not an export")
    write_text(tmp_path / "a" / ".hidden.json", NDJSON_LINES[0])
    write_text(tmp_path / "a" / "UPPER.JSON", NDJSON_LINES[2])
    result = load(database, "crossengage", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert [name for name, _, _ in landed(database)] == ["UPPER.JSON", "deep.jsonl"]


@pytest.mark.parametrize(
    ("head", "non_blank", "valid", "shape"),
    [
        ("{", 1, 1, "lines"),
        ("{", 1, 0, "document"),
        ("{", 2, 1, "lines"),
        ("{", 5, 1, "document"),
        ("[", 3, 0, "invalid"),
        ("h", 2, 0, "invalid"),
        ('"', 1, 1, "lines"),
    ],
)
def test_how_a_json_file_that_is_not_an_array_lands(head, non_blank, valid, shape):
    assert choose_shape(head, non_blank, valid) == shape
