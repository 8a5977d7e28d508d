"""Benchmark: iCalendar export of the longest shipped protocol against the floor, i.e. building and
serializing the same number of VEVENTs with bare icalendar (no VTIMEZONE, no alarms, no grouping,
fixed text of the same average length). Target: within 1.5x of the floor.

    python bench/ics_export.py [--repeat 7]

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
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
    print(f"ratio         {t_ours / t_floor:.2f}x (target <= 1.5x)")
    print(f"machine       {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} cores, icalendar {icalendar.__version__}")


if __name__ == "__main__":
    main()
