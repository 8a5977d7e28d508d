"""English (the source language) is answered without loading CLDR data (start-up time of every
English output), and says what Babel says about English."""

from __future__ import annotations

import subprocess
import sys

from babel import Locale

from regimens.language.catalogs import SOURCE, language


def test_source_language_is_what_cldr_says():
    loc = Locale.parse("en")
    en = language("EN")
    assert en is SOURCE
    assert en.name == loc.get_display_name(loc) and en.english_name == loc.get_display_name("en")
    assert en.direction == ("rtl" if loc.character_order == "right-to-left" else "ltr")
    assert (en.code, en.html_lang, en.catalog_sha256, en.origin) == ("en", "en", None, "source")
    assert en.first_weekday == 0  # the Monday-first grid the calendar always had (CLDR's en is US, Sunday)


def test_english_needs_no_babel():
    code = "import sys; from regimens.language.catalogs import language; language('en'); print('babel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
