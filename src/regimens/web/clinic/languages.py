"""The patient's language in the service: each plan has one (TreatmentPlan.language); every
patient-facing output of the plan — patient calendar HTML/PDF, the patient .ics, the feeds and
the printed feed handout — is written in it, through the same catalogs as the command line
(regimens.language). Staff pages and sheets stay in the site's language.

Site settings (environment, as for the command line): REGIMENS_LANGUAGES, a folder of site
catalogs (CODE.po), and REGIMENS_LANGUAGE_REVIEWS, the file naming who reviewed which catalog.
A plan whose language is no longer installed (a site catalog removed) is written in English with
a line saying so; it is never refused.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from regimens.errors import RegimensError
from regimens.language.catalogs import SOURCE_LANGUAGE, available, catalog_file, language
from regimens.language.site import PatientLanguage, patient_language_or_english

_lock = threading.Lock()
_resolved: dict[tuple, PatientLanguage] = {}


def site_dir() -> Path | None:
    d = getattr(settings, "REGIMENS_LANGUAGES", None)
    return Path(d) if d else None


def _stamp(path: Path | None) -> tuple | None:
    try:
        st = path.stat() if path else None
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size) if st else None


def _reviews() -> tuple[str | None, tuple | None]:
    path = getattr(settings, "REGIMENS_LANGUAGE_REVIEWS", None)
    if not path:
        return None, None
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")[:1_000_000], _stamp(p)
    except (OSError, UnicodeDecodeError):
        return None, None  # unreadable: every translated output says "not reviewed" (the safe side)


def plan_language(code: str | None) -> PatientLanguage:
    """The PatientLanguage of a plan's stored code, memoised on the catalog and review files'
    size and time (a feed poll asks for it; reading and hashing a catalog each time would not
    do)."""
    code = code or SOURCE_LANGUAGE
    site = site_dir()
    reviews_path = getattr(settings, "REGIMENS_LANGUAGE_REVIEWS", None)
    key = (code, str(site), _stamp(catalog_file(code, site)) if code != SOURCE_LANGUAGE else None,
           _stamp(Path(reviews_path)) if reviews_path else None)
    with _lock:
        hit = _resolved.get(key)
    if hit is not None:
        return hit
    text, _ = _reviews()
    try:
        pl = patient_language_or_english(code, site, text, "REGIMENS_LANGUAGE_REVIEWS")
    except RegimensError:  # a malformed review file: treated as no review, so the line is printed
        pl = patient_language_or_english(code, site, None)
    with _lock:
        if len(_resolved) > 256:
            _resolved.clear()
        _resolved[key] = pl
    return pl


def output_language(code: str | None) -> PatientLanguage | None:
    """What an exporter's `language` option takes: None for English (the exporters' own default),
    else the language — or English with its "not installed" line."""
    pl = plan_language(code)
    return None if pl.lang.code == SOURCE_LANGUAGE and not pl.wanted else pl


def state(code: str | None) -> str:
    """A short text that changes whenever a plan's patient text would: language, catalog hash,
    review state, or the English fallback. Part of a feed's cache key."""
    pl = plan_language(code)
    if pl.wanted:
        return f"en!{pl.wanted}"[:20]
    if pl.lang.code == SOURCE_LANGUAGE:
        return "en"
    return f"{pl.lang.code[:8]}:{(pl.lang.catalog_sha256 or '')[:8]}:{'r' if pl.reviewed else 'u'}"


def describe(code: str | None) -> str:
    """For staff pages: "Spanish (español), es — translation not yet reviewed"."""
    pl = plan_language(code)
    if pl.wanted:
        return f"{pl.wanted} — not installed at this site: patient outputs are in English and say so"
    lang = pl.lang
    if lang.code == SOURCE_LANGUAGE:
        return "English (en)"
    name = f"{lang.english_name} ({lang.name}), {lang.code}"
    return name + ("" if pl.reviewed else " — translation not yet reviewed (outputs say so, in both languages)")


def choices() -> list[tuple[str, str]]:
    """The languages a plan can be given: English and every installed catalog."""
    out = []
    site = site_dir()
    for code in available(site):
        try:
            lang = language(code, site)
        except RegimensError:
            continue
        if code != SOURCE_LANGUAGE and catalog_file(code, site) is None:
            continue  # a shipped code whose catalog is not installed
        label = "English" if code == SOURCE_LANGUAGE else f"{lang.english_name} ({lang.name})"
        out.append((code, f"{label} — {code}"))
    return sorted(out, key=lambda c: c[0] != SOURCE_LANGUAGE)  # English first, then by code


def language_field(initial: str = SOURCE_LANGUAGE):
    from django import forms

    # Not required: a form posted without it (an older page, a script) means English, as before.
    return forms.TypedChoiceField(
        choices=choices(), initial=initial, required=False, coerce=str, empty_value=SOURCE_LANGUAGE,
        label="Patient's language",
        help_text="Patient calendar, calendar file and feeds are written in it; staff sheets stay in English. "
                  "Drug names and doses stay as on the pharmacy label.")


def language_form(tp, data=None):
    """The plan page's "change the patient's language" form (language and a reason)."""
    from django import forms

    class LanguageForm(forms.Form):
        reason = forms.CharField(max_length=500, label="Reason", help_text="e.g. patient asked; interpreter advised")

    form = LanguageForm(data)
    form.fields = {"language": language_field(tp.language), **form.fields}
    return form
