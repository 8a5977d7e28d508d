"""End times across a daylight-saving change (issue 10): a continuous infusion given on days 1-7
from 09:00 stops at 09:00 on day 8, the moment the next bag (a step-up) starts, on the clock
of the clinic's zone, in the .ics as in the timeline; never an hour later after spring forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest

from regimens.exporters.ics import IcsOptions, to_ics

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
CHI = "America/Chicago"


def _blina_c1(tl):
    # seed-004: "Cycle 1 - Days 1-7: 9 ug/day IV daily"; "Cycle 1 - Days 8-28: 28 ug/day"
    first = next(e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1 and e.day == 1)
    step = next(e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1 and e.day == 8)
    return first, step


def _mine(cal, e):
    base = e.uid.removesuffix("@regimens")
    return [v for v in cal.walk("VEVENT") if base in str(v["UID"])]


@pytest.mark.parametrize(("start", "change"), [
    # US daylight saving 2027 starts Sunday 14 March (02:00 -> 03:00) and ends Sunday 7 November
    (date(2027, 3, 8), "spring forward on day 7"),
    (date(2027, 11, 1), "fall back on day 7"),
])
@pytest.mark.parametrize("audience", ["patient", "staff"])
def test_step_up_starts_when_the_old_bag_stops(timeline, start, change, audience):
    tl = timeline("nct03114865", start=start)
    first, step = _blina_c1(tl)
    assert (step.date - first.date).days == 7 and first.time == step.time == time(9)
    tz = ZoneInfo(CHI)
    step_start = datetime.combine(step.date, time(9), tzinfo=tz)  # day 8, 09:00 local
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience=audience), GEN))
    timed = [v for v in _mine(cal, first) if isinstance(v["DTSTART"].dt, datetime)]
    assert timed, change
    # no event of the 9 mcg/day bag at or after the instant the 28 mcg/day bag starts
    late = [(str(v["SUMMARY"]), v["DTSTART"].dt) for v in timed if v["DTSTART"].dt >= step_start]
    assert late == [], change
    # and the step-up's first bag starts at 09:00 on the clock
    new = [v for v in _mine(cal, step) if "-bag1-" in str(v["UID"])]
    assert len(new) == 1
    got = new[0]["DTSTART"].dt
    assert (got.astimezone(tz).time(), got.astimezone(tz).date()) == (time(9), step.date), change


def test_without_a_following_bag_the_pump_stops_at_the_same_clock_time(timeline):
    # started Monday 2027-02-22: cycle 1's 28 mcg/day bag runs days 8-28 from Monday 1 March
    # 09:00 CST across the 14 March change and stops at 09:00 CDT on day 29, Monday 22 March,
    # where the timeline says (the rest interval starts that day); nothing follows it at once, so
    # the .ics has an end-of-infusion event there, not at 10:00.
    tl = timeline("nct03114865", start=date(2027, 2, 22))
    _, step = _blina_c1(tl)
    tz = ZoneInfo(CHI)
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN))
    end = [v for v in _mine(cal, step) if "-end-" in str(v["UID"])]
    assert len(end) == 1
    assert end[0]["DTSTART"].dt.astimezone(tz).replace(tzinfo=None) == datetime(2027, 3, 22, 9, 0)
