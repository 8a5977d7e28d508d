"""A language as an output needs it: the translator plus the review state that decides whether
the "not yet reviewed" line is printed. One call for the CLI, batch and the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from regimens.language.catalogs import SOURCE, SOURCE_LANGUAGE, Language, Translator, language, translator
from regimens.language.reviews import Review, parse_reviews, review_of


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it here (Babel's N_ keyword)."""
    return message


# Printed, in English and in the language, on every output in an unreviewed language.
UNREVIEWED_EN = N_("This translation has not yet been reviewed by your care team. "
                 "If anything is unclear, ask your team and follow the English version.")


# Printed (in English: there is no catalog to translate it) when the patient's language is not
# installed at this site, e.g. a site catalog was removed after a plan was given that language.
NOT_INSTALLED = ("The patient's language (%(code)s) is not installed at this site, so this calendar is "
                 "in English. Ask your care team for a copy in your language.")


@dataclass(frozen=True)
class PatientLanguage:
    lang: Language
    review: Review | None
    site_dir: Path | None = None
    wanted: str | None = None
    """The code that was asked for when it is not installed: `lang` is then English and every
    output says so (`fallback_line`), rather than failing."""
    untranslated: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)
    """Every message an output in this language printed in English for want of a translation
    (shared by all translators made from this object), so a front end can say how many."""

    @property
    def reviewed(self) -> bool:
        return self.lang.code == SOURCE_LANGUAGE or self.review is not None

    def translator(self, *, html: bool) -> Translator:
        tr = translator(self.lang, self.site_dir, html=html)
        tr.missing = self.untranslated
        return tr

    def fallback_line(self) -> str | None:
        """The visible English line of an output that fell back to English, else None."""
        return NOT_INSTALLED % {"code": self.wanted} if self.wanted else None

    def unreviewed_lines(self, tr: Translator) -> tuple[str, str] | None:
        """(English line, translated line), or None when reviewed (or English)."""
        if self.reviewed:
            return None
        return UNREVIEWED_EN, tr.gettext(UNREVIEWED_EN)


def patient_language(code: str | None, site_dir: Path | None = None,
                     reviews_text: str | None = None, reviews_name: str = "language reviews") -> PatientLanguage:
    lang = language(code or SOURCE_LANGUAGE, site_dir)
    reviews = parse_reviews(reviews_text, reviews_name) if reviews_text else {}
    return PatientLanguage(lang, review_of(lang.code, lang.catalog_sha256, reviews), site_dir)


def patient_language_or_english(code: str | None, site_dir: Path | None = None,
                                reviews_text: str | None = None,
                                reviews_name: str = "language reviews") -> PatientLanguage:
    """As patient_language, for a language chosen earlier and stored (a plan's language in the
    service): when that language is no longer installed (its site catalog removed, a shipped
    catalog missing or unreadable) the outputs fall back to English with a line saying so,
    instead of refusing. A broken review file is still refused: that is the site's own setting."""
    reviews = parse_reviews(reviews_text, reviews_name) if reviews_text else {}
    try:
        lang = language(code or SOURCE_LANGUAGE, site_dir)
        if lang.code != SOURCE_LANGUAGE:
            translator(lang, site_dir)  # the catalog must exist and parse
    except Exception:  # noqa: BLE001 - unknown code, missing/unreadable catalog, CLDR without the locale:
        # a patient output is never refused for it (the line says English instead)
        return PatientLanguage(SOURCE, None, site_dir, wanted=code)
    return PatientLanguage(lang, review_of(lang.code, lang.catalog_sha256, reviews), site_dir)
