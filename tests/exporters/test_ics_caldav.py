"""A real CalDAV round trip: Radicale (vobject inside) on 127.0.0.1 with temporary storage, the
calendar uploaded under UID-based resource names, a date range queried back; a second patient in
the same collection; then a delayed revision uploaded over it moves the same UIDs without
duplicates.

One resource per UID (RFC 4791 §4.1): every VEVENT travels in its own VCALENDAR with the
VTIMEZONE, as a CalDAV client must upload it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import icalendar
import pytest

from regimens.exporters import ics
from regimens.exporters.caldav_publish import resource_name  # the documented UID-based names

CHI = "America/Chicago"
STAMP = datetime(2027, 1, 1, tzinfo=UTC)

# Runs Radicale and exits by itself when the test process goes away or after 120 s, so a crashed
# or interrupted test run never leaves a server behind.
_SERVER = r"""
import os, sys, threading, time
parent, deadline = os.getppid(), time.time() + 120
def watchdog():
    while os.getppid() == parent and time.time() < deadline:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
from radicale.__main__ import run
sys.argv = ["radicale", "--config", "", "--server-hosts", sys.argv[1], "--auth-type", "none",
            "--rights-type", "owner_only", "--storage-filesystem-folder", sys.argv[2],
            "--logging-level", "warning"]
run()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def radicale_url(tmp_path_factory):
    pytest.importorskip("radicale", reason="Radicale is not installed (pip install '.[test]')")
    pytest.importorskip("caldav", reason="caldav is not installed (pip install '.[test]')")
    port = _free_port()
    store = tmp_path_factory.mktemp("radicale")
    proc = subprocess.Popen([sys.executable, "-c", _SERVER, f"127.0.0.1:{port}", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        for _ in range(100):
            if proc.poll() is not None:
                pytest.skip(f"Radicale could not start: {proc.stderr.read().decode()[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.skip("Radicale did not accept connections on 127.0.0.1 within 10 s")
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def resources(data: bytes) -> dict[str, str]:
    """UID → a VCALENDAR holding that UID's VEVENT(s) and the VTIMEZONE."""
    cal = icalendar.Calendar.from_ical(data)
    tzs = cal.walk("VTIMEZONE")
    out: dict[str, icalendar.Calendar] = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev["UID"])
        if uid not in out:
            c = icalendar.Calendar()
            c.add("prodid", cal["PRODID"])
            c.add("version", "2.0")
            for tz in tzs:
                c.add_component(tz)
            out[uid] = c
        out[uid].add_component(ev)
    return {u: c.to_ical().decode() for u, c in out.items()}


def sync(client, calendar, data: bytes) -> None:
    """What docs/ics.md tells a CalDAV uploader to do: PUT every UID under its UID-based name
    (replacing what is there), then DELETE the resources whose UID the new file no longer has."""
    res = resources(data)
    for uid, body in res.items():
        r = client.put(str(calendar.url.join(resource_name(uid))), body, {"Content-Type": "text/calendar"})
        assert r.status in (201, 204), (uid, r.status)
    for obj in calendar.events():
        if str(icalendar.Calendar.from_ical(obj.data).walk("VEVENT")[0]["UID"]) not in res:
            obj.delete()


def query(calendar, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    found: dict[str, list] = {}
    for obj in calendar.search(start=start, end=end, event=True, expand=False):
        for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT"):
            found.setdefault(str(ev["UID"]), []).append(ev["DTSTART"].dt)
    return found


def uids_on_server(calendar) -> list[str]:
    return [str(ev["UID"]) for obj in calendar.events() for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")]


def test_reimport_after_a_delay_and_two_patients_in_one_collection(radicale_url, timeline):
    import caldav

    client = caldav.DAVClient(url=radicale_url, username="pharmacy", password="x")
    cal = client.principal().make_calendar(name="regimens test")
    # NCT03114865, 2 cycles from Mon 2027-03-08 (crosses US DST on Sun 2027-03-14); a plan id
    tl = timeline("nct03114865", start=date(2027, 3, 8)).with_events(
        timeline("nct03114865", start=date(2027, 3, 8)).events, revision=1)
    a = ics.IcsOptions(tz=CHI, uid_salt="0f" * 16)
    sync(client, cal, ics.to_ics(tl, a, STAMP))
    tag = ics.uid_tag("0f" * 16)
    c2 = next(e for e in tl.events if e.cycle == 2 and e.kind == "premedication")
    c2_uid = ics.calendar_uid(c2.uid, tag)
    # cycle 2 day 1 = day 43 = 2027-04-19, premedication 08:00 CDT = 13:00Z
    before = query(cal, datetime(2027, 4, 19, tzinfo=UTC), datetime(2027, 4, 26, tzinfo=UTC))
    assert [d.astimezone(UTC) for d in before[c2_uid]] == [datetime(2027, 4, 19, 13, tzinfo=UTC)]
    # the day-8 premedication, after the DST change: 08:00 CDT = 13:00Z (vobject inside Radicale)
    d8 = next(e for e in tl.events if e.kind == "premedication" and e.day == 8)
    got = query(cal, datetime(2027, 3, 15, 12, tzinfo=UTC), datetime(2027, 3, 15, 14, tzinfo=UTC))
    assert [d.astimezone(UTC) for d in got[ics.calendar_uid(d8.uid, tag)]] == [datetime(2027, 3, 15, 13, tzinfo=UTC)]

    # a second patient on the same protocol and start date (another plan id) in the same
    # collection: no UID in common, so nothing of the first patient is overwritten
    b = ics.IcsOptions(tz=CHI, uid_salt="a1" * 16)
    other = resources(ics.to_ics(tl, b, STAMP))
    assert not set(other) & set(resources(ics.to_ics(tl, a, STAMP)))
    for uid, body in other.items():
        assert client.put(str(cal.url.join(resource_name(uid))), body, {"Content-Type": "text/calendar"}).status == 201
    assert len(uids_on_server(cal)) == len(other) * 2

    # re-uploading an event under a name that is not its UID's is refused (409 in Radicale,
    # a UID conflict): why uploaders must use the UID-based names
    body = resources(ics.to_ics(tl, a, STAMP))[c2_uid]
    r = client.put(str(cal.url.join("another-name.ics")), body, {"Content-Type": "text/calendar"})
    assert r.status >= 400, r.status

    # cycle 2 starts a week late: revision 2 of the first patient's plan, synchronised again
    late = timeline("nct03114865", start=date(2027, 3, 8), actual_starts={"maintenance.c2": date(2027, 4, 26)})
    late = late.with_events(late.events, revision=2)
    sync(client, cal, ics.to_ics(late, a, STAMP))  # (this deletes patient b's events too: one per collection)
    after = query(cal, datetime(2027, 4, 26, tzinfo=UTC), datetime(2027, 5, 3, tzinfo=UTC))
    assert [d.astimezone(UTC) for d in after[c2_uid]] == [datetime(2027, 4, 26, 13, tzinfo=UTC)]
    assert c2_uid not in query(cal, datetime(2027, 4, 19, tzinfo=UTC), datetime(2027, 4, 20, tzinfo=UTC))
    # no duplicates: exactly one resource per UID of the revised calendar, at the new SEQUENCE
    everything = uids_on_server(cal)
    assert sorted(everything) == sorted(resources(ics.to_ics(late, a, STAMP)))
    seqs = {icalendar.Calendar.from_ical(obj.data).walk("VEVENT")[0].get("SEQUENCE") for obj in cal.events()}
    assert seqs == {2}, seqs
