"""Command-line interface. The only place that imports click, reads the clock or the
environment, or writes files. Heavy imports (WeasyPrint, Jinja2) happen inside commands."""

from __future__ import annotations

import sys

import click

from regimens.cli.app import cli
from regimens.errors import RegimensError


def main(argv: list[str] | None = None) -> int:
    """Entry point: every bad input becomes one line on stderr and exit code 2."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="regimens", standalone_mode=False)
        if sys.stdout is not None:
            sys.stdout.flush()  # a full or closed stdout is reported here, not at interpreter exit
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Abort:
        click.echo("regimens: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"regimens: error: {_one_line(exc.format_message())}", err=True)
        return 2
    except RegimensError as exc:
        if debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"regimens: error: {line}" if not _is_diagnostic(line) else line, err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("regimens: interrupted; no output was written", err=True)
        return 130
    except OSError as exc:
        # Files are written by cli/output.py, which reports its own failures: an OSError that
        # gets here is standard output (a full disk, a closed pipe) while a command printed.
        if debug:
            raise
        _quiet_stdout()
        click.echo(f"regimens: error: cannot write to standard output: {exc.strerror or type(exc).__name__}",
                   err=True)
        return 2
    except Exception as exc:  # pragma: no cover - the last line of defence
        if debug:
            raise
        click.echo(
            f"regimens: internal error: {type(exc).__name__}: {_one_line(str(exc))}"
            " (please report it; run with --debug for details)",
            err=True,
        )
        return 1


def _quiet_stdout() -> None:
    # the unwritten bytes would fail again when Python exits: drop them
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _is_diagnostic(line: str) -> bool:
    # protocol diagnostics already read `file:line:col: path: message`
    parts = line.split(":")
    return len(parts) >= 4 and parts[1].isdigit() and parts[2].isdigit()
