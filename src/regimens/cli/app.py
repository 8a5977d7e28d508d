"""The click command group, and the one place every command is registered (command modules
never import this one, so there is no import circle).

Commands are loaded lazily (click's "lazily loading subcommands" pattern): a command module is
imported only when its command runs, is asked for its own help, or is completed in a shell.
`regimens --help` lists the commands from the table below without importing any of them, so it
costs little more than importing click. tests/cli/test_lazy_commands.py checks that each entry's
help line is the one the real command gives and that the listing equals click's own.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module

import click

from regimens import __version__

# command name -> (module, attribute, short help as the command's docstring gives it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "list": ("regimens.cli.protocol_cmd", "list_cmd", "List the available protocols (shipped and site)."),
    "show": ("regimens.cli.protocol_cmd", "show",
             "Show a protocol: arms, courses (drug dose route days), decisions, ambiguities, sources."),
    "validate": ("regimens.cli.protocol_cmd", "validate", "Check protocol files (default: every shipped protocol)."),
    "timeline": ("regimens.cli.timeline_cmd", "timeline", "Compile a protocol into a dated timeline of dose events."),
    "ics": ("regimens.cli.ics_cmd", "ics_cmd",
            "Export the schedule as an iCalendar (.ics) file for Google, Apple, Outlook or Thunderbird."),
    "sheet": ("regimens.cli.sheet_cmd", "sheet", "Printable sheets (HTML or PDF) from a compiled timeline."),
    "plan": ("regimens.cli.plan_cmd", "plan_group",
             ("Patient plans: measurements, choices, actual starts, holds and dose modifications kept in one"
              " YAML file so the calendar can be regenerated and kept true (docs/plans.md).")),
    "closures": ("regimens.cli.closures_cmd", "closures_group",
                 "Site closure files: the days a clinic is shut and what happens to a dose that falls on one."),
    "batch": ("regimens.cli.batch_cmd", "batch_cmd",
              "Write timelines, calendars and sheets for many patients: one row per patient."),
    "languages": ("regimens.cli.languages_cmd", "languages_cmd",
                  "Patient languages: catalog hash and review state (patient outputs take --language CODE)."),
    "publish": ("regimens.cli.publish_cmd", "publish_cmd",
                "Write FILE.ics (from `regimens ics`; - for standard input) into a CalDAV calendar."),
    "serve": ("regimens.cli.serve_cmd", "serve_cmd",
              "Run the clinic service: pharmacists build and verify plans, nurses work from them."),
}


class _Commands(MutableMapping):
    """click's `Group.commands`, filled on first use of each name: `get_command` (and anything
    else that reads `cli.commands[name]`) imports the command's module then; listing the names
    imports nothing."""

    def __init__(self, table: dict[str, tuple[str, str, str]]) -> None:
        self.table = table
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            if name not in self.table:
                raise KeyError(name)
            module, attr, _ = self.table[name]
            self.loaded[name] = getattr(import_module(module), attr)
        return self.loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self.loaded or name in self.table

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*self.table, *self.loaded}))

    def __len__(self) -> int:
        return len({*self.table, *self.loaded})


class LazyGroup(click.Group):
    def __init__(self, *args, table: dict[str, tuple[str, str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(table)  # click reads and writes commands only through this mapping

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's Group.format_commands, with stand-ins that carry only the table's help line for
        # the commands not loaded yet: the same shortening to the terminal width, no import
        rows = [(name, self.commands.loaded.get(name) or click.Command(name, help=self.commands.table[name][2]))
                for name in self.list_commands(ctx)]
        rows = [(name, cmd) for name, cmd in rows if not cmd.hidden]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


@click.group(cls=LazyGroup, table=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
