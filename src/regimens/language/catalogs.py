"""Languages and translators.

A catalog is clinical content: every shipped `.po` file is a draft until a site names who reviewed
it (reviews.py). Catalogs are compiled from the `.po` text when first used, so no generated `.mo`
file is kept in the repository and a site catalog needs no build step.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from regimens.errors import RequestError

DOMAIN = "regimens"
SOURCE_LANGUAGE = "en"
# The first set the project ships. Next in line (docs/languages.md): ko, ru, fil (Tagalog).
SHIPPED = ("es", "zh_Hans", "vi", "ar")


@dataclass(frozen=True)
class Language:
    code: str
    """Catalog code: `es`, `zh_Hans`, `vi`, `ar`, or `en` (the source language)."""
    name: str
    """The language's own name (CLDR), e.g. "español", "العربية"."""
    english_name: str
    direction: str
    """`ltr` or `rtl` (from CLDR's character order)."""
    html_lang: str
    """BCP 47 tag for the HTML `lang` attribute, e.g. `zh-Hans`."""
    first_weekday: int
    """0 = Monday … 6 = Sunday, as calendars in this locale are printed."""
    catalog_sha256: str | None
    """Hash of the .po text; a review names this hash, so a changed catalog is a new draft."""
    origin: str
    """`source`, `shipped` or `site`."""


def _locale(code: str):
    from babel import Locale

    return Locale.parse(code)


@functools.cache  # where the package is installed does not change in a process; feeds ask per poll
def shipped_dir() -> Path:
    return Path(str(resources.files("regimens.language"))) / "locales"


def _po_path(code: str, site_dir: Path | None) -> tuple[Path, str] | None:
    if site_dir is not None:
        p = site_dir / f"{code}.po"
        if p.is_file():
            return p, "site"
    p = shipped_dir() / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    return (p, "shipped") if p.is_file() else None


def catalog_file(code: str, site_dir: Path | None = None) -> Path | None:
    """The .po file a language's text comes from (the site's, else the shipped one), or None."""
    found = _po_path(code, site_dir)
    return found[0] if found else None


def available(site_dir: Path | None = None) -> list[str]:
    codes = {SOURCE_LANGUAGE, *SHIPPED}
    if site_dir is not None and site_dir.is_dir():
        codes |= {p.stem for p in site_dir.glob("*.po")}
    return sorted(codes)


def language(code: str, site_dir: Path | None = None) -> Language:
    """The language for `--language CODE` (case and `-`/`_` forgiven: `zh-hans` is `zh_Hans`)."""
    wanted = code.replace("-", "_").lower()
    codes = available(site_dir)
    match = next((c for c in codes if c.lower() == wanted), None)
    if match is None:
        raise RequestError(f"no patient text in language {code!r}; available: {', '.join(codes)}"
                           " (a site adds one as described in docs/languages.md)")
    if match == SOURCE_LANGUAGE:
        return SOURCE  # without loading CLDR data: every English output asks for it
    loc = _locale(match)
    found = _po_path(match, site_dir)
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest() if found else None
    return Language(
        code=match,
        name=loc.get_display_name(loc) or match,
        english_name=loc.get_display_name("en") or match,
        direction="rtl" if loc.character_order == "right-to-left" else "ltr",
        html_lang=match.replace("_", "-"),
        first_weekday=loc.first_week_day,
        catalog_sha256=digest,
        origin=found[1] if found else "source",
    )


SOURCE = Language(code=SOURCE_LANGUAGE, name="English", english_name="English", direction="ltr", html_lang="en",
                  first_weekday=0, catalog_sha256=None, origin="source")
"""The source language as CLDR describes it (tests/language/test_source_language.py checks it
against Babel), with the Monday-first grid the calendar always had (CLDR's en is US, Sunday)."""


def read_catalog(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return read_po(f, domain=DOMAIN)


@dataclass
class Translator:
    """gettext for one language and one kind of output. A message missing from the catalog (or
    left empty, or fuzzy) falls back to English, visibly: in HTML it is wrapped as English text
    with a dotted underline, in plain text it is prefixed "(English)". `missing` collects them."""

    lang: Language
    html: bool = False
    _messages: dict = field(default_factory=dict, repr=False)
    _plural: object = field(default=None, repr=False)
    missing: set[str] = field(default_factory=set)

    @property
    def is_source(self) -> bool:
        return self.lang.code == SOURCE_LANGUAGE

    def _fallback(self, text: str) -> str:
        self.missing.add(text)
        if self.html:
            from markupsafe import Markup, escape

            return Markup(f'<span lang="en" dir="ltr" class="untranslated">{escape(text)}</span>')
        return f"(English) {text}"

    def _found(self, text: str) -> str:
        if self.html:
            from markupsafe import escape

            return escape(text)  # Markup: a template inserts it as is, and `%` escapes arguments
        return text

    def gettext(self, message: str) -> str:
        if self.is_source:
            return message
        found = self._messages.get(message)
        if not found or not isinstance(found, str):
            return self._fallback(message)
        return self._found(found)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self.is_source:
            return singular if n == 1 else plural
        found = self._messages.get(singular)
        if not isinstance(found, tuple) or not all(found):
            return self._fallback(singular if n == 1 else plural)
        index = self._plural(n) if self._plural else (0 if n == 1 else 1)
        return self._found(found[min(index, len(found) - 1)])

    # dates, months, weekdays in the patient's language (CLDR), Western digits kept for ISMP
    def date(self, d: date, fmt: str = "full") -> str:
        from babel.dates import format_date

        return format_date(d, fmt, locale=self._babel_locale())

    def month_year(self, year: int, month: int) -> str:
        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", date(year, month, 1), locale=self._babel_locale())

    def weekday_names(self, width: str = "abbreviated") -> list[str]:
        """Names in printed order, starting on the locale's first day of the week."""
        from babel.dates import get_day_names

        names = get_day_names(width, locale=self._babel_locale())
        first = self.lang.first_weekday
        return [names[(first + i) % 7] for i in range(7)]

    def _babel_locale(self):
        return _locale(self.lang.code if not self.is_source else "en_US")


_CACHE: dict[tuple[str, str | None], tuple[dict, object]] = {}


def translator(lang: Language, site_dir: Path | None = None, *, html: bool = False) -> Translator:
    if lang.code == SOURCE_LANGUAGE:
        return Translator(lang, html)
    key = (lang.code, lang.catalog_sha256)
    if key not in _CACHE:
        found = _po_path(lang.code, site_dir)
        if found is None:
            raise RequestError(f"no catalog for language {lang.code!r}")
        catalog = read_catalog(found[0])
        messages: dict = {}
        for m in catalog:
            if not m.id or m.fuzzy:
                continue  # a fuzzy entry is a translator's guess: never shown to a patient
            if isinstance(m.id, tuple):
                messages[m.id[0]] = tuple(m.string)
            elif m.string:
                messages[m.id] = m.string
        _CACHE[key] = (messages, _plural_function(catalog.plural_expr))
    messages, plural = _CACHE[key]
    return Translator(lang, html, messages, plural)


def _plural_function(expr: str):
    import gettext

    try:
        return gettext.c2py(expr)  # the catalog's Plural-Forms expression, as gettext reads it
    except (ValueError, SyntaxError):
        return None
