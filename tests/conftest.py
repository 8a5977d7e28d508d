"""Shared fixtures: the shipped catalog, a compile helper and a CLI runner."""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import settings

from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

# CI (CI=true) runs every property test on the same examples each time, so a red build is a
# reproducible finding rather than a roll of the dice; locally each run explores new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def _protocol_cache(tmp_path_factory):
    """Validated protocols are cached in a folder of this test run (protocol/cache.py), not in the
    user's cache folder; every command after the first load of a file reads it from there, so
    the golden and byte-identity tests run on cached protocols. REGIMENS_CACHE_DIR set by the
    caller (empty: no cache) is kept."""
    if "REGIMENS_CACHE_DIR" in os.environ:
        yield
        return
    os.environ["REGIMENS_CACHE_DIR"] = str(tmp_path_factory.mktemp("protocol-cache"))
    yield
    os.environ.pop("REGIMENS_CACHE_DIR", None)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog()


@pytest.fixture(scope="session")
def load(catalog):
    cache: dict = {}

    def _load(pid: str):
        if pid not in cache:
            cache[pid] = catalog.load(pid)
        return cache[pid]

    return _load


@pytest.fixture
def timeline(load):
    def _tl(pid: str, start: date = date(2027, 1, 4), **kw):
        return compile_timeline(load(pid), ScheduleRequest(start=start, **kw))

    return _tl


@pytest.fixture
def run_cli(tmp_path, monkeypatch):
    """Run the real entry point; returns (exit code, stdout, stderr)."""
    from regimens.cli import main

    def _run(*args: str, env: dict | None = None):
        import io
        import sys

        out, err = io.BytesIO(), io.StringIO()

        class _Out(io.TextIOWrapper):
            pass

        stdout = io.TextIOWrapper(out, encoding="utf-8")
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", err)
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        code = main(list(args))
        stdout.flush()
        monkeypatch.undo()
        return code, out.getvalue().decode("utf-8"), err.getvalue()

    return _run
