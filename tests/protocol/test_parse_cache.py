"""The parse cache of validated protocols (protocol/cache.py): the same protocol as a fresh parse,
byte-identical outputs, and never a stale or foreign entry."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from regimens.errors import ProtocolError
from regimens.exporters import ics
from regimens.exporters.tabular import to_json
from regimens.protocol import cache as cache_mod
from regimens.protocol.cache import ParseCache
from regimens.protocol import model
from regimens.protocol.catalog import Catalog
from regimens.protocol.loader import load_path
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

STAMP = datetime(2027, 1, 1, tzinfo=UTC)
SHIPPED = Catalog().ids()


def _fields(value, path="protocol"):
    """Every field of every object, by path, with the object's class: the same values and the
    plain model.py classes (never pydantic's) whether a protocol was parsed or unpickled."""
    out = {}
    if isinstance(value, model.Record):
        out[path] = f"{type(value).__module__}.{type(value).__qualname__}"
        for name in value.FIELDS:
            out |= _fields(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (tuple, list)):
        out[path] = type(value).__name__
        for i, v in enumerate(value):
            out |= _fields(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        out[path] = "dict"
        for k, v in value.items():
            out |= _fields(v, f"{path}[{k!r}]")
    else:
        out[path] = repr(value)
    return out


def _entries(d) -> list:
    return sorted(p for p in d.iterdir() if p.suffix == ".pickle") if d.exists() else []


@pytest.mark.parametrize("pid", SHIPPED)
def test_cached_protocol_is_the_parsed_one_and_outputs_are_byte_identical(pid, tmp_path):
    cached = Catalog(cache=ParseCache(tmp_path))
    fresh = Catalog().load(pid)
    first = cached.load(pid)  # a miss: parsed, validated, stored
    assert len(_entries(tmp_path)) == 1
    hit = cached.load(pid)
    assert hit.protocol is not first.protocol  # really read back from the entry
    for pf in (first, hit):
        assert (pf.path, pf.content_hash, pf.origin) == (fresh.path, fresh.content_hash, fresh.origin)
        assert pf.protocol == fresh.protocol
        fields = _fields(pf.protocol)
        assert fields == _fields(fresh.protocol)
        assert {v for k, v in fields.items() if v.startswith("regimens.")} <= {
            f"regimens.protocol.model.{name}" for name in dir(model)}
    for arm in fresh.protocol.arms:
        choices = {n: d.choices[0].value for n, d in fresh.protocol.decisions.items() if d.default is None}
        req = ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices)
        a, b = compile_timeline(fresh, req), compile_timeline(hit, req)
        assert to_json(a) == to_json(b)
        opts = ics.IcsOptions(tz="America/Chicago")
        assert ics.to_ics(a, opts, STAMP) == ics.to_ics(b, opts, STAMP)


DOSE = "dose: {value: 9, unit: mcg/day"  # blinatumomab days 1-7 (seed-004)


def _protocol_file(tmp_path) -> os.PathLike:
    """A site copy of NCT03114865 (a file the cache has not seen)."""
    src = Catalog().files()["nct03114865"][0].read_text(encoding="utf-8")
    assert DOSE in src
    p = tmp_path / "site" / "nct03114865.yaml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(src, encoding="utf-8")
    return p


def _dose_values(pf) -> list:
    return [it.dose.value for c in pf.protocol.courses.values() for it in c.items if it.dose is not None]


def test_an_edited_file_is_parsed_again_never_the_old_entry(tmp_path):
    c = ParseCache(tmp_path / "cache")
    p = _protocol_file(tmp_path)
    before = load_path(p, "site", c)
    assert 9 in _dose_values(before) and 8 not in _dose_values(before)
    p.write_text(p.read_text(encoding="utf-8").replace(DOSE, DOSE.replace("9", "8")), encoding="utf-8")
    after = load_path(p, "site", c)
    assert 8 in _dose_values(after) and 9 not in _dose_values(after)
    assert after.content_hash != before.content_hash
    # and an edit that breaks the file is reported, not hidden behind the cached good version
    p.write_text(p.read_text(encoding="utf-8").replace(DOSE.replace("9", "8"), DOSE.replace("9", "-8")),
                 encoding="utf-8")
    with pytest.raises(ProtocolError, match="must be more than 0"):
        load_path(p, "site", c)
    with pytest.raises(ProtocolError):
        load_path(p, "site", c)  # a failing file is never stored
    assert len(_entries(tmp_path / "cache")) == 2


def test_another_version_of_the_code_does_not_use_the_entry(tmp_path, monkeypatch):
    c = ParseCache(tmp_path)
    raw = b"not even YAML: the cache keys on bytes, whatever they are"
    c.put(raw, {"marker": 1})
    assert c.get(raw) == {"marker": 1}
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "another release")
    assert c.get(raw) is None


def test_fingerprint_covers_the_validating_modules(monkeypatch):
    base = cache_mod.code_fingerprint()
    read = cache_mod.Path.read_bytes

    def edited(self):
        data = read(self)
        return data + b"\n# edited" if self.name in ("model.py", "schema.py", "checks.py", "version.py") else data

    cache_mod.code_fingerprint.cache_clear()
    monkeypatch.setattr(cache_mod.Path, "read_bytes", edited)
    try:
        assert cache_mod.code_fingerprint() != base
    finally:
        monkeypatch.undo()
        cache_mod.code_fingerprint.cache_clear()
    assert cache_mod.code_fingerprint() == base


def test_fingerprint_covers_each_validating_file_and_pydantic_and_yaml(monkeypatch):
    base = cache_mod.code_fingerprint()
    read = cache_mod.Path.read_bytes
    for name in ("schema.py", "model.py", "loader.py", "errors.py", "version.py", "__init__.py"):
        def edited(self, name=name):
            data = read(self)
            return data + b"\n# edited" if self.name == name else data

        cache_mod.code_fingerprint.cache_clear()
        monkeypatch.setattr(cache_mod.Path, "read_bytes", edited)
        try:
            assert cache_mod.code_fingerprint() != base, name
        finally:
            monkeypatch.undo()
            cache_mod.code_fingerprint.cache_clear()
    assert cache_mod.code_fingerprint() == base


def test_a_protocol_from_the_cache_imports_neither_pydantic_nor_yaml(tmp_path):
    # the point of the plain model (model.py): pydantic's import is 80-100 ms of a run
    code = (
        "import sys\n"
        "from regimens.protocol.catalog import Catalog\n"
        "from regimens.protocol.cache import ParseCache\n"
        f"pf = Catalog(cache=ParseCache({str(tmp_path)!r})).load('nct02877303')\n"
        "print(type(pf.protocol).__module__, sorted(m for m in ('pydantic', 'pydantic_core', 'yaml') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split() == ["regimens.protocol.model", "['pydantic',", "'pydantic_core',", "'yaml']"]
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert again.stdout.split() == ["regimens.protocol.model", "[]"]


def test_damaged_moved_or_foreign_entries_are_misses(tmp_path):
    c = ParseCache(tmp_path / "cache")
    p = _protocol_file(tmp_path)
    good = load_path(p, "site", c)
    (entry,) = _entries(tmp_path / "cache")
    # truncated
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    assert c.get(p.read_bytes()) is None
    assert load_path(p, "site", c).protocol == good.protocol  # parsed again and stored again
    # an entry made for other bytes, renamed to this file's key
    other = tmp_path / "other.yaml"
    other.write_bytes(p.read_bytes() + b"\n# another file\n")
    load_path(other, "site", c)
    other_entry = c._entry(other.read_bytes())
    os.replace(other_entry, entry)
    assert c.get(p.read_bytes()) is None
    # writable by others: never unpickled
    load_path(p, "site", c)
    if os.name != "nt":
        entry.chmod(0o666)
        assert c.get(p.read_bytes()) is None
        entry.chmod(0o600)
        assert c.get(p.read_bytes()) is not None


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_cache_folder_and_entries_are_private(tmp_path):
    d = tmp_path / "cache"
    p = _protocol_file(tmp_path)
    load_path(p, "site", ParseCache(d))
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    (entry,) = _entries(d)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_unwritable_cache_is_skipped_silently(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = _protocol_file(tmp_path)
    pf = load_path(p, "site", ParseCache(blocker / "cache"))  # cannot create a folder under a file
    assert pf.protocol.id == "nct03114865"


def test_cli_uses_the_cache_folder_and_an_empty_setting_turns_it_off(run_cli, tmp_path):
    d = tmp_path / "cache"
    args = ("timeline", "nct03114865", "--start", "2027-01-04", "--format", "json")
    code, first, err = run_cli(*args, env={"REGIMENS_CACHE_DIR": str(d)})
    assert code == 0, err
    assert len(_entries(d)) == 1
    code, second, err = run_cli(*args, env={"REGIMENS_CACHE_DIR": str(d)})
    assert code == 0 and second == first
    off = tmp_path / "off"
    code, third, err = run_cli(*args, env={"REGIMENS_CACHE_DIR": "", "XDG_CACHE_HOME": str(off)})
    assert code == 0 and third == first
    assert not off.exists()


def test_default_folder_is_the_platform_user_cache(monkeypatch, tmp_path):
    from regimens.cli.pipeline import protocol_cache_dir

    monkeypatch.delenv("REGIMENS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert protocol_cache_dir() == os.path.join(str(tmp_path), "regimens", "protocols")
    assert protocol_cache_dir({"REGIMENS_CACHE_DIR": "/x"}) == "/x"
    assert protocol_cache_dir({"REGIMENS_CACHE_DIR": ""}) is None


def test_a_run_from_a_warm_cache_reads_no_yaml_and_the_bibliography_is_the_parsed_one(tmp_path):
    # the shipped bibliography is kept in the cache too (PyYAML's import is 15-20 ms of a run);
    # run in fresh processes: shipped() is read once per process
    import subprocess

    from regimens.protocol.bibliography import _parse

    code = (
        "import sys, pickle\n"
        "from datetime import date\n"
        "from regimens.protocol.cache import ParseCache\n"
        "from regimens.protocol.catalog import Catalog\n"
        "from regimens.protocol.bibliography import shipped\n"
        "from regimens.schedule.compiler import compile\n"
        "from regimens.schedule.request import ScheduleRequest\n"
        "pf = Catalog(cache=ParseCache(sys.argv[1])).load('nct03114865')\n"
        "tl = compile(pf, ScheduleRequest(start=date(2027, 1, 4), arm='1', choices={'cycles': '2'}))\n"
        "sys.stdout.buffer.write(pickle.dumps(('yaml' in sys.modules, tl.citations, shipped())))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [pickle_loads(subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, check=True,
                                        env=env).stdout) for _ in range(2)]
    assert runs[0][0] and not runs[1][0]  # the first run parsed YAML, the second read none
    assert runs[0][1] == runs[1][1]
    text = (Path(cache_mod.__file__).parent / "data" / "bibliography.yaml").read_text("utf-8")
    for _, _, bib in runs:
        assert bib.documents == _parse(text).documents and bib.works == _parse(text).works
    assert len(list(tmp_path.glob("*.bibliography"))) == 1 and len(_entries(tmp_path)) == 1


def pickle_loads(data: bytes):
    import pickle

    return pickle.loads(data)
