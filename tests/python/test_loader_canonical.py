"""content_sha256: the canonical JSON of a record (keys sorted, compact, UTF-8) and
its SHA-256; orjson's fast path gives exactly what the json-module reference gives."""

from __future__ import annotations

import hashlib
import json
import random
import struct

import pyarrow as pa
import pytest

from outbound_events.loading.canonical import (
    canonical_json,
    content_sha256,
    content_sha256_arrow,
    content_sha256_many,
    reference_canonical_json,
)

# (payload text, its canonical text worked out by hand; None: not strict JSON)
CASES = [
    ('{"b": 1, "a": 2}', '{"a":2,"b":1}'),
    ('{"b":{"z":[{"y":1,"x":2}],"a":null},"a":[3,2,1]}',
     '{"a":[3,2,1],"b":{"a":null,"z":[{"x":2,"y":1}]}}'),
    ('  {"a" :\t"x"}\r\n', '{"a":"x"}'),
    ('{"n":"ünï ✓ 😀","e":"\\u00e9\\ud83d\\ude00"}', '{"e":"é😀","n":"ünï ✓ 😀"}'),
    ('"tab\\tquote\\"back\\\\slash\\/nul\\u0000del\x7f"',
     '"tab\\tquote\\"back\\\\slash/nul\\u0000del\x7f"'),
    ('{"é":1,"e":2,"z":3,"É":4,"\U0001f600":5,"\uffff":6}',
     '{"e":2,"z":3,"É":4,"é":1,"\uffff":6,"\U0001f600":5}'),  # code point order
    ("[1.0, 1e5, 1E5, 1.5e300, 1e16, 1e-7, 0.00001, 0.0001, -0.0, -0, 2.50]",
     "[1.0,100000.0,100000.0,1.5e+300,1e+16,1e-07,1e-05,0.0001,-0.0,0,2.5]"),
    ("[123456789012345678901234567890, -9223372036854775809, 18446744073709551616]",
     "[123456789012345678901234567890,-9223372036854775809,18446744073709551616]"),
    ("[9223372036854775807, 18446744073709551615, 1" + "0" * 400 + "]",
     "[9223372036854775807,18446744073709551615,1" + "0" * 400 + "]"),
    ('{"a": 1, "a": 2, "b": {"c": 1, "c": [3]}}', '{"a":2,"b":{"c":[3]}}'),  # last one wins
    ('{"id":"3e-4a1b","v":"1e+5"}', '{"id":"3e-4a1b","v":"1e+5"}'),  # number-like strings
    ("[]", "[]"),
    ('"just a string"', '"just a string"'),
    ("true", "true"),
    ("[" * 300 + "]" * 300, "[" * 300 + "]" * 300),  # deeper than orjson writes
    ("[" * 1024 + "]" * 1024, "[" * 1024 + "]" * 1024),
    ("[" * 1025 + "]" * 1025, None),
    ('{"a": 1,}', None),
    ("[1,]", None),
    ('{"a": NaN}', None),
    ("[Infinity]", None),
    ("-Infinity", None),
    ("1e400", None),
    ('"\\ud800"', None),  # a lone surrogate is no Unicode text
    ('{"a": "x\x01y"}', None),  # raw control character in a string
    ("\ufeff{}", None),
    ('{"id": "u2", "event": broken', None),
    ("", None),
    ("   ", None),
    ('{"a":1} {"b":2}', None),
    ("[1] x", None),
    ("'single'", None),
    ("1" * 4301, None),  # beyond Python's integer digits limit
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_canonical_text_of_tricky_payloads(text, expected):
    wanted = None if expected is None else expected.encode("utf-8")
    assert reference_canonical_json(text) == wanted
    assert canonical_json(text) == wanted
    assert canonical_json(text.encode("utf-8")) == wanted
    digest = None if wanted is None else hashlib.sha256(wanted).hexdigest()
    assert content_sha256(text) == digest


def test_the_hash_is_lowercase_hex_sha256_of_the_canonical_utf8():
    # worked out: sha256 of the 13 bytes {"a":"é","b":1} (é is 2 bytes)
    expected = hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()
    assert content_sha256('{ "b" : 1, "a" : "\\u00e9" }') == expected
    assert len(expected) == 64 and expected == expected.lower()
    assert content_sha256(None) is None


def test_whitespace_and_key_order_do_not_change_the_hash_but_content_does():
    a = content_sha256('{"user_id":"u1","event":"open","n":1}')
    assert a == content_sha256('{\n  "n": 1,\n  "event": "open",\n  "user_id": "u1"\n}')
    assert a != content_sha256('{"user_id":"u1","event":"open","n":2}')
    assert a != content_sha256('{"user_id":"u1","event":"open","n":"1"}')
    # 1 and 1.0 are different JSON texts after parsing (int vs float)
    assert content_sha256('{"n":1}') != content_sha256('{"n":1.0}')
    # two integers beyond 64 bits stay apart (orjson alone would round both to a float)
    assert content_sha256("[123456789012345678901234567890]") != content_sha256(
        "[123456789012345678901234567891]"
    )


def test_batch_helpers_keep_order_and_nulls():
    texts = ['{"b":1,"a":2}', None, "broken", "[1e-7]"]
    expected = [content_sha256(text) for text in texts]
    assert expected[1] is None and expected[2] is None and expected[0] and expected[3]
    assert content_sha256_many(texts) == expected
    assert content_sha256_arrow(pa.array(texts, pa.string())).to_pylist() == expected
    assert content_sha256_arrow(pa.array(texts, pa.large_string())).to_pylist() == expected
    chunked = pa.chunked_array([texts[:2], texts[2:]], pa.string())
    assert content_sha256_arrow(chunked).to_pylist() == expected


def _random_float(rng: random.Random) -> float:
    while True:
        kind = rng.random()
        if kind < 0.4:
            value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        elif kind < 0.8:
            value = rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 25)
        else:
            value = round(rng.uniform(-1000, 1000), rng.randint(0, 6))
        if value == value and abs(value) != float("inf"):
            return value


_ALPHABET = 'abcXYZ019 -_.e+"\\/\t\n\x01\x7féü✓€😀\u2028\ufeff'


def _random_string(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 12)))


def _random_number_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return repr(_random_float(rng))
    if kind < 0.5:
        return str(rng.randint(-(2**70), 2**70))
    if kind < 0.6:
        return rng.choice(["0", "-0", "-0.0", "1E5", "1e-7", "2.50", "1.0e+2", "5e-324"])
    if kind < 0.8:
        mantissa = str(rng.randint(1, 99999))
        return f"{mantissa}e{rng.randint(-30, 30)}"
    return str(rng.randint(-1000, 1000))


def _key(rng: random.Random, key: str) -> str:
    return json.dumps(key, ensure_ascii=rng.random() < 0.5)


def _random_json(rng: random.Random, depth: int = 0) -> str:
    """JSON text with random formatting, escapes, number forms and duplicate keys."""
    space = rng.choice(["", " ", "\n  ", "\t"])
    kind = rng.random() if depth < 4 else rng.random() * 0.6
    if kind < 0.2:
        return json.dumps(_random_string(rng), ensure_ascii=rng.random() < 0.5)
    if kind < 0.45:
        return _random_number_text(rng)
    if kind < 0.6:
        return rng.choice(["true", "false", "null"])
    if kind < 0.8:
        items = [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return "[" + space + ("," + space).join(items) + space + "]"
    keys = [_random_string(rng) for _ in range(rng.randint(0, 4))]
    if keys and rng.random() < 0.3:
        keys.append(rng.choice(keys))  # a duplicate key
    members = [_key(rng, key) + space + ":" + _random_json(rng, depth + 1) for key in keys]
    return "{" + space + ("," + space).join(members) + space + "}"


def test_the_fast_path_equals_the_reference_on_generated_documents():
    rng = random.Random(20240501)
    hashed = 0
    for _ in range(20_000):
        text = _random_json(rng)
        reference = reference_canonical_json(text)
        assert canonical_json(text) == reference, text
        assert canonical_json(text.encode("utf-8")) == reference, text
        hashed += reference is not None
    assert hashed > 19_000  # generated texts are JSON, except for rare overflowing floats


def test_the_fast_path_renders_every_kind_of_float_like_the_reference():
    rng = random.Random(7)
    floats = [_random_float(rng) for _ in range(50_000)]
    floats += [10.0**exponent for exponent in range(-30, 31)]
    floats += [-(10.0**exponent) for exponent in range(-30, 31)]
    text = json.dumps(floats)
    assert canonical_json(text) == reference_canonical_json(text)
    for value in floats[:5000]:
        assert canonical_json(repr(value)) == repr(value).encode()
