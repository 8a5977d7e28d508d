"""Printable sheets (issue 6) checked against the trial records.

NCT03114865 (004_94d9d143a40d8968.txt): "Cycle 1 - Days 1-7: 9 ug/day", "Cycle 1 - Days 8-28:
28 ug/day", "Cycle 2 - Days 1-28: 28 ug/day", dexamethasone 20 mg IV "Day 1 of Cycle 1 and 2, prior
to a step dose (such as cycle 1 day 8)". With 42-day cycles from Monday 2027-01-04 the days a
nurse gives something are, by hand: C1D1 = 2027-01-04, C1D8 = 2027-01-11, C2D1 = 2027-01-04 + 42
= 2027-02-15. Three treatment days, three pages.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest

from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf

P = "nct03114865"
START = "2027-01-04"
GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)


def _pdf_pages(pdf: bytes) -> list[str]:
    import pypdf

    # one line per page, whitespace collapsed: table cells wrap words across lines
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def nurse_pdf():
    from regimens.protocol.catalog import Catalog
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    tl = compile_timeline(Catalog().load(P), ScheduleRequest(start=date(2027, 1, 4)))
    return render_pdf(render_html(tl, Selection(), SheetOptions(kind="nurse"), GEN))


def test_nurse_sheet_one_page_per_treatment_day(nurse_pdf):
    pages = _pdf_pages(nurse_pdf)
    assert len(pages) == 3  # C1D1, C1D8, C2D1 (hand count above)
    day1, day8, c2d1 = pages
    assert "Monday 4 January 2027" in day1 and "Cycle 1 · Day 1" in day1
    assert "dexamethasone" in day1 and "20 mg" in day1 and "blinatumomab" in day1 and "9 mcg/day" in day1
    assert "Monday 11 January 2027" in day8 and "Cycle 1 · Day 8" in day8 and "28 mcg/day" in day8
    assert "Monday 15 February 2027" in c2d1 and "Cycle 2 · Day 1" in c2d1 and "28 mcg/day" in c2d1
    for page in pages:
        # the boxes a nurse signs: given (date/time), given by, independent second check
        assert "Date/time given" in page and "Given by" in page and "2nd check" in page
        assert page.count("☐") >= 3 + 2 * 3  # header boxes + three per administration row
        assert "Patient name".upper() in page and "Allergies".upper() in page
        assert re.search(r"Page \d of 3", page)


def test_nurse_sheet_flags_step_and_premedication_days(nurse_pdf):
    day1, day8, c2d1 = _pdf_pages(nurse_pdf)
    assert "PREMEDICATION REQUIRED: dexamethasone before blinatumomab" in day1
    assert "STEP-UP DOSE DAY: blinatumomab 28 mcg/day" in day8  # "prior to a step dose"
    assert "STEP-UP" not in c2d1  # cycle 2 starts at 28 mcg/day: no step
    assert "dose 1 of 2" in day1 and "dose 2 of 2" in day8  # two dexamethasone doses in cycle 1


def test_pdf_is_byte_identical_and_dated_from_generation_time(nurse_pdf):
    import pypdf

    from regimens.protocol.catalog import Catalog
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    tl = compile_timeline(Catalog().load(P), ScheduleRequest(start=date(2027, 1, 4)))
    again = render_pdf(render_html(tl, Selection(), SheetOptions(kind="nurse"), GEN))
    assert again == nurse_pdf
    meta = pypdf.PdfReader(io.BytesIO(nurse_pdf)).metadata
    assert meta["/CreationDate"] == "D:20270102083000Z"
    assert Catalog().load(P).short_hash in _pdf_pages(nurse_pdf)[0]  # content hash on every page


def test_cli_pdf_and_html_say_the_same(run_cli, tmp_path):
    out = tmp_path / "c1.pdf"
    code, _, err = run_cli("sheet", P, "--start", START, "--cycle", "1", "--format", "pdf", "-o", str(out),
                           env={"SOURCE_DATE_EPOCH": "1798761600"})
    assert code == 0, err
    pages = _pdf_pages(out.read_bytes())
    assert len(pages) == 2  # cycle 1 only: days 1 and 8
    assert "Generated 2027-01-01 00:00 UTC by regimens" in pages[0]  # 1798761600 = 2027-01-01T00:00Z


def test_user_text_is_escaped(run_cli):
    code, html, err = run_cli("sheet", P, "--start", START, "--patient-name", "<script>alert(1)</script>",
                              "--allergies", 'penicillin & "sulfa"', "--mrn", "<b>42</b>")
    assert code == 0, err
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "penicillin &amp; &#34;sulfa&#34;" in html and "&lt;b&gt;42&lt;/b&gt;" in html


def test_identifiers_printed_only_when_given(run_cli):
    code, html, _ = run_cli("sheet", P, "--start", START, "--kind", "patient")
    assert code == 0
    assert "For:" not in html
    code, html, _ = run_cli("sheet", P, "--start", START, "--kind", "patient", "--patient-name", "Ada Lovelace")
    assert "For: <strong>Ada Lovelace</strong>" in html


def test_html_is_self_contained(run_cli):
    for kind in ("nurse", "pharmacist", "patient"):
        code, html, _ = run_cli("sheet", P, "--start", START, "--kind", kind)
        assert code == 0
        assert not re.search(r"""(src|href)\s*=|@import|url\(|<link|<script""", html), kind
        assert "@page" in html and "break-after: page" in html


def test_patient_calendar_month_grid_plain_words(run_cli):
    code, html, err = run_cli("sheet", P, "--start", START, "--kind", "patient")
    assert code == 0, err
    # 2027-01-04 .. 2027-03-28 (end of cycle 2 rest, day 84): January, February, March
    assert [m for m in ("January 2027", "February 2027", "March 2027", "April 2027") if m in html] == [
        "January 2027", "February 2027", "March 2027"]
    assert "24-hour contact number" in html and "What to bring" in html
    assert "<strong>Pump</strong> starts: blinatumomab" in html
    assert "cycle 1" in html and "maintenance.c1" not in html  # no internal ids for patients


def test_patient_calendar_step_up_is_not_a_pump_stop(run_cli):
    # record: 9 mcg/day days 1-7 then 28 mcg/day days 8-28 of cycle 1 — one pump that keeps
    # running; day 7 (2027-01-10) must not say it stops, day 8 says the dose goes up, and the
    # morning after the last infusion day (09:00 on day 29: 2027-02-01 and 2027-03-15) says the
    # pump comes off (issue 10: not "last day" on day 28, which reads as a day early)
    code, html, err = run_cli("sheet", P, "--start", START, "--kind", "patient")
    assert code == 0, err
    assert html.count("<strong>Pump</strong> dose goes up: blinatumomab") == 1
    assert html.count("<strong>Pump</strong> comes off at 9:00") == 2
    assert "<strong>Pump</strong> last day" not in html


def test_patient_calendar_pdf_is_tagged(run_cli, tmp_path):
    import pypdf

    out = tmp_path / "cal.pdf"
    code, _, err = run_cli("sheet", P, "--start", START, "--kind", "patient", "--format", "pdf", "-o", str(out))
    assert code == 0, err
    reader = pypdf.PdfReader(out)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root  # PDF/UA-1 tagging
    assert root["/Lang"] == "en"
    assert "/MediaBox" in reader.pages[0] and reader.pages[0].mediabox.width > reader.pages[0].mediabox.height


def test_pharmacist_sheet_working_and_cumulative(run_cli):
    # NCT02877303 hyper-CVAD course A, day 4: doxorubicin 50 mg/m² (seed-000). Mosteller BSA for
    # 175 cm, 75 kg = sqrt(175 × 75 / 3600) = sqrt(3.6458) = 1.909 → 1.91 m²; 50 × 1.91 = 95.5 mg.
    code, html, err = run_cli("sheet", "nct02877303", "--start", START, "--kind", "pharmacist",
                              "--cycle", "intensive.c1", "--height", "175", "--weight", "75", "--age", "50")
    assert code == 0, err
    assert "50 mg/m² × 1.91 m² = 95.5 mg" in html
    assert "★ DOXOrubicin" in html  # anthracycline marked for its lifetime cumulative dose
    assert "intensive_cycles = <strong>4</strong>" in html  # decisions taken, with defaults
    assert "sha256 " in html and "nct02877303" in html


def test_not_public_dose_flagged_on_nurse_sheet(run_cli, timeline):
    tl = timeline("nct02877303")
    hidden = next(e for e in tl.events if e.not_public and e.drug)
    code, html, err = run_cli("sheet", "nct02877303", "--start", START, "--from", hidden.date.isoformat(),
                              "--to", hidden.date.isoformat())
    assert code == 0, err
    assert "DOSE NOT PUBLIC" in html and "dose per full protocol (not public)" in html


def test_tall_man_file_replaces_the_default(run_cli, tmp_path):
    csv = tmp_path / "nz.csv"
    csv.write_text("generic,tallman\ndexamethasone,DEXAmethasone\n", encoding="utf-8")
    code, html, err = run_cli("sheet", P, "--start", START, "--tall-man", str(csv))
    assert code == 0, err
    assert "DEXAmethasone" in html
    bad = tmp_path / "bad.yaml"
    bad.write_text("vincristine: vinCRIStin\n", encoding="utf-8")
    code, _, err = run_cli("sheet", P, "--start", START, "--tall-man", str(bad))
    assert code == 2 and "must spell the same name" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (("--format", "pdf"), "needs -o FILE"),
    (("--cycle", "9"), "no such cycle"),
    (("--phase", "nope"), "no such phase"),
    (("--from", "2027-03-01", "--to", "2027-02-01"), "is after --to"),
    (("--from", "2030-01-01"), "holds no events"),
])
def test_bad_selection_is_one_line_exit_2(run_cli, args, message):
    code, out, err = run_cli("sheet", P, "--start", START, *args)
    assert code == 2 and message in err and err.count("\n") == 1 and out == ""


def test_existing_output_not_overwritten(run_cli, tmp_path):
    out = tmp_path / "s.html"
    out.write_text("keep", encoding="utf-8")
    code, _, err = run_cli("sheet", P, "--start", START, "-o", str(out))
    assert code == 2 and "--force" in err and out.read_text() == "keep"


def test_overview_layout_one_row_per_day(run_cli):
    code, html, err = run_cli("sheet", P, "--start", START, "--layout", "overview", "--cycle", "1")
    assert code == 0, err
    assert html.count("<td><strong>Monday") == 2  # C1D1 and C1D8


def test_no_microgram_sign_in_any_shipped_protocol(catalog):
    """Every kind of sheet for every shipped protocol and arm (defaults for decisions) writes mcg."""
    from regimens.dosing.doses import Measurements, resolve_doses
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    m = Measurements(height_cm=170, weight_kg=70, age_years=40, measured_on=date(2027, 1, 2))
    seen_mcg = False
    from regimens.errors import ProtocolError

    for pid in catalog.ids():
        try:
            pf = catalog.load(pid)
        except ProtocolError:
            continue  # an invalid file has no outputs; `regimens validate` and its tests report it
        # decisions without a default must be given: try each of their values once
        open_ = {n: [c.value for c in d.choices] for n, d in pf.protocol.decisions.items() if not d.default}
        base = {n: v[0] for n, v in open_.items()}
        variants = [base] + [{**base, n: v} for n, vals in open_.items() for v in vals[1:]]
        for arm, choices in ((a, c) for a in pf.protocol.arms for c in variants):
            tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices))
            tl = resolve_doses(tl, m)
            for kind in ("nurse", "pharmacist", "patient"):
                html = render_html(tl, Selection(), SheetOptions(kind=kind), GEN)
                assert not re.search(r"[µμ]g|\bug/", html), (pid, arm.label, kind)
                seen_mcg = seen_mcg or "mcg" in html
    assert seen_mcg  # blinatumomab doses are in mcg, so the loop did look at microgram doses


def test_held_and_omitted_doses_have_no_signing_boxes(run_cli):
    # hyper-CVAD course A day 4 (2027-01-07): doxorubicin and vincristine (seed-000)
    code, html, err = run_cli("sheet", "nct02877303", "--start", START, "--from", "2027-01-07", "--to", "2027-01-07",
                              "--hold", "intensive.c1:4:doxorubicin", "--omit", "intensive.c1:4:vincristine",
                              "--reason", "LVEF pending")
    assert code == 0, err
    assert "HELD: DOXOrubicin (LVEF pending)" in html and "OMITTED: vinCRIStine (LVEF pending)" in html
    assert "HELD: do not give unless it is ordered again" in html and "OMITTED: do not give" in html
    assert html.count("☐ checked") == 1  # only dexamethasone is still to be given and signed


def test_a_day_too_long_for_one_page_continues_with_its_header(timeline):
    # hyper-CVAD course B (seed-000), cycle 2 from 2027-01-25: treatment on days 1, 2, 3, 4, 5 and
    # 8; day 3 (Wednesday 2027-01-27) has eight doses (leucovorin q6h, methylprednisolone q12h,
    # cytarabine q12h), more than one landscape sheet holds with room to sign (notes are 9 pt:
    # it takes three sheets; days 2 and 4 two each).
    from regimens.dosing.doses import Measurements, resolve_doses

    tl = resolve_doses(timeline("nct02877303"), Measurements(height_cm=175, weight_kg=75, age_years=50))
    pages = _pdf_pages(render_pdf(render_html(tl, Selection(cycle="intensive.c2"), SheetOptions(), GEN)))
    assert len(pages) == 10  # six treatment days, three of them on more than one sheet
    day3 = [p for p in pages if "Wednesday 27 January 2027" in p]
    assert len(day3) == 3 and "Sheet 1 of 3 for this day" in day3[0] and "Sheet 3 of 3 for this day" in day3[2]
    for p in day3:
        assert "PATIENT NAME" in p and "Cycle 2 · Day 3" in p and "nct02877303" in p
    assert sum(p.count("leucovorin") for p in day3) >= 4


def test_default_tall_man_list_is_the_verified_us_one(run_cli, tmp_path):
    # safety-notation-and-exports.md: DOXOrubicin and vinCRIStine are verified US forms;
    # cycloPHOSphamide is "not verified on the US list", so by default it is printed plainly.
    args = ("sheet", "nct02877303", "--start", START, "--cycle", "intensive.c1")
    code, html, err = run_cli(*args)
    assert code == 0, err
    assert "DOXOrubicin" in html and "vinCRIStine" in html
    assert "cyclophosphamide" in html and "cycloPHOSphamide" not in html
    nz = tmp_path / "nz.yaml"
    nz.write_text("cyclophosphamide: cycloPHOSphamide\n", encoding="utf-8")
    code, html, err = run_cli(*args, "--tall-man", str(nz))
    assert code == 0, err
    # a site list replaces the built-in one: only its own entries are applied
    assert "cycloPHOSphamide" in html and "DOXOrubicin" not in html and "doxorubicin" in html


def test_long_pdf_in_parallel_page_groups_is_one_tagged_reproducible_document(timeline, monkeypatch):
    """Hyper-CVAD cycle 3 laid out in groups of four pages on two processes: the same bytes as one
    process, numbered 1..n of n, one structure tree, and each group's font subsets under a tag of
    their own."""
    import pikepdf

    from regimens.exporters import pdf

    tl = timeline("nct02877303")
    html = render_html(tl, Selection(cycle="intensive.c3"), SheetOptions(kind="nurse"), GEN)
    monkeypatch.setattr(pdf, "PARALLEL_FROM", 2)
    monkeypatch.setattr(pdf, "GROUP_PAGES", 4)
    n = html.count('<section class="page')
    assert n > 4
    two = render_pdf(html, jobs=2)
    assert render_pdf(html, jobs=1) == two
    pages = _pdf_pages(two)
    assert [re.search(r"Page (\d+) of (\d+)", p).groups() for p in pages] == [(str(i), str(n)) for i in range(1, n + 1)]
    with pikepdf.open(io.BytesIO(two)) as doc:
        tree = doc.Root.StructTreeRoot
        document = tree.K[0]
        assert document.S == "/Document" and len(document.K) == n  # one section element per page
        assert all(kid.P.objgen == document.objgen for kid in document.K)
        assert [int(p.obj.StructParents) for p in doc.pages] == list(range(n))
        assert int(tree.ParentTreeNextKey) == n

        def tags(page):
            return {str(f.BaseFont).split("+")[0] for _, f in page.obj.Resources.Font.items()}

        assert tags(doc.pages[0]) and not tags(doc.pages[0]) & tags(doc.pages[4])  # groups 1 and 2
        assert doc.Root.MarkInfo.Marked and str(doc.Root.Lang) == "en"


def test_take_home_days_are_listed_not_given(timeline):
    """NCT02877303 maintenance: mercaptopurine by mouth three times a day at home (protocol file,
    maintenance course). Those days have nothing for a nurse to give: they are listed several to a
    page, each day with its three times, instead of a signing page each."""
    tl = timeline("nct02877303")
    html = render_html(tl, Selection(), SheetOptions(kind="nurse"), GEN)
    home = re.findall(r'<section class="page nurse-home".*?</section>', html, re.DOTALL)
    days = re.findall(r'<section class="page nurse-day".*?</section>', html, re.DOTALL)
    assert home and days
    assert len(home) + len(days) < 150  # was 547 pages, one per day
    for page in home:
        assert "IV" not in re.sub(r"<[^>]+>", " ", page).split()  # nothing by vein on a take-home page
        assert "☐ name" not in page  # no "given by" signing boxes
    # every day whose only doses are by mouth and include mercaptopurine keeps its three doses, at
    # the default three-times-daily times, on one row
    given: dict = {}
    for e in tl.events:
        if e.kind in ("administration", "premedication"):
            given.setdefault(e.date, []).append(e)
    oral_mp = [d for d, evs in given.items()
               if all(e.route == "PO" for e in evs) and any(e.drug == "mercaptopurine" for e in evs)]
    assert len(oral_mp) > 400
    text = " ".join(home)
    assert text.count("08:00, 14:00, 20:00 <strong>mercaptopurine") == len(oral_mp)
    rows = re.findall(r"<tr>\s*<td><strong>([^<]+)</strong></td>", text)
    assert len(rows) == len(set(rows))  # a day is listed once


def test_pharmacist_checks_identical_doses_once_nurse_signs_each(timeline):
    """Course A: cyclophosphamide 300 mg/m² every 12 h × 6 (protocol file): one row with its six
    times on the pharmacist sheet, six rows each with its own boxes on the nurse sheet."""
    tl = timeline("nct02877303")
    ph = render_html(tl, Selection(cycle="intensive.c1"), SheetOptions(kind="pharmacist"), GEN)
    rows = re.findall(r'<tbody class="dose">.*?</tbody>', ph, re.DOTALL)
    cyc = [r for r in rows if "cyclophosphamide" in r]
    assert len(cyc) == 1 and "6 doses (1, 2, 3, 4, 5, 6 of 6)" in cyc[0]
    assert cyc[0].count("08:00") == 3 and cyc[0].count("20:00") == 3
    nurse = render_html(tl, Selection(cycle="intensive.c1"), SheetOptions(kind="nurse"), GEN)
    signed = re.findall(r"<tr class=\"planned\">.*?</tr>", nurse, re.DOTALL)
    assert sum(">cyclophosphamide</span>" in r and "☐ name" in r for r in signed) == 6


def test_embedded_fonts_are_stamped_with_the_generation_time_not_the_clock(monkeypatch, timeline):
    """The cause of the flaky byte-identity test: fontTools stamps a variable font it saves (as
    WeasyPrint does to make a static instance) with time.time() unless SOURCE_DATE_EPOCH is set.
    While a sheet is laid out, the clock fontTools reads is the sheet's generation time, however
    late it is, and the environment is left as it was."""
    import fontTools.misc.timeTools as tt

    from regimens.exporters import pdf

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr(tt.time, "time", lambda: 4_000_000_000.0)  # a clock far from GEN
    html = render_html(timeline(P), Selection(), SheetOptions(kind="nurse"), GEN)
    with pdf.font_clock(html):
        stamped = tt.timestampNow()
    assert tt.timestampToString(stamped).endswith("08:30:00 2027")  # GEN: 2027-01-02 08:30 UTC
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ
    assert tt.timestampNow() != stamped
