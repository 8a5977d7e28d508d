"""`languages`: the patient languages, their catalogs' hashes and review state, and the message
template a site gives its translators."""

from __future__ import annotations

import click

from regimens.cli.output import check_writable, emit

LANG_DIR = click.option("--languages", "languages_dir", envvar="REGIMENS_LANGUAGES",
                        type=click.Path(file_okay=False),
                        help="Site folder of extra or replacement catalogs (CODE.po). [env: REGIMENS_LANGUAGES]")
REVIEWS = click.option("--language-reviews", "reviews_path", envvar="REGIMENS_LANGUAGE_REVIEWS",
                       type=click.Path(dir_okay=False),
                       help="Site file naming who reviewed which catalog. [env: REGIMENS_LANGUAGE_REVIEWS]")


def read_reviews(path: str | None) -> str | None:
    from regimens.errors import RegimensError

    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(1_000_000)
    except OSError as exc:
        raise RegimensError(f"cannot read language reviews {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RegimensError(f"language reviews {path} is not UTF-8 text") from None


def patient_language_of(code: str | None, languages_dir: str | None, reviews_path: str | None):
    """The patient language for --language (None when not given), with the site's review state."""
    if not code:
        return None
    from pathlib import Path

    from regimens.language.site import patient_language

    return patient_language(code, Path(languages_dir) if languages_dir else None,
                            read_reviews(reviews_path), reviews_path or "language reviews")


def note_untranslated(lang) -> None:
    """One note on stderr (not an error) when a patient output printed text in English for want
    of a translation in its catalog: the output marks each such text, this says how many."""
    if lang is None or not lang.untranslated:
        return
    n = len(lang.untranslated)
    click.echo(f"regimens: note: {n} {'text' if n == 1 else 'texts'} of this output {'has' if n == 1 else 'have'} "
               f"no {lang.lang.english_name} translation in the catalog ({lang.lang.origin}) and "
               f"{'is' if n == 1 else 'are'} printed in English, marked as such; see docs/languages.md",
               err=True)


@click.command("languages")
@LANG_DIR
@REVIEWS
@click.option("--template", "template", is_flag=True,
              help="Write the message template (POT) for translators instead of the list.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="With --template: file to write.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def languages_cmd(languages_dir: str | None, reviews_path: str | None, template: bool,
                  output: str | None, force: bool) -> None:
    """Patient languages: catalog hash and review state (patient outputs take --language CODE).

    Staff sheets stay in the site's language. A catalog is a draft until the site's review file
    names who reviewed it and its hash (docs/languages.md); until then every patient output in
    that language says, in both languages, that the translation has not been reviewed."""
    from pathlib import Path

    from regimens.language.catalogs import available
    from regimens.language.site import patient_language

    if template:
        from regimens.language.extract import template_bytes

        check_writable(output, force)
        emit(template_bytes(), output, force)
        return
    site = Path(languages_dir) if languages_dir else None
    text = read_reviews(reviews_path)
    for code in available(site):
        pl = patient_language(code, site, text, reviews_path or "language reviews")
        lang = pl.lang
        if lang.origin == "source":
            state = "source language"
        elif pl.review:
            state = f"reviewed by {pl.review.reviewed_by} on {pl.review.on.isoformat()}"
        else:
            state = "NOT REVIEWED (outputs say so)"
        click.echo(f"{lang.code:8} {lang.english_name:22} {lang.direction}  {lang.origin:8} "
                   f"{lang.catalog_sha256 or '-':64}  {state}")
