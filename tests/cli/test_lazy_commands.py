"""The lazy command group (cli/app.py): `regimens --help` lists every command from a static table
without importing the command modules; the table must say what the real commands say."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import regimens.cli
from regimens.cli.app import COMMANDS, cli


def _command_modules() -> list[str]:
    return sorted(f"regimens.cli.{m.name}" for m in pkgutil.iter_modules(regimens.cli.__path__)
                  if m.name.endswith("_cmd"))


def _real_commands() -> dict[str, click.Command]:
    """Every top-level click command the command modules define (a group's subcommands are not
    top-level), by the name it gives itself."""
    found: list[click.Command] = []
    for name in _command_modules():
        module = importlib.import_module(name)
        found.extend(v for v in vars(module).values() if isinstance(v, click.Command))
    sub = {id(c) for g in found if isinstance(g, click.Group) for c in g.commands.values()}
    return {c.name: c for c in found if id(c) not in sub}


def test_table_names_every_command_module_defines():
    real = _real_commands()
    assert sorted(real) == sorted(COMMANDS), "add the new command to COMMANDS in cli/app.py (or remove a stale row)"
    for name, (module, attr, _) in COMMANDS.items():
        assert getattr(importlib.import_module(module), attr) is real[name], name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_help_line_is_the_commands_own(name):
    cmd = _real_commands()[name]
    assert not cmd.hidden
    assert COMMANDS[name][2] == cmd.get_short_help_str(limit=10**6), (
        f"the short help of {name!r} in cli/app.py COMMANDS differs from its docstring's first sentence")


@pytest.mark.parametrize("width", [50, 80, 100])
def test_help_listing_equals_clicks_own(width):
    # an eager group holding the real commands is what click would print without the table
    eager = click.Group(cli.name, params=cli.params, help=cli.help, callback=cli.callback,
                        context_settings=cli.context_settings)
    for name, cmd in _real_commands().items():
        eager.add_command(cmd, name)
    lazy = type(cli)(cli.name, params=cli.params, help=cli.help, callback=cli.callback,
                     context_settings=cli.context_settings, table=COMMANDS)
    runner = CliRunner()
    want = runner.invoke(eager, ["--help"], terminal_width=width, prog_name="regimens")
    got = runner.invoke(lazy, ["--help"], terminal_width=width, prog_name="regimens")
    assert got.exit_code == want.exit_code == 0
    assert "Commands:" in got.output
    assert got.output == want.output


def test_help_imports_no_command_module():
    code = ("import sys\nfrom regimens.cli import main\nrc = main(['--help'])\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('regimens'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.splitlines()[-1].split())
    assert loaded == {"regimens", "regimens.cli", "regimens.cli.app", "regimens.errors"}, loaded
    assert "Usage: regimens" in out


def test_a_command_loads_when_used_and_unknown_names_still_get_a_suggestion():
    runner = CliRunner()
    res = runner.invoke(cli, ["lst"])
    assert res.exit_code == 2 and "Did you mean 'list'?" in res.output
    assert "list" in cli.commands and cli.commands.get("nope") is None
    assert cli.get_command(click.Context(cli), "show") is _real_commands()["show"]
