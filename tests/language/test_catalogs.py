"""Shipped catalogs are complete and consistent, the review rule holds, and dates, weekdays and
direction come from CLDR (Babel), checked against values written out by hand."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from regimens.errors import RegimensError
from regimens.language.catalogs import SHIPPED, language, read_catalog, shipped_dir, translator
from regimens.language.extract import extract_catalog, template_bytes
from regimens.language.reviews import parse_reviews
from regimens.language.site import UNREVIEWED_EN, patient_language

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _po(code: str) -> Path:
    return shipped_dir() / code / "LC_MESSAGES" / "regimens.po"


@pytest.mark.parametrize("code", SHIPPED)
def test_shipped_catalog_is_complete_and_not_fuzzy(code):
    # The build fails on a message missing from a shipped catalog, an empty or fuzzy entry, or a
    # placeholder the translation dropped or renamed (a dose or date would vanish from the text).
    wanted = {m.id for m in extract_catalog() if m.id}
    assert UNREVIEWED_EN in wanted, "the review line must be marked for translation"
    catalog = read_catalog(_po(code))
    have = {m.id: m for m in catalog if m.id}
    problems = []
    for msgid in sorted(wanted, key=str):
        m = have.get(msgid)
        if m is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if m.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all(strings):
            problems.append(f"empty: {msgid!r}")
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        want_ph = {p for i in ids for p in PLACEHOLDER.findall(i)}
        for s in strings:
            if s and {p for p in PLACEHOLDER.findall(s)} != want_ph:
                problems.append(f"placeholders differ: {msgid!r} -> {s!r}")
    assert problems == []


@pytest.mark.parametrize("code", SHIPPED)
def test_shipped_catalog_declares_its_language_and_draft_state(code):
    text = _po(code).read_text(encoding="utf-8")
    assert f'"Language: {code}\\n"' in text
    assert "X-Review-State: draft" in text, "a shipped catalog says it is a draft until a site reviews it"


def test_template_is_reproducible_and_names_no_date():
    a, b = template_bytes(), template_bytes()
    assert a == b
    assert b"2027-01-01" in a and b"POT-Creation-Date: 2027-01-01" in a


def test_unknown_language_is_refused_with_the_list():
    with pytest.raises(RegimensError, match=r"no patient text in language 'klingon'; available: ar, en, es"):
        language("klingon")


def test_codes_are_forgiving_of_case_and_separator():
    assert language("ZH-hans").code == "zh_Hans"


def test_arabic_is_right_to_left_and_others_left_to_right():
    assert language("ar").direction == "rtl"
    assert [language(c).direction for c in ("es", "zh_Hans", "vi", "en")] == ["ltr"] * 4


def test_dates_and_weekdays_from_cldr():
    # Written out by hand from the languages themselves; 4 January 2027 is a Monday.
    d = date(2027, 1, 4)
    es = translator(language("es"))
    assert es.date(d) == "lunes, 4 de enero de 2027"
    assert es.weekday_names("wide")[0] == "lunes"
    assert translator(language("vi")).date(d) == "Thứ Hai, 4 tháng 1, 2027"
    zh = translator(language("zh_Hans"))
    assert zh.date(d) == "2027年1月4日星期一"
    assert zh.month_year(2027, 1) == "2027年1月"
    ar = translator(language("ar"))
    assert "2027" in ar.date(d) and "يناير" in ar.date(d), "Western digits, Arabic month name"


def test_missing_message_falls_back_to_english_visibly():
    es = translator(language("es"), html=True)
    out = es.gettext("A sentence no catalog has")
    assert out == '<span lang="en" dir="ltr" class="untranslated">A sentence no catalog has</span>'
    assert es.missing == {"A sentence no catalog has"}
    plain = translator(language("es"))
    assert plain.gettext("A sentence no catalog has") == "(English) A sentence no catalog has"


def test_fallback_markup_escapes_the_english_text():
    es = translator(language("es"), html=True)
    assert "&lt;b&gt;" in es.gettext("<b>not in any catalog</b>")


def test_unreviewed_line_in_both_languages_until_a_matching_review():
    pl = patient_language("es")
    tr = pl.translator(html=False)
    en, es = pl.unreviewed_lines(tr)
    assert en == UNREVIEWED_EN and es != en and not es.startswith("(English)")
    sha = pl.lang.catalog_sha256
    good = f"es:\n  reviewed_by: A. Reviewer, PharmD\n  date: 2027-01-15\n  catalog_sha256: {sha}\n"
    reviewed = patient_language("es", None, good, "reviews.yaml")
    assert reviewed.reviewed and reviewed.unreviewed_lines(tr) is None
    assert reviewed.review.reviewed_by == "A. Reviewer, PharmD"
    # A review of another version of the catalog does not count: the line is back.
    stale = good.replace(sha, "0" * 64)
    assert not patient_language("es", None, stale, "reviews.yaml").reviewed


@pytest.mark.parametrize("text, message", [
    ("es: [1, 2]\n", "expected reviewed_by, date and catalog_sha256"),
    ("es:\n  reviewed_by: X\n  date: 2027-01-15\n", "missing catalog_sha256"),
    ("es:\n  reviewed_by: X\n  date: soon\n  catalog_sha256: " + "a" * 64 + "\n", "date must be YYYY-MM-DD"),
    ("es:\n  reviewed_by: X\n  date: 2027-01-15\n  catalog_sha256: abc\n", "64-character hash"),
    ("es: [\n", "not valid YAML"),
])
def test_bad_review_files_are_one_line_errors(text, message):
    with pytest.raises(RegimensError, match=re.escape(message)):
        parse_reviews(text, "reviews.yaml")


def test_site_catalog_adds_a_language(tmp_path):
    (tmp_path / "ko.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ko\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        f'msgid "{UNREVIEWED_EN}"\nmsgstr "이 번역은 아직 의료진의 검토를 받지 않았습니다."\n',
        encoding="utf-8")
    lang = language("ko", tmp_path)
    assert lang.origin == "site" and lang.direction == "ltr"
    tr = translator(lang, tmp_path)
    assert tr.gettext(UNREVIEWED_EN).startswith("이 번역은")
    assert tr.gettext("Clinic") == "(English) Clinic"
