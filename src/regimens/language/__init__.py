"""Patient-facing text in the patient's language: gettext catalogs (one .po file per language,
compiled in memory with Babel), locale-aware dates, weekday and month names and the first day of
the week (Babel/CLDR), right-to-left scripts, and each catalog's clinical review state.

Layer 1 (beside notation): imports only `regimens.errors`. Staff-facing outputs never use it.
"""
