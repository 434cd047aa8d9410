"""Numbers in `properties` keep the text that arrived (key order aside): big integers,
tiny and huge decimals, trailing zeros, `-0`, exponents, in objects and arrays, in a
nested `properties` object that is lifted, and in Braze's `properties` sent as a JSON
string. The expected text of every number is the input's own (written below by hand);
the comparison parses with numbers kept as text, so `1.10` and `1.1` differ."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fixtures.raw import Raw, empty_warehouse, land
from fixtures.warehouse import build

NUMBERS = (
    '{"big": 123456789012345678901234567890, "tiny": 0.000000000000000000000001234,'
    ' "under": 1e-400, "huge": 1.5e300, "zero": -0, "negzero": -0.0, "cents": 1.10,'
    ' "whole": 1.0, "exp": 2.5E+3, "small": -7, "list": [1.0, 2.50, -0, 12345678901234567890],'
    ' "deep": {"a": {"b": 0.30}}, "text": "v1.10 at 10:00:00.5", "flag": true}'
)
EXPECTED = json.loads(NUMBERS, parse_float=str, parse_int=str)


def as_text(properties: str) -> object:
    return json.loads(properties, parse_float=str, parse_int=str)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def records() -> list[Raw]:
    at = str(epoch("2024-05-01 10:00:00"))
    outbound = '{"event": "numbers", "user_id": "u1", "timestamp": ' + at
    outbound += ', "properties": ' + NUMBERS + "}"
    customerio = '{"event": "Email Opened", "messageId": "m-1", "user_id": "u2",'
    customerio += ' "timestamp": "2024-05-01T10:00:00Z", "numbers": ' + NUMBERS + "}"
    crossengage = '{"id": "u3", "events": [{"event": "Message Sent",'
    crossengage += ' "timestamp": "2024-05-01T10:00:00Z", "properties": {"channel": "email",'
    crossengage += ' "message_id": "x1", "numbers": ' + NUMBERS + "}}]}"
    braze_string = json.dumps({
        "id": "b-1", "user_id": "u4", "time": int(at), "name": "numbers",
        "properties": NUMBERS,  # Braze sends custom properties as a JSON string
    })  # fmt: skip
    braze_fields = '{"id": "b-2", "user_id": "u5", "time": ' + at
    braze_fields += ', "name": "numbers", "extra": ' + NUMBERS + "}"
    return [
        Raw("outbound", outbound),
        Raw("customerio", customerio),
        Raw("crossengage", crossengage),
        Raw("braze", braze_string, "users.behaviors.CustomEvent"),
        Raw("braze", braze_fields, "users.behaviors.CustomEvent"),
    ]


@pytest.fixture(scope="module")
def numbers_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("numbers") / "numbers.duckdb"
    empty_warehouse(database)
    land(database, "N1", "2024-05-02 00:00:00", records())
    build(database)
    return database


def properties(database: Path) -> dict[str, object]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select coalesce(provider_event_id, user_id), properties from marts.outbound_events"
        ).fetchall()
    return {key: as_text(text) for key, text in rows}


def test_numbers_in_properties_keep_their_text(numbers_db):
    got = properties(numbers_db)
    assert got["u1"] == EXPECTED  # Outbound: the nested properties object, lifted
    assert got["m-1"]["numbers"] == EXPECTED  # Customer.io
    assert got["u3"]["numbers"] == EXPECTED  # CrossEngage, inside an API body
    assert got["b-1"] == EXPECTED  # Braze: properties sent as a JSON string, lifted
    assert got["b-2"]["extra"] == EXPECTED  # Braze: a field no column takes
