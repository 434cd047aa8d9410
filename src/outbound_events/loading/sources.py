"""Finding the files to load and reading their bytes (gzip or not)."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from outbound_events.loading.providers import Provider

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20

# What reading a file (or decompressing it) can raise: the file is then unreadable.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)


class PathNotFoundError(ValueError):
    """A path given to the loader does not exist."""


@dataclass(frozen=True)
class SourceFile:
    """One file to land. `source_file` is its absolute path as found (symbolic links
    are not resolved), which is what lands in the raw rows' `source_file`."""

    path: Path

    @property
    def source_file(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name.lower()

    @property
    def named_gzip(self) -> bool:
        return self.name.endswith(".gz")

    @property
    def named_ndjson(self) -> bool:
        return self.name.removesuffix(".gz").endswith((".ndjson", ".jsonl"))


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int


def find_files(paths: Iterable[Path], provider: Provider) -> list[SourceFile]:
    """The files named, and those under the folders named (walked recursively, hidden
    entries left out) whose names end with one of the provider's suffixes, each once,
    in the order given, a folder's files sorted by path. Raise PathNotFoundError for a
    path that does not exist, before anything is read."""
    given = [Path(os.path.abspath(path)) for path in paths]
    for path in given:
        if not path.exists():
            raise PathNotFoundError(f"path does not exist: {path}")
    found: dict[Path, None] = {}
    for path in given:
        if path.is_dir():
            found.update(dict.fromkeys(sorted(_walk(path, provider.suffixes))))
        else:
            found[path] = None
    return [SourceFile(path) for path in found]


def _walk(folder: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(folder, followlinks=True):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        for name in names:
            if not name.startswith(".") and name.lower().endswith(suffixes):
                yield Path(directory) / name


def fingerprint(file: SourceFile) -> Fingerprint:
    """SHA-256 and size of the file's bytes as stored (compressed, for .gz)."""
    digest = hashlib.sha256()
    size = 0
    with file.path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Fingerprint(digest.hexdigest(), size)


def is_gzip(file: SourceFile) -> bool:
    """Whether the file is to be decompressed: named .gz, or starting with gzip's
    magic bytes. A .gz file that is not gzip fails to decompress (unreadable)."""
    if file.named_gzip:
        return True
    with file.path.open("rb") as stream:
        return stream.read(2) == GZIP_MAGIC


def read_content(file: SourceFile) -> bytes:
    """The file's content, decompressed; raises one of READ_ERRORS when it cannot."""
    if is_gzip(file):
        with gzip.open(file.path, "rb") as stream:
            return stream.read()
    return file.path.read_bytes()


def first_significant_char(file: SourceFile) -> str | None:
    """The first character that is not whitespace (after a UTF-8 byte-order mark),
    or None when the content is empty or only whitespace."""
    opener = gzip.open if is_gzip(file) else open
    with opener(file.path, "rb") as stream:
        start = True
        while chunk := stream.read(_CHUNK):
            if start:
                chunk = chunk.removeprefix(UTF8_BOM)
                start = False
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1].decode("latin-1")
    return None


def decode(content: bytes) -> str:
    """Text of raw bytes: UTF-8 (byte-order mark dropped); bytes that are not UTF-8
    become `\\xNN` escapes, so the text shows them (and is not valid JSON)."""
    return content.removeprefix(UTF8_BOM).decode("utf-8", errors="backslashreplace")
