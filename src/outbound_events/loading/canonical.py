"""The canonical JSON text of a raw record and its SHA-256: `content_sha256` of
raw.<provider>__events, the dedup key of records without a provider event id and the
way to tell conflicting duplicates (same event id, other content) from copies.

Definition (the reference is `reference_canonical_json`, Python's json module):
the payload parsed as JSON and written again with object keys sorted recursively
(by code point), separators `,` and `:` without whitespace, non-ASCII characters as
UTF-8 (not `\\u` escapes; control characters, `"` and `\\` escaped as json.dumps does),
numbers as Python renders the parsed value: integers exactly (`10`, `-0` -> `0`,
`123456789012345678901234567890` unchanged), every other number as the shortest
float repr (`1.0`, `1e5` -> `100000.0`, `1e-7` -> `1e-07`, `1e16` -> `1e+16`). Of
duplicate keys in one object the last value counts (`{"a":1,"a":2}` is `{"a":2}`).
The hash is the lowercase hex SHA-256 of those UTF-8 bytes.

NULL (None) when the payload is not strict JSON (RFC 8259): broken syntax, `NaN` /
`Infinity` / numbers too large for a double as floats (`1e400`), lone surrogate
escapes (`"\\ud800"`: not Unicode text), integers of more than 4300 digits (Python's
limit) and nesting deeper than 1024 levels. DuckDB's `json_valid` is more lenient
(it accepts `NaN`, `Infinity`, `1e400`, trailing commas `[1,]`), so a payload can be
`json_valid` in SQL and still have a NULL content_sha256.

orjson makes it fast (parse and sorted write are ~10x the json module). It gives
the reference's bytes except for numbers it renders otherwise: floats below 1e-4
(`0.00001` / `1e-7` where Python writes `1e-05` / `1e-07`) and integers beyond 64
bits (parsed as floats, so two different big ids would hash alike). Its output is
used only when it holds none of the patterns such numbers produce; otherwise, and
whenever orjson refuses the text, the reference decides. tests/python/test_loader_canonical.py
compares both on generated documents.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:  # imported where used: hash_worker.py loads this module alone, light
    import pyarrow as pa

# orjson parses at most this many levels of nesting, and so the definition.
MAX_DEPTH = 1024

_SORTED = orjson.OPT_SORT_KEYS
_DIGITS = frozenset(b"0123456789")
_NUMBER_ENDS = frozenset(b",]}")
_REFERENCE_ERRORS = (ValueError, RecursionError)  # JSONDecodeError, UnicodeEncodeError, NaN


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def reference_canonical_json(text: str | bytes, *, depth_known: bool = False) -> bytes | None:
    """The definition, with Python's json module (slow; see the module docstring).
    `depth_known`: the text is known to nest at most MAX_DEPTH levels."""
    try:
        if isinstance(text, bytes):  # as UTF-8 (json.loads would also guess UTF-16/32)
            text = text.decode("utf-8")
        with _recursion_room():
            value = json.loads(text, parse_constant=_reject_constant)
            if not depth_known and _depth(value) > MAX_DEPTH:
                return None
            written = json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        return written.encode("utf-8")
    except _REFERENCE_ERRORS:
        return None


def _depth(value: object) -> int:
    """Levels of arrays and objects (a scalar: 0), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest


@contextmanager
def _recursion_room() -> Iterator[None]:
    """Python's recursion limit high enough to write MAX_DEPTH levels wherever this
    is called from (json's C encoder recurses once per level)."""
    previous = sys.getrecursionlimit()
    wanted = MAX_DEPTH + 500
    if previous < wanted:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        if previous < wanted:
            sys.setrecursionlimit(previous)


def _may_differ(written: bytes) -> bool:
    """Whether orjson's text may hold a number the reference writes otherwise: a
    float in exponent form (`1e-7`; also integers beyond 64 bits, which orjson turns
    into floats such as `1.2345678901234568e+29`) or in `0.0000…` form. The test is
    on the text, so a string that looks like such a number (`"v1e-5"`) is sent to the
    reference too: same result, only slower. A UUID's `…9e-4a…` is told apart (an
    exponent's digits end the number: `,`, `]`, `}` or the end follow)."""
    if b"0.0000" in written:
        return True
    markers = [b"e-"] if b"e-" in written else []
    if b"+" in written and b"e+" in written:  # one byte is quicker to look for, and rare
        markers.append(b"e+")
    if not markers:
        return False
    length = len(written)
    for marker in markers:
        at = written.find(marker)
        while at != -1:
            end = at + 2
            while end < length and written[end] in _DIGITS:
                end += 1
            if (
                at
                and written[at - 1] in _DIGITS
                and end > at + 2
                and (end == length or written[end] in _NUMBER_ENDS)
            ):
                return True
            at = written.find(marker, at + 2)
    return False


def canonical_json(text: str | bytes) -> bytes | None:
    """The canonical JSON text (UTF-8) of a payload, None when it is not strict JSON."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        if str(error).startswith("depth limit exceeded"):
            return None
        return reference_canonical_json(text)  # e.g. an integer too long for a double
    try:
        written = orjson.dumps(value, option=_SORTED)
    except orjson.JSONEncodeError:  # nesting orjson does not write (over 254 levels)
        return reference_canonical_json(text, depth_known=True)
    if _may_differ(written):
        return reference_canonical_json(text, depth_known=True)
    return written


def content_sha256(text: str | bytes | None) -> str | None:
    """Lowercase hex SHA-256 of the canonical JSON of `text`; None when `text` is None
    or not strict JSON."""
    if text is None:
        return None
    written = canonical_json(text)
    return None if written is None else hashlib.sha256(written).hexdigest()


def content_sha256_many(texts: Iterable[str | bytes | None]) -> list[str | None]:
    """content_sha256 of each text, in order (the loop of content_sha256 inlined:
    this runs once per landed record)."""
    loads, dumps, sha256, may_differ = orjson.loads, orjson.dumps, hashlib.sha256, _may_differ
    hashes: list[str | None] = []
    append = hashes.append
    for text in texts:
        if text is None:
            append(None)
            continue
        try:
            written: bytes | None = dumps(loads(text), option=_SORTED)
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            written = canonical_json(text)
        else:
            if may_differ(written):  # type: ignore[arg-type]
                written = reference_canonical_json(text, depth_known=True)
        append(None if written is None else sha256(written).hexdigest())
    return hashes


def content_digests(data: bytes | memoryview, offsets: Sequence[int]) -> tuple[bytes, bytes]:
    """The bulk form of content_sha256 on texts packed as Arrow packs them: text i is
    `data[offsets[i]:offsets[i + 1]]` (UTF-8). Returns (flags, digests): one byte a
    text, 1 when it is strict JSON, and its 32-byte SHA-256 (32 zero bytes where the
    flag is 0). No str or hex objects are made; hash_worker.py runs this in other
    processes, `digests_to_hex` makes the column."""
    view = memoryview(data)
    loads, dumps, sha256, may_differ = orjson.loads, orjson.dumps, hashlib.sha256, _may_differ
    flags = bytearray(len(offsets) - 1)
    digests = bytearray(32 * (len(offsets) - 1))
    start = offsets[0]
    for index in range(len(offsets) - 1):
        end = offsets[index + 1]
        text = view[start:end]
        start = end
        try:
            written: bytes | None = dumps(loads(text), option=_SORTED)
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            written = canonical_json(bytes(text))
        else:
            if may_differ(written):  # type: ignore[arg-type]
                written = reference_canonical_json(bytes(text), depth_known=True)
        if written is not None:
            flags[index] = 1
            digests[32 * index : 32 * index + 32] = sha256(written).digest()
    return bytes(flags), bytes(digests)


def digests_to_hex(flags: bytes, digests: bytes) -> pa.Array:
    """The content_sha256 column (lowercase hex, null where the flag is 0) of
    content_digests' result, built with numpy (no Python object a row)."""
    import numpy as np
    import pyarrow as pa

    count = len(flags)
    raw = np.frombuffer(digests, np.uint8).reshape(count, 32)
    alphabet = np.frombuffer(b"0123456789abcdef", np.uint8)
    text = np.empty((count, 64), np.uint8)
    text[:, 0::2] = alphabet[raw >> 4]
    text[:, 1::2] = alphabet[raw & 15]
    valid = np.frombuffer(flags, np.uint8).astype(bool)
    offsets = np.arange(0, 64 * (count + 1), 64, dtype=np.int32)
    if count > 0 and not valid.all():
        # nulls take no bytes (Arrow's layout allows either; DuckDB reads both)
        lengths = np.where(valid, 64, 0)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        text = text[valid]
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    return pa.StringArray.from_buffers(
        count, pa.py_buffer(offsets.tobytes()), pa.py_buffer(text.tobytes()), bitmap
    )


def packed_texts(texts: pa.Array) -> tuple[memoryview, Sequence[int]]:
    """(data, offsets) of an Arrow string or binary array without nulls, as
    content_digests takes them (no copy of the text bytes)."""
    import numpy as np
    import pyarrow as pa

    if texts.null_count:
        raise ValueError("packed_texts: nulls are not packed")
    if pa.types.is_large_string(texts.type) or pa.types.is_large_binary(texts.type):
        width = np.int64
    elif pa.types.is_string(texts.type) or pa.types.is_binary(texts.type):
        width = np.int32
    else:
        texts = texts.cast(pa.large_binary())
        width = np.int64
    _, offset_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offset_buffer, width)[texts.offset : texts.offset + len(texts) + 1]
    data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
    return data, offsets.astype(np.int64)


def content_sha256_arrow(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """content_sha256 of an Arrow string column (the vectorised form DuckDB calls as
    a UDF on a batch of rows; see warehouse.CONTENT_SHA256_FUNCTION). The texts are
    hashed from the column's own bytes (content_digests), nulls stay null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.null_count:
        present = pc.is_valid(texts)
        hashed = content_sha256_arrow(texts.filter(present))
        return pc.replace_with_mask(pa.nulls(len(texts), pa.string()), present, hashed)
    data, offsets = packed_texts(texts)
    return digests_to_hex(*content_digests(data, offsets.tolist()))
