"""A language as an output needs it: the translator plus the review state that decides whether
the "not yet reviewed" line is printed. One call for the CLI, batch and the service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from regimens.language.catalogs import SOURCE_LANGUAGE, Language, Translator, language, translator
from regimens.language.reviews import Review, parse_reviews, review_of


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it here (Babel's N_ keyword)."""
    return message


# Printed, in English and in the language, on every output in an unreviewed language.
UNREVIEWED_EN = N_("This translation has not yet been reviewed by your care team. "
                 "If anything is unclear, ask your team and follow the English version.")


@dataclass(frozen=True)
class PatientLanguage:
    lang: Language
    review: Review | None
    site_dir: Path | None = None

    @property
    def reviewed(self) -> bool:
        return self.lang.code == SOURCE_LANGUAGE or self.review is not None

    def translator(self, *, html: bool) -> Translator:
        return translator(self.lang, self.site_dir, html=html)

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
