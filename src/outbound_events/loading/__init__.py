"""`outbound-events load`: land providers' raw export files in the `raw` schema.

- providers: the provider keys, their raw tables and file names
- sources: finding files (walks that skip loops and non-regular files), fingerprints,
  reading (gzip or not, streamed lines and documents, binary content told)
- json_files / avro_files: landing one file of each format
- canonical: content_sha256, the SHA-256 of a record's canonical JSON
- limits: the per-record size limit (OUTBOUND_EVENTS_MAX_RECORD_BYTES)
- warehouse: the raw tables, bookkeeping (raw.loaded_files, raw.load_rejections)
- warehouse_lock: opening the warehouse while another process holds it
- loader: one load invocation, in one transaction
"""

from outbound_events.loading.limits import InvalidSettingError
from outbound_events.loading.loader import (
    LoadFailedError,
    LoadSummary,
    UnknownProviderError,
    files_to_load,
    load_files,
    provider_for,
)
from outbound_events.loading.providers import PROVIDERS
from outbound_events.loading.sources import FoundFiles, PathNotFoundError, Skipped
from outbound_events.loading.warehouse_lock import WarehouseInUseError

__all__ = [
    "PROVIDERS",
    "FoundFiles",
    "InvalidSettingError",
    "LoadFailedError",
    "LoadSummary",
    "PathNotFoundError",
    "Skipped",
    "UnknownProviderError",
    "WarehouseInUseError",
    "files_to_load",
    "load_files",
    "provider_for",
]
