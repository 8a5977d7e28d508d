"""A cache of validated protocols, so a run does not parse and validate the same file again.

Parsing a protocol (YAML with a line map, the pydantic schema, the cross-field checks) is the
largest part of a short run's start-up. A protocol that loaded without a problem is stored as a
pickle named by a hash of

- the file's bytes (any edit, however small, is another entry: never a stale protocol), and
- the code that reads and validates it: the source of every module of `regimens.protocol`,
  `regimens.errors`, the package version, and the versions of Python, pydantic (its version file
  and pydantic-core's compiled module) and PyYAML (a change to a rule or a field is another entry
  too).

Only successful loads are stored; a file with a problem is parsed every time so that its
diagnostics are always current. An entry is used only if it is a regular file owned by the user
running and writable by no one else (a pickle runs code when read: the cache directory is the
user's own, created 0700, entries 0600). A missing, truncated or unreadable entry is a miss.
The directory comes from the caller (the CLI: `REGIMENS_CACHE_DIR`, else the platform's user
cache folder); the library reads no environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = 2
"""Bumped when what an entry holds changes shape (2: model.py's plain records, not pydantic models)."""
MAX_ENTRIES = 200
"""Protocol entries kept (a protocol is about 50-200 kB pickled); the oldest go first."""
KINDS = {"protocol": "pickle", "bibliography": "bibliography"}
"""What an entry can hold → its file suffix. The shipped bibliography (protocol/bibliography.py)
is kept too: reading it needs PyYAML, whose import alone is 15-20 ms of every run that compiles a
protocol from the cache."""


@cache
def code_fingerprint() -> str:
    """Hash of everything besides the file that decides what a load gives."""
    from importlib.util import find_spec

    import regimens

    h = hashlib.sha256(f"format {FORMAT}\n{regimens.__version__}\n{sys.version}\n".encode())
    # PyYAML and pydantic by their own files, without importing them: a load from the cache
    # needs neither (pydantic's import alone is 80-100 ms). PyYAML's __init__.py and pydantic's
    # version.py hold their versions (the latter also the pydantic-core version it requires);
    # pydantic-core's compiled module is named with its size (its version is inside it).
    here = Path(__file__).resolve().parent
    sources = [*sorted(here.glob("*.py")), here.parent / "errors.py"]
    for name, file in (("yaml", None), ("pydantic", "version.py")):
        spec = find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else Path("-")
        sources.append(origin.with_name(file) if file else origin)
    for p in sources:
        h.update(str(p.name).encode() + b"\0" + (p.read_bytes() if p.is_file() else b"missing") + b"\0")
    core = find_spec("pydantic_core")
    folder = Path(core.origin).parent if core and core.origin else None
    for so in sorted(p for p in folder.glob("_pydantic_core*") if p.is_file()) if folder else ():
        h.update(f"{so.name} {so.stat().st_size}\0".encode())
    return h.hexdigest()


class ParseCache:
    """Validated protocols by file content, in one directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _entry(self, raw: bytes, kind: str = "protocol") -> Path:
        key = hashlib.sha256(code_fingerprint().encode() + b"\0" + kind.encode() + b"\0" + raw).hexdigest()
        # kind "protocol" keeps the name it always had (`<hash>.pickle`): existing entries stay valid
        if kind == "protocol":
            key = hashlib.sha256(code_fingerprint().encode() + b"\0" + raw).hexdigest()
        return self.directory / f"{key}.{KINDS[kind]}"

    def get(self, raw: bytes, kind: str = "protocol") -> Any | None:
        """What is stored for these file bytes (a protocol, or the shipped bibliography), or None."""
        path = self._entry(raw, kind)
        try:
            with path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                if not _trusted(st):
                    return None
                data = fh.read()
        except OSError:
            return None
        try:
            code, stored_raw, protocol = pickle.loads(data)  # our own entry, checked above
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, never an error
            return None
        # the name is a hash: the entry itself says which code and which bytes it was made from
        return protocol if code == code_fingerprint() and stored_raw == raw else None

    def put(self, raw: bytes, protocol: Any, kind: str = "protocol") -> None:
        """Store a validated protocol (or the parsed bibliography); a cache that cannot be written
        is silently skipped."""
        path = self._entry(raw, kind)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _trusted(os.stat(self.directory), directory=True):
                return
            data = pickle.dumps((code_fingerprint(), raw, protocol), protocol=pickle.HIGHEST_PROTOCOL)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
        except (OSError, pickle.PicklingError):
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # readers see the whole entry or none (concurrent runs)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return
        self._prune(KINDS[kind], MAX_ENTRIES if kind == "protocol" else 4)

    def _prune(self, suffix: str, keep: int) -> None:
        # every edit of a protocol (or upgrade) leaves an entry; keep the newest `keep`
        try:
            entries = [(e.stat().st_mtime, e.path) for e in os.scandir(self.directory)
                       if e.name.endswith(f".{suffix}")]
        except OSError:
            return
        for _, old in sorted(entries, reverse=True)[keep:]:
            with contextlib.suppress(OSError):
                os.unlink(old)


def _trusted(st: os.stat_result, directory: bool = False) -> bool:
    if not (stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)):
        return False
    if os.name == "nt":  # no owner or mode bits to check; the folder is in the user's profile
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
