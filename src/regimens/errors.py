"""Error types. Every user-facing problem is one line: where, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


class RegimensError(Exception):
    """Base of every error the CLI reports as bad input (exit code 2)."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a protocol file, rendered as `file:line:col: field.path: message`."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = self.path or "(file)"
        return f"{self.file}:{self.line}:{self.col}: {where}: {self.message}"


class ProtocolError(RegimensError):
    """A protocol file is invalid; carries every problem found in it, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RequestError(RegimensError):
    """A schedule request (arm, choice, date, measurement...) does not fit the protocol."""


class PlanError(RegimensError):
    """A patient plan file is unreadable or does not match the protocol it names."""


MAX_INPUT_BYTES = 20_000_000
"""Largest input file read (a patients file of 100,000 rows is about 10 MB): `/dev/zero` or a
mistaken huge file is refused instead of filling memory."""


def read_text(path, what: str, error: type[RegimensError] = RegimensError) -> str:
    """The UTF-8 text of an input file, read at most MAX_INPUT_BYTES; every failure is `error`
    naming `what` (e.g. "plan file 'p.yaml'"), never the file's content."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{what} not found") from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise error(f"{what} is larger than {MAX_INPUT_BYTES // 1_000_000} MB; is it the right file?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{what} is not UTF-8 text; save it as UTF-8") from None
