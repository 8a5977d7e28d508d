"""Printable sheets: nurse administration sheet, pharmacist check sheet and patient calendar.

One HTML document per sheet (Jinja2, autoescaped, CSS inlined, no network resource); the PDF is
that same HTML laid out by WeasyPrint, imported only when a PDF is asked for. Nothing here reads
the clock: the generation time is passed in and also becomes the PDF's creation date, so the same
inputs give the same bytes.
"""

from __future__ import annotations

import json
import re

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from regimens import __version__
from regimens.errors import RegimensError
from regimens.exporters import patient_calendar, sheet_views
from regimens.language.site import N_, PatientLanguage
from regimens.notation.ismp import has_frequency_abbreviation, plain_frequency
from regimens.protocol.bibliography import public_text, shipped
from regimens.protocol.model import source_key
from regimens.schedule.timeline import Cycle, DoseEvent, Timeline

KINDS = ("nurse", "pharmacist", "patient")
LAYOUTS = ("day", "overview")
PAPERS = {"letter": "letter", "a4": "A4"}


@dataclass(frozen=True)
class Selection:
    """Which part of the timeline to print; empty means all of it. Fields combine (intersection)."""

    cycle: str | None = None
    """A cycle number (`2`) or a cycle id from the timeline (`maintenance.c2`)."""
    phase: str | None = None
    """A phase id or display name."""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class SheetOptions:
    kind: str = "nurse"
    layout: str = "day"
    """Nurse sheet only: `day` (a page per treatment day) or `overview` (a row per day)."""
    paper: str = "letter"
    patient_name: str | None = None
    mrn: str | None = None
    dob: str | None = None
    allergies: str | None = None
    tall_man: Mapping[str, str] | None = None
    """None means regimens.notation.ismp.DEFAULT_TALL_MAN."""
    generator: str = f"regimens {__version__}"
    language: PatientLanguage | None = None
    """Patient calendar only: the patient's language (docs/languages.md). None is English."""
    feed_url: str | None = None
    """Patient calendar only: the plan's calendar feed link (docs/feeds.md), printed as QR codes
    with subscribe steps. A capability: printed only when given, never repeated in a message."""


@dataclass(frozen=True)
class Selected:
    label: str
    cycles: tuple[Cycle, ...]
    events: tuple[DoseEvent, ...]
    date_from: date
    date_to: date


def select(tl: Timeline, sel: Selection) -> Selected:
    """The cycles and events a sheet covers, or a one-line error naming what exists."""
    cycles = list(tl.cycles)
    labels: list[str] = []
    if sel.phase is not None:
        want = sel.phase.strip().lower()
        cycles = [c for c in cycles if want in (c.phase_id.lower(), c.phase.lower())]
        if not cycles:
            names = ", ".join(dict.fromkeys(f"{c.phase_id} ({c.phase})" for c in tl.cycles))
            raise RegimensError(f"--phase {sel.phase!r}: no such phase in this timeline; phases: {names}")
        labels.append(cycles[0].phase)
    if sel.cycle is not None:
        cycles = _pick_cycles(tl, cycles, sel)
        labels.append(", ".join(f"cycle {c.cycle} ({c.cycle_id})" for c in cycles))
    ids = {c.cycle_id for c in cycles}
    events = [e for e in tl.events if e.cycle_id in ids]
    lo, hi = sel.date_from, sel.date_to
    if lo and hi and lo > hi:
        raise RegimensError(f"--from {lo} is after --to {hi}; give the earlier date first")
    if lo or hi:
        events = [e for e in events if (lo is None or e.end_date >= lo) and (hi is None or e.date <= hi)]
        labels.append(f"{lo or 'start'} to {hi or 'end'}")
    if not events:
        raise RegimensError(
            f"the selection ({'; '.join(labels) or 'whole timeline'}) holds no events; "
            f"the timeline runs {tl.start} to {tl.end}")
    used = {e.cycle_id for e in events}
    return Selected(
        label="; ".join(labels) or "whole timeline",
        cycles=tuple(c for c in cycles if c.cycle_id in used),
        events=tuple(events),
        date_from=max(lo, min(e.date for e in events)) if lo else min(e.date for e in events),
        date_to=min(hi, max(e.end_date for e in events)) if hi else max(e.end_date for e in events),
    )


def _pick_cycles(tl: Timeline, cycles: list[Cycle], sel: Selection) -> list[Cycle]:
    text = sel.cycle.strip()
    by_id = [c for c in cycles if c.cycle_id == text]
    if by_id:
        return by_id
    if text.isdigit():
        found = [c for c in cycles if c.cycle == int(text)]
        if len(found) == 1:
            return found
        if len(found) > 1:
            ids = ", ".join(c.cycle_id for c in found)
            raise RegimensError(f"--cycle {text} is in several phases ({ids}); add --phase NAME or give the cycle id")
    known = ", ".join(c.cycle_id for c in cycles) or "none"
    import difflib

    near = difflib.get_close_matches(text.lower(), [c.cycle_id for c in cycles], n=1, cutoff=0.7)
    mean = f"did you mean {near[0]}? " if near else ""
    raise RegimensError(f"--cycle {text!r}: no such cycle here; {mean}give a number or one of: {known}")


def render_html(tl: Timeline, selection: Selection, options: SheetOptions, generated_at: datetime) -> str:
    """The sheet as one self-contained HTML document."""
    if options.kind not in KINDS:
        raise RegimensError(f"unknown sheet kind {options.kind!r}; use one of {', '.join(KINDS)}")
    if options.layout not in LAYOUTS:
        raise RegimensError(f"unknown layout {options.layout!r}; use day or overview")
    if options.paper not in PAPERS:
        raise RegimensError(f"unknown paper {options.paper!r}; use letter or a4")
    lang = options.language if options.language is not None and options.language.lang.code != "en" else None
    if lang is not None and options.kind != "patient":
        raise RegimensError("staff sheets stay in the site's language; --language is for --kind patient")
    if options.feed_url and options.kind != "patient":
        raise RegimensError("a calendar feed link is printed on the patient calendar only (--kind patient)")
    chosen = select(tl, selection)
    ctx = sheet_views.common(tl, chosen, options, generated_at)
    tr_text = lang.translator(html=False) if lang else None
    tr_html = lang.translator(html=True) if lang else None
    ctx["_"] = _template_gettext(tr_html)
    ctx["html_lang"] = lang.lang.html_lang if lang else "en"
    ctx["text_dir"] = lang.lang.direction if lang else "ltr"
    ctx["unreviewed"] = lang.unreviewed_lines(tr_text) if lang else None
    ctx["fallback_note"] = None
    # the patient's language is not installed here: the calendar is in English and says so
    ctx["language_note"] = (options.language.fallback_line()
                            if options.language is not None and options.kind == "patient" else None)
    ctx["page_size"] = PAPERS[options.paper]
    ctx["page_counter"] = page_counter_css(tr_text)
    if options.kind == "nurse":
        ctx.update(sheet_views.nurse(tl, chosen, options))
        template = "nurse_day.html.j2" if options.layout == "day" else "nurse_overview.html.j2"
        if not ctx["days"]:
            # Not an error: the sheet itself says so (a batch row's other outputs still get written,
            # and a nurse handed this page knows there is nothing to sign rather than a missing page).
            template = "nurse_empty.html.j2"
            ctx["empty_label"] = chosen.label
    elif options.kind == "pharmacist":
        ctx.update(sheet_views.pharmacist(tl, chosen, options))
        template = "pharmacist.html.j2"
    else:
        ctx.update(patient_calendar.patient(tl, chosen, options, tr_text))
        template = "patient.html.j2"
    if options.kind == "patient":
        # patient-facing: plain names for internal citation keys, and QD/BID/TID spelled out
        names = dict(tl.source_names)
        ctx = _walk(ctx, lambda t: plain_frequency(public_text(t, names)))
    elif options.kind == "nurse":
        # the nurse sheet spells out QD/BID/TID too; the pharmacist sheet keeps quotations
        if _may_hold(ctx, has_frequency_abbreviation):
            ctx = _walk(ctx, plain_frequency)
    else:
        refs = [e.source for e in chosen.events if e.source]
        used = {source_key(r) for r in refs}
        ctx["citations"] = [{"key": k, "lines": list(lines)} for k, lines in tl.citations if k in used]
        # works an item names in its own source text ("dose: adult-regimens.md §3 (TH10, UTD)")
        listed = {line.split(":")[0] for c in ctx["citations"] for line in c["lines"][1:]}
        bib = shipped()
        named = [w for w in bib.works_in(" ".join(refs)) if w.key not in listed]
        ctx["citations"] += [{"key": w.key, "lines": [w.full()]} for w in named]
        for doc in dict.fromkeys(d for r in refs for d in bib.documents if d in r):
            if not any(doc in line for c in ctx["citations"] for line in c["lines"]):
                ctx["citations"].append({"key": doc, "lines": [bib.documents[doc].full()]})
    html = _environment().get_template(template).render(**ctx)
    if lang and (tr_text.missing or tr_html.missing):
        # Some text had no translation and is printed in English: say so on the sheet itself.
        ctx["fallback_note"] = tr_text.gettext(FALLBACK_NOTE)
        html = _environment().get_template(template).render(**ctx)
    sheet_views.assert_no_micro(html)
    return html


FALLBACK_NOTE = N_("Underlined text is in English: it has no translation yet.")
PAGE_OF = N_("Page %(page)s of %(pages)s")


def page_counter_css(tr) -> str:
    """The CSS `content` of the page number in the patient's language ("Página 3 de 6",
    "第 3 页，共 6 页"): the translation cut at its placeholders into CSS strings and counters,
    so each language keeps its own word order. `counter(pages)` stays literal for pdf.py."""
    text = tr.gettext(PAGE_OF) if tr is not None else PAGE_OF
    counters = {"%(page)s": "counter(page)", "%(pages)s": "counter(pages)"}
    out = []
    for part in re.split(r"(%\(pages?\)s)", str(text)):
        if part in counters:
            out.append(counters[part])
        elif part:
            # a CSS string inside <style>: escape what could end the string or the element
            out.append('"' + "".join(c if c not in '"\\<>' else f"\\{ord(c):x} " for c in part) + '"')
    return " ".join(out)


def _template_gettext(tr):
    """`_()` for templates: the translation (or the visible English fallback) as Markup, with
    `%(name)s` arguments escaped. Without a translator (English, staff sheets) the message itself."""
    from markupsafe import escape

    def gettext(message: str, **params) -> str:
        text = tr.gettext(message) if tr is not None else escape(message)
        return text % params if params else text

    return gettext


def _may_hold(value, test) -> bool:
    """False only if no text in `value` passes `test`, found without walking it in Python: the
    C JSON encoder writes every dict, list and tuple that `_walk` would enter, each text as it
    is (a text with QD in it is written with QD in it), and other objects as their str(); `test`
    runs on the whole. A match that is not in one text (keys, two texts side by side) only
    costs the walk. A whole-course nurse context has some 50,000 texts and usually none to
    rewrite; the walk was a seventh of a batch's time."""
    try:
        blob = json.dumps(value, ensure_ascii=False, default=str)
    except Exception:  # any failure to write it only means the walk runs, as it always did
        return True  # not writable as JSON (a cycle, a key that is not text or a number): walk it
    return test(blob)


def _walk(value, fn):
    """Apply a text rewrite to every plain `str` of a template context: Markup (translated,
    already escaped) and other objects pass untouched.

    `fn` runs once per distinct text (a whole-course context holds the same few hundred texts
    tens of thousands of times, and both rewrites are pure), and a list or dict that the context
    holds in several places (a day's rows are also the week's) is rewritten once and shared."""
    texts: dict[str, str] = {}
    done: dict[int, tuple[object, object]] = {}  # id -> (the original, kept alive; its rewrite)

    def text(v: str) -> str:
        out = texts.get(v)
        if out is None:
            out = texts[v] = fn(v)
        return out

    def walk(v):
        # texts are rewritten in the loops themselves: a call for each of a whole course's
        # 50,000 texts was most of the walk
        t = type(v)
        if t is str:
            return text(v)
        if t is not dict and t is not list and t is not tuple:
            return v
        seen = done.get(id(v))
        if seen is not None:
            return seen[1]
        items = v.values() if t is dict else v
        new = []
        for x in items:
            tx = type(x)
            if tx is str:
                x = texts.get(x) or text(x)
            elif tx is dict or tx is list or tx is tuple:
                x = walk(x)
            new.append(x)
        out = dict(zip(v, new)) if t is dict else (new if t is list else tuple(new))
        done[id(v)] = (v, out)
        return out

    return walk(value)


_ENV = None
_DICT_ATTRIBUTES = frozenset(dir(dict))


def _dict_first(base):
    """A Jinja environment class whose `x.name` on a plain dict is the item at once. Jinja tries
    `getattr(x, "name")` first, and on a dict that raises AttributeError for every name but the
    dict's own methods: a quarter of a million exceptions for a batch patient's three sheets.
    Only those method names can succeed as attributes, so the item is looked up first for any
    other name and the result is what Jinja itself would give."""

    class DictFirst(base):
        def getattr(self, obj, attribute):
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)

    return DictFirst


def _environment():
    global _ENV
    if _ENV is None:
        import jinja2

        _DictFirstEnvironment = _dict_first(jinja2.Environment)
        _ENV = _DictFirstEnvironment(
            loader=jinja2.PackageLoader("regimens.exporters", "templates/sheet"),
            autoescape=True,  # patient names and protocol notes are user text
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENV


def render_pdf(html: str, jobs: int = 1, progress=None) -> bytes:
    """The sheet as a tagged PDF/UA-1 document (regimens.exporters.pdf: long documents are laid
    out in parallel page groups when `jobs` > 1; the bytes do not depend on `jobs`)."""
    from regimens.exporters import pdf

    return pdf.render_pdf(html, jobs=jobs, progress=progress)
