"""The click command group, and the one place every command is registered (command modules
never import this one, so there is no import circle)."""

from __future__ import annotations

import click

from regimens import __version__
from regimens.cli.batch_cmd import batch_cmd
from regimens.cli.closures_cmd import closures_group
from regimens.cli.ics_cmd import ics_cmd
from regimens.cli.languages_cmd import languages_cmd
from regimens.cli.plan_cmd import plan_group
from regimens.cli.protocol_cmd import list_cmd, show, validate
from regimens.cli.publish_cmd import publish_cmd
from regimens.cli.serve_cmd import serve_cmd
from regimens.cli.sheet_cmd import sheet
from regimens.cli.timeline_cmd import timeline


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="regimens")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Turn oncology treatment protocols into per-patient dose schedules.

    \b
    regimens list                      protocols and their arms
    regimens show nct03114865          a protocol in readable form, with decisions and gaps
    regimens timeline nct03114865 --start 2027-01-04
    regimens ics nct03114865 --start 2027-01-04 --tz America/Chicago -o calendar.ics

    Not a substitute for the full protocol: values that no public source gives are shown as
    "dose per full protocol (not public)".
    """


for _command in (list_cmd, show, validate, timeline, ics_cmd, sheet, plan_group, closures_group, batch_cmd,
                 languages_cmd, publish_cmd, serve_cmd):
    cli.add_command(_command)
