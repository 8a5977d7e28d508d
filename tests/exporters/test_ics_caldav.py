"""A real CalDAV round trip: Radicale (vobject inside) on 127.0.0.1 with temporary storage, the
calendar uploaded with the caldav client, a date range queried back; then a delayed revision
uploaded over it moves the same UIDs without duplicates.

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


def upload(calendar, data: bytes) -> None:
    for text in resources(data).values():
        # as sent: the caldav client would otherwise raise SEQUENCE itself on every re-upload
        calendar.save_event(text, increase_seqno=False)


def query(calendar, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    found: dict[str, list] = {}
    for obj in calendar.search(start=start, end=end, event=True, expand=False):
        for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT"):
            found.setdefault(str(ev["UID"]), []).append(ev["DTSTART"].dt)
    return found


def test_upload_query_and_move_after_a_delay(radicale_url, timeline):
    import caldav

    client = caldav.DAVClient(url=radicale_url, username="pharmacy", password="x")
    cal = client.principal().make_calendar(name="regimens test")
    # NCT03114865, 2 cycles from Mon 2027-03-08 (crosses US DST on Sun 2027-03-14)
    tl = timeline("nct03114865", start=date(2027, 3, 8))
    upload(cal, ics.to_ics(tl, ics.IcsOptions(tz=CHI), STAMP))
    # cycle 2 day 1 = day 43 = 2027-04-19; query its first week
    window = (datetime(2027, 4, 19, tzinfo=UTC), datetime(2027, 4, 26, tzinfo=UTC))
    before = query(cal, *window)
    c2 = next(e for e in tl.events if e.cycle == 2 and e.kind == "premedication")
    assert [d.astimezone(UTC) for d in before[c2.uid]] == [datetime(2027, 4, 19, 13, tzinfo=UTC)]  # 08:00 CDT
    # the day-8 premedication, after the DST change: 08:00 CDT = 13:00Z (vobject inside Radicale)
    d8 = next(e for e in tl.events if e.kind == "premedication" and e.day == 8)
    got = query(cal, datetime(2027, 3, 15, 12, tzinfo=UTC), datetime(2027, 3, 15, 14, tzinfo=UTC))
    assert [d.astimezone(UTC) for d in got[d8.uid]] == [datetime(2027, 3, 15, 13, tzinfo=UTC)]

    # cycle 2 starts a week late (--actual-start maintenance.c2=2027-04-26), revision 1
    late = timeline("nct03114865", start=date(2027, 3, 8), actual_starts={"maintenance.c2": date(2027, 4, 26)})
    late = late.with_events(late.events, revision=1)
    upload(cal, ics.to_ics(late, ics.IcsOptions(tz=CHI), STAMP))
    after = query(cal, datetime(2027, 4, 26, tzinfo=UTC), datetime(2027, 5, 3, tzinfo=UTC))
    assert [d.astimezone(UTC) for d in after[c2.uid]] == [datetime(2027, 4, 26, 13, tzinfo=UTC)]
    assert c2.uid not in query(cal, datetime(2027, 4, 19, tzinfo=UTC), datetime(2027, 4, 20, tzinfo=UTC))
    # no duplicates: the server holds exactly one resource per UID of the revised calendar
    everything = [str(ev["UID"]) for obj in cal.events()
                  for ev in icalendar.Calendar.from_ical(obj.data).walk("VEVENT")]
    assert len(everything) == len(set(everything)) == len(resources(ics.to_ics(late, ics.IcsOptions(tz=CHI), STAMP)))
    seqs = [icalendar.Calendar.from_ical(obj.data).walk("VEVENT")[0].get("SEQUENCE") for obj in cal.events()]
    assert set(seqs) == {1}, seqs
