"""What landing one file produced, and the load-wide context every row carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from outbound_events.loading.limits import DEFAULT_MAX_RECORD_BYTES

# raw_text of a file-level rejection keeps at most this many characters.
RAW_TEXT_MAX_CHARS = 2000
# raw_text of a rejected record (too large, not UTF-8) keeps the start of its text.
RECORD_TEXT_CHARS = 500


class Reason(Enum):
    """Reason codes of raw.load_rejections."""

    EMPTY_FILE = "empty_file"
    NOT_AVRO = "not_avro"
    TRUNCATED_AVRO = "truncated_avro"
    UNREADABLE_FILE = "unreadable_file"
    INVALID_JSON_FILE = "invalid_json_file"
    # A JSON provider's file holding binary content (an Avro container, an archive,
    # NUL bytes): raw_text says what it looks like ("looks like Avro ...").
    NOT_JSON = "not_json"
    # Text that is not UTF-8: a whole `.json` file, or one NDJSON line; raw_text
    # starts "not UTF-8 at byte N" (1-based, in the file or in the line).
    NOT_UTF8 = "not_utf8"
    # One record (NDJSON line, array element, whole document, Avro record) over the
    # record size limit (limits.max_record_bytes); raw_text is the start of its text.
    RECORD_TOO_LARGE = "record_too_large"


@dataclass(frozen=True)
class LoadContext:
    """Lineage shared by every row one `load` invocation writes."""

    provider: str
    load_id: str
    loaded_at: datetime  # naive, UTC
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES


@dataclass(frozen=True)
class Rejection:
    """A file, or the tail of a file, that could not become raw records."""

    reason: Reason
    source_position: int
    raw_text: str = ""


@dataclass
class FileOutcome:
    records_landed: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @classmethod
    def rejected(cls, reason: Reason, raw_text: str = "", position: int = 1) -> FileOutcome:
        return cls(0, [Rejection(reason, position, raw_text[:RAW_TEXT_MAX_CHARS])])


def too_large(position: int, text: str) -> Rejection:
    """A record over the size limit: its position and the start of its text."""
    return Rejection(Reason.RECORD_TOO_LARGE, position, text[:RECORD_TEXT_CHARS])


def describe_error(error: BaseException) -> str:
    """An exception as rejection text: its type and message."""
    return f"{type(error).__name__}: {error}"[:RAW_TEXT_MAX_CHARS]


class RecordError(Exception):
    """An unexpected error while turning one record into a raw row: it names the
    record's position (the load fails and names the file and the record)."""

    def __init__(self, position: int, error: BaseException) -> None:
        super().__init__(f"record {position}: {describe_error(error)}")
        self.position = position
        self.error = error
