"""Finding the files to load and reading their bytes (gzip or not).

Folders are walked without following a directory cycle: every real folder (device
and inode) is entered once, so a link to an ancestor (a symlink loop) or a second way
into the same folder is skipped. Only regular files are picked: a FIFO, socket or
device file is never opened (opening a FIFO would block until someone writes to it).
What a walk leaves out is reported as `Skipped` entries: broken links, symlink loops,
folders reached twice, non-regular files whose names would have been picked, folders
that cannot be read. Hidden entries (names starting with `.`) are left out silently.

File names are never read as patterns: Python opens each file by its path, and DuckDB's
readers (which expand `*`, `?`, `[...]` in any path they are given) only ever see a
name of the already opened file that holds no such character (`duckdb_path`).

Trailing NUL padding (what a writer that stopped leaves: the file was extended, its
last bytes never written) is told by `find_padding`; a stand-in holding the content
before it (`write_standin`) is then read instead of the file.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import stat
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from outbound_events.loading.providers import Provider

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20


class NotRegularFileError(OSError):
    """A path that is not a regular file (FIFO, socket, device, folder) was to be read."""


# What reading a file (or decompressing it) can raise: the file is then unreadable.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)


class PathNotFoundError(ValueError):
    """A path given to the loader does not exist."""


@dataclass(frozen=True)
class SourceFile:
    """One file to land. `source_file` is its absolute path as found (symbolic links
    are not resolved), which is what lands in the raw rows' `source_file`.

    A stand-in (`origin` set) is a temporary plain file holding part of the content of
    the file at `origin` (decompressed): it is read in its place, and its rows carry
    the origin's path and name."""

    path: Path
    origin: Path | None = None

    @property
    def source_file(self) -> str:
        return str(self.origin or self.path)

    @property
    def name(self) -> str:
        return (self.origin or self.path).name.lower()

    @property
    def named_gzip(self) -> bool:
        return self.origin is None and self.name.endswith(".gz")

    @property
    def named_ndjson(self) -> bool:
        return self.name.removesuffix(".gz").endswith((".ndjson", ".jsonl"))


@dataclass(frozen=True)
class Skipped:
    """A path the loader left out, and why."""

    path: Path
    reason: str

    def line(self) -> str:
        return f"skipped: {self.path} ({self.reason})"


@dataclass
class FoundFiles:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int


NOT_REGULAR = "not a regular file"
SYMLINK_LOOP = "symlink loop"
BROKEN_LINK = "broken link"


def find_files(paths: Iterable[Path], provider: Provider) -> FoundFiles:
    """The regular files named, and those under the folders named (walked
    recursively, hidden entries left out) whose names end with one of the provider's
    suffixes, each once, in the order given, a folder's files sorted by path; plus
    what was skipped and why. Raise PathNotFoundError for a path that does not
    exist, before anything is read."""
    given = [Path(os.path.abspath(path)) for path in paths]
    for path in given:
        if not path.exists():
            raise PathNotFoundError(f"path does not exist: {path}")
    found: dict[Path, None] = {}
    skipped: list[Skipped] = []
    for path in given:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            found.update(dict.fromkeys(sorted(_walk(path, provider.suffixes, skipped))))
        elif stat.S_ISREG(mode):
            found[path] = None
        else:
            skipped.append(Skipped(path, NOT_REGULAR))
    return FoundFiles([SourceFile(path) for path in found], skipped)


def _walk(folder: Path, suffixes: tuple[str, ...], skipped: list[Skipped]) -> Iterator[Path]:
    """Regular files under `folder` named with one of `suffixes`, entering each real
    folder once, without recursion. Folders reached through a symbolic link are
    entered after all others, so a folder that is also reachable without a link is
    walked under its own path (the link is then `same folder as` it)."""
    top = folder.stat()
    seen: dict[tuple[int, int], Path] = {(top.st_dev, top.st_ino): folder}
    Entry = tuple[Path, tuple[int, int], tuple[tuple[int, int], ...]]
    pending: list[Entry] = [(folder, (top.st_dev, top.st_ino), ())]
    linked: list[Entry] = []  # folders behind a link, entered once `pending` is done
    while pending or linked:
        if pending:
            directory, key, ancestors = pending.pop()
        else:
            directory, key, ancestors = linked.pop(0)
            if key in seen:
                skipped.append(Skipped(directory, f"same folder as {seen[key]}"))
                continue
            seen[key] = directory
        ancestors = (*ancestors, key)
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            skipped.append(Skipped(directory, f"cannot read the folder: {error.strerror}"))
            continue
        subfolders: list[Entry] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = directory / entry.name
            try:
                status = os.stat(path)  # follows links
            except OSError as error:
                reason = _unreachable(entry, error)
                if reason:
                    skipped.append(Skipped(path, reason))
                continue
            if stat.S_ISDIR(status.st_mode):
                child = (status.st_dev, status.st_ino)
                if child in ancestors:
                    skipped.append(Skipped(path, SYMLINK_LOOP))
                elif entry.is_symlink():
                    linked.append((path, child, ancestors))
                elif child in seen:  # a bind mount or a hard-linked folder
                    skipped.append(Skipped(path, f"same folder as {seen[child]}"))
                else:
                    seen[child] = path
                    subfolders.append((path, child, ancestors))
            elif entry.name.lower().endswith(suffixes):
                if stat.S_ISREG(status.st_mode):
                    yield path
                else:
                    skipped.append(Skipped(path, NOT_REGULAR))
        pending.extend(reversed(subfolders))


def _unreachable(entry: os.DirEntry[str], error: OSError) -> str | None:
    """Why an entry whose target cannot be reached is skipped (None: it vanished
    while the folder was walked, nothing to report)."""
    if error.errno == errno.ELOOP:
        return SYMLINK_LOOP
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return BROKEN_LINK if entry.is_symlink() else None
    return f"cannot read: {error.strerror}"


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; raise NotRegularFileError for anything else
    without blocking (a FIFO is opened non-blocking, then refused)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFileError(errno.EINVAL, NOT_REGULAR, str(path))
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


@contextmanager
def open_content(file: SourceFile) -> Iterator[BinaryIO]:
    """The file's content as a stream, decompressed when it is gzip."""
    with open_regular(file.path) as raw:
        compressed = file.named_gzip or raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream  # type: ignore[misc]


def chunks(stream: BinaryIO, size: int = _CHUNK) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk


# What DuckDB's file readers expand in a path (`*`, `?`, `[...]`; braces, commas and
# backslashes are kept out too, to be safe): `duckdb_path` gives names without them.
PATTERN_CHARACTERS = frozenset("*?[]{},\\")
# Linux names every open file of the process here: /proc/self/fd/<descriptor>.
_OPEN_FILES = Path("/proc/self/fd")


def duckdb_path(file: SourceFile, resources: ExitStack) -> str:
    """A path for DuckDB's readers that names exactly the file, whatever characters its
    own path holds: the file is opened (it stays open until `resources` closes) and
    named by its descriptor, `/proc/self/fd/<n>` (which also pins the file read to the
    one opened here). Where there is no /proc, a symbolic link with a plain name in a
    private temporary folder is made instead."""
    stream = resources.enter_context(open_regular(file.path))
    if _OPEN_FILES.is_dir():
        return str(_OPEN_FILES / str(stream.fileno()))
    folder = resources.enter_context(tempfile.TemporaryDirectory(prefix="outbound-events-"))
    if PATTERN_CHARACTERS.intersection(folder):
        raise OSError(errno.EINVAL, f"the temporary folder {folder} holds pattern characters")
    link = os.path.join(folder, "content")
    os.symlink(os.path.abspath(file.path), link)
    return link


def content_size(file: SourceFile, exact: bool = False) -> tuple[int, int | None]:
    """(size of the content in bytes, the modulus it is known to) : a plain file's size
    (exact); for a gzip file its trailer's ISIZE, the size of its last member modulo
    2**32, unless `exact` (then every member is decompressed and counted)."""
    if not is_gzip(file):
        return os.stat(file.path).st_size, None
    if exact:
        size = 0
        with open_content(file) as stream:
            for chunk in chunks(stream):
                size += len(chunk)
        return size, None
    with open_regular(file.path) as stream:
        stream.seek(0, os.SEEK_END)
        if stream.tell() < 4:
            return 0, 1 << 32
        stream.seek(-4, os.SEEK_END)
        return int.from_bytes(stream.read(4), "little"), 1 << 32


def fingerprint(file: SourceFile) -> Fingerprint:
    """SHA-256 and size of the file's bytes as stored (compressed, for .gz)."""
    digest = hashlib.sha256()
    size = 0
    with open_regular(file.path) as stream:
        for chunk in chunks(stream):
            digest.update(chunk)
            size += len(chunk)
    return Fingerprint(digest.hexdigest(), size)


def is_gzip(file: SourceFile) -> bool:
    """Whether the file is to be decompressed: named .gz, or starting with gzip's
    magic bytes. A .gz file that is not gzip fails to decompress (unreadable)."""
    if file.named_gzip:
        return True
    with open_regular(file.path) as stream:
        return stream.read(2) == GZIP_MAGIC


def read_head(file: SourceFile, size: int) -> bytes:
    """The first `size` bytes of the content (decompressed)."""
    with open_content(file) as stream:
        return stream.read(size)


def first_significant_char(file: SourceFile) -> str | None:
    """The first character that is not whitespace (after a UTF-8 byte-order mark),
    or None when the content is empty or only whitespace."""
    with open_content(file) as stream:
        start = True
        for chunk in chunks(stream):
            if start:
                chunk = chunk.removeprefix(UTF8_BOM)
                start = False
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1].decode("latin-1")
    return None


def decode(content: bytes) -> str:
    """Text of raw bytes: UTF-8 (byte-order mark dropped); bytes that are not UTF-8,
    and NUL bytes, become `\\xNN` escapes, so the text shows them (and is not valid
    JSON)."""
    text = content.removeprefix(UTF8_BOM).decode("utf-8", errors="backslashreplace")
    return text.replace("\x00", "\\x00")


# ----------------------------------------------------------------- what the bytes are

# How much of the start of a JSON provider's file tells binary content.
SNIFF_BYTES = 64 * 1024
_MAGIC = [
    (b"Obj\x01", "looks like Avro: an Avro object container file, not JSON text "
     "(Braze Currents files load with --provider braze)"),
    (b"PAR1", "looks like Parquet, not JSON text"),
    (b"PK\x03\x04", "looks like a zip archive, not JSON text (unzip it first)"),
    (b"BZh", "looks like bzip2-compressed data, not JSON text (decompress it first)"),
    (b"\xfd7zXZ\x00", "looks like xz-compressed data, not JSON text (decompress it first)"),
    (b"\x28\xb5\x2f\xfd", "looks like zstd-compressed data, not JSON text (decompress it first)"),
]  # fmt: skip


@dataclass(frozen=True)
class BinaryContent:
    """Content that is no text a JSON file can hold: why (a Reason value) and what
    it looks like; `nul`: told by its NUL bytes (not by a known format)."""

    reason: str  # "not_json" or "not_utf8"
    text: str
    nul: bool = False


# Bytes text lines do not hold (C0 controls other than tab, line feed, vertical tab,
# form feed and carriage return).
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")
_PADDING = b"\x00 \t\r\n"


def binary_content(head: bytes, whole: bool = False) -> BinaryContent | None:
    """What the start of a file's content (decompressed; `whole`: all of it) says
    when it is binary: a known container or compression format, UTF-16 text, or NUL
    bytes in lines that are mostly not text; None when it may be text.

    A NUL byte alone does not make a file binary: NDJSON with a NUL in one line, or
    with NUL padding after its last line, is text whose bad line (or padding) is
    rejected alone. The head is binary when it holds a NUL and fewer than half of its
    lines (those that are not blank or only NULs and whitespace; a last line cut off
    by the end of the head left out) are free of control bytes."""
    for magic, text in _MAGIC:
        if head.startswith(magic):
            return BinaryContent("not_json", text)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return BinaryContent("not_utf8", "not UTF-8 at byte 1: UTF-16 text (byte-order mark)")
    nul = head.find(b"\x00")
    if nul == -1:
        return None
    sample = head[:64]
    odd_nul, even_nul = not sample[1::2].strip(b"\x00"), not sample[0::2].strip(b"\x00")
    if len(sample) >= 4 and odd_nul != even_nul:  # every other byte NUL: ASCII in UTF-16
        return BinaryContent("not_utf8", f"not UTF-8 at byte {nul + 1}: looks like UTF-16 text")
    lines = head.split(b"\n")
    if not whole and len(lines) > 1:
        lines.pop()
    telling = [line for line in lines if line.strip(_PADDING)]
    clean = sum(1 for line in telling if not _CONTROL.search(line))
    if 2 * clean >= len(telling):
        return None
    text = f"not JSON: binary content (a NUL byte at byte {nul + 1})"
    return BinaryContent("not_json", text, nul=True)


def utf8_error(data: bytes) -> tuple[int, int] | None:
    """(index, value) of the first byte of `data` that is not UTF-8, else None."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start, data[error.start]
    return None


def not_utf8_text(position: int, value: int, where: str, start: bytes, chars: int) -> str:
    """`not UTF-8 at byte N<where> (0xNN): <start of the text>` (bytes escaped)."""
    return f"not UTF-8 at byte {position}{where} (0x{value:02x}): {decode(start)}"[:chars]


# ----------------------------------------------------------------------- NDJSON lines


@dataclass(frozen=True)
class Line:
    """A non-blank line as read: its physical number and bytes (line ending and a
    leading byte-order mark dropped), or, for a line over the size limit, only its
    start (`too_large`)."""

    number: int
    data: bytes
    too_large: bool = False


# Of a line over the limit this many bytes are kept (for the start of its text).
LINE_HEAD_BYTES = 4 * 1024


def read_lines(file: SourceFile, max_bytes: int) -> Iterator[Line]:
    """The non-blank lines of the file's content (split on `\\n`, a `\\r` before it
    dropped, lines of only spaces and tabs left out but counted), streamed: a line
    longer than `max_bytes` is not held in memory, only its first LINE_HEAD_BYTES."""
    number = 0
    kept = bytearray()
    size = 0
    blank = True  # a line over the limit of only spaces and tabs (and \r) is blank
    with open_content(file) as stream:
        first = True
        for chunk in chunks(stream):
            if first:
                chunk = chunk.removeprefix(UTF8_BOM)
                first = False
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                piece = chunk[start:] if end == -1 else chunk[start:end]
                if size + len(piece) <= max_bytes + 1:  # + 1: a \r dropped at the end
                    kept += piece
                else:  # over the limit: keep only the start
                    if size <= max_bytes + 1:  # the first piece over: `kept` is all so far
                        blank = not kept.strip(b" \t\r")
                    blank = blank and not piece.strip(b" \t\r")
                    if len(kept) < LINE_HEAD_BYTES:
                        kept += piece[: LINE_HEAD_BYTES - len(kept)]
                    else:
                        del kept[LINE_HEAD_BYTES:]
                size += len(piece)
                if end == -1:
                    break
                number += 1
                line = _line(number, kept, size, blank, max_bytes)
                if line is not None:
                    yield line
                kept.clear()
                size = 0
                blank = True
                start = end + 1
    if size:
        line = _line(number + 1, kept, size, blank, max_bytes)
        if line is not None:
            yield line


def _line(number: int, kept: bytearray, size: int, blank: bool, max_bytes: int) -> Line | None:
    if size <= max_bytes + 1:
        data = bytes(kept).removesuffix(b"\r")
        if not data.strip(b" \t"):
            return None
        if len(data) <= max_bytes:
            return Line(number, data)
    elif blank:
        return None
    return Line(number, bytes(kept[:LINE_HEAD_BYTES]), too_large=True)


# --------------------------------------------------------------------- whole documents


@dataclass(frozen=True)
class Document:
    """A file's content read as one text: `text` is the whole of it, stripped of
    surrounding whitespace, when it is UTF-8, free of NUL bytes and within the size
    limit."""

    start: bytes  # the first bytes (after a byte-order mark), for rejection texts
    text: str | None
    too_large: bool
    bad_byte: tuple[int, int] | None  # (1-based position in the content, value)
    nul: int | None = None  # 1-based position in the content of the first NUL byte


def read_document(file: SourceFile, max_bytes: int, start_bytes: int) -> Document:
    """Stream the content once: keep at most `max_bytes` from its first non-blank
    byte (more is too large unless it is only trailing whitespace), tell the first
    byte that is not UTF-8 and the first NUL byte, and keep the first `start_bytes`."""
    start = bytearray()
    kept = bytearray()
    begun = False
    too_large = False
    bad: tuple[int, int] | None = None
    nul: int | None = None
    pending = b""  # an incomplete UTF-8 sequence at the end of the previous chunk
    offset = 0  # position of `pending`'s first byte in the content
    position = 0  # position of the chunk's first byte in the content
    with open_content(file) as stream:
        first = True
        for chunk in chunks(stream):
            if first and chunk.startswith(UTF8_BOM):
                chunk = chunk[len(UTF8_BOM) :]
                offset = position = len(UTF8_BOM)
            first = False
            if len(start) < start_bytes:
                start += chunk[: start_bytes - len(start)]
            if bad is None:
                data = pending + chunk
                bad, pending = _check_utf8(data, offset)
                offset += len(data) - len(pending)
            if nul is None and (index := chunk.find(b"\x00")) != -1:
                nul = position + index + 1
            position += len(chunk)
            if not begun:
                chunk = chunk.lstrip()
                begun = bool(chunk)
            if too_large or not chunk:
                continue
            room = max_bytes - len(kept)
            kept += chunk[:room]
            if chunk[room:].strip():
                too_large = True
                kept.clear()
    if bad is None and pending:
        bad = (offset + 1, pending[0])  # the content ends inside a character
    usable = not too_large and bad is None and nul is None
    text = kept.strip().decode("utf-8") if usable else None
    return Document(bytes(start), text, too_large, bad, nul)


def _check_utf8(data: bytes, offset: int) -> tuple[tuple[int, int] | None, bytes]:
    """(first bad byte of `data` as (1-based position in the content, value), or
    None; the incomplete character at its end, to be completed by the next chunk)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":  # only ever at the very end
            return None, data[error.start :]
        return (offset + error.start + 1, data[error.start]), b""
    return None, b""


# ------------------------------------------------------------------ trailing padding


@dataclass(frozen=True)
class Padding:
    """NUL padding at the end of a file's content: from byte `offset` (0-based, the
    first NUL of the run of NUL and whitespace bytes that ends the content) to the end,
    `size` bytes."""

    offset: int
    size: int

    def text(self) -> str:
        return (
            f"NUL padding at the end of the file: {self.size} bytes from byte "
            f"{self.offset + 1} on, only NUL bytes and whitespace (what a writer that "
            "stopped leaves); no record in it"
        )


def find_padding(file: SourceFile) -> Padding | None:
    """The NUL padding the content ends with, if any: its run of trailing NUL and
    whitespace bytes, from the first NUL in that run on. A plain file is read from its
    end (only the run is read); gzip content is streamed."""
    if is_gzip(file):
        return _padding_in_stream(file)
    with open_regular(file.path) as stream:
        end = stream.seek(0, os.SEEK_END)
        run = end  # the trailing run of NUL and whitespace bytes starts here
        while run > 0:
            block = min(_CHUNK, run)
            stream.seek(run - block)
            data = stream.read(block)
            kept = len(data.rstrip(_PADDING))
            run -= block - kept
            if kept:
                break
        stream.seek(run)
        position = run
        for chunk in chunks(stream):
            index = chunk.find(b"\x00")
            if index != -1:
                return Padding(position + index, end - position - index)
            position += len(chunk)
    return None


def _padding_in_stream(file: SourceFile) -> Padding | None:
    position = 0
    run_nul: int | None = None  # first NUL of the current trailing run of padding bytes
    with open_content(file) as stream:
        for chunk in chunks(stream):
            kept = len(chunk.rstrip(_PADDING))
            if kept:
                run_nul = None
            if run_nul is None and (index := chunk.find(b"\x00", kept)) != -1:
                run_nul = position + index
            position += len(chunk)
    return None if run_nul is None else Padding(run_nul, position - run_nul)


def write_standin(file: SourceFile, end: int, resources: ExitStack) -> SourceFile:
    """A stand-in for `file`: a plain temporary file (removed when `resources` closes)
    holding its content's first `end` bytes, decompressed."""
    folder = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="outbound-events-")))
    path = folder / "content"
    with open_content(file) as source, path.open("wb") as target:
        left = end
        while left > 0 and (chunk := source.read(min(_CHUNK, left))):
            target.write(chunk)
            left -= len(chunk)
    return SourceFile(path, origin=file.path)


def count_lines(file: SourceFile) -> int:
    """Physical lines of the content (a last line without a line ending counted)."""
    lines = 0
    last = b"\n"
    with open_content(file) as stream:
        for chunk in chunks(stream):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")
