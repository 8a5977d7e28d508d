"""Benchmark: iCalendar export of the longest shipped protocol against the floor, i.e. building and
serializing the same number of VEVENTs with bare icalendar (no VTIMEZONE, no alarms, no grouping,
fixed text of the same average length), in-process and as whole processes (`regimens ics` from
start-up to the written file, against a Python process that imports icalendar, builds as many
VEVENTs and writes them). Target: whole process within 1.5x of the floor.

    python bench/ics_export.py [--repeat 9]

Prints the protocol, event counts, file size and best-of-N times.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from bytecode import compile_tree

from regimens.errors import RegimensError
from regimens.exporters import ics
from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

PREFERRED = "nct02877303"  # hyper-CVAD + blinatumomab through maintenance
STAMP = datetime(2027, 1, 1, tzinfo=UTC)
TZ = "America/Chicago"


def longest():
    cat = Catalog()
    best = None
    for pid in cat.ids():
        try:
            pf = cat.load(pid)
        except RegimensError:  # a protocol that does not load is not a benchmark candidate
            continue
        for arm in pf.protocol.arms:
            choices = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
            try:
                tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices))
            except RegimensError:  # e.g. a decision without a usable default
                continue
            key = (pid == PREFERRED, len(tl.events))
            if best is None or key > best[0]:
                best = (key, tl)
    return best[1]


def floor(n: int, summary_len: int, desc_len: int) -> bytes:
    tz = ZoneInfo(TZ)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//floor//EN")
    cal.add("version", "2.0")
    start = datetime(2027, 1, 4, 9, tzinfo=tz)
    summary, desc = "s" * summary_len, "d" * desc_len
    for k in range(n):
        ev = icalendar.Event()
        ev.add("uid", f"{k:024x}@floor")
        ev.add("dtstamp", STAMP)
        ev.add("dtstart", start + timedelta(hours=k))
        ev.add("dtend", start + timedelta(hours=k, minutes=30))
        ev.add("summary", summary)
        ev.add("description", desc)
        cal.add_component(ev)
    return cal.to_ical()


def best_of_interleaved(a, b, repeat: int) -> tuple[float, float]:
    """Best time of each, alternating a and b so that load from other jobs hits both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return min(ta), min(tb)


_FLOOR_PROCESS = r"""
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo
import icalendar
n, s_len, d_len, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tz = ZoneInfo("America/Chicago")
cal = icalendar.Calendar()
cal.add("prodid", "-//floor//EN")
cal.add("version", "2.0")
start = datetime(2027, 1, 4, 9, tzinfo=tz)
stamp = datetime(2027, 1, 1, tzinfo=UTC)
for k in range(n):
    ev = icalendar.Event()
    ev.add("uid", f"{k:024x}@floor")
    ev.add("dtstamp", stamp)
    ev.add("dtstart", start + timedelta(hours=k))
    ev.add("dtend", start + timedelta(hours=k, minutes=30))
    ev.add("summary", "s" * s_len)
    ev.add("description", "d" * d_len)
    cal.add_component(ev)
open(out, "wb").write(cal.to_ical())
"""


def whole_process(n: int, s_len: int, d_len: int, repeat: int) -> tuple[float, float]:
    """Best CPU time of a whole `regimens ics` process (start-up, YAML, compile, export, write)
    against a whole Python process building and writing the same number of VEVENTs with bare
    icalendar, run alternately. Target: ratio <= 1.5."""
    import resource
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    regimens = str(Path(sys.executable).with_name("regimens"))
    with tempfile.TemporaryDirectory() as d:
        ours = [regimens, "ics", PREFERRED, "--start", "2027-01-04", "--tz", TZ, "-o", f"{d}/a.ics", "--force"]
        theirs = [sys.executable, "-c", _FLOOR_PROCESS, str(n), str(s_len), str(d_len), f"{d}/b.ics"]
        env = dict(os.environ, SOURCE_DATE_EPOCH="1798761600")

        def cpu(cmd):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        cpu(ours), cpu(theirs)  # warm caches (bytecode, file cache)
        ta, tb = [], []
        for _ in range(repeat):
            ta.append(cpu(ours))
            tb.append(cpu(theirs))
    return min(ta), min(tb)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    print(f"package       {compile_tree()} (byte-compiled), load average {os.getloadavg()[0]:.1f}")
    tl = longest()
    opts = ics.IcsOptions(tz=TZ)
    data = ics.to_ics(tl, opts, STAMP)
    cal = icalendar.Calendar.from_ical(data)
    vevents = cal.walk("VEVENT")
    n = len(vevents)
    s_len = sum(len(str(e["SUMMARY"])) for e in vevents) // n
    d_len = sum(len(str(e["DESCRIPTION"])) for e in vevents) // n
    t_ours, t_floor = best_of_interleaved(lambda: ics.to_ics(tl, opts, STAMP),
                                          lambda: floor(n, s_len, d_len), args.repeat)
    floor_bytes = len(floor(n, s_len, d_len))
    files = ics.export(tl, opts, STAMP)
    print(f"protocol      {tl.protocol_id} arm {tl.arm}, {tl.start} to {tl.end}")
    print(f"timeline      {len(tl.events)} events")
    print(f"calendar      {n} VEVENTs ({sum(1 for e in vevents if 'RRULE' in e)} recurring), "
          f"{len(data):,} bytes; {len(files)} file(s) under the 1 MB limit")
    print(f"export        {t_ours * 1000:.1f} ms (best of {args.repeat})")
    print(f"floor         {t_floor * 1000:.1f} ms ({n} bare icalendar VEVENTs, same average text length, {floor_bytes:,} bytes)")
    print(f"ratio         {t_ours / t_floor:.2f}x (in-process export against the floor)")
    p_ours, p_floor = whole_process(n, s_len, d_len, max(3, args.repeat // 2))
    print(f"process       `regimens ics {tl.protocol_id}` {p_ours * 1000:.0f} ms CPU; bare icalendar process "
          f"{p_floor * 1000:.0f} ms CPU (best of {max(3, args.repeat // 2)}, alternated)")
    print(f"ratio         {p_ours / p_floor:.2f}x whole process (target <= 1.5x)")
    print(f"machine       {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, icalendar {icalendar.__version__}, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
