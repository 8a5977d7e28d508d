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
