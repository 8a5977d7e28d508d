"""Ten independent calendar clients read the calendars the suite makes: icscheck (ical.js of
Thunderbird, libical of Evolution, vobject of Radicale, recurring-ical-events, ical, ics-py,
icalendar, calcurse, khal, a real Radicale server) must pass with no warning, and its
expand/compare.py must find no instance missing or extra in any client, against IANA tzdata.

icscheck is not a Python dependency: it is a folder with its own venv and node_modules. The
test finds it through $ICSCHECK (the `icscheck` script), else ~/icscheck/icscheck, and skips
with the reason when it is not there. CI copies it from ../shared/tools/icscheck (.ci/run).

Cost: every client on one calendar; all but khal and Radicale (tens of seconds each on a
long calendar: a PUT per UID, a khal import per event) on the rest; compare.py without
Radicale and calcurse on three take-home-heavy calendars in the zones where vobject used to put
instances an hour off. calcurse expands in the zone of the computer it runs on, not the
calendar's (a documented client limitation, docs/ics.md), so it is left out of compare.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest

from regimens.exporters import ics
from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

STAMP = datetime(2027, 1, 1, tzinfo=UTC)
START = date(2027, 1, 4)


def _icscheck() -> Path | None:
    given = os.environ.get("ICSCHECK")
    path = Path(given) if given else Path.home() / "icscheck" / "icscheck"
    return path if path.is_file() and os.access(path, os.X_OK) else None


TOOL = _icscheck()
pytestmark = pytest.mark.skipif(
    TOOL is None, reason="icscheck not found: set ICSCHECK=/path/to/icscheck/icscheck "
                         "(copy ../shared/tools/icscheck somewhere writable and run its setup.sh)")


def _defaults(pf) -> dict[str, str]:
    return {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}


def _cases() -> dict[str, tuple]:
    """name → (protocol, arm, zone, IcsOptions extras, request extras, all clients?)."""
    cases: dict[str, tuple] = {
        "nct03114865-golden": ("nct03114865", None, "America/Chicago", {}, {"choices": {"cycles": "2"}}, True),
        "nct02877303-london-staff": ("nct02877303", None, "Europe/London", {"audience": "staff"}, {}, False),
        "nct02877303-london-minimal": ("nct02877303", None, "Europe/London",
                                       {"audience": "minimal", "location": "Day unit, 3rd floor"}, {}, False),
        "nct02877303-omit-hold": ("nct02877303", None, "Europe/Dublin", {"phone": "+353 1 000 0000"},
                                  {"omit": {"maintenance.c1:3:mercaptopurine": "vomiting"},
                                   "hold": {"maintenance.c2:10": "ANC 0.4"}}, False),
        "nct02877303-delay-sydney": ("nct02877303", None, "Australia/Sydney", {"bag_hours": 48},
                                     {"actual_starts": {"intensive.c2": date(2027, 2, 1)}}, False),
    }
    # the patient's language (docs/languages.md): every shipped catalog, other scripts, RTL
    from regimens.language.catalogs import SHIPPED
    from regimens.language.site import patient_language

    for code in SHIPPED:
        cases[f"nct03114865-{code}"] = ("nct03114865", None, "America/Chicago",
                                        {"language": patient_language(code), "phone": "555-0100"},
                                        {"choices": {"cycles": "2"}}, False)
    cases["nct02877303-minimal-ar"] = ("nct02877303", None, "Asia/Dubai",
                                       {"audience": "minimal", "language": patient_language("ar")}, {}, False)
    # every shipped protocol in its last arm (test_ics.py reads every arm back with three parsers)
    for pid in Catalog().ids():
        arm = Catalog().load(pid).protocol.arms[-1].label
        cases.setdefault(f"{pid}-{arm}", (pid, arm, "America/Chicago", {}, {}, False))
    return cases


CASES = _cases()


def _timeline(pid, arm, req):
    pf = Catalog().load(pid)
    choices = {**_defaults(pf), **req.pop("choices", {})}
    return compile_timeline(pf, ScheduleRequest(start=START, arm=arm, choices=choices, **req))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("icscheck")
    out = {}
    for name, (pid, arm, tz, opts, req, full) in CASES.items():
        files = ics.export(_timeline(pid, arm, dict(req)), ics.IcsOptions(tz=tz, **opts), STAMP)
        for part, data in files:
            path = d / f"{name}{'-' + part if part else ''}.ics"
            path.write_bytes(data)
            out.setdefault(name, []).append((path, full))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_icscheck_passes_with_no_warning(made, name):
    for path, full in made[name]:
        cmd = [str(TOOL), str(path), "--json", "--jobs", "2"]
        if not full:
            cmd += ["--skip", "radicale,khal"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        report = json.loads(p.stdout)
        problems = [f"{report['summary']}"]
        sem = report["semantic"]
        problems += [f"semantic {x}" for x in sem["errors"] + sem["warnings"]]
        for c in report["clients"]:
            problems += [f"{c['client']}: {x}" for x in (c.get("errors") or []) + (c.get("warnings") or [])]
        problems += [f"consensus: {x}" for x in report["consensus"].get("errors") or []]
        assert p.returncode == 0 and report["ok"] and len(problems) == 1, (path.name, problems[:8])


# vobject and Radicale (dateutil) put take-home series an hour off after a DST change in these
# zones when the VTIMEZONE rules started just before the events; compare every instance
EXPAND = {"london": "Europe/London", "dublin": "Europe/Dublin", "lisbon": "Europe/Lisbon"}
EXPANDERS = "vobject,ical,ical.js,recurring-ical-events,libical"


@pytest.mark.parametrize("city", sorted(EXPAND))
def test_every_instance_in_every_expander(tmp_path, city):
    compare = TOOL.parent / "expand" / "compare.py"
    python = TOOL.parent / ".venv" / "bin" / "python"
    if not (compare.is_file() and python.is_file()):
        pytest.skip(f"{compare} or its venv is missing: run icscheck's setup.sh")
    # maintenance: mercaptopurine three times a day, weekly methotrexate, prednisone pulses,
    # through two summers
    tl = _timeline("nct02877303", None, {"start_at": "maintenance"})
    data = ics.to_ics(tl, ics.IcsOptions(tz=EXPAND[city]), STAMP)
    path = tmp_path / f"{city}.ics"
    path.write_bytes(data)
    out = tmp_path / "compare.json"
    p = subprocess.run([str(python), str(compare), str(path), "--clients", EXPANDERS, "--json", str(out)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-500:]
    report = json.loads(out.read_text())
    assert report["ref_occurrences"] > 1000
    absolute = sum(1 for a in icalendar.Calendar.from_ical(data).walk("VALARM")
                   if a["TRIGGER"].params.get("VALUE") == "DATE-TIME")
    for client, row in report["clients"].items():
        assert row["status"] == "ok", (client, row.get("missing_examples"), row.get("extra_examples"), row["errors"])
        assert (row["missing"], row["extra"]) == (0, 0), client
        if "alarms" in row:
            # compare.py's reference expands relative triggers only; the evening-before reminders
            # of lab tests and admissions are absolute, which recurring-ical-events counts
            assert row["alarms"]["missing"] == 0, (client, row["alarms"])
            assert row["alarms"]["extra"] in (0, absolute), (client, row["alarms"])
