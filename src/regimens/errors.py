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
