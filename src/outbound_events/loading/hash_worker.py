"""A worker process of the loader's bulk content hashing (see `HashWorkers`): reads
batches of packed texts on stdin, writes their content_digests on stdout.

Started as `python -I <this file>`: it loads canonical.py from its own folder alone
(not the `outbound_events` package, whose imports would cost a worker more than
a small file takes to hash), so the definition it hashes by is the one the loader
uses in-process.

Protocol, little-endian: a request is `count` and `size` (8 bytes each), then
count + 1 offsets (8 bytes each, the first 0) and `size` bytes of text; the answer is
`count` flag bytes then 32 * count digest bytes. A count of -1 (or the end of
stdin) stops the worker.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

HEADER = struct.Struct("<qq")


def load_canonical() -> ModuleType:
    path = Path(__file__).with_name("canonical.py")
    spec = importlib.util.spec_from_file_location("outbound_events_hash_worker_canonical", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_exactly(stream: object, size: int) -> bytes:
    data = stream.read(size)  # type: ignore[attr-defined]
    if len(data) != size:
        raise EOFError("request cut off")
    return data


def main() -> None:
    canonical = load_canonical()
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = source.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        count, size = HEADER.unpack(header)
        if count < 0:
            return
        offsets = memoryview(_read_exactly(source, 8 * (count + 1))).cast("q")
        data = _read_exactly(source, size)
        flags, digests = canonical.content_digests(data, offsets)
        sink.write(flags)
        sink.write(digests)
        sink.flush()


if __name__ == "__main__":
    main()
