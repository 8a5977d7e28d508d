"""ISMP (issue 10): patient-facing and nurse outputs never print QD/BID/TID; the pharmacist sheet
keeps quoted source text as quoted."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from regimens.exporters.ics import IcsOptions, to_ics
from regimens.exporters.sheet import Selection, SheetOptions, render_html
from regimens.notation.ismp import plain_frequency

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
ABBREV = re.compile(r"\b(QD|BID|TID|QID)\b")


def test_plain_frequency():
    assert plain_frequency('mercaptopurine PO thrice daily (TID)') == "mercaptopurine PO thrice daily"
    assert plain_frequency("prednisone PO QD on days 1-21") == "prednisone PO once daily on days 1-21"
    assert plain_frequency("cyclophosphamide twice daily (BID); x BID") == "cyclophosphamide twice daily; x twice daily"
    assert plain_frequency("BIDEN, TIDAL") == "BIDEN, TIDAL"  # whole words only


def test_pomp_mercaptopurine_tid(timeline):
    # seed-000 maintenance: "mercaptopurine PO thrice daily (TID)"; EA9181 seed-003: "prednisone
    # PO QD on days 1-21" - both are quoted in the items' sources.
    tl = timeline("nct02877303", start=datetime(2027, 1, 4).date(), start_at="maintenance")
    sel = Selection(cycle="maintenance.c1")
    pharmacist = render_html(tl, sel, SheetOptions(kind="pharmacist"), GEN)
    assert "thrice daily (TID)" in pharmacist  # the quotation keeps its words
    for kind in ("nurse", "patient"):
        html = render_html(tl, sel, SheetOptions(kind=kind), GEN)
        assert not ABBREV.search(html), (kind, ABBREV.search(html))
    ics = to_ics(tl, IcsOptions(tz="America/Chicago"), GEN).decode()
    assert "TID" not in ics.replace("\r\n ", "")


def test_ea9181_qd_never_reaches_a_patient(timeline):
    tl = timeline("nct04530565", arm="A", choices={"tki": "dasatinib"})
    ics = to_ics(tl, IcsOptions(tz="America/Chicago"), GEN).decode().replace("\r\n ", "")
    assert not ABBREV.search(ics)
    for kind in ("nurse", "patient"):
        assert not ABBREV.search(render_html(tl, Selection(), SheetOptions(kind=kind), GEN)), kind


def test_a_nurse_sheet_text_with_an_abbreviation_is_still_spelled_out(timeline, monkeypatch):
    # sheet._may_hold lets the nurse sheet skip its text walk when no text holds QD/BID/TID/QID;
    # a text that does (here put into the day rows' notes) must still be rewritten
    from regimens.exporters import sheet_views

    real = sheet_views.nurse

    def with_abbreviation(*args):
        ctx = real(*args)
        for d in ctx["days"]:
            for r in d.get("rows", ()):
                r["notes"] = ["dexamethasone PO BID on days 1-4"]
        return ctx

    monkeypatch.setattr(sheet_views, "nurse", with_abbreviation)
    tl = timeline("nct03114865", choices={"cycles": "2"})
    html = render_html(tl, Selection(), SheetOptions(kind="nurse"), GEN)
    assert "dexamethasone PO twice daily on days 1-4" in html
    assert not ABBREV.search(html)


def test_may_hold_finds_a_text_at_any_depth_and_walks_what_it_cannot_write():
    from regimens.exporters.sheet import _may_hold
    from regimens.notation.ismp import has_frequency_abbreviation as abbreviated

    assert not _may_hold({"days": [{"rows": [("once daily", 3, None)]}]}, abbreviated)
    assert _may_hold({"days": [{"rows": [("x", {"note": "PO QD"})]}]}, abbreviated)
    assert _may_hold({"when": datetime(2027, 1, 4), "odd": {("tuple", "key"): "TID"}}, abbreviated)
    cycle: list = []
    cycle.append(cycle)
    assert _may_hold({"c": cycle}, abbreviated)  # not writable: walked
