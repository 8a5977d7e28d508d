"""Every cited source resolves inside the project (issue 10): the shipped bibliography gives a
full citation for every source key of every shipped protocol and every work they name."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from regimens.exporters.ics import IcsOptions, to_ics
from regimens.exporters.sheet import Selection, SheetOptions, render_html
from regimens.protocol.bibliography import full_citation, public_text, shipped, source_names
from regimens.protocol.catalog import Catalog

CATALOG = Catalog()
PIDS = sorted(CATALOG.ids())
GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
# What a reader of a patient-facing output cannot resolve: reference-notes files and sections,
# seed file names, work keys, protocol source keys.
INTERNAL = re.compile(r"\.md\b|§|\d{3}_[0-9a-f]{16}\.txt|\b(?:seed|adult|alliance|cog|ecog)-[0-9a-z]+\b")


def _refs(p):
    refs = [s.cite for s in p.sources]
    for c in p.courses.values():
        refs.append(c.length_source or "")
        for it in c.items:
            refs.append(it.source)
            refs += [b.source for b in (it.dose.bands if it.dose else ())]
    refs += [ph.source for ph in p.phases.values()] + [a.source for a in p.arms]
    return [r for r in refs if r]


@pytest.mark.parametrize("pid", PIDS)
def test_every_source_key_resolves(pid):
    bib = shipped()
    p = CATALOG.load(pid).protocol
    for s in p.sources:
        doc = bib.document(s)
        assert doc is not None, (pid, s.key, s.cite)
        assert doc.citation and (doc.url or s.kind == "reference"), (pid, s.key)
        assert bib.unknown_keys(s.cite) == [], (pid, s.key, s.cite)
        lines = full_citation(p, s.key)
        assert lines[0].startswith(doc.citation)
        for w in bib.works_in(s.cite):
            assert any(line.startswith(f"{w.key}: {w.citation}") for line in lines)
    # work keys named anywhere in the protocol's source references resolve too
    for ref in _refs(p):
        assert bib.unknown_keys(ref) == [], (pid, ref)


def test_every_work_has_a_citation_and_most_an_address():
    bib = shipped()
    assert {"TH10", "CHEMOX", "LH22", "BL-PI", "ASCO-2023", "HEMATOLOGIST"} <= set(bib.works)
    assert all(w.citation for w in bib.works.values())
    no_url = {k for k, w in bib.works.items() if not w.url}
    assert no_url <= {"ASH20", "ASH22", "ONCO-APP"}  # the reference notes give no address for these


def test_the_blincyto_label_is_cited_from_the_official_source():
    # issue 10: the label is the FDA-approved text on DailyMed (NLM) or accessdata.fda.gov, not a
    # mirror page (the old address showed an unrelated pain-reliever recall page)
    w = shipped().works["BL-PI"]
    assert w.url.startswith(("https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid=",
                             "https://www.accessdata.fda.gov/drugsatfda_docs/label/"))
    assert "38b482a8-960b-4591-9857-5031ecb830aa" in w.url and "earlier version" in w.citation


def test_show_sources_prints_full_citations(run_cli):
    code, out, err = run_cli("show", "nct02877303", "--sources")
    assert code == 0, err
    assert "seed-000: ClinicalTrials.gov record NCT02877303" in out and "https://clinicaltrials.gov/study/NCT02877303" in out
    assert "CHEMOX: ChemoExperts, \"POMP maintenance (ALL)\"" in out
    assert "https://www.chemoexperts.com/pomp-maintenance-all.html" in out
    assert "TH10: Thomas DA, et al." in out


def test_pharmacist_sheet_prints_full_citations(timeline):
    tl = timeline("nct02877303")
    html = render_html(tl, Selection(cycle="intensive.c1"), SheetOptions(kind="pharmacist"), GEN)
    assert "Sources cited on this sheet" in html
    assert "ClinicalTrials.gov record NCT02877303" in html and "PMC2940403" in html  # seed + TH10


@pytest.mark.parametrize("pid", PIDS)
def test_no_internal_key_in_patient_facing_text(timeline, pid):
    p = CATALOG.load(pid).protocol
    arms = [a.label for a in p.arms]
    choices = {n: d.choices[0].value for n, d in p.decisions.items() if d.default is None}
    for arm in arms:
        tl = timeline(pid, arm=arm, choices=choices)
        ics = to_ics(tl, IcsOptions(tz="America/Chicago"), GEN).decode().replace("\r\n ", "")
        assert not INTERNAL.search(ics), (pid, arm, INTERNAL.search(ics))
        keys = [k for k in shipped().works if re.search(rf"(?<![A-Za-z0-9-]){re.escape(k)}(?![A-Za-z0-9-])", ics)]
        assert keys == [], (pid, arm, keys)
        html = render_html(tl, Selection(), SheetOptions(kind="patient"), GEN)
        html = re.sub(r"<style.*?</style>", "", html, flags=re.S)  # stylesheet comments are not read
        assert not INTERNAL.search(html), (pid, arm, INTERNAL.search(html))


def test_public_text():
    p = CATALOG.load("nct02877303").protocol
    names = source_names(p)
    assert public_text("Infusion time 3 h per the record (TH10 2 h; A6).", names) == \
        "Infusion time 3 h per the record (J Clin Oncol 2010 2 h)."
    assert public_text("seed-000 (maintenance); dose: adult-regimens.md §5 (CHEMOX)", names) == \
        "ClinicalTrials.gov record NCT02877303 (maintenance); dose: published regimen descriptions and drug labels (POMP patient-education page)"


def test_bibliography_reads_the_same_with_libyaml_as_with_pure_python_yaml():
    # shipped() uses libyaml's parser (speed); PyYAML's pure-Python one must give the same data
    from importlib import resources

    import yaml

    from regimens.protocol.bibliography import shipped

    text = resources.files("regimens.protocol").joinpath("data/bibliography.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=yaml.SafeLoader)
    bib = shipped()
    assert set(bib.documents) == set(data["documents"]) and set(bib.works) == set(data["works"])
    for section, entries in (("documents", bib.documents), ("works", bib.works)):
        for k, e in entries.items():
            v = data[section][k]
            assert (e.short, e.citation, e.url) == (v["short"], " ".join(v["citation"].split()), v.get("url"))


def _public_text_unfiltered(text, source_names, bib):
    # public_text as it was before its steps were skipped when a cheap substring test shows they
    # cannot match: every pattern run on every text
    import re

    from regimens.protocol import bibliography as b

    if not text:
        return text or ""

    def doc(m):
        entry = bib.documents.get(m.group(0).split()[0].split("§")[0])
        return entry.short if entry else "reference notes"

    out = b._DOC_SECTION.sub(doc, text)
    if source_names:
        keys = sorted(source_names, key=len, reverse=True)
        out = re.sub(r"(?<![A-Za-z0-9-])(" + "|".join(map(re.escape, keys)) + r")(?![A-Za-z0-9-])",
                     lambda m: source_names[m.group(1)], out)
    out = bib._works_re().sub(lambda m: bib.works[m.group(1)].short, out)
    for step in b._AMBIGUITY_STEPS:
        out = step.sub("", out)
    out = re.sub(r"\(\s*[;,]?\s*\)", "", out)
    return re.sub(r"\s{2,}", " ", out).replace(" .", ".").replace(" ,", ",").strip()


def test_public_text_with_skipped_steps_is_the_full_pass():
    # every text the patient calendars of every shipped protocol pass through public_text, and
    # random mixes of keys, sections, ambiguity numbers and punctuation
    import random
    from datetime import UTC, date, datetime

    from regimens.exporters import ics
    from regimens.protocol import bibliography as b
    from regimens.protocol.catalog import Catalog
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    bib = b.shipped()
    seen: list[tuple[str, dict]] = []
    real = ics.public_text

    def record(text, names, bib_=None):
        seen.append((text, names))
        return real(text, names, bib_)

    cat = Catalog()
    try:
        ics.public_text = record
        for pid in cat.ids():
            pf = cat.load(pid)
            dec = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
            for arm in pf.protocol.arms:
                tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=dec))
                ics.to_ics(tl, ics.IcsOptions(tz="UTC"), datetime(2027, 1, 1, tzinfo=UTC))
    finally:
        ics.public_text = real
    assert len(seen) > 500
    names = dict(seen[0][1])
    rnd = random.Random(13)
    words = [*names, *bib.works, *bib.documents, "adult-regimens.md", "§3", "§ 2.1", "A5", "A12", "A123", "(", ")",
             ";", ",", " ", "  ", "\n", ".", "TH10x", "xTH10", "-", "dose", "BID", "123_0123456789abcdef.txt"]
    fuzz = ["".join(rnd.choice(words) + rnd.choice(["", " "]) for _ in range(rnd.randint(1, 30)))
            for _ in range(3000)]
    hits = 0
    for text, n in [*seen, *((t, names) for t in fuzz)]:
        got = b.public_text(text, n, bib)
        assert got == _public_text_unfiltered(text, n, bib), text
        hits += got != text
    assert hits > 500  # the texts exercise the substitutions, not only the skips
