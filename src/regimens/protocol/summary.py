"""Readable summaries of protocols for `regimens show` and `regimens list` (no schedule logic)."""

from __future__ import annotations

import textwrap
from typing import Any

from regimens.notation.ismp import NOT_PUBLIC_TEXT, display_drug, format_dose, format_number, format_unit, ismp_clean
from regimens.protocol.bibliography import full_citation
from regimens.protocol.daysets import format_days, parse_days
from regimens.protocol.loader import ProtocolFile
from regimens.protocol.model import Branch, Item, Protocol


def list_record(pf: ProtocolFile) -> dict[str, Any]:
    p = pf.protocol
    return {
        "id": p.id,
        "title": p.title,
        "short_title": p.short_title,
        "version": p.version,
        "nct": p.registry.nct,
        "group": p.registry.group,
        "other_ids": list(p.registry.other),
        "arms": [a.label for a in p.arms],
        "arm_names": {a.label: a.name for a in p.arms},
        "decisions": list(p.decisions),
        "content_hash": pf.content_hash,
        "file": pf.path,
        "origin": pf.origin,
    }


def _item_line(item: Item, tall_man) -> str:
    if item.drug:
        d = item.dose
        if d.not_public:
            dose = NOT_PUBLIC_TEXT
        else:
            dose = format_dose(d.value, d.unit)
            if d.cap:
                dose += f" (max {format_number(d.cap)} {format_unit(d.cap_unit)})"
            if d.reference:
                dose += f" ({d.reference} dose; this trial's dose not public)"
        parts = [display_drug(item.drug, tall_man), dose, item.route]
        if item.continuous:
            parts.append("continuous infusion")
        if item.over:
            parts.append(f"over {item.over}")
        if item.every_hours:
            parts.append(f"q{item.every_hours}h x {item.doses} doses")
        if item.times_per_day:
            parts.append({2: "twice daily", 3: "three times daily"}.get(item.times_per_day,
                                                                        f"{item.times_per_day} times daily"))
        text = " ".join(parts)
        for b in d.bands:
            alt = NOT_PUBLIC_TEXT if b.not_public else format_dose(b.value, b.unit)
            if b.cap:
                alt += f" (max {format_number(b.cap)} {format_unit(b.cap_unit)})"
            text += f"; if {b.describe()}: {alt}"
    else:
        text = f"[{item.event}] {item.title}"
    if item.premedication:
        pm = item.premedication
        text += f", {pm.lead_minutes} min before {pm.for_drug} at " + " and ".join(
            t.replace("_", " ") for t in pm.triggers)
    else:
        days = parse_days(item.days)
        if item.every_days:
            days = tuple(d for d in days if (d - days[0]) % item.every_days == 0)
        text += f", day{'s' if len(days) > 1 else ''} {format_days(days)}"
    if item.window:
        text += f" (window: days {item.window})"
    if item.cycles != "all":
        text += f" [cycles {item.cycles}]"
    if item.when:
        text += " {" + ", ".join(f"{k}={v if isinstance(v, str) else '|'.join(v)}" for k, v in item.when.items()) + "}"
    conf = item.confidence or (item.dose.confidence if item.dose else None)
    text += f"  <{item.source}{'; confidence ' + conf if conf else ''}>"
    return text


def _wrap(text: str, indent: str) -> list[str]:
    # Notes are long source-derived sentences; wrap them so a terminal shows them whole.
    return textwrap.wrap(" ".join(text.split()), width=100, initial_indent=indent,
                         subsequent_indent=indent + "  ", break_on_hyphens=False)


def show_text(pf: ProtocolFile, tall_man=None) -> str:
    p: Protocol = pf.protocol
    r = p.registry
    ids = ", ".join(x for x in (r.nct, r.group, *r.other) if x)
    out = [
        p.title,
        f"id {p.id}  version {p.version}  sha256 {pf.short_hash}  ({pf.origin}: {pf.path})",
        f"registry: {ids}",
        "",
    ]
    if p.notes:
        out += ["NOTES", *_wrap(p.notes, "  "), ""]
    out.append("ARMS")
    for a in p.arms:
        seq = list(p.common if a.common else ()) + list(a.sequence)
        steps = []
        for s in seq:
            if isinstance(s, Branch):
                steps.append("{" + s.decision + ": " + " | ".join(
                    f"{k}: {' > '.join(v) or 'nothing'}" for k, v in s.options.items()) + "}")
            elif s in p.phases:
                ph = p.phases[s]
                steps.append(f"{s} ({ph.name}: {'/'.join(ph.pattern)} x {ph.cycles} cycles)")
            else:
                steps.append(s)
        out.append(f"  {a.label}: {a.name}")
        out.append(f"     {' > '.join(steps)}")
        if a.note:
            out += _wrap(f"note: {a.note}", "     ")
    phase_notes = [(pid, ph) for pid, ph in p.phases.items() if ph.note]
    if phase_notes:
        out += ["", "PHASES"]
        for pid, ph in phase_notes:
            out.append(f"  {pid}: {ph.name}")
            out += _wrap(f"note: {ph.note}", "     ")
    out += ["", "COURSES"]
    for cid, c in p.courses.items():
        length = (f"{c.length_days}-day" if c.length_days else "length not public") if not c.terminal else "terminal event"
        extra = f"; days {format_days(parse_days(c.rest_days))} treatment-free" if c.rest_days else ""
        out.append(f"  {cid}: {c.name} ({length}{extra})")
        if c.content_not_public:
            out.append("     drug content not public: per full protocol")
        if c.note:
            out += _wrap(f"note: {c.note}", "     ")
        for item in c.items:
            out.append(f"     - {_item_line(item, tall_man)}")
            if item.note:
                out += _wrap(f"note: {item.note}", "         ")
    if p.eligibility:
        out += ["", "ELIGIBILITY LIMITS (outside one: no patient dose without --confirm-outside ID --reason)"]
        for lim in p.eligibility:
            out.append(f"  {lim.id}: {lim.criterion} <{lim.source}>")
            out += _wrap(f"means: {lim.consequence}", "     ")
    if p.decisions:
        out += ["", "DECISIONS (--choose NAME=VALUE)"]
        for name, d in p.decisions.items():
            vals = ", ".join(f"{c.value}{'*' if c.value == d.default else ''}" for c in d.choices)
            out.append(f"  {name} ({d.kind}): {d.label}: {vals}")
            out.append(f"     default: {d.default or 'none, must be chosen'}: {d.why_default}")
    if p.ambiguities:
        out += ["", "OPEN AMBIGUITIES"]
        for a in p.ambiguities:
            out.append(f"  {a.id}: {a.text} <{', '.join(a.sources)}>")
            if a.resolution:
                out.append(f"     here: {a.resolution}")
    nps = list(p.not_public)
    for cid, c in p.courses.items():
        if c.length_not_public:
            nps.append(f"{c.name}: length")
        if c.content_not_public:
            nps.append(f"{c.name}: drug content")
        for item in c.items:
            if item.dose and item.dose.not_public:
                nps.append(f"{c.name}: {item.drug} {item.route} dose")
    if nps:
        out += ["", "NOT PUBLIC (outputs show 'dose per full protocol')"]
        out += [f"  - {x}" for x in dict.fromkeys(nps)]
    out += ["", "SOURCES (full citations: regimens show ID --sources)"]
    for s in p.sources:
        out.append(f"  {s.key}: {s.cite}{' ' + s.url if s.url else ''}")
    return ismp_clean("\n".join(out)) + "\n"


def sources_text(pf: ProtocolFile) -> str:
    """Every source of the protocol with its full citation and address from the shipped
    bibliography, then the works each one draws on."""
    p = pf.protocol
    out = [f"{p.title}", f"id {p.id}  version {p.version}  sha256 {pf.short_hash}", "", "SOURCES"]
    for s in p.sources:
        lines = full_citation(p, s.key)
        out.append(f"  {s.key}: {lines[0]}")
        out += [f"      {line}" for line in lines[1:]]
    return ismp_clean("\n".join(out)) + "\n"
