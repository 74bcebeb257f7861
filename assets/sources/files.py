"""The snapshot (or fetch cache) as a jail: the one way ingest opens a source file.

Every file-reading ingest asks `open_source_file` (or `read_source_file`) before a byte is read: the
path is resolved and must stay inside the root it was listed under, must name a regular file (not a
FIFO, a device, a socket or a directory) and must not exceed the cap of its kind. Anything else
raises `FileRefused` with a reason meant for the quarantine; the reason never names what a link
points to, so nothing about the world outside the root reaches the warehouse either.
`write_atomic` is the one way a file is written into the cache or a rendered site: whole, or not at all.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

_FILE_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
               stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


class FileRefused(Exception):
    """A source file that is not read; `reason` says why (for the quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SourceFile:
    """A file that passed the jail: its path as listed, where it resolves (inside the root), its stat."""

    path: Path
    real: Path
    size: int
    mtime_ns: int

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


def _inside(root: str, real: str) -> bool:
    return real != root and os.path.commonpath([root, real]) == root


def open_source_file(root: Path, path: Path, max_bytes: int, what: str = "file") -> SourceFile:
    """`path` (listed under `root`) if it may be read: it resolves inside `root`, is a regular
    file and holds at most `max_bytes` bytes. Raises FileRefused otherwise; reads nothing."""
    real_root = os.path.realpath(root)
    try:
        real = os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):          # a dangling link, a link loop
        raise FileRefused(f"{what} is a broken or looping link") from None
    if not _inside(real_root, real):
        raise FileRefused(f"{what} is a link that leaves the snapshot root: not read")
    try:
        info = os.stat(real)
    except OSError as exc:
        raise FileRefused(f"{what} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise FileRefused(f"{what} is {kind}, not a regular file: not read")
    if info.st_size > max_bytes:
        raise FileRefused(f"{what} too large: {info.st_size} bytes (limit {max_bytes})")
    return SourceFile(path, Path(real), info.st_size, info.st_mtime_ns)


def read_source_file(root: Path, path: Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of `path` once `open_source_file` accepts it, read from where it resolves through
    a descriptor that follows no further link and does not block (so a file swapped for a FIFO or
    a link after the check is refused, not waited on), and never more than `max_bytes`."""
    admitted = open_source_file(root, path, max_bytes, what)
    try:
        fd = os.open(admitted.real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise FileRefused(f"{what} cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefused(f"{what} is not a regular file: not read")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"{what} too large: over {max_bytes} bytes")
    return data


# JSON nesting, in C loops only (30 to 90 MB/s on the project's machine): escaped backslashes and quotes removed, then all but
# quotes and brackets, then what lies between quotes (strings); then each pass deletes the
# innermost pairs of brackets.
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')


def json_too_deep(data: bytes, max_depth: int) -> bool:
    """True when the JSON text `data` nests arrays and objects more than about `max_depth` levels
    (each pass below removes one or two levels); unbalanced text is left to the JSON parser."""
    kept = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_QUOTES_OR_BRACKETS)
    brackets = b"".join(kept.split(b'"')[::2])
    for _ in range(max_depth):
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return len(brackets.replace(b"[]", b"").replace(b"{}", b"")) < len(brackets)


def write_atomic(path: Path, data: bytes) -> None:
    """`data` into `path`, whole: written beside it, then renamed over it, so a reader (or a run killed
    midway) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass(frozen=True)
class InputLimits:
    """Bounds on every kind of input file, checked before it is read (and on what is done with it)."""

    table_file_bytes: int = 512_000_000
    card_bytes: int = 10_000_000
    model_info_bytes: int = 5_000_000
    feed_bytes: int = 50_000_000
    leaderboard_bytes: int = 50_000_000
    json_depth: int = 64                  # nesting of arrays and objects in a table file
    # A longer card body is rendered up to here, with a note: rendering costs up to about 50 us per
    # character of some markdown (nested brackets), and grows with the square of HTML nesting.
    card_render_chars: int = 100_000

    @classmethod
    def from_env(cls, env: os._Environ | dict) -> "InputLimits":
        def cap(name: str, default: int) -> int:
            text = env.get(name, "").strip()
            if not text:
                return default
            if not text.isdigit() or int(text) < 1:
                raise ValueError(f"{name} must be a positive number of bytes, not {text!r}")
            return int(text)

        return cls(cap("SOTABOARD_MAX_TABLE_BYTES", cls.table_file_bytes),
                   cap("SOTABOARD_MAX_CARD_BYTES", cls.card_bytes),
                   cap("SOTABOARD_MAX_MODEL_INFO_BYTES", cls.model_info_bytes),
                   cap("SOTABOARD_MAX_FEED_BYTES", cls.feed_bytes))
