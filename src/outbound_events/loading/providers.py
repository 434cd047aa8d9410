"""The providers the loader knows: their raw table and which files belong to them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FileFormat(Enum):
    AVRO = "avro"
    JSON = "json"


@dataclass(frozen=True)
class Provider:
    key: str
    file_format: FileFormat

    @property
    def table(self) -> str:
        """Name of the provider's raw table in the `raw` schema."""
        return f"{self.key}__events"

    @property
    def suffixes(self) -> tuple[str, ...]:
        """File name endings picked when a folder is walked (lower-cased match)."""
        if self.file_format is FileFormat.AVRO:
            return (".avro",)
        plain = (".json", ".ndjson", ".jsonl")
        return plain + tuple(f"{suffix}.gz" for suffix in plain)


PROVIDERS: dict[str, Provider] = {
    provider.key: provider
    for provider in [
        Provider("braze", FileFormat.AVRO),
        Provider("crossengage", FileFormat.JSON),
        Provider("activatepro", FileFormat.JSON),
        Provider("outbound", FileFormat.JSON),
        Provider("customerio", FileFormat.JSON),
    ]
}
