"""The layer rule of docs/architecture.md, enforced: a module imports only its own layer and the
layers below it; the library never imports click or Django, never reads the clock, never prints.
Walks the real import statements (AST), so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import regimens

ROOT = Path(regimens.__file__).parent

# Lowest first. A module may import its own layer and any lower one.
LAYERS = ["errors", "notation", "language", "protocol", "schedule", "dosing", "plans", "exporters", "batch", "cli", "web"]
FRONT_ENDS = {"cli", "web"}
# The front ends are peers except that `regimens serve` (cli) starts the service (web).
ALLOWED_EXTRA = {("cli", "web")}
LIBRARY_FORBIDDEN = ("click", "django")


def _layer(module_path: Path) -> str | None:
    rel = module_path.relative_to(ROOT)
    head = rel.parts[0].removesuffix(".py")
    return head if head in LAYERS else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: use absolute imports (regimens.…)")
            if node.module == "regimens":
                found += [(node.lineno, f"regimens.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


MODULES = sorted(p for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py")


def test_every_module_has_a_layer():
    assert MODULES, "no modules found"
    assert [str(p.relative_to(ROOT)) for p in MODULES if _layer(p) is None] == []


def _problems(path: Path, mine: str) -> list[str]:
    problems = []
    for line, name in _imports(path):
        top = name.split(".")[0]
        if mine not in FRONT_ENDS and top in LIBRARY_FORBIDDEN:
            problems.append(f"line {line}: library module imports {name}")
        if top != "regimens" or name == "regimens":
            continue
        parts = name.split(".")
        if len(parts) < 2 or parts[1] in ("__version__",):
            continue
        theirs = parts[1]
        if theirs not in LAYERS:
            continue
        if LAYERS.index(theirs) > LAYERS.index(mine) and (mine, theirs) not in ALLOWED_EXTRA:
            problems.append(f"line {line}: {mine} (layer {LAYERS.index(mine)}) imports upward: {name}")
        if mine in FRONT_ENDS and theirs in FRONT_ENDS and mine != theirs and (mine, theirs) not in ALLOWED_EXTRA:
            problems.append(f"line {line}: front end {mine} imports front end {theirs}")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    assert _problems(path, _layer(path)) == []


@pytest.mark.parametrize("path", [p for p in MODULES if _layer(p) not in FRONT_ENDS],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_library_never_reads_the_clock(path):
    # Time is passed in (SOURCE_DATE_EPOCH is honoured by the front ends), so the same inputs give
    # byte-identical outputs.
    text = path.read_text(encoding="utf-8")
    for banned in ("datetime.now(", "date.today(", "time.time(", "datetime.utcnow("):
        assert banned not in text, f"{path.name} calls {banned}"


def test_the_checker_catches_an_upward_import(tmp_path):
    # The check must be able to fail: a protocol module importing the CLI, click or Django, or
    # the web front end importing the CLI, is reported.
    bad = tmp_path / "probe.py"
    bad.write_text("from regimens.cli.output import emit\nimport click\nfrom django.db import models\n")
    assert len(_problems(bad, "protocol")) == 3
    assert _problems(bad, "cli") == []
    assert len(_problems(bad, "web")) == 1


def test_public_api_is_importable_from_the_package():
    for name in regimens.__all__:
        assert getattr(regimens, name) is not None, name
