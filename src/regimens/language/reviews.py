"""Which catalogs a site has reviewed.

A translation of a treatment calendar is clinical content. Until the site's care team has read a
catalog and named the reviewer, every output in that language carries a visible line, in English
and in the language, saying the translation has not been reviewed. The review names the catalog's
sha256, so a catalog that changed after review (a new release, a site edit) is a draft again.

File format (YAML, site-owned; path from `--language-reviews` or REGIMENS_LANGUAGE_REVIEWS):

    es:
      reviewed_by: "A. García, PharmD, Day Unit pharmacy"
      date: 2027-01-15
      catalog_sha256: 3f5c…   # as printed by `regimens languages`
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from regimens.errors import RequestError


@dataclass(frozen=True)
class Review:
    code: str
    reviewed_by: str
    on: date
    catalog_sha256: str


def parse_reviews(text: str, filename: str) -> dict[str, Review]:
    import yaml

    try:
        # Every scalar as text: a hash of digits must not become a number, nor `no` a boolean.
        data = yaml.load(text, Loader=yaml.BaseLoader) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RequestError(f"{filename}{where}: not valid YAML; see docs/languages.md for the format") from None
    if not isinstance(data, dict):
        raise RequestError(f"{filename}: expected one entry per language code (see docs/languages.md)")
    out: dict[str, Review] = {}
    for code, entry in data.items():
        if not isinstance(entry, dict):
            raise RequestError(f"{filename}: {code}: expected reviewed_by, date and catalog_sha256")
        missing = [k for k in ("reviewed_by", "date", "catalog_sha256") if not entry.get(k)]
        if missing:
            raise RequestError(f"{filename}: {code}: missing {', '.join(missing)}")
        try:
            on = date.fromisoformat(str(entry["date"]).strip())
        except ValueError:
            raise RequestError(f"{filename}: {code}: date must be YYYY-MM-DD") from None
        sha = str(entry["catalog_sha256"]).strip().lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise RequestError(f"{filename}: {code}: catalog_sha256 must be the 64-character hash "
                               "`regimens languages` prints")
        reviewer = str(entry["reviewed_by"]).strip()
        out[str(code)] = Review(str(code), reviewer, on, sha)
    return out


def review_of(code: str, catalog_sha256: str | None, reviews: dict[str, Review]) -> Review | None:
    """The review that covers this exact catalog, or None (then the output says "not reviewed")."""
    r = reviews.get(code)
    if r is None or catalog_sha256 is None or r.catalog_sha256 != catalog_sha256:
        return None
    return r
