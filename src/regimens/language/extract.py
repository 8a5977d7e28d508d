"""The message template (POT) for translators, extracted with Babel from the code and templates
that write patient-facing text. Only text marked for translation is taken: `_("…")` and
`ngettext(…)` in Python, `{{ _("…") }}` and `{% trans %}` in Jinja2 templates."""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

from regimens.language.catalogs import DOMAIN

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# Where patient text lives. Staff sheets are not translated (they stay in the site's language).
METHOD_MAP = [
    ("language/site.py", "python"),
    ("exporters/**.py", "python"),
    ("exporters/templates/**.j2", "jinja2.ext:babel_extract"),
    ("web/**.py", "python"),
    ("web/**/templates/**.html", "jinja2.ext:babel_extract"),
]
OPTIONS = {"exporters/templates/**.j2": {"trimmed": "true"}}


def package_dir() -> Path:
    return Path(str(resources.files("regimens")))


def extract_catalog(root: Path | None = None):
    """A Babel Catalog of every marked message, with the file:line of each use."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    base = root or package_dir()
    catalog = Catalog(domain=DOMAIN, project="regimens", charset="utf-8",
                      msgid_bugs_address="", copyright_holder="regimens contributors")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(base), METHOD_MAP, OPTIONS, keywords=KEYWORDS, comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def template_bytes(root: Path | None = None) -> bytes:
    """The POT file (no creation date, so the bytes are the same run to run)."""
    from babel.messages.pofile import write_po

    from datetime import datetime, timezone

    catalog = extract_catalog(root)
    # Fixed dates and header: the same code gives the same template bytes (no clock read).
    catalog.creation_date = catalog.revision_date = datetime(2027, 1, 1, tzinfo=timezone.utc)
    catalog.header_comment = ("# Patient-facing text of regimens, for translators.\n"
                              "# A translation is clinical content: see docs/languages.md.")
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, sort_output=True)
    return buf.getvalue()
