"""A bad byte costs its record, not its file: a NUL byte (or bytes that are not UTF-8)
in one NDJSON line rejects that line alone; NUL padding at the end of a file (what a
writer that stopped leaves) is no record, the records before it land and the padding
is one `not_json` rejection saying so. A file that is binary through and through is
still rejected whole. Every expected position and byte offset below is counted by
hand from the bytes written."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from fixtures.loader_files import load, query, rejected, run_cli, summary, write_text

MIB = 1024 * 1024
L1, L2, L3 = b'{"n":1}', b'{"n":2}', b'{"n":3}'  # 7 bytes each, 8 with their line feed
THREE = L1 + b"\n" + L2 + b"\n" + L3 + b"\n"  # 24 bytes


def padding_text(size: int, first_byte: int) -> str:
    return (
        f"NUL padding at the end of the file: {size} bytes from byte {first_byte} on, only "
        "NUL bytes and whitespace (what a writer that stopped leaves); no record in it"
    )


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def landed(database: Path) -> list[tuple[str, int, str]]:
    rows = query(database, "select source_file, source_position, payload from raw.outbound__events")
    return sorted((Path(file).name, position, payload) for file, position, payload in rows)


def balanced(database: Path) -> None:
    """raw.loaded_files counts exactly the rows each file has in raw (the ledger's
    input): landed rows and rejections."""
    assert (
        query(
            database,
            """
        select files.source_file
        from raw.loaded_files as files
        where files.records_landed != (select count(*) from raw.outbound__events as e
                                       where e.source_file = files.source_file)
           or files.records_rejected != (select count(*) from raw.load_rejections as r
                                         where r.source_file = files.source_file)
        """,
        )
        == []
    )


# ------------------------------------------------------------ a NUL inside a line


@pytest.mark.parametrize("how", ["duckdb", "python", "gzip"])
def test_a_nul_byte_rejects_only_its_line(tmp_path, database, how):
    lines = [L1, b'{"b":"x\x00y"}', b"", L3]  # `{"b":"x` is 7 bytes: the NUL is byte 8
    if how == "python":  # \x01 is read_csv's delimiter: DuckDB refuses, Python splits
        lines.append(b'{"d":"\x01"}')
    content = b"\n".join(lines) + b"\n"
    write_text(tmp_path / "nul.ndjson", gzip.compress(content) if how == "gzip" else content)
    result = load(database, "outbound", tmp_path / "nul.ndjson")
    assert result.exit_code == 0, result.output
    expected = [("nul.ndjson", 1, '{"n":1}'), ("nul.ndjson", 4, '{"n":3}')]
    if how == "python":
        expected.append(("nul.ndjson", 5, '{"d":"\x01"}'))
    assert landed(database) == expected
    assert rejected(database) == [
        ("nul.ndjson", 2, "not_json", 'not JSON: a NUL byte at byte 8 of the line: {"b":"x\\x00y"}')
    ]
    balanced(database)


def test_a_nul_block_in_the_middle_is_one_bad_line_not_padding(tmp_path, database):
    write_text(tmp_path / "hole.ndjson", L1 + b"\n" + b"\x00" * 16 + b"\n" + L3 + b"\n")
    assert load(database, "outbound", tmp_path / "hole.ndjson").exit_code == 0
    assert landed(database) == [("hole.ndjson", 1, '{"n":1}'), ("hole.ndjson", 3, '{"n":3}')]
    assert rejected(database) == [
        (
            "hole.ndjson",
            2,
            "not_json",
            "not JSON: a NUL byte at byte 1 of the line: " + "\\x00" * 16,
        )
    ]


def test_a_line_that_is_not_utf8_beside_a_nul_line(tmp_path, database):
    # Latin-1 `ü` (0xfc) in line 1: `{"name":"` is 9 bytes, so 0xfc is byte 10;
    # in line 2 a NUL before a bad byte: the first bad byte names the reason
    lines = ['{"name":"ü"}'.encode("latin-1"), b'{"a":"\x00\xff"}', L3]
    write_text(tmp_path / "mixed.ndjson", b"\n".join(lines))
    assert load(database, "outbound", tmp_path / "mixed.ndjson").exit_code == 0
    assert landed(database) == [("mixed.ndjson", 3, '{"n":3}')]
    assert rejected(database) == [
        ("mixed.ndjson", 1, "not_utf8",
         'not UTF-8 at byte 10 of the line (0xfc): {"name":"\\xfc"}'),
        ("mixed.ndjson", 2, "not_json",
         'not JSON: a NUL byte at byte 7 of the line: {"a":"\\x00\\xff"}'),
    ]  # fmt: skip


def test_a_nul_byte_in_an_api_body_rejects_that_body(tmp_path, database):
    # the body is one record: `{"id":"u1",` and its line feed are 12 bytes,
    # `"events":[{"n":"` 16 more: the NUL is byte 29
    body = b'{"id":"u1",\n"events":[{"n":"\x00"}]}'
    write_text(tmp_path / "body.json", body)
    write_text(tmp_path / "other.json", b'{"id":"u2","events":[]}')
    assert load(database, "outbound", tmp_path).exit_code == 0
    assert landed(database) == [("other.json", 1, '{"id":"u2","events":[]}')]
    assert rejected(database) == [
        ("body.json", 1, "not_json",
         'not JSON: a NUL byte at byte 29: {"id":"u1",\n"events":[{"n":"\\x00"}]}'),
    ]  # fmt: skip


# ------------------------------------------------------------- padding at the end

# name: (content, landed (position, payload), the padding's position, size, first byte)
PADDED = {
    # three lines and 4 KiB of NULs: the padding is line 4, from byte 25
    "after-three-lines.ndjson": (THREE + b"\x00" * 4096, [1, 2, 3], 4, 4096, 25),
    # the last line's ending never written: padding from byte 24, after line 3
    "no-line-feed.ndjson": (THREE[:-1] + b"\x00" * 4096, [1, 2, 3], 4, 4096, 24),
    # NULs mixed with line feeds and spaces: 10 + 1 + 10 + 2 bytes
    "with-whitespace.ndjson": (THREE + b"\x00" * 10 + b"\n" + b"\x00" * 10 + b" \n",
                               [1, 2, 3], 4, 23, 25),
    # 3 MiB of NULs: one 'line' longer than DuckDB's line reader takes (split in Python)
    "long-padding.ndjson": (THREE + b"\x00" * (3 * MIB), [1, 2, 3], 4, 3 * MIB, 25),
    # blank lines before the padding are counted: lines 4 and 5 are blank
    "blank-lines-before.ndjson": (THREE + b"\n  \n" + b"\x00" * 8, [1, 2, 3], 6, 8, 29),
    # a line holding a NUL before the padding: rejected alone (line 2); 8 + 10 + 8
    # bytes before the padding
    "nul-line-and-padding.ndjson": (L1 + b"\n" + b'{"b":"\x00"}\n' + L3 + b"\n" + b"\x00" * 64,
                                    [1, 3], 4, 64, 27),
}  # fmt: skip
PAYLOADS = {1: '{"n":1}', 2: '{"n":2}', 3: '{"n":3}'}


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", PADDED)
def test_nul_padding_at_the_end_is_no_record(tmp_path, database, name, gzipped):
    content, kept, position, size, first_byte = PADDED[name]
    file = name + (".gz" if gzipped else "")
    write_text(tmp_path / file, gzip.compress(content) if gzipped else content)
    result = load(database, "outbound", tmp_path / file)
    assert result.exit_code == 0, result.output
    assert landed(database) == [(file, n, PAYLOADS[n]) for n in kept]
    found = rejected(database)
    assert found[-1] == (file, position, "not_json", padding_text(size, first_byte))
    if name == "nul-line-and-padding.ndjson":  # `{"b":"` is 6 bytes
        assert found[:-1] == [
            (file, 2, "not_json", 'not JSON: a NUL byte at byte 7 of the line: {"b":"\\x00"}')
        ]
    else:
        assert len(found) == 1
    assert summary(result) == (1, len(kept), len(found), 0)
    balanced(database)


def test_a_last_line_cut_by_the_padding_lands_as_written(tmp_path, database):
    # `{"n":` was written, then the writer stopped: the text lands (staging rejects it
    # as invalid_json) and the padding is after it, at position 3, from byte 14
    write_text(tmp_path / "cut.ndjson", L1 + b'\n{"n":' + b"\x00" * 100)
    assert load(database, "outbound", tmp_path / "cut.ndjson").exit_code == 0
    assert landed(database) == [("cut.ndjson", 1, '{"n":1}'), ("cut.ndjson", 2, '{"n":')]
    assert rejected(database) == [("cut.ndjson", 3, "not_json", padding_text(100, 14))]


def test_a_file_of_nothing_but_nul_bytes_is_padding_alone(tmp_path, database):
    write_text(tmp_path / "zeros.ndjson", b"\x00" * 4096)
    assert load(database, "outbound", tmp_path / "zeros.ndjson").exit_code == 0
    assert landed(database) == []
    assert rejected(database) == [("zeros.ndjson", 1, "not_json", padding_text(4096, 1))]


def test_padding_after_a_json_array_and_after_a_document(tmp_path, database):
    # `[{"n":1},{"n":2}]` is 17 bytes, the line feed the 18th: padding from byte 19,
    # after element 2
    write_text(tmp_path / "feed.json", b'[{"n":1},{"n":2}]\n' + b"\x00" * 100)
    # pretty-printed: 4 lines, 2 elements
    write_text(tmp_path / "pretty.json", b'[\n  {"n":1},\n  {"n":2}\n]' + b"\x00" * 50)
    # an API body: the document is position 1, the padding 2; the body is 28 bytes
    body = b'{"id":"u1","events":[{"n":1}]}'
    write_text(tmp_path / "body.json", body + b"\n" + b"\x00" * 30)
    result = load(database, "outbound", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database) == [
        ("body.json", 1, body.decode()),
        ("feed.json", 1, '{"n":1}'),
        ("feed.json", 2, '{"n":2}'),
        ("pretty.json", 1, '{"n":1}'),
        ("pretty.json", 2, '{"n":2}'),
    ]
    assert rejected(database) == [
        ("body.json", 2, "not_json", padding_text(30, 32)),
        ("feed.json", 3, "not_json", padding_text(100, 19)),
        ("pretty.json", 3, "not_json", padding_text(50, 25)),
    ]
    balanced(database)


def test_a_line_that_is_not_utf8_before_the_padding(tmp_path, database):
    latin1 = '{"name":"ü"}'.encode("latin-1")  # 12 bytes; 8 + 13 = 21 before the padding
    write_text(tmp_path / "latin.ndjson", L1 + b"\n" + latin1 + b"\n" + b"\x00" * 10)
    assert load(database, "outbound", tmp_path / "latin.ndjson").exit_code == 0
    assert landed(database) == [("latin.ndjson", 1, '{"n":1}')]
    assert rejected(database) == [
        ("latin.ndjson", 2, "not_utf8",
         'not UTF-8 at byte 10 of the line (0xfc): {"name":"\\xfc"}'),
        ("latin.ndjson", 3, "not_json", padding_text(10, 22)),
    ]  # fmt: skip


# ------------------------------------------------------- binary files stay whole


def test_binary_files_are_still_rejected_whole(tmp_path, database):
    write_text(tmp_path / "blob.ndjson", b"\x00\x01\x02\x03" * 256)
    # binary, and ending in NULs: one rejection, not a padding besides
    write_text(tmp_path / "blob-padded.ndjson", b"\x01\x00\x02\x00\x03\xff" * 100 + b"\x00" * 1024)
    # lines of binary: fewer than half of them free of control bytes
    write_text(tmp_path / "lines.ndjson", b"\x05\x00\x06\n\x07\x08\x00\n" + L1 + b"\n")
    result = load(database, "outbound", tmp_path)
    assert result.exit_code == 0, result.output
    assert landed(database) == []
    binary = "not JSON: binary content (a NUL byte at byte {})"
    assert rejected(database) == [
        ("blob-padded.ndjson", 1, "not_json", binary.format(2)),
        ("blob.ndjson", 1, "not_json", binary.format(1)),
        ("lines.ndjson", 1, "not_json", binary.format(2)),
    ]


# ------------------------------------------------------ through the build: balanced


def event(name: str, n: int) -> bytes:
    return (
        f'{{"user_id":"u{n}","event":"{name} {n}","timestamp":"2024-03-05T09:00:0{n}Z"}}'.encode()
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    export = tmp_path_factory.mktemp("export")
    write_text(export / "good.ndjson", event("good", 1) + b"\n" + event("good", 2) + b"\n")
    write_text(export / "nul.ndjson", event("nul", 1) + b'\n{"a":"\x00"}\n' + event("nul", 3))
    write_text(
        export / "padded.ndjson",
        b"\n".join(event("padded", n) for n in (1, 2, 3)) + b"\n" + b"\x00" * 4096,
    )
    # the writer stopped inside line 2: its start lands (and is invalid JSON)
    write_text(export / "cut.ndjson", event("cut", 1) + b'\n{"user_id":' + b"\x00" * 512)
    write_text(export / "zeros.ndjson", b"\x00" * 4096)
    database = tmp_path_factory.mktemp("warehouse") / "bytes.duckdb"
    for command in (["load", "-p", "outbound", str(export)], ["build"]):
        completed = run_cli(database, *command, timeout=600)
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return database


def test_bad_bytes_and_padding_keep_the_ledger_balanced(built):
    # raw: good 2, nul 2 (lines 1 and 3), padded 3, cut 2 = 9 records; loader
    # rejections: nul line 2, the padding of padded, cut and zeros = 4; the cut line
    # is invalid JSON: 8 events, 5 rejected, 13 in
    assert query(
        built,
        "select raw_records, file_rejections, records_in, events_out, duplicates_removed, "
        "rejected, is_balanced from marts.load_ledger",
    ) == [(9, 4, 13, 8, 0, 5, True)]
    rows = query(
        built,
        "select source_file, source_position, rejection_reason from marts.rejected_events",
    )
    assert sorted((Path(file).name, position, reason) for file, position, reason in rows) == [
        ("cut.ndjson", 2, "invalid_json"),
        ("cut.ndjson", 3, "not_json"),
        ("nul.ndjson", 2, "not_json"),
        ("padded.ndjson", 4, "not_json"),
        ("zeros.ndjson", 1, "not_json"),
    ]
    assert query(
        built, "select count(*) = count(distinct rejected_event_id) from marts.rejected_events"
    ) == [(True,)]
