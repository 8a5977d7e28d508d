"""Open the sheets in a real browser (Debian's headless Chromium) and check nothing overflows.

The sheet's screen CSS gives every `.page` the printable width (and the per-day/per-month pages
their printable height) of the chosen paper, so browser layout matches the printed page box. A
script injected here (never part of the shipped HTML) measures every element against its page and
writes the findings into the DOM, which `--dump-dom` returns. Chromium then also prints the sheet to
PDF, which must have landscape pages carrying the drug names.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from regimens.exporters.sheet import Selection, SheetOptions, render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); rendering check skipped")
GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)

MEASURE = """<script>
(function () {
  var mm = 96 / 25.4, bad = [];
  var probe = document.createElement('div');
  probe.style.height = 'var(--page-h)';
  document.body.appendChild(probe);
  var pageH = probe.getBoundingClientRect().height;
  probe.remove();
  document.querySelectorAll('.page').forEach(function (page, i) {
    var box = page.getBoundingClientRect();
    if (page.scrollWidth > page.clientWidth + 1) bad.push('page ' + i + ' scrolls sideways');
    page.querySelectorAll('*').forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1))
        bad.push('page ' + i + ' ' + el.tagName + ' ' + (el.textContent || '').slice(0, 40) + ' sticks out by ' + Math.round(r.right - box.right) + 'px');
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
        bad.push('page ' + i + ' ' + el.tagName + ' clips its content');
    });
    if (page.matches('.nurse-day, .month') && box.height > pageH + 1)
      bad.push('page ' + i + ' (' + page.className + ') is ' + Math.round((box.height - pageH) / mm) + ' mm taller than the paper');
  });
  var out = document.createElement('pre');
  out.id = 'overflow-report';
  out.textContent = JSON.stringify({pages: document.querySelectorAll('.page').length, pageH: pageH, bad: bad});
  document.body.appendChild(out);
})();
</script>"""


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _sheets(timeline):
    from regimens.dosing.doses import Measurements, resolve_doses

    m = Measurements(height_cm=175, weight_kg=75, age_years=50)
    hyper = resolve_doses(timeline("nct02877303"), m)  # hyper-CVAD: many drugs a day
    blina = resolve_doses(timeline("nct03114865"), m)
    c1 = Selection(cycle="intensive.c1")
    return {
        "nurse-day": (render_html(hyper, c1, SheetOptions(kind="nurse", patient_name="Jane Doe"), GEN), "vinCRIStine"),
        "nurse-overview": (render_html(hyper, c1, SheetOptions(kind="nurse", layout="overview"), GEN), "DOXOrubicin"),
        "pharmacist": (render_html(hyper, c1, SheetOptions(kind="pharmacist"), GEN), "95.5 mg"),
        "patient": (render_html(blina, Selection(), SheetOptions(kind="patient"), GEN), "blinatumomab"),
        # course B: eight doses on day 3, more than one sheet holds
        "nurse-a4": (render_html(hyper, Selection(cycle="intensive.c2"), SheetOptions(kind="nurse", paper="a4"), GEN),
                     "leucovorin"),
    }


def test_nothing_overflows_the_page_in_chromium(tmp_path, timeline):
    problems = {}
    for name, (html, _) in _sheets(timeline).items():
        page = tmp_path / f"{name}.html"
        page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        done = _chromium(tmp_path, "--dump-dom", page.as_uri())
        found = re.search(r'<pre id="overflow-report">(.*?)</pre>', done.stdout, re.DOTALL)
        assert found, f"{name}: Chromium returned no measurements (exit {done.returncode}): {done.stderr[-500:]}"
        report = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        assert report["pages"] > 0 and report["pageH"] > 500, report
        if report["bad"]:
            problems[name] = report["bad"][:5]
    assert not problems, problems


def test_chromium_prints_landscape_pages_with_the_doses(tmp_path, timeline):
    import pypdf

    for name, (html, must) in _sheets(timeline).items():
        if name not in ("nurse-day", "patient"):
            continue
        page = tmp_path / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        pdf = tmp_path / f"{name}.pdf"
        done = _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
        assert pdf.exists(), f"{name}: Chromium printed nothing (exit {done.returncode}): {done.stderr[-500:]}"
        reader = pypdf.PdfReader(pdf)
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (792, 612)  # US letter landscape, pt
        if name == "nurse-day":  # Chromium paginates like WeasyPrint: one page per day sheet
            # course A (seed-000): cyclophosphamide days 1-3, methotrexate IT day 2, doxorubicin and
            # vincristine day 4, cytarabine IT day 7, vincristine day 11, dexamethasone days 1-4 and
            # 11-14: days 1, 2, 3, 4, 7, 11 = 6 sheets; days 12-14 hold only dexamethasone by mouth
            # outside a hospital stay, so they share one take-home page: 7 pages
            assert html.count('class="page nurse-day"') == 6 and html.count('class="page nurse-home"') == 1
            assert len(reader.pages) == 7
        text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
        assert must in text and "µg" not in text
