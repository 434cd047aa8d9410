"""Landing a Braze Currents Avro object-container file: one raw row per record.

`payload` is the record as a JSON object of its fields in schema order, fields whose
value is null (absent optional `["null", T]` fields) left out. Bytes and fixed values
become base64 text; Avro logical types become text (timestamps and dates ISO-8601,
decimals their exact digits, uuids their canonical form); a NaN or infinite float
becomes the string "NaN", "Infinity" or "-Infinity". Each file is read with its own
writer schema, so files whose schema gained fields land side by side.

A file whose schema is no record (a plain `"string"`, an array, a union) is rejected as
`not_avro` ("Avro schema is \"string\", not a record").

A record whose payload is over the record size limit (limits.py) is rejected as
`record_too_large` (its position and the start of its payload); the records after it
land. Every landed record carries content_sha256 of its payload (canonical.py).

`event_type` is the value of the nearest `event_type=` folder of the path, else the
event type in the schema's record name, else in the file's name: the dotted name from
its `users.` part on (`dataexport.S3.inner.users.messages.email.Send` ->
`users.messages.email.Send`), `users.` put back where an older export left it out
(`messages.email.Send.avro`), and Braze's other roots (`agentconsole.`,
`contentoptimizer.`, `changelogs.`) kept as they are; else the record's full name.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import fastavro

from outbound_events.loading.canonical import content_sha256_many
from outbound_events.loading.outcome import (
    RAW_TEXT_MAX_CHARS,
    FileOutcome,
    LoadContext,
    Reason,
    RecordError,
    Rejection,
    describe_error,
    too_large,
)
from outbound_events.loading.providers import Provider
from outbound_events.loading.sources import SourceFile, decode, open_regular
from outbound_events.loading.warehouse import insert_batch, payload_batch

AVRO_MAGIC = b"Obj\x01"
EVENT_TYPE_SEGMENT = "event_type="
BATCH_RECORDS = 50_000
BATCH_BYTES = 32 * 1024 * 1024


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


EVENT_ROOTS = ("users", "agentconsole", "contentoptimizer", "changelogs")
USERS_CHILDREN = ("messages", "behaviors", "campaigns", "canvas", "canvasstep")


def event_type_in_name(name: str) -> str | None:
    """The Currents event type a dotted name holds (see the module docstring)."""
    parts = [part for part in name.split(".") if part]
    for index, part in enumerate(parts):
        if part in EVENT_ROOTS and index < len(parts) - 1:
            return ".".join(parts[index:])
        if part in USERS_CHILDREN and index < len(parts) - 1:
            return ".".join(["users", *parts[index:]])
    return None


def schema_full_name(schema: object) -> str | None:
    if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
        return None
    name: str = schema["name"]
    namespace = schema.get("namespace")
    if "." not in name and isinstance(namespace, str) and namespace:
        name = f"{namespace}.{name}"
    return name


def event_type_from_schema(schema: object) -> str | None:
    """`users.messages.email.Send` from a record named
    `dataexport.S3.inner.users.messages.email.Send` (the full name when it holds no
    event type; None when the schema is not a named record)."""
    name = schema_full_name(schema)
    return None if name is None else event_type_in_name(name) or name


def event_type_of(file: SourceFile, schema: object) -> str | None:
    name = schema_full_name(schema)
    return (
        event_type_from_path(file)
        or (event_type_in_name(name) if name else None)
        or event_type_in_name(file.path.name.removesuffix(".avro"))
        or name
    )


def land_avro_file(
    connection: duckdb.DuckDBPyConnection,
    context: LoadContext,
    provider: Provider,
    file: SourceFile,
) -> FileOutcome:
    """Land one Avro file's records; an empty file, a file that is not Avro, the
    unreadable tail of a truncated or corrupt file and records over the size limit
    are returned as rejections."""
    with open_regular(file.path) as stream:
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
        not_a_record = _not_a_record(reader.writer_schema)
        if not_a_record is not None:
            return FileOutcome.rejected(Reason.NOT_AVRO, not_a_record)
        event_type = event_type_of(file, reader.writer_schema)
        constants = {
            "source_file": file.source_file,
            "event_type": event_type,
            "load_id": context.load_id,
            "loaded_at": context.loaded_at,
        }
        outcome = FileOutcome()
        for batch in _batches(reader, context.max_record_bytes):
            if batch.payloads:
                table = payload_batch(
                    batch.positions, batch.payloads, content_sha256_many(batch.payloads)
                )
                outcome.records_landed += insert_batch(connection, provider.table, table, constants)
            outcome.rejections.extend(batch.rejections)
        return outcome


def _not_a_record(schema: object) -> str | None:
    """Why a file's writer schema is no record schema (its records would be no
    objects of fields), or None when it is one."""
    if isinstance(schema, dict) and schema.get("type") == "record":
        return None
    if isinstance(schema, dict):
        kind = json.dumps(schema.get("type"))
    elif isinstance(schema, list):
        kind = "a union " + json.dumps(schema)
    else:
        kind = json.dumps(schema)
    return f"Avro schema is {kind}, not a record"[:RAW_TEXT_MAX_CHARS]


@dataclass
class _Batch:
    positions: list[int] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    size: int = 0


def _batches(reader: fastavro.reader, max_bytes: int) -> Iterator[_Batch]:
    """The records as batches of payloads (at most BATCH_RECORDS records or
    BATCH_BYTES characters each) with the rejections among them: records over the
    size limit, and, last, the tail of a file that breaks off."""
    records = iter(reader)
    batch = _Batch()
    position = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except Exception as error:  # truncated block, bad sync marker, codec error, ...
            batch.rejections.append(
                Rejection(Reason.TRUNCATED_AVRO, position + 1, describe_error(error))
            )
            break
        position += 1
        try:
            payload = record_payload(record)
        except Exception as error:
            raise RecordError(position, error) from error
        if _utf8_size_over(payload, max_bytes):
            batch.rejections.append(too_large(position, payload))
            continue
        batch.positions.append(position)
        batch.payloads.append(payload)
        batch.size += len(payload)
        if len(batch.payloads) == BATCH_RECORDS or batch.size >= BATCH_BYTES:
            yield batch
            batch = _Batch()
    yield batch


def _utf8_size_over(text: str, max_bytes: int) -> bool:
    """Whether `text` takes more than `max_bytes` bytes of UTF-8 (encoded only when
    its length leaves a doubt: a character takes 1 to 4 bytes)."""
    if len(text) > max_bytes:
        return True
    return 4 * len(text) > max_bytes and len(text.encode("utf-8")) > max_bytes
