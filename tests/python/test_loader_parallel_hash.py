"""content_sha256 computed in worker processes (loading/hash_workers.py, used for
large files) is byte for byte the reference definition's, in order, with nulls where
a record is not strict JSON; a file landed through the workers lands the same rows
as through the in-process path."""

from __future__ import annotations

import hashlib
import random
import re

import pyarrow as pa
import pytest

from fixtures.loader_files import load, query, rejected, write_text
from outbound_events.loading import hash_workers, json_files
from outbound_events.loading.canonical import reference_canonical_json
from outbound_events.loading.hash_workers import HashWorkers, hash_here
from test_loader_canonical import CASES, _random_json


def reference_sha256(text: str) -> str | None:
    written = reference_canonical_json(text)
    return None if written is None else hashlib.sha256(written).hexdigest()


def corpus(count: int, seed: int) -> list[str]:
    """Generated documents (odd numbers, escapes, unicode, duplicate keys, deep
    nesting) and the hand-worked tricky cases, one a line (no line breaks inside; no
    raw control character but tab, which would make DuckDB's line reader refuse the
    file and the loader split it in Python instead)."""
    rng = random.Random(seed)
    texts = [text for text, _ in CASES]
    texts += [_random_json(rng) for _ in range(count)]
    texts = [text.replace("\n", " ").replace("\r", " ") for text in texts if text.strip()]
    return [text for text in texts if not CONTROL.search(text)]


CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


def test_worker_hashes_equal_the_reference_in_order():
    texts = corpus(3000, 11)
    expected = [reference_sha256(text) for text in texts]
    assert None in expected and sum(h is not None for h in expected) > 2500
    batches = [(start, pa.array(texts[start : start + 97], pa.string())) for start in
               range(0, len(texts), 97)]  # fmt: skip
    with HashWorkers(2) as workers:
        got = [h for _, column in workers.hashed(batches) for h in column.to_pylist()]
        assert len(workers._workers) == 2  # the processes ran (no fallback)
    assert got == expected
    assert hash_here(pa.array(texts, pa.large_string())).to_pylist() == expected


def test_a_worker_that_dies_is_replaced_by_hashing_here():
    texts = corpus(300, 12)
    expected = [reference_sha256(text) for text in texts]
    with HashWorkers(1) as workers:
        workers._workers[0].process.kill()
        workers._workers[0].process.wait()
        column = next(workers.hashed([(0, pa.array(texts, pa.string()))]))[1]
    assert column.to_pylist() == expected


@pytest.fixture()
def small_parallel_threshold(monkeypatch):
    monkeypatch.setattr(json_files, "PARALLEL_HASH_RECORDS", 1)
    monkeypatch.setattr(json_files, "HASH_BATCH_ROWS", 64)


def landed(database):
    return query(
        database,
        "select source_position, payload, content_sha256 from raw.outbound__events order by 1",
    )


def test_a_file_hashed_in_workers_lands_what_the_in_process_path_lands(
    tmp_path, monkeypatch, small_parallel_threshold
):
    texts = corpus(1500, 13)
    lines = texts[:700] + ["", "   ", '{"nul":"a\x00b"}'] + texts[700:]
    write_text(tmp_path / "in" / "big.ndjson", "\n".join(lines) + "\n")
    calls = []
    original = json_files._land_hashed_in_workers
    monkeypatch.setattr(
        json_files,
        "_land_hashed_in_workers",
        lambda *args: calls.append(original(*args)) or calls[-1],
    )
    hashed_in_workers = tmp_path / "workers.duckdb"
    assert load(hashed_in_workers, "outbound", tmp_path / "in").exit_code == 0
    assert calls == [len(texts)]  # the workers' path landed every record
    monkeypatch.setattr(json_files, "PARALLEL_HASH_RECORDS", 10**12)
    hashed_here = tmp_path / "here.duckdb"
    assert load(hashed_here, "outbound", tmp_path / "in").exit_code == 0

    rows = landed(hashed_in_workers)
    assert rows == landed(hashed_here)
    assert len(rows) == len(texts)
    assert [digest for _, _, digest in rows] == [reference_sha256(text) for text in texts]
    assert [position for position, _, _ in rows][699:701] == [700, 704]  # blank lines counted
    assert [reason for _, _, reason, _ in rejected(hashed_in_workers)] == ["not_json"]


def test_the_worker_count_follows_the_cores():
    assert hash_workers.worker_count() >= 1
