"""The `sheet` command: nurse administration sheet, pharmacist check sheet, patient calendar."""

from __future__ import annotations

import click

from regimens.cli.options import DATE, output_options, patient_options, schedule_options, times_options
from regimens.cli.languages_cmd import LANG_DIR, REVIEWS, patient_language_of
from regimens.cli.output import check_writable, emit


@click.command()
@schedule_options
@patient_options
@times_options
@click.option("--kind", type=click.Choice(["nurse", "pharmacist", "patient"]), default="nurse", show_default=True,
              help="nurse: administration sheet to give and sign doses; pharmacist: dose working and "
                   "cumulative doses; patient: month calendar in plain words.")
@click.option("--layout", type=click.Choice(["day", "overview"]), default="day", show_default=True,
              help="Nurse sheet: a page per treatment day, or one row per day.")
@click.option("--cycle", metavar="N|CYCLE_ID", help="Only this cycle (number, or cycle id from `timeline`).")
@click.option("--phase", metavar="NAME", help="Only this phase (id or name).")
@click.option("--from", "date_from", type=DATE, help="Only events on or after this date.")
@click.option("--to", "date_to", type=DATE, help="Only events on or before this date.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option("--paper", type=click.Choice(["letter", "a4"]), default="letter", show_default=True)
@click.option("--patient-name", help="Printed on the sheet only when given.")
@click.option("--mrn", help="Medical record number, printed only when given.")
@click.option("--dob", help="Date of birth as it should be printed, only when given.")
@click.option("--allergies", help='Allergies line, e.g. "penicillin (rash)" or "nil known allergies".')
@click.option("--tall-man", "tall_man_path", type=click.Path(dir_okay=False),
              help="Tall-man list (YAML `generic: TALLman` or CSV `generic,TALLman`) replacing the "
                   "built-in US list of verified entries.")
@click.option("--language", "language_code", metavar="CODE", envvar="REGIMENS_LANGUAGE",
              help="Patient calendar in the patient's language: es, zh_Hans, vi, ar (see `regimens languages`).")
@LANG_DIR
@REVIEWS
@output_options
def sheet(kind, layout, cycle, phase, date_from, date_to, fmt, paper, patient_name, mrn, dob, allergies,
          tall_man_path, language_code, languages_dir, reviews_path, output, force, **params) -> None:
    """Printable sheets (HTML or PDF) from a compiled timeline.

    \b
    regimens sheet nct03114865 --start 2027-01-04 --kind nurse --cycle 1 -o c1.html
    regimens sheet nct03114865 --start 2027-01-04 --kind patient --format pdf -o calendar.pdf

    A PDF is written only with -o (it is binary); patient identifiers are printed only when given.
    """
    from regimens import __version__
    from regimens.cli.pipeline import build, generated_at
    from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf
    from regimens.notation.tallman import load_tall_man

    if fmt == "pdf" and output is None:
        raise click.UsageError("--format pdf needs -o FILE (a PDF is not written to the terminal)")
    check_writable(output, force)
    table = load_tall_man(tall_man_path) if tall_man_path else None
    if language_code and kind != "patient":
        raise click.UsageError("--language is for --kind patient: staff sheets stay in the site's language")
    lang = patient_language_of(language_code, languages_dir, reviews_path)
    when = generated_at()
    built = build({**params, "kind": kind})  # the kind decides whether lifetime-dose lines are added
    for w in built.timeline.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    options = SheetOptions(kind=kind, layout=layout, paper=paper, patient_name=_text(patient_name),
                           mrn=_text(mrn), dob=_text(dob), allergies=_text(allergies), tall_man=table,
                           generator=f"regimens {__version__}", language=lang)
    html = render_html(built.timeline, Selection(cycle=cycle, phase=phase, date_from=date_from, date_to=date_to),
                       options, when)
    emit(render_pdf(html) if fmt == "pdf" else html.encode("utf-8"), output, force)


def _text(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value or None
