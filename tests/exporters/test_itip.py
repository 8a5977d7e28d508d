"""Same-day change e-mails (iTIP over iMIP): the messages are sent through a real SMTP server
(aiosmtpd on 127.0.0.1), parsed back from the bytes it received, and their calendars checked
against the timeline's dates, RFC 5546's required properties and libical's iTIP check."""

from __future__ import annotations

import json
import shutil
import smtplib
import subprocess
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import icalendar
import pytest
from dav_server import free_port

from regimens.exporters import ics
from regimens.exporters.itip import (
    CANCEL,
    REQUEST,
    ItipError,
    Party,
    changes,
    itip_calendar,
    same_day_messages,
)

CHI = "America/Chicago"
CLINIC = Party("oncology-pharmacy@hospital.example", "Oncology pharmacy")
PATIENT = Party("patient@example.org")
SENT = datetime(2027, 4, 18, 15, 30, tzinfo=UTC)
ICSCHECK = Path.home() / "icscheck" / "icscheck"


def _cal(timeline, revision: int, bag_hours: int = 24, stamp: datetime = datetime(2027, 1, 1, tzinfo=UTC), **kw):
    """NCT03114865 from Mon 2027-03-08, cycles 1-2; cycle 2 day 1 is Mon 2027-04-19 unless delayed."""
    tl = timeline("nct03114865", start=date(2027, 3, 8), **kw)
    tl = tl.with_events(tuple(e for e in tl.events if e.cycle in (1, 2)), revision=revision)
    return tl, ics.to_ics(tl, ics.IcsOptions(tz=CHI, bag_hours=bag_hours), stamp)


DELAY = {"actual_starts": {"maintenance.c2": date(2027, 4, 26)}}


def _vevents(data: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def base(uid: str) -> str:
    """The timeline uid's 24 hex digits that start every calendar UID made from it."""
    return uid[:24]


def one(uids, tl_uid: str, suffix: str = "") -> str:
    """The calendar UID made from timeline uid `tl_uid` (+ `-bagN` / `-end` for derived events)."""
    want = base(tl_uid) + suffix
    found = [u for u in uids if u.startswith(want) and u[len(want):len(want) + 1] in ("@", "-")
             and (suffix or ("-bag" not in u and "-end" not in u))]
    assert len(found) == 1, (want, found)
    return found[0]


@pytest.fixture
def smtp():
    """aiosmtpd on 127.0.0.1 at a free port, collecting (envelope sender, recipients, bytes)."""
    controller_mod = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed")
    got: list[tuple[str, list[str], bytes]] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            return "250 OK"

    port = free_port()
    ctl = controller_mod.Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port, got
    finally:
        ctl.stop()


def test_a_delay_requests_exactly_the_moved_events(timeline):
    tl0, old = _cal(timeline, 0)
    _, new = _cal(timeline, 1, **DELAY)
    ch = changes(old, new)
    assert ch.cancel == ()
    # independently: the VEVENTs whose start moved (cycle 2 moves a week, cycle 1 stays)
    a, b = _vevents(old), _vevents(new)
    moved = {u for u in b if a[u]["DTSTART"].dt != b[u]["DTSTART"].dt}
    assert set(ch.request) == moved
    c1 = {base(e.uid) for e in tl0.events if e.cycle == 1}
    c2 = {base(e.uid) for e in tl0.events if e.cycle == 2} & {base(u) for u in a}
    assert c2 and c2 <= {base(u) for u in ch.request} and not (c1 & {base(u) for u in ch.request})


def test_today_and_tomorrow_only(timeline):
    tl0, old = _cal(timeline, 0)
    _, new = _cal(timeline, 1, **DELAY)
    # decided on Sun 18 Apr for Mon 19 - Tue 20 Apr: what was due on those days, and nothing else
    ch = changes(old, new, within=(date(2027, 4, 19), date(2027, 4, 20)))
    a = _vevents(old)
    premed = next(e for e in tl0.events if e.cycle == 2 and e.kind == "premedication")
    pump = next(e for e in tl0.events if e.cycle == 2 and e.continuous)
    assert premed.date == pump.date == date(2027, 4, 19)
    got = set(ch.request)
    assert {one(a, premed.uid), one(a, pump.uid), one(a, pump.uid, "-bag1"), one(a, pump.uid, "-bag2")} <= got
    assert one(a, pump.uid, "-bag3") not in got  # due Wed 21 Apr: the feed will carry it
    # independently: every event that moved and touched 19-20 Apr before or after, and no other
    b = _vevents(new)

    def touches(ev):
        s = ev["DTSTART"].dt
        e = ev["DTEND"].dt if "DTEND" in ev else s
        s = s.date() if isinstance(s, datetime) else s
        e = e.date() if isinstance(e, datetime) else e - timedelta(days=1)
        return s <= date(2027, 4, 20) and max(s, e) >= date(2027, 4, 19)

    def when(ev):
        return ev["DTSTART"].dt, ev["DTEND"].dt if "DTEND" in ev else None

    assert got == {u for u in a if when(a[u]) != when(b[u]) and (touches(a[u]) or touches(b[u]))}


def test_omitted_and_removed_events_are_cancelled(timeline):
    tl0, old = _cal(timeline, 0)
    premed = next(e for e in tl0.events if e.cycle == 2 and e.kind == "premedication")
    # revision 1: the cycle-2 premedication omitted, and 48-h bags (half the bag changes leave)
    _, new = _cal(timeline, 1, bag_hours=48, omit={premed.uid: "not needed"})
    ch = changes(old, new)
    gone = set(_vevents(old)) - set(_vevents(new))
    assert gone and all("-bag" in u for u in gone)
    assert set(ch.cancel) == gone | {one(_vevents(new), premed.uid)}
    cal = icalendar.Calendar.from_ical(itip_calendar(old, new, ch.cancel, CANCEL, CLINIC, PATIENT, SENT))
    assert cal["METHOD"] == "CANCEL"
    evs = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(evs) == set(ch.cancel)
    for e in evs.values():
        assert e["STATUS"] == "CANCELLED" and int(e["SEQUENCE"]) == 1 and not e.walk("VALARM")
        assert e["ORGANIZER"] == "mailto:oncology-pharmacy@hospital.example"


def test_a_sequence_that_is_not_higher_is_refused(timeline):
    _, old = _cal(timeline, 1)
    _, new = _cal(timeline, 1, **DELAY)  # moved, but recorded without a new revision
    with pytest.raises(ItipError, match=r"SEQUENCE \(1\) is not higher .* \(1\)"):
        same_day_messages(old, new, CLINIC, PATIENT, SENT)
    with pytest.raises(ItipError, match="nothing to send"):
        same_day_messages(old, old, CLINIC, PATIENT, SENT)
    with pytest.raises(ItipError, match="recipient's e-mail address is not valid"):
        same_day_messages(old, _cal(timeline, 2, **DELAY)[1], CLINIC, Party("patient at home"), SENT)


def test_sent_through_smtp_and_parsed_back(smtp, timeline):
    port, got = smtp
    tl0, old = _cal(timeline, 0)
    _, new = _cal(timeline, 1, **DELAY, stamp=datetime(2027, 4, 18, 15, tzinfo=UTC))
    msgs = same_day_messages(old, new, CLINIC, PATIENT, SENT, within=(date(2027, 4, 19), date(2027, 4, 20)))
    assert len(msgs) == 1
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        for m in msgs:
            s.send_message(m)
    assert len(got) == 1
    sender, rcpts, raw = got[0]
    assert (sender, rcpts) == (CLINIC.email, [PATIENT.email])
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "Treatment calendar: 6 changes"
    assert msg["From"].addresses[0].addr_spec == CLINIC.email
    assert msg.get_content_type() == "multipart/alternative"
    text, calpart = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert ": Mon 26 Apr 2027 08:00 (was Mon 19 Apr 2027 08:00)\r\n" in text.get_content()  # the premedication
    assert calpart.get_content_type() == "text/calendar"
    body = calpart.get_payload(decode=True)
    assert b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")  # CRLF survives the hop
    cal = icalendar.Calendar.from_ical(body)
    assert calpart.get_param("method") == str(cal["METHOD"]) == REQUEST
    assert calpart.get_content_charset() == "utf-8"
    before, after = _vevents(old), _vevents(new)
    evs = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(evs) == set(changes(old, new, within=(date(2027, 4, 19), date(2027, 4, 20))).request)
    for uid, e in evs.items():
        assert int(e["SEQUENCE"]) == 1 > int(before[uid].get("SEQUENCE", 0))
        assert e["DTSTART"].dt == after[uid]["DTSTART"].dt
        assert e["DTSTAMP"].dt == SENT
        assert e["ORGANIZER"] == "mailto:oncology-pharmacy@hospital.example"
        assert e["ORGANIZER"].params["CN"] == "Oncology pharmacy"
        att = e["ATTENDEE"]
        assert att == "mailto:patient@example.org" and att.params["RSVP"] == "FALSE"
    tl_premed = next(e for e in tl0.events if e.cycle == 2 and e.kind == "premedication")
    premed = evs[one(evs, tl_premed.uid)]
    assert premed["DTSTART"].dt.astimezone(UTC) == datetime(2027, 4, 26, 13, tzinfo=UTC)  # 08:00 CDT
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == [CHI]


@pytest.mark.skipif(not ICSCHECK.exists(), reason="~/icscheck is not installed (see the brief)")
@pytest.mark.parametrize("method", [REQUEST, CANCEL])
def test_libical_finds_no_itip_restriction_broken(method, timeline, tmp_path):
    tl0, old = _cal(timeline, 0)
    premed = next(e for e in tl0.events if e.cycle == 2 and e.kind == "premedication")
    _, new = _cal(timeline, 1, bag_hours=48, omit={premed.uid: "not needed"}, **DELAY)
    ch = changes(old, new)
    path = tmp_path / "itip.ics"
    path.write_bytes(itip_calendar(old, new, ch.request if method == REQUEST else ch.cancel, method,
                                   CLINIC, PATIENT, SENT))
    run = subprocess.run([str(ICSCHECK), "--strict-itip", "--json", "--only", "libical", str(path)],
                         capture_output=True, text=True, timeout=300, check=False)
    if not run.stdout.strip():
        pytest.skip(f"icscheck gave no report: {run.stderr[-300:]}")
    report = json.loads(run.stdout)
    libical = report["clients"][0]
    if not libical.get("available", True):
        pytest.skip("libical is not available to icscheck")
    assert libical["ok"] and libical["errors"] == [], libical
    assert "0 iTIP restriction findings" in libical["note"]
    # the one semantic "error" is by design: icscheck's rule is for published schedules
    assert report["semantic"]["error_rules"] == ["method"]


def test_the_checker_can_fail(tmp_path):
    """libical's check catches a REQUEST without ORGANIZER and ATTENDEE (so the test above means something)."""
    if not ICSCHECK.exists() or shutil.which("python3") is None:
        pytest.skip("~/icscheck is not installed")
    bad = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a@regimens\r\n"
           b"DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270104\r\nSEQUENCE:1\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
           b"END:VCALENDAR\r\n")
    path = tmp_path / "bad.ics"
    path.write_bytes(bad)
    run = subprocess.run([str(ICSCHECK), "--strict-itip", "--json", "--only", "libical", str(path)],
                         capture_output=True, text=True, timeout=300, check=False)
    if not run.stdout.strip():
        pytest.skip(f"icscheck gave no report: {run.stderr[-300:]}")
    libical = json.loads(run.stdout)["clients"][0]
    assert not libical["ok"] and any("ORGANIZER" in e for e in libical["errors"])
