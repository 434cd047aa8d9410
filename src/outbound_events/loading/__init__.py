"""`outbound-events load`: land providers' raw export files in the `raw` schema.

- providers: the provider keys, their raw tables and file names
- sources: finding files, fingerprints, reading (gzip or not)
- json_files / avro_files: landing one file of each format
- warehouse: the raw tables, bookkeeping (raw.loaded_files, raw.load_rejections)
- loader: one load invocation, in one transaction
"""

from outbound_events.loading.loader import (
    LoadFailedError,
    LoadSummary,
    UnknownProviderError,
    files_to_load,
    load_files,
    provider_for,
)
from outbound_events.loading.providers import PROVIDERS
from outbound_events.loading.sources import PathNotFoundError

__all__ = [
    "PROVIDERS",
    "LoadFailedError",
    "LoadSummary",
    "PathNotFoundError",
    "UnknownProviderError",
    "files_to_load",
    "load_files",
    "provider_for",
]
