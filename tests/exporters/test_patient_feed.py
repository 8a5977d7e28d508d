"""The calendar feed on the patient calendar (issue 17): both links printed as QR codes that a
reader decodes back to exactly the links (Debian's zbarimg on the PDF page rasterised by
pdftoppm), subscribe steps, the privacy line, in every language; the link never in a message."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest

from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
TOKEN = "Zq3xV9kLmN2pQ7rS1tU4wX6yA8bC0dEfGhIjKlMnOpQ"  # the shape of tokens.new_token(): 43 url-safe chars
URL = f"https://calendar.hospital.example/feeds/{TOKEN}.ics"
WEBCAL = f"webcal://calendar.hospital.example/feeds/{TOKEN}.ics"
READER = shutil.which("zbarimg") and shutil.which("pdftoppm")


@pytest.fixture(scope="module")
def tl(load):
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    return compile_timeline(load("nct03114865"), ScheduleRequest(start=date(2027, 1, 4)))


def _html(tl, url=URL, code=None, kind="patient"):
    from regimens.language.site import patient_language

    lang = patient_language(code) if code else None
    return render_html(tl, Selection(cycle="1"), SheetOptions(kind=kind, language=lang, feed_url=url), GEN)


def test_phone_page_has_both_links_the_privacy_line_and_every_app(tl):
    html = _html(tl)
    page = html.split('<section class="page phone">', 1)[1].split("</section>", 1)[0]
    assert URL in page and WEBCAL in page
    assert page.count("<svg") == 2
    assert "This link is private." in page
    for app in ("iPhone or iPad", "Mac", "Google Calendar", "Android", "Outlook"):
        assert f"<h3>{app}</h3>" in page


def test_no_link_no_phone_page(tl):
    html = _html(tl, url=None)
    assert 'class="page phone"' not in html and "/feeds/" not in html


def test_a_webcal_link_gives_the_https_one_too(tl):
    html = _html(tl, url=WEBCAL)
    assert URL in html and WEBCAL in html


@pytest.mark.parametrize("code, private", [
    ("es", "Este enlace es privado."), ("zh_Hans", "此链接是私人的。"),
    ("vi", "Đường liên kết này là riêng tư."), ("ar", "هذا الرابط خاص."),
])
def test_phone_page_in_every_language(tl, code, private):
    html = _html(tl, code=code)
    assert private in html
    assert 'class="untranslated"' not in html
    assert f'<code dir="ltr">{URL}</code>' in html  # the link itself stays left to right


@pytest.mark.skipif(not READER, reason="zbarimg (zbar-tools) and pdftoppm (poppler-utils) are needed to read the QR codes")
@pytest.mark.parametrize("code", [None, "ar"])
def test_printed_qr_codes_decode_to_exactly_the_links(tl, tmp_path, code):
    pdf = tmp_path / "calendar.pdf"
    pdf.write_bytes(render_pdf(_html(tl, code=code)))
    # the phone page follows the cover; 100 dpi is coarser than any office printer or phone camera
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == sorted([URL, WEBCAL])


def test_staff_sheets_refuse_a_feed_link(tl):
    from regimens.errors import RegimensError

    with pytest.raises(RegimensError, match="patient calendar only"):
        _html(tl, kind="pharmacist")


@pytest.mark.parametrize("bad", [
    f"ftp://calendar.hospital.example/feeds/{TOKEN}.ics",
    f"https://calendar.hospital.example/feeds/{TOKEN}.ics <script>",
    f"calendar.hospital.example/feeds/{TOKEN}.ics",
])
def test_a_malformed_link_is_refused_without_repeating_it(run_cli, tmp_path, bad):
    out = tmp_path / "c.html"
    code, _stdout, err = run_cli("sheet", "nct03114865", "--start", "2027-01-04", "--kind", "patient",
                                 "--feed-url", bad, "-o", str(out))
    assert code == 2 and not out.exists()
    assert "feed link" in err and TOKEN not in err and len(err.strip().splitlines()) == 1


def test_cli_prints_the_link_on_the_patient_calendar_and_never_on_stderr(run_cli, tmp_path):
    out = tmp_path / "c.html"
    code, _stdout, err = run_cli("sheet", "nct03114865", "--start", "2027-01-04", "--kind", "patient",
                                 "--cycle", "1", "--feed-url", URL, "-o", str(out))
    assert code == 0, err
    assert URL in out.read_text(encoding="utf-8") and TOKEN not in err
    assert out.stat().st_mode & 0o077 == 0  # the file holds a credential: readable by its owner only
    code, _stdout, err = run_cli("sheet", "nct03114865", "--start", "2027-01-04", "--kind", "nurse",
                                 "--feed-url", URL, "-o", str(tmp_path / "n.html"))
    assert code == 2 and "--feed-url is for --kind patient" in err and TOKEN not in err
