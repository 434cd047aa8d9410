"""Landing a Braze Currents Avro object-container file: one raw row per record.

`payload` is the record as a JSON object of its fields in schema order, fields whose
value is null (absent optional `["null", T]` fields) left out. Bytes and fixed values
become base64 text; Avro logical types become text (timestamps and dates ISO-8601,
decimals their exact digits, uuids their canonical form); a NaN or infinite float
becomes the string "NaN", "Infinity" or "-Infinity". Each file is read with its own
writer schema, so files whose schema gained fields land side by side.

`event_type` is the value of the nearest `event_type=` folder of the path, else the
schema's record name from its `users.` part on
(`dataexport.S3.inner.users.messages.email.Send` -> `users.messages.email.Send`).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import duckdb
import fastavro
import pyarrow as pa

from outbound_events.loading.outcome import (
    RAW_TEXT_MAX_CHARS,
    FileOutcome,
    LoadContext,
    Reason,
    Rejection,
    describe_error,
)
from outbound_events.loading.providers import Provider
from outbound_events.loading.sources import SourceFile, decode
from outbound_events.loading.warehouse import SCHEMA, inserted_count, registered

AVRO_MAGIC = b"Obj\x01"
EVENT_TYPE_SEGMENT = "event_type="
BATCH_RECORDS = 50_000


def _json_value(value: object) -> object:
    """JSON text for values `json` cannot encode by itself."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_value
).encode
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def record_payload(record: dict[str, Any]) -> str:
    """The record's non-null fields as compact JSON text."""
    fields = {name: value for name, value in record.items() if value is not None}
    try:
        return _encode(fields)
    except ValueError:  # a NaN or infinite float somewhere
        return _encode(_finite(fields))


def event_type_from_path(file: SourceFile) -> str | None:
    for part in reversed(file.path.parent.parts):
        if part.startswith(EVENT_TYPE_SEGMENT) and part != EVENT_TYPE_SEGMENT:
            return part.removeprefix(EVENT_TYPE_SEGMENT)
    return None


def event_type_from_schema(schema: object) -> str | None:
    """`users.messages.email.Send` from a record named
    `dataexport.S3.inner.users.messages.email.Send` (the full name when it has no
    `users` part; None when the schema is not a named record)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
        return None
    name: str = schema["name"]
    namespace = schema.get("namespace")
    if "." not in name and isinstance(namespace, str) and namespace:
        name = f"{namespace}.{name}"
    parts = name.split(".")
    return ".".join(parts[parts.index("users") :]) if "users" in parts else name


def land_avro_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> FileOutcome:
    """Land one Avro file's records; an empty file, a file that is not Avro, and the
    unreadable tail of a truncated or corrupt file are returned as rejections."""
    with file.path.open("rb") as stream:
        start = stream.read(RAW_TEXT_MAX_CHARS)
        if not start:
            return FileOutcome.rejected(Reason.EMPTY_FILE)
        stream.seek(0)
        try:
            reader = fastavro.reader(stream)
        except Exception as error:  # fastavro raises many kinds on a bad header
            if start.startswith(AVRO_MAGIC):
                return FileOutcome.rejected(Reason.TRUNCATED_AVRO, describe_error(error))
            return FileOutcome.rejected(Reason.NOT_AVRO, decode(start))
        event_type = event_type_from_path(file) or event_type_from_schema(reader.writer_schema)
        outcome = FileOutcome()
        for positions, payloads, failure in _batches(reader):
            if payloads:
                outcome.records_landed += _insert(
                    connection, context, provider, file, event_type, positions, payloads
                )
            if failure is not None:
                outcome.rejections.append(failure)
        return outcome


def _batches(
    reader: fastavro.reader,
) -> Iterator[tuple[range, list[str], Rejection | None]]:
    """(positions, payloads, rejection or None) per batch of records; the last batch
    carries the rejection of a file that breaks off."""
    records = iter(reader)
    payloads: list[str] = []
    first = 1
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as error:  # truncated block, bad sync marker, codec error, ...
            failure = Rejection(Reason.TRUNCATED_AVRO, first + len(payloads), describe_error(error))
            yield range(first, first + len(payloads)), payloads, failure
            return
        payloads.append(record_payload(record))
        if len(payloads) == BATCH_RECORDS:
            yield range(first, first + len(payloads)), payloads, None
            first += len(payloads)
            payloads = []
    yield range(first, first + len(payloads)), payloads, None


def _insert(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
    event_type: str | None,
    positions: range,
    payloads: list[str],
) -> int:
    batch = pa.table(
        {
            "source_position": pa.array(positions, pa.int64()),
            "payload": pa.array(payloads, pa.string()),
        }
    )
    with registered(connection, batch) as view:
        result = connection.execute(
            f"insert into {SCHEMA}.{provider.table} "
            "(event_type, source_file, source_position, load_id, loaded_at, payload) "
            f"select $event_type, $source_file, source_position, $load_id, $loaded_at, payload "
            f"from {view}",
            {
                "event_type": event_type,
                "source_file": file.source_file,
                "load_id": context.load_id,
                "loaded_at": context.loaded_at,
            },
        )
        return inserted_count(result)
