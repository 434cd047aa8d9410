"""Hashing large files' records on every core: content_sha256 (canonical.py) costs a
few microseconds a record in Python, more than DuckDB takes to read and store the
record, and one Python process hashes on one core only.

`HashWorkers` starts worker processes (hash_worker.py, one a core) and hashes Arrow
batches of texts in them, several batches in flight while the caller stores the
ones already hashed; the answers come back in order. A worker that cannot be
started or fails is not fatal: its batch is hashed in this process instead (same
function, same bytes).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import pyarrow as pa

from outbound_events.loading.canonical import content_digests, digests_to_hex, packed_texts
from outbound_events.loading.hash_worker import HEADER

WORKER = Path(__file__).with_name("hash_worker.py")
Batch = TypeVar("Batch")


def worker_count() -> int:
    """One worker a core this process may use (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


class _Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def digests(self, texts: pa.Array) -> tuple[bytes, bytes]:
        data, offsets = packed_texts(texts)
        start, end = int(offsets[0]), int(offsets[-1])
        count = len(offsets) - 1
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(HEADER.pack(count, end - start))
        stdin.write((offsets - start).astype("<i8").tobytes())
        stdin.write(data[start:end])
        stdin.flush()
        answer = stdout.read(33 * count)
        if len(answer) != 33 * count:
            raise EOFError("hash worker stopped")
        return answer[:count], answer[count:]

    def close(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.write(HEADER.pack(-1, 0))
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            self.process.kill()
            self.process.wait()


def hash_here(texts: pa.Array) -> pa.Array:
    data, offsets = packed_texts(texts)
    return digests_to_hex(*content_digests(data, offsets.tolist()))


class HashWorkers:
    """Worker processes hashing Arrow arrays of texts (no nulls); use as a context
    manager, then `hashed`."""

    def __init__(self, count: int | None = None) -> None:
        self.count = count or worker_count()
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        for _ in range(self.count):
            try:
                worker = _Worker()
            except OSError:
                worker = None  # its share is hashed in this process
            else:
                self._workers.append(worker)
            self._idle.put(worker)
        self._threads = ThreadPoolExecutor(max_workers=self.count)

    def __enter__(self) -> HashWorkers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        for worker in self._workers:
            worker.close()
        self._workers.clear()

    def _hash(self, texts: pa.Array) -> pa.Array:
        worker = self._idle.get()
        try:
            if worker is not None:
                try:
                    return digests_to_hex(*worker.digests(texts))
                except (OSError, EOFError, ValueError):
                    worker.close()
                    self._workers.remove(worker)
                    worker = None  # hashed here from now on
            return hash_here(texts)
        finally:
            self._idle.put(worker)

    def hashed(self, batches: Iterable[tuple[Batch, pa.Array]]) -> Iterator[tuple[Batch, pa.Array]]:
        """(batch, content_sha256 column of its texts) for each (batch, texts), in
        order; up to one batch a worker and one more are hashed ahead."""
        pending: deque[tuple[Batch, Future[pa.Array]]] = deque()
        for batch, texts in batches:
            pending.append((batch, self._threads.submit(self._hash, texts)))
            if len(pending) > self.count:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


__all__ = ["HashWorkers", "hash_here", "worker_count"]
