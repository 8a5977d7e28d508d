"""The whole NCT03114865 patient calendar in every shipped language, as a patient would get it:
the PDF embeds fonts for the script, pdftotext finds the translated words and the drug names in
Latin script, the unreviewed line is there in both languages, and the Arabic page is laid out right
to left in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime

import pytest

from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf
from regimens.language.catalogs import SHIPPED
from regimens.language.site import UNREVIEWED_EN, patient_language

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
POPPLER = shutil.which("pdftotext") and shutil.which("pdffonts")
CHROMIUM = shutil.which("chromium")

# Words written out by hand in each language (what a reader of that language sees on the cover and
# in the key), and the font family that must be embedded for its script.
EXPECTED = {
    "es": (["Mi calendario de tratamiento", "Qué traer a cada visita", "enero de 2027"], "DejaVu"),
    "zh_Hans": (["我的治疗日历", "每次就诊请携带", "2027年1月"], "Noto-Sans-CJK-SC"),
    "vi": (["Lịch điều trị của tôi", "Ý nghĩa của các từ", "tháng 1"], "Noto-Sans"),
    "ar": (["تقويم علاجي", "ما يجب إحضاره في كل زيارة", "يناير"], "Noto-Naskh-Arabic"),
}


@pytest.fixture(scope="module")
def nct03114865(load):
    from regimens.dosing.bsa import Measurements
    from regimens.dosing.doses import resolve_doses
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    tl = compile_timeline(load("nct03114865"), ScheduleRequest(start=date(2027, 1, 4)))
    return resolve_doses(tl, Measurements(height_cm=170, weight_kg=70, age_years=40))


def _html(tl, code: str) -> str:
    return render_html(tl, Selection(), SheetOptions(kind="patient", language=patient_language(code)), GEN)


def test_every_shipped_language_has_expectations():
    assert set(EXPECTED) == set(SHIPPED)


@pytest.mark.parametrize("code", SHIPPED)
def test_html_is_in_the_language_with_the_review_line(nct03114865, code):
    html = _html(nct03114865, code)
    words, _ = EXPECTED[code]
    for w in words:
        assert w in html, w
    lang = patient_language(code).lang
    assert f'<html lang="{lang.html_lang}" dir="{lang.direction}">' in html
    assert UNREVIEWED_EN in html, "English half of the review line"
    assert html.count(UNREVIEWED_EN) >= 2, "on the cover and in every page's footer"
    # Drug names stay in Latin script (INN), so a nurse can read them on any patient's sheet.
    assert "blinatumomab" in html and "dexamethasone" in html
    assert 'class="untranslated"' not in html, "every message of a shipped catalog is translated"
    assert "µg" not in html and "μg" not in html


def test_english_has_no_review_line_and_no_lang_markup(nct03114865):
    html = render_html(nct03114865, Selection(), SheetOptions(kind="patient"), GEN)
    assert '<html lang="en" dir="ltr">' in html and UNREVIEWED_EN not in html
    assert "My treatment calendar" in html


def test_staff_sheets_refuse_a_patient_language(nct03114865):
    from regimens.errors import RegimensError

    with pytest.raises(RegimensError, match="staff sheets stay in the site's language"):
        render_html(nct03114865, Selection(), SheetOptions(kind="nurse", language=patient_language("es")), GEN)


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdffonts) not installed")
@pytest.mark.parametrize("code", SHIPPED)
def test_pdf_embeds_the_script_font_and_the_text(nct03114865, code, tmp_path):
    pdf = tmp_path / f"{code}.pdf"
    pdf.write_bytes(render_pdf(_html(nct03114865, code)))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    words, family = EXPECTED[code]
    assert any(family in r[0] for r in rows), fonts
    assert all("yes" == r[-5] for r in rows), f"every font embedded:\n{fonts}"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    # Vietnamese marks may come back decomposed: compare canonical (NFC) forms, without spaces.
    squeezed = unicodedata.normalize("NFC", "".join(text.split()))
    for w in words:
        assert unicodedata.normalize("NFC", "".join(w.split())) in squeezed, w
    assert "blinatumomab" in text and "dexamethasone" in text
    if code in PAGE_NUMBER_TEXT:  # (Arabic comes back from pdftotext with direction marks)
        assert PAGE_NUMBER_TEXT[code] in squeezed


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_arabic_page_lays_out_right_to_left_in_chromium(nct03114865, tmp_path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "ar.html"
    page_file.write_text(_html(nct03114865, "ar"), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 850})
            page.goto(page_file.as_uri())
            direction = page.evaluate("getComputedStyle(document.documentElement).direction")
            heads = page.evaluate("""Array.from(document.querySelectorAll('.month .grid thead th'))
                .slice(0, 7).map(th => [th.textContent.trim(), th.getBoundingClientRect().left])""")
            title = page.evaluate("""(() => { const range = document.createRange();
                range.selectNodeContents(document.querySelector('h1'));
                const r = range.getBoundingClientRect();
                return [r.left, r.right, document.documentElement.clientWidth]; })()""")
            page.screenshot(path=str(tmp_path / "ar.png"))
        finally:
            browser.close()
    assert direction == "rtl"
    # The week starts on Monday (الاثنين) in the rightmost column and runs leftward.
    assert heads[0][0] == "الاثنين"
    lefts = [x for _, x in heads]
    assert lefts == sorted(lefts, reverse=True)
    left, right, width = title
    assert width - right < left, "the title sits at the right-hand side"
    assert (tmp_path / "ar.png").stat().st_size > 10_000


PAGE_NUMBER_TEXT = {"es": "Página1de", "zh_Hans": "第1页，共", "vi": "Trang1/"}
# The page number in the margin, as each catalog words it (placeholders in its own order).
PAGE_NUMBER_CSS = {
    "en": '"Page " counter(page) " of " counter(pages)',
    "es": '"Página " counter(page) " de " counter(pages)',
    "zh_Hans": '"第 " counter(page) " 页，共 " counter(pages) " 页"',
    "vi": '"Trang " counter(page) " / " counter(pages)',
    "ar": '"الصفحة " counter(page) " من " counter(pages)',
}


@pytest.mark.parametrize("code", ["en", *SHIPPED])
def test_the_page_number_is_in_the_language(nct03114865, code):
    html = (render_html(nct03114865, Selection(), SheetOptions(kind="patient"), GEN) if code == "en"
            else _html(nct03114865, code))
    assert f"@bottom-right {{ content: {PAGE_NUMBER_CSS[code]};" in html


def test_a_page_number_translation_cannot_break_out_of_the_style():
    from regimens.exporters.sheet import page_counter_css

    class Hostile:
        def gettext(self, message):
            return 'P "%(page)s" </style><script>x</script> %(pages)s \\'

    css = page_counter_css(Hostile())
    assert "</style>" not in css and "<script>" not in css and css.count('"') == 6
    assert "counter(page)" in css and "counter(pages)" in css
