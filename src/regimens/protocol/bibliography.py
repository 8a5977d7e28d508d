"""The shipped bibliography: a full citation for every source a protocol cites.

A protocol source's `cite` starts with a document (a seed record file or a reference-notes file)
and may name, inside its parentheses, the works that document takes values from ("adult-regimens.md
§2 (course A; TH10, UTD, SRL)"). Both resolve here, so `regimens show --sources` and the pharmacist
sheet print full citations, and patient-facing text can replace every internal key by a plain name.
Data: regimens/protocol/data/bibliography.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from regimens.protocol.model import Protocol, Source, source_key

if TYPE_CHECKING:
    from regimens.protocol.cache import ParseCache


@dataclass(frozen=True)
class Entry:
    key: str
    short: str
    citation: str
    url: str | None = None

    def full(self) -> str:
        return f"{self.citation} {self.url}" if self.url else self.citation


@dataclass(frozen=True)
class Bibliography:
    documents: dict[str, Entry]
    works: dict[str, Entry]

    def document(self, source: Source) -> Entry | None:
        return self.documents.get(source.cite.split()[0]) if source.cite.split() else None

    def works_in(self, text: str) -> list[Entry]:
        """Works named in free text, in order of first mention."""
        found = [m.group(0) for m in self._works_re().finditer(text)]
        return [self.works[k] for k in dict.fromkeys(found)]

    def unknown_keys(self, text: str) -> list[str]:
        """Tokens inside parentheses that look like a citation key (TH10, BL-PI, ASCO-2023) but
        resolve to nothing: each would be a citation a reader cannot follow."""
        out = []
        for group in re.findall(r"\(([^()]*)\)", text):
            for tok in re.findall(r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*\b", group):
                if re.fullmatch(r"[A-Z]*\d[A-Z0-9-]*|[A-Z]+-[A-Z0-9-]+", tok) and tok not in self.works \
                        and not _NOT_KEYS.match(tok):
                    out.append(tok)
        return out

    @lru_cache(maxsize=1)  # noqa: B019 - one shipped instance, cached for the process
    def _works_re(self) -> re.Pattern[str]:
        keys = sorted(self.works, key=len, reverse=True)
        return re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(map(re.escape, keys)) + r")(?![A-Za-z0-9-])")

    def __hash__(self) -> int:  # for the lru_cache above; there is one shipped instance
        return id(self)


# Words in parentheses that look like keys but are clinical terms, trial or registry ids.
_NOT_KEYS = re.compile(r"^(NCT\d{8}|A\d{1,2}|AALL\d+|EA\d+|A\d{6}|J\d+|IRB\d+|CD\d+|BCR-ABL1|B-ALL|T-ALL|"
                       r"NCI-[0-9-]+|G-CSF|CNS-\d|PRE-INDUCTION|ECOG-ACRIN|HR|IR|LR|CR|CRI|IB|IC|IA|II|"
                       r"MRD|TKI|HSCT|POMP|CVAD|IV|IT|PO|SC|IM|PK|CIV|QD|BID|TID|LVEF|US|D\d+|\d+)$")


_CACHE: list[ParseCache] = []


def use_cache(cache: ParseCache) -> None:
    """Keep the parsed bibliography in this parse cache (the one protocols are loaded through:
    protocol/loader.load_path sets it), so a run whose protocol came from the cache reads no YAML."""
    if not _CACHE:
        _CACHE.append(cache)


@lru_cache(maxsize=1)
def shipped() -> Bibliography:
    raw = (Path(__file__).parent / "data" / "bibliography.yaml").read_bytes()
    cache = _CACHE[0] if _CACHE else None
    if cache is not None:
        hit = cache.get(raw, "bibliography")
        if isinstance(hit, Bibliography):
            return hit
    bib = _parse(raw.decode("utf-8"))
    if cache is not None:
        cache.put(raw, bib, "bibliography")
    return bib


def _parse(text: str) -> Bibliography:
    import yaml  # here, not at the top: with the parse cache a run needs no YAML at all

    # libyaml's parser when there is one (2 ms instead of 26: this file is read by every run that
    # compiles a protocol); the constructor is PyYAML's safe one either way, so the data are the
    # same (tests/protocol/test_bibliography.py)
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader

    def entries(section: str) -> dict[str, Entry]:
        return {k: Entry(k, v["short"], " ".join(v["citation"].split()), v.get("url"))
                for k, v in data[section].items()}

    return Bibliography(entries("documents"), entries("works"))


def full_citation(p: Protocol, key: str, bib: Bibliography | None = None) -> list[str]:
    """Lines for one protocol source: its document's full citation (and url), then each work it
    names. A site source outside the bibliography prints its own cite and url."""
    bib = bib or shipped()
    src = next((s for s in p.sources if s.key == key), None)
    if src is None:
        return [key]
    doc = bib.document(src)
    rest = src.cite[len(src.cite.split()[0]):].strip() if doc else ""
    if rest and not rest.startswith("§"):
        rest = ""  # a seed's cite repeats what the bibliography says in full
    lines = [f"{doc.citation}{' Section ' + rest if rest else ''}{' ' + doc.url if doc.url else ''}" if doc
             else f"{src.cite}{' ' + src.url if src.url else ''}"]
    if doc and src.url and not doc.url:
        lines[0] += f" {src.url}"
    for w in bib.works_in(src.cite):
        lines.append(f"{w.key}: {w.full()}")
    return lines


def cited_keys(p: Protocol, refs: list[str]) -> list[str]:
    """Protocol source keys behind a list of `source:` references, in order of first use."""
    known = p.source_keys()
    return [k for k in dict.fromkeys(source_key(r) for r in refs if r) if k in known]


_DOC_SECTION = re.compile(r"(?:[\w.-]+\.md|\d{3}_[0-9a-f]{16}\.txt)(?:\s*§\s*[0-9a-z.]+)?(?:\s+A\d{1,2})?")
_AMB = r"A\d{1,2}\b"
_AMBIGUITY_STEPS = (
    re.compile(r"\s*\(\s*" + _AMB + r"(?:\s*[,;]\s*" + _AMB + r")*\s*\)"),  # "(A10, A12)"
    re.compile(r"\s*[;,]\s*" + _AMB),                                        # "(TH10 2 h; A6)"
    re.compile(r"\b" + _AMB + r"\s*[;,]\s*"),                                # "(A6; TH10)"
)
_AMB_ANY = re.compile(r"A\d")
_EMPTY_PARENS = re.compile(r"\(\s*[;,]?\s*\)")
_SPACES = re.compile(r"\s{2,}")


def public_text(text: str | None, source_names: dict[str, str], bib: Bibliography | None = None) -> str:
    """Free text for a patient: internal citation keys become plain names ("adult-regimens.md §3
    (TH10, UTD)" → "published regimen descriptions and drug labels (J Clin Oncol 2010, UpToDate
    regimen table)"), ambiguity numbers (A5) go. `source_names`: protocol source key → name."""
    if not text:
        return text or ""
    bib = bib or shipped()

    def doc(m: re.Match[str]) -> str:
        name = m.group(0).split()[0].split("§")[0]
        entry = bib.documents.get(name)
        return entry.short if entry else "reference notes"

    # Each step runs only when the text holds what its pattern needs (a plain substring test is
    # far cheaper than a scan with look-behinds and alternations; a long calendar has some 600
    # texts, and these scans were a quarter of its export): the result is the same either way.
    out = _DOC_SECTION.sub(doc, text) if ".md" in text or ".txt" in text else text
    if source_names and any(k in out for k in source_names):
        out = _keys_re(tuple(source_names)).sub(lambda m: source_names[m.group(1)], out)
    if any(k in out for k in bib.works):
        out = bib._works_re().sub(lambda m: bib.works[m.group(1)].short, out)
    if _AMB_ANY.search(out):  # every ambiguity step removes an "A<digits>"; none makes one
        for step in _AMBIGUITY_STEPS:
            out = step.sub("", out)
    if "(" in out:
        out = _EMPTY_PARENS.sub("", out)
    return _SPACES.sub(" ", out).replace(" .", ".").replace(" ,", ",").strip()


@lru_cache(maxsize=32)
def _keys_re(keys: tuple[str, ...]) -> re.Pattern[str]:
    # built once per protocol, not once per text (a long calendar has some 600 texts)
    ordered = sorted(keys, key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(map(re.escape, ordered)) + r")(?![A-Za-z0-9-])")


def source_names(p: Protocol, bib: Bibliography | None = None) -> dict[str, str]:
    """Protocol source key → the plain name a patient-facing output prints for it."""
    bib = bib or shipped()
    out = {}
    for s in p.sources:
        doc = bib.document(s)
        out[s.key] = doc.short if doc else (s.cite.split("(")[0].strip() or s.key)
    return out
