"""What landing one file produced, and the load-wide context every row carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

# raw_text of a file-level rejection keeps at most this many characters.
RAW_TEXT_MAX_CHARS = 2000


class Reason(Enum):
    """Reason codes of raw.load_rejections."""

    EMPTY_FILE = "empty_file"
    NOT_AVRO = "not_avro"
    TRUNCATED_AVRO = "truncated_avro"
    UNREADABLE_FILE = "unreadable_file"
    INVALID_JSON_FILE = "invalid_json_file"


@dataclass(frozen=True)
class LoadContext:
    """Lineage shared by every row one `load` invocation writes."""

    provider: str
    load_id: str
    loaded_at: datetime  # naive, UTC


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


def describe_error(error: BaseException) -> str:
    """An exception as rejection text: its type and message."""
    return f"{type(error).__name__}: {error}"[:RAW_TEXT_MAX_CHARS]
