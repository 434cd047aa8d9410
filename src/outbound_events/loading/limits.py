"""The per-record size limit of the loader.

A record is one NDJSON line, one element of a JSON array, one whole JSON document
(an API body) or one Avro record (its JSON payload). A record whose text is larger
than the limit, counted in bytes of UTF-8, is not landed: it is listed in
raw.load_rejections as `record_too_large` with its position and the start of its text.
Nothing at or below the limit is lost.

Why 16 MiB and not Braze's own 900 KB: Braze drops events over 900 KB before they
reach Currents, so no Braze record comes near either number. The limit is for
everything else: a CrossEngage or ActivatePro API body is one record holding all of a
user's events (a body of 50,000 events is about 6 MB), and Customer.io and Outbound
events carry free-form properties. 16 MiB keeps such records (an API body of more than
100,000 events), while it bounds what one record costs: the loader holds a few
records of at most this size at a time, and DuckDB, whose JSON reader refuses objects
over 16 MiB by default (`maximum_object_size`), parses each payload whole in staging.
A record near 1 GB, on the other hand, is an export gone wrong, not an event.
Set OUTBOUND_EVENTS_MAX_RECORD_BYTES to change it (a whole number of bytes).
"""

from __future__ import annotations

import os

MAX_RECORD_BYTES_ENV = "OUTBOUND_EVENTS_MAX_RECORD_BYTES"
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024


class InvalidSettingError(ValueError):
    """An environment setting of the loader that is not usable."""


def max_record_bytes() -> int:
    """The record size limit: $OUTBOUND_EVENTS_MAX_RECORD_BYTES, else 16 MiB."""
    configured = os.environ.get(MAX_RECORD_BYTES_ENV, "").strip()
    if not configured:
        return DEFAULT_MAX_RECORD_BYTES
    try:
        limit = int(configured.replace("_", ""))
    except ValueError:
        limit = 0
    if limit < 1:
        raise InvalidSettingError(
            f"{MAX_RECORD_BYTES_ENV}={configured!r} is not a positive whole number of bytes"
        )
    return limit
