"""The whole NCT03114865 patient calendar file (.ics) in every shipped language, as a patient's
phone would get it (ten calendar clients read them too: tests/exporters/test_ics_clients.py): the
same events at the same times as the English file (read back by three
independent parsers), titles that fit a lock screen (40 columns, a Chinese character counting
two), drug names in Latin script, ISMP doses, the "not yet reviewed" line in both languages, and
the visible English fallback for a message a catalog lacks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import icalendar
import pytest
from ics_readers import all_parsers, private_tzid

from regimens.errors import RequestError
from regimens.exporters.ics import IcsOptions, to_ics
from regimens.exporters.ics_text import TITLE_MAX, fit, width
from regimens.language.catalogs import SHIPPED, read_catalog, shipped_dir
from regimens.language.site import UNREVIEWED_EN, patient_language

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
TZ = "America/Chicago"

# Words written out by hand per language: a title of the blinatumomab pump, the premedication
# before it, the cycle/day words, the calendar name and the minimal wording.
EXPECTED = {
    "es": {"pump": "Bomba de blinatumomab", "premed": "antes de blinatumomab", "where": "ciclo 1, día 1",
           "name": "Calendario de tratamiento", "minimal": "Infusión con bomba", "how": "Cómo: en una vena"},
    "zh_Hans": {"pump": "Blinatumomab 9 mcg/day 输液泵", "premed": "在 blinatumomab 之前", "where": "第1周期，第1天",
                "name": "治疗日历", "minimal": "输液泵输注", "how": "给药方式：静脉注射"},
    "vi": {"pump": "Bơm blinatumomab", "premed": "trước blinatumomab", "where": "chu kỳ 1, ngày 1",
           "name": "Lịch điều trị", "minimal": "Truyền thuốc bằng bơm", "how": "Cách dùng: vào tĩnh mạch"},
    "ar": {"pump": "مضخة blinatumomab", "premed": "قبل blinatumomab", "where": "الدورة 1، اليوم 1",
           "name": "تقويم العلاج", "minimal": "تسريب بالمضخة", "how": "الطريقة: في الوريد"},
}
LANGUAGE_TAG = {"es": "es", "zh_Hans": "zh-Hans", "vi": "vi", "ar": "ar"}


@pytest.fixture(scope="module")
def nct03114865(load):
    from regimens.dosing.bsa import Measurements
    from regimens.dosing.doses import resolve_doses
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    tl = compile_timeline(load("nct03114865"), ScheduleRequest(start=date(2027, 1, 4)))
    return resolve_doses(tl, Measurements(height_cm=170, weight_kg=70, age_years=40))


def _ics(tl, code: str | None, audience: str = "patient", **kw) -> bytes:
    lang = patient_language(code, **kw) if code else None
    return to_ics(tl, IcsOptions(tz=TZ, audience=audience, uid_salt="plan test", language=lang,
                                 phone="555-0100", location="Day unit"), GEN)


@pytest.fixture(scope="module")
def english(nct03114865):
    return _ics(nct03114865, None)


def test_every_shipped_language_has_expectations():
    assert set(EXPECTED) == set(SHIPPED)


@pytest.mark.parametrize("code", SHIPPED)
def test_whole_calendar_in_the_language_reads_the_same_in_three_parsers(nct03114865, english, code):
    data = _ics(nct03114865, code)
    ours = all_parsers(private_tzid(data, TZ))
    theirs = all_parsers(private_tzid(english, TZ))
    # every parser reads the same occurrences, and the same as in the English file: a language
    # changes the words, never an event, a time or a UID
    assert ours["icalendar"] == ours["ical"] == ours["vobject"]
    assert ours["icalendar"] == theirs["icalendar"]
    assert sum(ours["icalendar"].values()) > 60


@pytest.mark.parametrize("code", SHIPPED)
def test_words_titles_and_review_line(nct03114865, code):
    data = _ics(nct03114865, code)
    text = data.decode("utf-8")
    cal = icalendar.Calendar.from_ical(data)
    want = EXPECTED[code]
    events = list(cal.walk("VEVENT"))
    titles = [str(e["SUMMARY"]) for e in events]
    descriptions = [str(e["DESCRIPTION"]) for e in events]
    assert any(t.startswith(want["pump"]) for t in titles), titles[:8]
    assert any(want["premed"] in t for t in titles)
    assert any(t.endswith(want["where"]) for t in titles)
    assert any(want["how"] in d for d in descriptions)
    assert str(cal["X-WR-CALNAME"]).startswith(want["name"])
    # drug names stay the INN in Latin script, doses in ISMP notation
    assert "blinatumomab" in text and "dexamethasone" in text.lower()
    assert "28 mcg/day" in text and "µg" not in text and "μg" not in text
    # every message of a shipped catalog is translated: nothing falls back to English
    assert "(English)" not in text
    # titles fit a phone's lock screen before the cycle and day, in columns as a phone draws them
    for t in titles:
        head = t.split(" · ")[0]
        assert width(head) <= TITLE_MAX + 16, t  # a "starts when your team says" title has 16 more
        if " · " in t:
            assert width(head) <= TITLE_MAX, t
    # the review line, in the language and in English, first in the calendar description and on
    # every event a patient opens
    translated = _translated(code, UNREVIEWED_EN)
    desc = str(cal["DESCRIPTION"])
    assert desc.startswith(translated + "\n" + UNREVIEWED_EN)
    for d in descriptions:
        assert translated in d and UNREVIEWED_EN in d
    # RFC 5545 LANGUAGE on the patient's text
    assert f"SUMMARY;LANGUAGE={LANGUAGE_TAG[code]}:".encode() in data
    assert f"DESCRIPTION;LANGUAGE={LANGUAGE_TAG[code]}:".encode() in data


def _translated(code: str, msgid: str) -> str:
    cat = read_catalog(shipped_dir() / code / "LC_MESSAGES" / "regimens.po")
    return next(m.string for m in cat if m.id == msgid)


@pytest.mark.parametrize("code", SHIPPED)
def test_minimal_wording_is_translated_and_names_no_drug(nct03114865, code):
    data = _ics(nct03114865, code, audience="minimal")
    text = icalendar.Calendar.from_ical(data)
    titles = {str(e["SUMMARY"]) for e in text.walk("VEVENT")}
    assert EXPECTED[code]["minimal"] in titles
    raw = data.decode("utf-8").lower()
    assert "blinatumomab" not in raw and "dexamethasone" not in raw
    assert "(english)" not in raw
    assert all(_translated(code, UNREVIEWED_EN) in str(e["DESCRIPTION"]) for e in text.walk("VEVENT"))


def test_english_carries_no_language_parameter_or_review_line(english):
    assert b"LANGUAGE=" not in english and UNREVIEWED_EN.encode() not in english


def test_a_reviewed_catalog_drops_the_review_line(nct03114865):
    sha = patient_language("es").lang.catalog_sha256
    reviews = f"es:\n  reviewed_by: \"A. García, PharmD\"\n  date: 2027-01-15\n  catalog_sha256: {sha}\n"
    data = _ics(nct03114865, "es", reviews_text=reviews)
    assert UNREVIEWED_EN.encode() not in data
    assert _translated("es", UNREVIEWED_EN).encode() not in data
    assert b"Bomba de blinatumomab" in data


def test_a_message_missing_from_a_site_catalog_is_english_and_says_so(nct03114865, tmp_path):
    po = (shipped_dir() / "es" / "LC_MESSAGES" / "regimens.po").read_text(encoding="utf-8")
    # drop one entry: the site's catalog has not caught up with a release
    cut = re.sub(r'#:[^\n]*\n(#,[^\n]*\n)?msgid "Pump infusion"\nmsgstr "[^"]*"\n', "", po)
    assert cut != po
    (tmp_path / "es.po").write_text(cut, encoding="utf-8")
    data = _ics(nct03114865, "es", audience="minimal", site_dir=tmp_path)
    titles = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert "(English) Pump infusion" in titles
    assert "Tratamiento" in titles  # the rest stays translated


def test_staff_calendars_stay_in_the_site_language(nct03114865):
    with pytest.raises(RequestError, match="staff calendars stay in the site's language"):
        _ics(nct03114865, "es", audience="staff")


def test_cli_language_option(run_cli, tmp_path):
    out = tmp_path / "cal.ics"
    code, _o, err = run_cli("ics", "nct03114865", "--start", "2027-01-04", "--tz", TZ, "--height", "170",
                            "--weight", "70", "--age", "40", "--language", "vi", "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert "Bơm blinatumomab".encode() in data and b"SUMMARY;LANGUAGE=vi:" in data
    code, _o, err = run_cli("ics", "nct03114865", "--start", "2027-01-04", "--tz", TZ, "--audience", "staff",
                            "--language", "es", "-o", str(tmp_path / "staff.ics"))
    assert code == 2 and "staff calendars stay in the site's language" in err
    code, _o, err = run_cli("ics", "nct03114865", "--start", "2027-01-04", "--tz", TZ, "--language", "xx",
                            "-o", str(tmp_path / "xx.ics"))
    assert code == 2 and "no patient text in language 'xx'" in err and "Traceback" not in err
    # REGIMENS_LANGUAGE set for patient outputs does not turn a staff calendar into an error
    code, _o, err = run_cli("ics", "nct03114865", "--start", "2027-01-04", "--tz", TZ, "--audience", "staff",
                            "-o", str(tmp_path / "staff2.ics"), env={"REGIMENS_LANGUAGE": "es"})
    assert code == 0, err
    assert b"LANGUAGE=" not in (tmp_path / "staff2.ics").read_bytes()


def test_fit_counts_wide_characters_twice():
    assert width("输液泵") == 6 and width("Bơm") == 3 and width("مضخة") == 4
    long = "换输液袋（第12/21袋）：blinatumomab 28 mcg/day 日夜不停输注"
    short = fit(long)
    assert width(short) <= TITLE_MAX and short
    assert fit("blinatumomab 28 mcg/day") == "blinatumomab 28 mcg/day"
