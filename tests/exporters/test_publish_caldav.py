"""`regimens publish --caldav`: against a real Radicale (vobject inside) on 127.0.0.1 with htpasswd
authentication. What is checked is what the server holds afterwards, read back with the caldav
client and a server-side time-range query, not what the publisher says it did."""

from __future__ import annotations

import http.client
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import icalendar
import pytest
from dav_server import free_port, radicale

from regimens.exporters import ics
from regimens.exporters.caldav_publish import PublishError, Retry, publish, resource_name, split_resources

CHI = "America/Chicago"
STAMP = datetime(2027, 1, 1, tzinfo=UTC)
USER, PASSWORD = "ward", "correct horse battery"

caldav = pytest.importorskip("caldav", reason="caldav is not installed (pip install '.[test]')")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with radicale(tmp_path_factory.mktemp("dav"), {USER: PASSWORD}) as url:
        yield url


@pytest.fixture
def collection(server, request):
    """A new, empty calendar collection for each test: (its URL, a caldav Calendar on it)."""
    client = caldav.DAVClient(url=server, username=USER, password=PASSWORD, enable_rfc6764=False)
    name = request.node.name.replace("_", "-")[:40]
    cal = client.principal().make_calendar(name=name, cal_id=name)
    return str(cal.url), cal


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _calendar(timeline, cycle: int = 1, first: int | None = None, bag_hours: int = 24, revision: int = 0,
              **kw) -> bytes:
    """NCT03114865 from Mon 2027-03-08, one cycle (cycle 1 crosses US DST on Sun 2027-03-14), or
    only its `first` events: small calendars keep the test fast on a busy machine."""
    tl = timeline("nct03114865", start=date(2027, 3, 8), **kw)
    events = tuple(e for e in tl.events if e.cycle == cycle)[:first]
    return ics.to_ics(tl.with_events(events, revision=revision), ics.IcsOptions(tz=CHI, bag_hours=bag_hours), STAMP)


def _held(cal) -> dict[str, tuple[str, icalendar.Calendar]]:
    """UID → (resource name, parsed resource), asserting one UID per resource and no duplicates."""
    out: dict[str, tuple[str, icalendar.Calendar]] = {}
    for obj in cal.get_events():
        parsed = icalendar.Calendar.from_ical(obj.data)
        uids = {str(ev["UID"]) for ev in parsed.walk("VEVENT")}
        assert len(uids) == 1, f"{obj.url} holds {uids}"
        uid = uids.pop()
        assert uid not in out, f"{uid} is stored twice"
        out[uid] = (str(obj.url).rstrip("/").rsplit("/", 1)[-1], parsed)
    return out


def _etags(cal) -> dict[str, str]:
    return {str(o.url): o.props.get("{DAV:}getetag") for o in cal.get_events()}


def test_one_resource_per_uid_then_a_second_run_changes_nothing(collection, timeline):
    url, cal = collection
    data = _calendar(timeline)
    wanted = split_resources(data)
    sleeps = Sleeps()
    first = publish(data, url, username=USER, password=PASSWORD, sleep=sleeps)
    assert (first.created, first.updated, first.unchanged, first.deleted) == (len(wanted), 0, 0, 0)
    held = _held(cal)
    assert set(held) == {str(ev["UID"]) for ev in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    for uid, (name, parsed) in held.items():
        assert name == resource_name(uid) == f"regimens-{uid.removesuffix('@regimens')}.ics"
        assert "METHOD" not in parsed  # RFC 4791 §4.1: no METHOD in a calendar object resource
        ev = parsed.walk("VEVENT")[0]
        if "TZID" in ev["DTSTART"].params:
            assert [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")] == [CHI]
    # Radicale (vobject) expands the time range itself: the day-8 premedication, after the DST
    # change, is 08:00 CDT = 13:00Z (a VTIMEZONE lost in the split would give 14:00Z)
    d8 = next(e for e in timeline("nct03114865", start=date(2027, 3, 8)).events
              if e.kind == "premedication" and e.day == 8)
    found = cal.search(start=datetime(2027, 3, 15, 12, tzinfo=UTC), end=datetime(2027, 3, 15, 14, tzinfo=UTC),
                       event=True, expand=False)
    starts = [ev["DTSTART"].dt.astimezone(UTC) for o in found
              for ev in icalendar.Calendar.from_ical(o.data).walk("VEVENT") if str(ev["UID"])[:24] == d8.uid[:24]]
    assert starts == [datetime(2027, 3, 15, 13, tzinfo=UTC)]

    before = _etags(cal)
    again = publish(data, url, username=USER, password=PASSWORD, sleep=sleeps)
    assert (again.created, again.updated, again.unchanged, again.deleted) == (0, 0, len(wanted), 0)
    assert not again.changed
    assert _etags(cal) == before  # nothing was written
    assert sleeps == []


def test_a_delay_moves_events_in_place_and_what_left_the_schedule_is_deleted(collection, timeline):
    url, cal = collection
    publish(_calendar(timeline, cycle=2), url, username=USER, password=PASSWORD, sleep=Sleeps())
    names_before = {uid: name for uid, (name, _) in _held(cal).items()}
    # another client's events in the same calendar, one even named like ours
    cal.save_event("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\nUID:dentist@example.org\r\n"
                   "DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270320\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n"
                   "END:VCALENDAR\r\n")
    caldav.Event(client=cal.client, parent=cal, url=cal.url.join("regimens-lookalike.ics"),
                 data="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\nUID:lookalike@example.org\r\n"
                      "DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270321\r\nSUMMARY:Mine\r\nEND:VEVENT\r\n"
                      "END:VCALENDAR\r\n").save()

    # revision 1: cycle 2 a week late (2027-04-19 → 2027-04-26) and 48-h bags, so half the
    # bag-change events leave the schedule
    late = _calendar(timeline, cycle=2, actual_starts={"maintenance.c2": date(2027, 4, 26)}, bag_hours=48, revision=1)
    wanted = split_resources(late)
    gone = set(names_before) - set(wanted)
    assert gone and all("-bag" in u for u in gone)
    r = publish(late, url, username=USER, password=PASSWORD, sleep=Sleeps())
    assert r.deleted == len(gone) and r.created == 0 and r.unchanged == 0
    held = _held(cal)
    assert set(held) == set(wanted) | {"dentist@example.org", "lookalike@example.org"}
    tl = timeline("nct03114865", start=date(2027, 3, 8))
    c2 = next(e for e in tl.events if e.cycle == 2 and e.kind == "premedication")
    uid = next(u for u in held if u[:24] == c2.uid[:24] and "-bag" not in u and "-end" not in u)
    name, parsed = held[uid]
    assert name == names_before[uid]  # the same resource, updated in place
    ev = parsed.walk("VEVENT")[0]
    assert ev["DTSTART"].dt.astimezone(UTC) == datetime(2027, 4, 26, 13, tzinfo=UTC)  # 08:00 CDT, a week later
    assert int(ev["SEQUENCE"]) == 1
    assert {int(p.walk("VEVENT")[0]["SEQUENCE"]) for u, (_, p) in held.items() if u.endswith("@regimens")} == {1}


def test_auth_failure_missing_collection_and_wrong_address_are_one_line(server, collection, timeline):
    url, _ = collection
    data = _calendar(timeline, first=2)
    sleeps = Sleeps()
    with pytest.raises(PublishError) as bad:
        publish(data, url, username=USER, password="wrong password", sleep=sleeps)
    msg = str(bad.value)
    assert "authentication failed (401)" in msg and "wrong password" not in msg and "\n" not in msg
    with pytest.raises(PublishError, match=r"does not exist \(404\)"):
        publish(data, server + f"{USER}/no-such-calendar/", username=USER, password=PASSWORD, sleep=sleeps)
    with pytest.raises(PublishError, match="not a calendar collection"):
        publish(data, server + f"{USER}/", username=USER, password=PASSWORD, sleep=sleeps)
    # the collection path may name a patient: errors name the server only
    assert "no-such-calendar" not in str(bad.value) and urlsplit(url).path not in msg
    with pytest.raises(PublishError, match="no user name or password in the CalDAV address"):
        publish(data, url.replace("http://", f"http://{USER}:{PASSWORD.replace(' ', '%20')}@"), sleep=sleeps)
    assert sleeps == []  # none of these is worth retrying


def test_network_down_is_retried_with_backoff_then_one_line(timeline):
    port = free_port()  # nothing listens there
    sleeps = Sleeps()
    with pytest.raises(PublishError) as down:
        publish(_calendar(timeline, first=2), f"http://127.0.0.1:{port}/ward/treatment/", username=USER, password=PASSWORD,
                sleep=sleeps, retry=Retry(attempts=4, backoff=0.5))
    assert sleeps == [0.5, 1.0, 2.0]
    assert str(down.value) == (f"http://127.0.0.1:{port}: cannot reach the server (connection refused) after 4 "
                               "attempts; check the address and the network")


def test_a_calendar_not_made_by_regimens_is_refused_before_any_request():
    sleeps = Sleeps()
    foreign = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:abc@example.org\r\n"
               b"DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270104\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    for data, why in ((foreign, "not one made by regimens"), (b"hello", "not an iCalendar file"),
                      (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events")):
        with pytest.raises(PublishError, match=why):
            publish(data, f"http://127.0.0.1:{free_port()}/x/", sleep=sleeps)
    assert sleeps == []


class _Flaky(BaseHTTPRequestHandler):
    """A reverse proxy to Radicale that answers 503 to the first `failures` requests."""

    upstream: tuple[str, int]
    failures = 0
    seen: list[int]

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append(1)
        if len(type(self).seen) <= type(self).failures:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = do_HEAD = _any

    def log_message(self, *args):
        pass


def test_server_errors_are_retried_with_backoff(collection, timeline):
    url, cal = collection
    parts = urlsplit(url)
    handler = type("Flaky", (_Flaky,), {"upstream": (parts.hostname, parts.port), "failures": 2, "seen": []})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        sleeps = Sleeps()
        via = f"http://127.0.0.1:{proxy.server_address[1]}{parts.path}"
        data = _calendar(timeline, first=4)
        r = publish(data, via, username=USER, password=PASSWORD, sleep=sleeps, retry=Retry(attempts=3, backoff=0.25))
        assert sleeps == [0.25, 0.5]
        assert r.created == len(split_resources(data))
        assert len(_held(cal)) == r.created
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


def test_the_command(collection, timeline, tmp_path, run_cli):
    url, cal = collection
    path = tmp_path / "patient.ics"
    path.write_bytes(_calendar(timeline, first=4))
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    code, out, err = run_cli("publish", "--caldav", url, "--user", USER, "--password-file", str(secret), str(path))
    n = len(split_resources(path.read_bytes()))
    host = f"http://127.0.0.1:{urlsplit(url).port}"
    assert (code, out) == (0, "")
    assert err == f"regimens: published at {host}: {n} created, 0 updated, 0 unchanged, 0 deleted\n"
    assert len(_held(cal)) == n
    code, _, err = run_cli("publish", "--caldav", url, "--user", USER, "--password-file", str(secret), str(path))
    assert code == 0 and err.startswith(f"regimens: already up to date at {host}: 0 created")

    secret.write_text("not it\n")
    code, _, err = run_cli("publish", "--caldav", url, "--user", USER, "--password-file", str(secret), str(path))
    assert code == 2 and err.count("\n") == 1 and "authentication failed (401)" in err and "not it" not in err
    code, _, err = run_cli("publish", "--caldav", url, "--user", USER, "--password-file", str(tmp_path / "nope"),
                           str(path))
    assert code == 2 and "password file" in err and err.count("\n") == 1
    code, _, err = run_cli("publish", "--caldav", url, "--user", USER, str(path), env={"REGIMENS_CALDAV_PASSWORD": ""})
    assert code == 2 and "without a password" in err
    code, _, err = run_cli("publish", "--caldav", url, str(tmp_path / "missing.ics"))
    assert code == 2 and "missing.ics does not exist" in err


def test_a_calendar_in_the_patients_language_replaces_the_english_one_in_place(collection, timeline):
    """The language is the file's (`regimens ics --language`): publishing the Spanish calendar over
    the English one rewrites every resource under its UID, with nothing created or deleted, and
    the server then holds the Spanish words with their LANGUAGE."""
    from regimens.language.site import patient_language

    url, cal = collection
    tl = timeline("nct03114865", start=date(2027, 3, 8))
    events = tuple(e for e in tl.events if e.cycle == 1)[:12]
    part = tl.with_events(events)
    english = ics.to_ics(part, ics.IcsOptions(tz=CHI), STAMP)
    spanish = ics.to_ics(part, ics.IcsOptions(tz=CHI, language=patient_language("es")), STAMP)
    n = len(split_resources(english))
    assert publish(english, url, username=USER, password=PASSWORD, sleep=Sleeps()).created == n
    r = publish(spanish, url, username=USER, password=PASSWORD, sleep=Sleeps())
    assert (r.created, r.updated, r.unchanged, r.deleted) == (0, n, 0, 0)
    held = _held(cal)
    titles = [str(p.walk("VEVENT")[0]["SUMMARY"]) for _name, p in held.values()]
    assert any("ciclo 1, día" in t for t in titles), titles
    assert all(p.walk("VEVENT")[0]["SUMMARY"].params.get("LANGUAGE") == "es" for _name, p in held.values())
