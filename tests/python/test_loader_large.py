"""Records too large, and large files: a record over the limit (16 MiB by default,
OUTBOUND_EVENTS_MAX_RECORD_BYTES) is rejected as record_too_large with its position
and the start of its text, and everything around it lands; memory stays bounded
(measured in the child process that loads)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from fixtures.loader_files import (
    load,
    peak_rss_mib,
    query,
    record_schema,
    run_cli,
    summary,
    write_avro,
    write_text,
)

MIB = 1024 * 1024


@pytest.fixture()
def database(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def blob_record(name: str, fill: str, size: int) -> str:
    """`{"id":"<name>","blob":"<fill * size>"}`"""
    return f'{{"id":"{name}","blob":"{fill * size}"}}'


def start_of(text: str) -> str:
    return text[:500]


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def landed_digests(database: Path, table: str) -> list[tuple[int, int, str]]:
    return query(
        database,
        f"select source_position, strlen(payload), md5(payload) from raw.{table} order by 1",
    )


def positioned(database: Path, table: str) -> list[tuple[int, str]]:
    return query(database, f"select source_position, payload from raw.{table} order by 1")


def rejections(database: Path) -> list[tuple[int, str, str]]:
    return query(
        database,
        "select source_position, rejection_reason, raw_text from raw.load_rejections order by 1",
    )


def test_ndjson_lines_of_1_15_20_and_60_mb(tmp_path, database):
    lines = {
        1: '{"n":1}',
        2: blob_record("r1", "a", 1_000_000),
        3: '{"n":3}',
        4: blob_record("r20", "b", 20_000_000),
        5: "",
        6: '{"n":6}',
        7: blob_record("r60", "c", 60_000_000),
        8: '{"n":8}',
        9: blob_record("r15", "d", 15_000_000),  # 15,000,025 bytes: under 16 MiB
        10: '{"n":10}',
    }
    write_text(tmp_path / "big.ndjson", "\n".join(lines.values()) + "\n")
    completed = run_cli(database, "load", "-p", "customerio", tmp_path / "big.ndjson")
    assert completed.returncode == 0, completed.stderr
    kept = [1, 2, 3, 6, 8, 9, 10]
    assert landed_digests(database, "customerio__events") == [
        (n, len(lines[n]), md5(lines[n])) for n in kept
    ]
    assert rejections(database) == [
        (4, "record_too_large", start_of(lines[4])),
        (7, "record_too_large", start_of(lines[7])),
    ]
    assert summary(completed.stdout) == (1, 7, 2, 0)
    rss = peak_rss_mib(completed)
    print(f"peak RSS, NDJSON with 1/15/20/60 MB lines: {rss:.0f} MiB")
    assert rss < 700


def test_a_60_mb_json_array_of_small_elements_lands_whole(tmp_path, database):
    elements = [
        f'{{"id":"u{n}","event":"Message Sent","timestamp":"2024-03-05T09:00:00Z","n":{n}}}'
        for n in range(1, 700_001)
    ]
    text = "[" + ",\n".join(elements) + "]"
    assert len(text) > 60_000_000
    write_text(tmp_path / "feed.json", text)
    completed = run_cli(database, "load", "-p", "crossengage", tmp_path / "feed.json")
    assert completed.returncode == 0, completed.stderr
    assert query(
        database,
        "select count(*), min(source_position), max(source_position), "
        "count(distinct source_position), count(content_sha256) from raw.crossengage__events",
    ) == [(700_000, 1, 700_000, 700_000, 700_000)]
    assert query(
        database,
        "select source_position, payload from raw.crossengage__events "
        "where source_position in (1, 350000, 700000) order by 1",
    ) == [(1, elements[0]), (350_000, elements[349_999]), (700_000, elements[-1])]
    assert rejections(database) == []
    rss = peak_rss_mib(completed)
    print(f"peak RSS, 60 MB array of small elements: {rss:.0f} MiB")
    assert rss < 700


def test_a_json_array_with_one_20_mb_element(tmp_path, database):
    elements = [f'{{"id":"u{n}","pad":"{"x" * 100}"}}' for n in range(1, 400_001)]
    big = blob_record("huge", "z", 20_000_000)
    elements.insert(2, big)  # position 3
    write_text(tmp_path / "feed.json", "[" + ",".join(elements) + "]")
    completed = run_cli(database, "load", "-p", "activatepro", tmp_path / "feed.json")
    assert completed.returncode == 0, completed.stderr
    assert rejections(database) == [(3, "record_too_large", start_of(big))]
    assert query(
        database,
        "select count(*), min(source_position), max(source_position), "
        "count(*) filter (where source_position = 3) from raw.activatepro__events",
    ) == [(400_000, 1, 400_001, 0)]
    assert query(
        database,
        "select source_position, payload from raw.activatepro__events "
        "where source_position in (2, 4) order by 1",
    ) == [(2, elements[1]), (4, elements[3])]
    rss = peak_rss_mib(completed)
    print(f"peak RSS, 60 MB array with a 20 MB element: {rss:.0f} MiB")
    assert rss < 700


def test_a_whole_document_over_the_limit_is_rejected_and_one_under_it_lands(tmp_path, database):
    events = ",\n".join(
        '    {"event": "Message Sent", "pad": "' + "p" * 200 + '"}' for _ in range(80_000)
    )
    over = '{\n  "id": "u_big",\n  "events": [\n' + events + "\n  ]\n}"  # ~18 MB
    assert 16 * MIB < len(over) < 20 * MIB
    under = over[: over.index("\n", 14 * MIB)].rstrip(",") + "\n  ]\n}"  # ~14 MB
    write_text(tmp_path / "a" / "over.json", "\n" + over + "\n")
    write_text(tmp_path / "b" / "under.json", under + "\n\n")
    completed = run_cli(database, "load", "-p", "crossengage", tmp_path / "a", tmp_path / "b")
    assert completed.returncode == 0, completed.stderr
    assert rejections(database) == [(1, "record_too_large", start_of(over))]
    assert landed_digests(database, "crossengage__events") == [(1, len(under), md5(under))]


@pytest.mark.parametrize("pretty", [False, True])
def test_an_api_body_of_50000_events_lands_as_one_record_in_little_memory(
    tmp_path, database, pretty
):
    body = {
        "id": "ce_u1",
        "events": [
            {
                "event": "Message Sent",
                "timestamp": f"2024-03-05T09:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "properties": {"channel": "Email", "campaign_id": "9001", "message_id": str(n)},
            }
            for n in range(50_000)
        ],
    }
    text = json.dumps(body, indent=2 if pretty else None)
    assert 5_000_000 < len(text) < 16 * MIB
    write_text(tmp_path / "body.json", text)
    completed = run_cli(database, "load", "-p", "crossengage", tmp_path / "body.json")
    assert completed.returncode == 0, completed.stderr
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert query(
        database,
        "select source_position, payload = ?, content_sha256 from raw.crossengage__events",
        [text],
    ) == [(1, True, hashlib.sha256(canonical.encode()).hexdigest())]
    rss = peak_rss_mib(completed)
    print(f"peak RSS, 50,000-event API body ({'pretty' if pretty else 'compact'}): {rss:.0f} MiB")
    assert rss < 300


# ------------------------------------------- the limit at its boundary (a small limit)

LIMIT = {"OUTBOUND_EVENTS_MAX_RECORD_BYTES": "100"}
AT_LIMIT = '{"k":"' + "x" * 92 + '"}'  # 100 bytes
OVER_LIMIT = '{"k":"' + "x" * 93 + '"}'  # 101 bytes
AT_LIMIT_UTF8 = '{"k":"' + "é" * 46 + '"}'  # 54 characters, 100 bytes
OVER_LIMIT_UTF8 = '{"k":"' + "é" * 46 + 'x"}'  # 101 bytes


@pytest.mark.parametrize("python_split", [False, True])
def test_the_limit_counts_utf8_bytes_of_each_line(tmp_path, database, python_split):
    lines = [AT_LIMIT, OVER_LIMIT, AT_LIMIT_UTF8, OVER_LIMIT_UTF8, AT_LIMIT + "\r", '{"n":6}']
    if python_split:  # a line holding \x01 makes DuckDB's line reader refuse the file
        lines[-1] = '{"n":"\x01"}'
    write_text(tmp_path / "edge.ndjson", "\n".join(lines))
    completed = run_cli(database, "load", "-p", "outbound", tmp_path, env=LIMIT)
    assert completed.returncode == 0, completed.stderr
    assert positioned(database, "outbound__events") == [
        (1, AT_LIMIT), (3, AT_LIMIT_UTF8), (5, AT_LIMIT), (6, lines[-1]),
    ]  # fmt: skip
    assert rejections(database) == [
        (2, "record_too_large", OVER_LIMIT),
        (4, "record_too_large", OVER_LIMIT_UTF8),
    ]


def test_array_elements_and_avro_records_over_the_limit(tmp_path, database):
    write_text(tmp_path / "feed.json", "[" + ",".join([AT_LIMIT, OVER_LIMIT, '{"n":3}']) + "]")
    completed = run_cli(database, "load", "-p", "crossengage", tmp_path / "feed.json", env=LIMIT)
    assert completed.returncode == 0, completed.stderr
    assert positioned(database, "crossengage__events") == [(1, AT_LIMIT), (3, '{"n":3}')]
    assert rejections(database) == [(2, "record_too_large", OVER_LIMIT)]

    braze = tmp_path / "braze.duckdb"
    path = tmp_path / "event_type=users.messages.email.Send" / "p.avro"
    records = [{"id": "s1", "note": "n" * 50}, {"id": "s2", "note": "n" * 90}, {"id": "s3"}]
    write_avro(
        path,
        record_schema("dataexport.S3.inner.users.messages.email.Send",
                      [("id", "string"), ("note", "?string")]),
        [{"note": None, **record} for record in records],
    )  # fmt: skip
    completed = run_cli(braze, "load", "-p", "braze", path, env=LIMIT)
    assert completed.returncode == 0, completed.stderr
    # payloads: {"id":"s1","note":"nnn…"} is 71 bytes, s2's 111 bytes, s3's 11
    assert positioned(braze, "braze__events") == [
        (1, '{"id":"s1","note":"' + "n" * 50 + '"}'), (3, '{"id":"s3"}'),
    ]  # fmt: skip
    assert rejections(braze) == [
        (2, "record_too_large", '{"id":"s2","note":"' + "n" * 90 + '"}'),
    ]
    assert load(braze, "braze", path).exit_code == 0  # same file again: skipped, unchanged
    assert len(rejections(braze)) == 1


# ------------------------------------- one record over the limit, whatever is around it

BIG = blob_record("big", "x", 50 * MIB)  # 50 MiB and 22 bytes of JSON on one line


@pytest.mark.parametrize("ending", ["\n", ""], ids=["line-feed", "no-line-feed"])
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_a_file_that_is_one_50_mib_line_is_a_rejection(tmp_path, database, gzipped, ending):
    name = "one.ndjson.gz" if gzipped else "one.ndjson"
    write_text(tmp_path / name, BIG + ending, compress=gzipped)
    result = load(database, "outbound", tmp_path / name)
    assert result.exit_code == 0, result.output
    assert landed_digests(database, "outbound__events") == []
    assert rejections(database) == [(1, "record_too_large", start_of(BIG))]
    assert summary(result) == (1, 0, 1, 0)


@pytest.mark.parametrize("ending", ["\n", ""], ids=["line-feed", "no-line-feed"])
def test_a_50_mib_last_line_after_small_ones_is_a_rejection(tmp_path, database, ending):
    # DuckDB's line reader drops a last line over 32 MB without an error
    write_text(tmp_path / "tail.ndjson", '{"n":1}\n{"n":2}\n' + BIG + ending)
    result = load(database, "outbound", tmp_path / "tail.ndjson")
    assert result.exit_code == 0, result.output
    assert positioned(database, "outbound__events") == [(1, '{"n":1}'), (2, '{"n":2}')]
    assert rejections(database) == [(3, "record_too_large", start_of(BIG))]


def test_a_40_mib_last_line_under_a_higher_limit_lands_whole(tmp_path, database):
    line = blob_record("r40", "y", 40 * MIB)
    write_text(tmp_path / "tail.ndjson", '{"n":1}\n' + line)
    completed = run_cli(
        database, "load", "-p", "outbound", tmp_path / "tail.ndjson",
        env={"OUTBOUND_EVENTS_MAX_RECORD_BYTES": str(64 * MIB)},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert landed_digests(database, "outbound__events") == [
        (1, 7, md5('{"n":1}')), (2, len(line), md5(line)),
    ]  # fmt: skip
    assert rejections(database) == []


def test_a_json_array_and_a_document_of_one_50_mib_record(tmp_path, database):
    write_text(tmp_path / "a" / "array.json", "[" + BIG + "]")
    write_text(tmp_path / "b" / "document.json", BIG + "\n")
    result = load(database, "crossengage", tmp_path / "a", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert landed_digests(database, "crossengage__events") == []
    assert query(
        database,
        "select source_file, source_position, rejection_reason, raw_text "
        "from raw.load_rejections order by 1",
    ) == [
        (str(tmp_path / "a" / "array.json"), 1, "record_too_large", start_of(BIG)),
        (str(tmp_path / "b" / "document.json"), 1, "record_too_large", start_of(BIG)),
    ]


OVER = '{"k":"' + "z" * 142 + '"}'  # 150 bytes: over a limit of 100


@pytest.mark.parametrize(
    ("name", "content", "gzipped"),
    [
        ("line.ndjson", OVER + "\n", False),
        ("line-no-feed.ndjson", OVER, False),
        ("line.ndjson.gz", OVER + "\n", True),
        ("line-no-feed.jsonl.gz", OVER, True),
        ("array.json", "[" + OVER + "]", False),
        ("array.json.gz", "[\n  " + OVER + "\n]\n", True),
        ("document.json", "\n" + OVER + "\n", False),
    ],
)
def test_a_file_holding_one_record_over_a_small_limit(tmp_path, database, name, content, gzipped):
    write_text(tmp_path / name, content, compress=gzipped)
    completed = run_cli(database, "load", "-p", "crossengage", tmp_path / name, env=LIMIT)
    assert completed.returncode == 0, completed.stderr
    assert positioned(database, "crossengage__events") == []
    assert rejections(database) == [(1, "record_too_large", OVER)]


def test_a_gzip_file_of_two_members_lands_every_line(tmp_path, database):
    # its trailer holds the size of the last member only: the lines DuckDB read are
    # checked against the decompressed size instead
    content = gzip.compress(b'{"n":1}\n{"n":2}\n') + gzip.compress(b'{"n":3}\n')
    write_text(tmp_path / "two.ndjson.gz", content)
    assert load(database, "outbound", tmp_path / "two.ndjson.gz").exit_code == 0
    assert positioned(database, "outbound__events") == [
        (1, '{"n":1}'),
        (2, '{"n":2}'),
        (3, '{"n":3}'),
    ]
