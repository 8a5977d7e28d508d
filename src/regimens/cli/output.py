"""Writing outputs: atomically (temporary file in the same directory, then rename), never over an
existing file without --force, never half-written, always owner-only (0600).

Every file regimens writes can hold patient data (measurements, calculated doses, a name on a
sheet or a calendar), so every file is created 0600 and a replaced file ends 0600 too. Several
files that belong together (a batch row, the parts of a split calendar) are written as a set:
all of them or none (`write_set`). Temporary files are `.NAME.regimens-XXXX.tmp`, 0600, locked
by their writer while they exist; one left behind by a killed process is removed by the next
write to the same folder. A device or pipe given as -o (`/dev/null`, `/dev/stdout`) is written
in place, never replaced by a regular file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from regimens.errors import RegimensError

PRIVATE = 0o600
"""Mode of every file written (README: patient data)."""
_TMP_TAG = ".regimens-"
_TMP_SUFFIX = ".tmp"
_STALE_SECONDS = 10
"""A temporary file older than this whose writer holds no lock on it is left over from a
killed process. The writer locks it the instant it exists; the age only covers that instant."""
_CLEANED: dict[str, float] = {}
"""Folder -> when this process last looked in it for left-over temporary files. A batch writes
thousands of files into one folder, and listing it before each one cost about 1 ms a file at
5,000 files; a file can only turn stale _STALE_SECONDS after its writer died, so looking again
sooner finds nothing that a later look would not."""


def _is_stdout(path: str) -> bool:
    return path == "-"


def _special(p: Path) -> os.stat_result | None:
    """The stat of an existing target written in place: not a regular file or directory (a
    device, a pipe), or a regular file reached through /dev or /proc (`/dev/stdout` redirected
    to a file: the shell holds it open, so the bytes go into it, not into a new file)."""
    try:
        st = p.stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISREG(st.st_mode) and not str(p).startswith(("/dev/", "/proc/")):
        return None
    return st


def check_writable(path: str | None, force: bool) -> None:
    """Fail before any work is done when the output cannot be written."""
    if path is None or _is_stdout(path):
        return
    if not path.strip():
        raise RegimensError("-o is empty; give a file name, or - for standard output")
    p = Path(path)
    st = _special(p)
    if st is not None:
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode) or stat.S_ISREG(st.st_mode):
            return  # written in place (/dev/null, /dev/stdout on a pipe); nothing is replaced
        raise RegimensError(f"{path} is not a regular file (a block device or socket); give a file name with -o")
    if p.is_dir():
        raise RegimensError(f"{path} is a directory; give a file name with -o")
    if (p.exists() or p.is_symlink()) and not force:
        raise RegimensError(f"{path} already exists; use --force to replace it, or choose another -o")
    real = _target(p)
    parent = real.parent
    if not parent.is_dir():
        raise RegimensError(f"cannot write {path}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise RegimensError(f"cannot write {path}: directory {str(parent)!r} is not writable")


def _target(p: Path) -> Path:
    """Where the bytes go: a symlink is written through to the file it points to (atomically,
    beside that file), so the link stays a link."""
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p if str(p.parent) else Path(".") / p


def _failed(path: str | Path, exc: OSError) -> RegimensError:
    # A full disk or a read-only directory is bad input to fix, not a crash: one line, exit 2.
    reason = exc.strerror or type(exc).__name__
    return RegimensError(f"cannot write {path}: {reason}; the previous file, if any, is unchanged;"
                         " free space or choose another -o")


def write_atomic(path: str | Path, data: bytes, force: bool = False, mode: int = PRIVATE) -> None:
    """Write one file: all of it or nothing, never over an existing file without `force`."""
    write_set([(path, data)], force, mode)


def write_set(files: Sequence[tuple[str | Path, bytes]], force: bool = False, mode: int = PRIVATE) -> None:
    """Write several files as one: every temporary file is complete before the first is renamed
    into place, and a failure while renaming takes back the ones already renamed."""
    targets = []
    for path, data in files:
        check_writable(str(path), force)
        p = Path(path)
        targets.append((path, p, _special(p) is not None, data))
    staged: list[tuple[str | Path, Path, str | None, bytes]] = []
    try:
        for path, p, special, data in targets:
            if special:
                staged.append((path, p, None, data))
                continue
            real = _target(p)
            _clean_stale_now_and_then(real.parent)
            try:
                staged.append((path, real, _stage(real, data, mode), data))
            except OSError as exc:
                raise _failed(path, exc) from None
        _commit(staged, force)
    finally:
        for _, _, tmp, _ in staged:
            if tmp is not None:
                _unlink(tmp)


def _stage(real: Path, data: bytes, mode: int) -> str:
    """A complete, fsynced temporary file beside `real`, locked by us while it exists."""
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}{_TMP_TAG}", suffix=_TMP_SUFFIX, dir=str(real.parent))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # tells a cleaner its writer is alive
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    _LOCKED[tmp] = fd  # closed (lock released) when the file is renamed or removed
    return tmp


_LOCKED: dict[str, int] = {}


def _unlink(tmp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = _LOCKED.pop(tmp, None)
    if fd is not None:
        os.close(fd)


def _commit(staged: list, force: bool) -> None:
    done: list[tuple[Path, str | None]] = []  # (target, backup of the file it replaced)
    try:
        for path, real, tmp, data in staged:
            if tmp is None:
                _write_in_place(path, real, data)
                continue
            backup = None
            try:
                if force:
                    if len(staged) > 1 and real.exists():
                        backup = _backup(real)
                    os.replace(tmp, real)
                else:
                    _link_new(path, real, tmp)
            except OSError as exc:
                if backup:
                    _unlink(backup)
                raise _failed(path, exc) from None
            done.append((real, backup))
    except BaseException:
        for real, backup in reversed(done):  # all or none: put back what was there
            if backup is not None:
                os.replace(backup, real)
            else:
                _unlink(str(real))
        raise
    for _, backup in done:
        if backup is not None:
            _unlink(backup)


def _link_new(path, real: Path, tmp: str) -> None:
    """Create the final name only if nobody else has: two writers racing for one new file
    cannot both succeed (a check-then-rename would let the second replace the first)."""
    try:
        os.link(tmp, real)
    except FileExistsError:
        raise RegimensError(f"{path} already exists; use --force to replace it, or choose another -o") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # a file system without hard links: an exclusive create is the next best guard
        fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        os.close(fd)
        os.replace(tmp, real)
        return
    os.unlink(tmp)


def _backup(real: Path) -> str:
    fd, name = tempfile.mkstemp(prefix=f".{real.name}{_TMP_TAG}", suffix=_TMP_SUFFIX, dir=str(real.parent))
    os.close(fd)
    os.unlink(name)
    os.link(real, name)
    fd = os.open(name, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a cleaner must not take it for a stale one
    _LOCKED[name] = fd
    return name


def _write_in_place(path, p: Path, data: bytes) -> None:
    try:
        with open(p, "ab") as fh:  # a device or pipe, or the file a shell redirected stdout to (`>>` too)
            fh.write(data)
            fh.flush()
    except OSError as exc:
        raise RegimensError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


def _clean_stale_now_and_then(folder: Path) -> None:
    key = os.fspath(folder)
    now = time.monotonic()
    last = _CLEANED.get(key)
    if last is not None and now - last < _STALE_SECONDS:
        return
    _CLEANED[key] = now
    _clean_stale(folder)


def _clean_stale(folder: Path) -> None:
    """Remove our own temporary files that a killed process left behind in `folder`."""
    try:
        names = [n for n in os.listdir(folder) if _TMP_TAG in n and n.endswith(_TMP_SUFFIX) and n.startswith(".")]
    except OSError:
        return
    now = time.time()
    for name in names:
        full = os.path.join(folder, name)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or now - st.st_mtime < _STALE_SECONDS:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is still running
            with contextlib.suppress(OSError):
                os.unlink(full)
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock for read-compare-write of `path` (a plan file): a lock file beside
    the real file, `.NAME.lock`, because the file itself is replaced on every write."""
    real = _target(Path(path))
    lock = real.parent / f".{real.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE)
    except OSError as exc:
        raise RegimensError(f"cannot lock {path}: {exc.strerror}; check the folder is writable") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def quiet() -> bool:
    """-q was given (or there is no command context, as in library-style calls)."""
    import click

    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get("regimens.quiet"))


def size_text(n: int) -> str:
    """`812 bytes`, `41.8 kB`, `1.2 MB` (decimal units, as file managers show them)."""
    if n < 1000:
        return f"{n} bytes"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def report_written(path: str, data: bytes, pages: int | None = None) -> None:
    """`regimens: wrote FILE (N pages, SIZE)` on stderr, unless -q."""
    if quiet():
        return
    import click

    what = f"{pages} page{'s' if pages != 1 else ''}, " if pages is not None else ""
    click.echo(f"regimens: wrote {path} ({what}{size_text(len(data))})", err=True)


def emit(data: bytes, path: str | None, force: bool, pages: int | None = None) -> None:
    """Write to `path` atomically (and say so on stderr), or to standard output (`path` None or `-`)."""
    if path is None or _is_stdout(path):
        out = sys.stdout
        if out is None:
            raise RegimensError("standard output is closed; give -o FILE")
        try:
            out.flush()
            out.buffer.write(data)
            out.buffer.flush()
        except OSError as exc:
            raise RegimensError(f"cannot write to standard output: {exc.strerror or type(exc).__name__};"
                                " give -o FILE") from None
    else:
        write_atomic(path, data, force)
        report_written(path, data, pages)
