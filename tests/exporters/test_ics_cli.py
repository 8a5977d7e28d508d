"""`regimens ics` as a user runs it: options, files, errors (one line, exit 2), reproducibility."""

from __future__ import annotations

import icalendar
import pytest

from regimens.cli import ics_cmd
from regimens.cli.ics_cmd import part_path, resolve_zone
from regimens.errors import RegimensError

P = "nct03114865"
BASE = ["ics", P, "--start", "2027-01-04"]
CHI = ["--tz", "America/Chicago"]


def test_writes_a_calendar_that_parses(run_cli, tmp_path):
    out = tmp_path / "x.ics"
    code, _, err = run_cli(*BASE, *CHI, "-o", str(out))
    assert code == 0, err
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert len(cal.walk("VEVENT")) > 10 and cal["X-WR-TIMEZONE"] == "America/Chicago"


def test_source_date_epoch_is_the_dtstamp_and_bytes_repeat(run_cli, tmp_path):
    # 1800000000 s after 1970-01-01T00:00Z = 2027-01-15T08:00:00Z
    env = {"SOURCE_DATE_EPOCH": "1800000000"}
    a, b = tmp_path / "a.ics", tmp_path / "b.ics"
    assert run_cli(*BASE, *CHI, "-o", str(a), env=env)[0] == 0
    assert run_cli(*BASE, *CHI, "-o", str(b), env=env)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert b"DTSTAMP:20270115T080000Z" in a.read_bytes()


def test_zone_default_and_refusals(run_cli, tmp_path):
    assert resolve_zone("Asia/Tokyo", {}) == ("Asia/Tokyo", None)
    zone, note = resolve_zone(None, {"TZ": "Europe/Berlin"})
    assert zone == "Europe/Berlin" and "this computer's zone" in note
    with pytest.raises(RegimensError, match="--tz Area/City"):
        resolve_zone(None, {"TZ": "Etc/UTC"})
    code, _, err = run_cli(*BASE, "-o", str(tmp_path / "u.ics"), env={"TZ": "Etc/UTC", "REGIMENS_TZ": ""})
    assert code == 2 and err.count("\n") == 1 and "--tz" in err
    assert not (tmp_path / "u.ics").exists()
    code, _, err = run_cli(*BASE, "--tz", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err and err.count("\n") == 1
    code, _, err = run_cli(*BASE, "-o", str(tmp_path / "e.ics"), env={"REGIMENS_TZ": "Europe/Berlin"})
    assert code == 0 and b"TZID=Europe/Berlin" in (tmp_path / "e.ics").read_bytes()


def test_administration_time_options(run_cli, tmp_path):
    out = tmp_path / "t.ics"
    code, _, err = run_cli(*BASE, *CHI, "--clinic-start", "10:30", "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    # the infusion starts at the clinic start; the label's premedication is 1 h before it
    assert b"DTSTART;TZID=America/Chicago:20270104T103000" in data
    assert b"DTSTART;TZID=America/Chicago:20270104T093000" in data
    for bad in (["--clinic-start", "25:00"], ["--tid-times", "08:00,14:00"], ["--all-day-reminder", "8am"]):
        code, _, err = run_cli(*BASE, *CHI, *bad)
        assert code == 2 and err.count("\n") == 1, (bad, err)


def test_split_per_cycle_into_a_pattern(run_cli, tmp_path):
    pattern = str(tmp_path / "cal-{part}.ics")
    code, _, err = run_cli(*BASE, *CHI, "--choose", "cycles=3", "--split", "cycle", "-o", pattern)
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cal-maintenance.c1.ics", "cal-maintenance.c2.ics", "cal-maintenance.c3.ics"]
    # again without --force: refused before anything is written
    code, _, err = run_cli(*BASE, *CHI, "--choose", "cycles=3", "--split", "cycle", "-o", pattern)
    assert code == 2 and "already exists" in err
    code, _, err = run_cli(*BASE, *CHI, "--split", "phase")
    assert code == 2 and "-o" in err
    assert part_path("out/x.ics", "induction") == "out/x-induction.ics"


def test_patient_label_only_when_given(run_cli, tmp_path):
    a, b = tmp_path / "a.ics", tmp_path / "b.ics"
    run_cli(*BASE, *CHI, "-o", str(a))
    run_cli(*BASE, *CHI, "--patient-label", "Jo Q.", "-o", str(b))
    assert b"Jo Q." not in a.read_bytes()
    assert icalendar.Calendar.from_ical(b.read_bytes())["X-WR-CALNAME"].startswith("Jo Q. — Treatment calendar — ")


def test_bag_hours_option(run_cli, tmp_path):
    out = tmp_path / "b.ics"
    assert run_cli(*BASE, *CHI, "--bag-hours", "168", "--audience", "staff", "-o", str(out))[0] == 0
    # 168 h bags: C1 days 1-7 one bag (no change); C1 days 8-28 (21 days) 3 bags, 2 changes;
    # C2 days 1-28 4 bags, 3 changes
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert sum("Bag change" in str(e["SUMMARY"]) for e in cal.walk("VEVENT")) == 2 + 3
    assert run_cli(*BASE, *CHI, "--bag-hours", "12")[0] == 2


def test_too_large_for_one_file_is_split_automatically(run_cli, tmp_path, monkeypatch):
    from regimens.exporters import ics

    # NCT03114865 with 3 cycles is about 68 kB; with a 40 kB limit it must come out per cycle
    monkeypatch.setattr(ics, "MAX_BYTES", 40_000)
    out = tmp_path / "cal.ics"
    code, _, err = run_cli(*BASE, *CHI, "--choose", "cycles=3", "-o", str(out))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cal-maintenance.c1.ics", "cal-maintenance.c2.ics", "cal-maintenance.c3.ics"]
    assert "wrote 3 calendars" in err and not out.exists()
    assert all(p.stat().st_size <= 40_000 for p in tmp_path.iterdir())


def test_site_tall_man_list(run_cli, tmp_path):
    lst = tmp_path / "tall.yaml"
    lst.write_text("dexamethasone: DEXAmethasone\n")
    out = tmp_path / "t.ics"
    code, _, err = run_cli(*BASE, *CHI, "--tall-man", str(lst), "--audience", "staff", "-o", str(out))
    assert code == 0, err
    assert b"SUMMARY:Premed: DEXAmethasone 20 mg IV" in out.read_bytes()
    # tall-man lettering is for staff; the patient reads the plain name
    code, _, err = run_cli(*BASE, *CHI, "--tall-man", str(lst), "-o", str(out), "--force")
    assert b"DEXAmethasone" not in out.read_bytes() and b"Dexamethasone 20 mg" in out.read_bytes()


def test_plan_id_makes_the_uids_and_survives_a_revision(run_cli, tmp_path):
    """Two patients' plans on the same protocol and start date share no UID; one patient's UIDs
    stay the same after a recorded delay (so CalDAV and subscriptions update in place)."""
    from regimens.exporters import ics

    assert ics.AUDIENCES == ics_cmd.AUDIENCES and ics.REMIND_KINDS == ics_cmd.REMIND_KINDS
    env = {"SOURCE_DATE_EPOCH": "1800000000"}
    uids = {}
    for who in ("a", "b"):
        plan = tmp_path / f"{who}.yaml"
        assert run_cli("plan", "new", P, "--start", "2027-01-04", "-o", str(plan))[0] == 0
        out = tmp_path / f"{who}.ics"
        assert run_cli("ics", "--plan", str(plan), *CHI, "-o", str(out), env=env)[0] == 0
        uids[who] = {str(e["UID"]) for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    assert not uids["a"] & uids["b"]
    code, _, err = run_cli("plan", "record", str(tmp_path / "a.yaml"), "--actual-start", "maintenance.c2=2027-02-22",
                          "--by", "pharmacist", "--reason", "counts")
    assert code == 0, err
    out = tmp_path / "a2.ics"
    assert run_cli("ics", "--plan", str(tmp_path / "a.yaml"), *CHI, "-o", str(out), env=env)[0] == 0
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert {str(e["UID"]) for e in cal.walk("VEVENT")} == uids["a"]
    assert {e["SEQUENCE"] for e in cal.walk("VEVENT")} == {2}
    # --uid-salt is for calendars without a plan
    code, _, err = run_cli("ics", "--plan", str(tmp_path / "a.yaml"), *CHI, "--uid-salt", "x")
    assert code == 2 and err.count("\n") == 1


def test_without_a_plan_uids_come_from_the_salt_or_start_and_sequence_grows_with_a_delay(run_cli, tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1800000000"}

    def cal(*extra):
        out = tmp_path / "c.ics"
        code, _, err = run_cli(*BASE, *CHI, *extra, "-o", str(out), "--force", env=env)
        assert code == 0, err
        c = icalendar.Calendar.from_ical(out.read_bytes())
        return c, {str(e["UID"]): e for e in c.walk("VEVENT")}

    plain, a = cal()
    assert "start date 2027-01-04" in str(plain["X-REGIMENS-UIDS"])
    _, salted = cal("--uid-salt", "ward 7 bed 3")
    assert not set(a) & set(salted)
    # C2 a week late (maintenance.c2 nominal 2027-02-15): the moved events come with SEQUENCE 7,
    # the same UIDs, and the unmoved ones stay at 0
    _, late = cal("--actual-start", "maintenance.c1=2027-01-11")  # even the first cycle late
    assert set(late) == set(a)
    _, late = cal("--actual-start", "maintenance.c2=2027-02-22")
    assert set(late) == set(a)
    moved = {u for u in a if a[u]["DTSTART"].dt != late[u]["DTSTART"].dt}
    assert moved and {late[u]["SEQUENCE"] for u in moved} == {7}
    assert {late[u]["SEQUENCE"] for u in set(a) - moved} == {0}


def test_audiences_location_and_reminder_kinds(run_cli, tmp_path):
    out = tmp_path / "m.ics"
    code, _, err = run_cli(*BASE, *CHI, "--audience", "minimal", "--location", "Day unit, 3rd floor", "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    for word in (b"blinatumomab", b"Blinatumomab", b"dexamethasone", b"mcg", b"NCT03114865", b"nct03114865"):
        assert word not in data, word
    cal = icalendar.Calendar.from_ical(data)
    titles = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert "Clinic visit 08:00" in titles  # premedication 08:00, infusion 09:00: one visit
    assert all(str(e.get("LOCATION")) == "Day unit, 3rd floor" for e in cal.walk("VEVENT")
               if str(e["SUMMARY"]).startswith("Clinic visit"))
    out = tmp_path / "r.ics"
    assert run_cli(*BASE, *CHI, "--remind", "take-home", "-o", str(out))[0] == 0
    assert b"BEGIN:VALARM" not in out.read_bytes()  # NCT03114865 has no take-home dose
    code, _, err = run_cli(*BASE, *CHI, "--audience", "nurse")
    assert code == 2 and err.count("\n") == 1
