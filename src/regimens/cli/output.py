"""Writing outputs: atomically (temporary file in the same directory, then rename), never over an
existing file without --force, never half-written."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from regimens.errors import RegimensError


def check_writable(path: str | None, force: bool) -> None:
    """Fail before any work is done when the output cannot be written."""
    if path is None:
        return
    p = Path(path)
    if p.exists() and not force:
        raise RegimensError(f"{path} already exists; use --force to replace it, or choose another -o")
    if p.exists() and p.is_dir():
        raise RegimensError(f"{path} is a directory; give a file name with -o")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise RegimensError(f"cannot write {path}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise RegimensError(f"cannot write {path}: directory {str(parent)!r} is not writable")


def write_atomic(path: str | Path, data: bytes, force: bool = False, mode: int | None = None) -> None:
    p = Path(path)
    check_writable(str(p), force)
    try:
        _write_replace(p, data, mode)
    except OSError as exc:
        # A full disk or a read-only directory is bad input to fix, not a crash: one line, exit 2.
        reason = exc.strerror or type(exc).__name__
        raise RegimensError(
            f"cannot write {path}: {reason}; the previous file, if any, is unchanged;"
            " free space or choose another -o"
        ) from None


def _write_replace(p: Path, data: bytes, mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=str(p.parent or "."))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif p.exists():
            os.chmod(tmp, p.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def emit(data: bytes, path: str | None, force: bool) -> None:
    """Write to `path` atomically, or to standard output."""
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(path, data, force)
