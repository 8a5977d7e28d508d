"""`regimens publish --caldav URL FILE.ics`: write a calendar into a CalDAV collection, in place
(see docs/ics.md, "Publish to a CalDAV calendar")."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from regimens.errors import RegimensError

PASSWORD_ENV = "REGIMENS_CALDAV_PASSWORD"
USER_ENV = "REGIMENS_CALDAV_USER"


def read_password(path: str | None, environ: dict[str, str]) -> str | None:
    """The first line of the password file, else $REGIMENS_CALDAV_PASSWORD, else None. Never an
    option value: command lines are visible to every user of the machine."""
    if path is None:
        return environ.get(PASSWORD_ENV) or None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegimensError(f"password file {path} does not exist; give the file holding the CalDAV password") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise RegimensError(f"cannot read password file {path}: {reason}") from None
    line = text.splitlines()[0] if text.splitlines() else ""
    if not line:
        raise RegimensError(f"password file {path} is empty; put the password on its first line")
    return line


@click.command("publish")
@click.argument("calendar", metavar="FILE.ics", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--caldav", "url", required=True, metavar="URL",
              help="The calendar collection, e.g. https://cloud.example.org/remote.php/dav/calendars/ward/treatment/")
@click.option("--user", envvar=USER_ENV, metavar="NAME", help=f"CalDAV user name. [env: {USER_ENV}]")
@click.option("--password-file", type=click.Path(dir_okay=False), metavar="FILE",
              help=f"File whose first line is the password (or set {PASSWORD_ENV}).")
def publish_cmd(calendar: str, url: str, user: str | None, password_file: str | None) -> None:
    """Write FILE.ics (from `regimens ics`; - for standard input) into a CalDAV calendar.

    One resource per event UID, written in place: after a delay the moved events keep their
    UIDs and every synced phone moves them. Running it twice changes nothing. Events that left
    the schedule are deleted; only events written by regimens (UID ending @regimens) are ever
    touched. Give each patient's schedule a calendar of its own.

    \b
    regimens ics --plan patient.yaml --tz Europe/Berlin -o patient.ics
    regimens publish --caldav https://dav.example.org/ward/treatment/ --user ward \\
        --password-file ~/.caldav-password patient.ics
    """
    import time

    from regimens.exporters.caldav_publish import publish, server_of

    password = read_password(password_file, dict(os.environ))
    if password and not user:
        raise click.UsageError("a password was given without --user; give the CalDAV user name with --user")
    if user and not password:
        raise click.UsageError(f"--user was given without a password; use --password-file FILE or set {PASSWORD_ENV}")
    where = server_of(url)  # checks the address before reading anything else
    if calendar == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(calendar).read_bytes()
        except FileNotFoundError:
            raise RegimensError(f"{calendar} does not exist; write it first with `regimens ics ... -o {calendar}`") from None
        except OSError as exc:
            raise RegimensError(f"cannot read {calendar}: {exc.strerror or type(exc).__name__}") from None
    result = publish(data, url, username=user, password=password, sleep=time.sleep)
    state = "published" if result.changed else "already up to date"
    click.echo(f"regimens: {state} at {where}: {result}", err=True)
