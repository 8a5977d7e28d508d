"""The `sheet` command: nurse administration sheet, pharmacist check sheet, patient calendar."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from regimens.cli.languages_cmd import LANG_DIR, REVIEWS, note_untranslated, patient_language_of
from regimens.cli.options import (
    DATE,
    complete_cycle,
    output_options,
    patient_options,
    schedule_options,
    times_options,
    zone_option,
)
from regimens.cli.output import check_writable, emit, quiet


@click.command()
@schedule_options
@patient_options
@times_options
@zone_option
@click.option("--kind", type=click.Choice(["nurse", "pharmacist", "patient"]), default="nurse", show_default=True,
              help="nurse: administration sheet to give and sign doses; pharmacist: dose working and "
                   "cumulative doses; patient: month calendar in plain words.")
@click.option("--layout", type=click.Choice(["day", "overview"]), default="day", show_default=True,
              help="Nurse sheet: a page per treatment day, or one row per day.")
@click.option("--cycle", metavar="N|CYCLE_ID", shell_complete=complete_cycle, help="Only this cycle (number, or cycle id from `timeline`).")
@click.option("--phase", metavar="NAME", help="Only this phase (id or name).")
@click.option("--from", "date_from", type=DATE, help="Only events on or after this date.")
@click.option("--to", "date_to", type=DATE, help="Only events on or before this date.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default=None,
              help="Default: from the -o file's extension (.pdf or .html).")
@click.option("--paper", type=click.Choice(["letter", "a4"]), default="letter", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Processes laying out a long PDF in page groups. Default: all cores.")
@click.option("--patient-name", help="Printed on the sheet only when given.")
@click.option("--mrn", help="Medical record number, printed only when given.")
@click.option("--dob", help="Date of birth as it should be printed, only when given.")
@click.option("--allergies", help='Allergies line, e.g. "penicillin (rash)" or "nil known allergies".')
@click.option("--tall-man", "tall_man_path", type=click.Path(dir_okay=False),
              help="Tall-man list (YAML `generic: TALLman` or CSV `generic,TALLman`) replacing the "
                   "built-in US list of verified entries.")
@click.option("--language", "language_code", metavar="CODE", envvar="REGIMENS_LANGUAGE",
              help="Patient calendar in the patient's language: es, zh_Hans, vi, ar (see `regimens languages`).")
@click.option("--feed-url", metavar="URL",
              help="Patient calendar: print this calendar feed link (the one the clinic service shows when "
                   "a feed is made) as QR codes with subscribe steps. The link is private: keep it out of shared files.")
@LANG_DIR
@REVIEWS
@output_options
def sheet(kind, layout, cycle, phase, date_from, date_to, fmt, paper, jobs, patient_name, mrn, dob, allergies,
          tall_man_path, language_code, feed_url, languages_dir, reviews_path, output, force, **params) -> None:
    """Printable sheets (HTML or PDF) from a compiled timeline.

    \b
    regimens sheet nct03114865 --start 2027-01-04 --kind nurse --cycle 1 -o c1.pdf
    regimens sheet nct03114865 --start 2027-01-04 --kind patient -o calendar.pdf
    regimens sheet nct03114865 --start 2027-01-04 --kind patient --feed-url https://calendar.hospital.example/feeds/TOKEN.ics -o calendar.pdf

    The format follows the -o extension (.pdf or .html); without -o, HTML goes to a pipe, never
    to the terminal. Patient identifiers are printed only when given.
    """
    if output == "-":  # standard output, as other commands read it
        output = None
    fmt = output_format(fmt, output)
    if kind != "nurse" and layout != "day":
        raise click.UsageError(f"--layout {layout} is for the nurse sheet only; leave it out with --kind {kind}")
    if fmt == "pdf" and output is None:
        raise click.UsageError("--format pdf needs -o FILE (a PDF is not written to the terminal)")
    if output is None and sys.stdout.isatty():
        raise click.UsageError("a sheet is a document, not terminal text: give -o FILE.pdf or -o FILE.html "
                               "(or pipe the HTML: ... | less)")
    check_writable(output, force)
    jobs = jobs or os.cpu_count() or 1
    with _workers(fmt, jobs, whole=not (cycle or phase or date_from or date_to)) as pool:
        _sheet(kind, layout, cycle, phase, date_from, date_to, fmt, paper, jobs, patient_name, mrn, dob, allergies,
               tall_man_path, language_code, feed_url, languages_dir, reviews_path, output, force, pool, params)


@contextmanager
def _workers(fmt: str, jobs: int, whole: bool):
    """For a whole-course PDF on several cores, the layout workers start before the HTML is made
    (their start-up, 0.7 s each, overlaps it) and their loading WeasyPrint is the check for a
    missing Pango; otherwise the check is made here, before any work."""
    if fmt != "pdf":
        yield None
        return
    from regimens.exporters import pdf

    if jobs <= 1 or not whole:
        pdf.check_available()  # a missing Pango is one line before any work
        yield None
        return
    pool = pdf.start_workers(jobs)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _sheet(kind, layout, cycle, phase, date_from, date_to, fmt, paper, jobs, patient_name, mrn, dob, allergies,
           tall_man_path, language_code, feed_url, languages_dir, reviews_path, output, force, pool, params) -> None:
    from regimens import __version__
    from regimens.cli.pipeline import build, generated_at
    from regimens.exporters.sheet import Selection, SheetOptions, render_html
    from regimens.notation.tallman import load_tall_man

    table = load_tall_man(tall_man_path) if tall_man_path else None
    if language_code and kind != "patient":
        raise click.UsageError("--language is for --kind patient: staff sheets stay in the site's language")
    if feed_url is not None and kind != "patient":
        raise click.UsageError("--feed-url is for --kind patient: the feed link is printed on the patient calendar")
    if feed_url is not None:
        from regimens.exporters.patient_feed import links

        links(feed_url)  # a malformed link is one line before any work (the message never repeats it)
    lang = patient_language_of(language_code, languages_dir, reviews_path)
    when = generated_at()
    built = build({**params, "kind": kind})  # the kind decides whether lifetime-dose lines are added
    for w in built.timeline.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    options = SheetOptions(kind=kind, layout=layout, paper=paper, patient_name=_text(patient_name),
                           mrn=_text(mrn), dob=_text(dob), allergies=_text(allergies), tall_man=table,
                           generator=f"regimens {__version__}", language=lang, feed_url=feed_url)
    html = render_html(built.timeline, Selection(cycle=cycle, phase=phase, date_from=date_from, date_to=date_to),
                       options, when)
    note_untranslated(lang)
    if fmt == "html":
        emit(html.encode("utf-8"), output, force)
        return
    from regimens.exporters import pdf

    if pool is not None:
        pdf.check(pool)  # WeasyPrint loaded in the workers, or the one-line error
    with progress_bar("laying out pages") as progress:
        data = pdf.render_pdf(html, jobs=jobs, progress=progress, pool=pool)
    emit(data, output, force, pages=pdf.page_count(data))


def output_format(fmt: str | None, output: str | None) -> str:
    """--format, or the -o extension; a contradiction (-o x.pdf --format html) is refused."""
    suffix = Path(output).suffix.lower() if output else ""
    implied = {".pdf": "pdf", ".html": "html", ".htm": "html"}.get(suffix)
    if fmt and implied and fmt != implied:
        raise click.UsageError(f"--format {fmt} contradicts -o {output} ({suffix} is {implied}); "
                               f"give -o with a .{fmt} name or leave --format out")
    if fmt is None and output and implied is None:
        raise click.UsageError(f"-o {output}: cannot tell the format from {suffix or 'a name without an extension'}; "
                               "end the name in .pdf or .html, or give --format")
    return fmt or implied or "html"


@contextmanager
def progress_bar(label: str):
    """A progress callback: a bar on a terminal (stderr) unless -q, nothing otherwise."""
    if quiet() or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:
        def update(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        yield update


def _text(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else None
    return value or None
