"""`regimens batch PATIENTS.csv --outdir DIR`: every patient's outputs, on all cores (docs/batch.md).

The per-row work is regimens.batch.render_patient (library, no click); this module only spreads the
rows over processes, writes each file atomically, shows progress on a terminal and reports.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from regimens.errors import ProtocolError, RegimensError


def _one_line(number: int, exc: BaseException) -> str:
    if isinstance(exc, ProtocolError):
        first = exc.diagnostics[0] if exc.diagnostics else None
        more = len(exc.diagnostics) - 1
        text = f"protocol file is invalid: {first}" + (f" (and {more} more; run `regimens validate`)" if more else "")
    else:
        from regimens.batch import in_column_words

        text = in_column_words(" ".join(str(exc).split()))
    return text if text.startswith(f"row {number}:") else f"row {number}: {text}"


def process_row(row, ctx, outdir: str, force: bool) -> tuple[int, str, str, tuple[str, ...]]:
    """Render one row and write its files; never raises. Returns (row, status, message, files).
    status: `ok`, `error` (bad input) or `internal` (a bug). Runs in a worker process."""
    from regimens.batch import output_names, render_patient
    from regimens.cli.output import write_set

    try:
        names = output_names(row, ctx)
        if not force:
            for name in names:
                if (Path(outdir) / name).exists():
                    raise RegimensError(f"{name} already exists in {outdir}; use --force to replace it")
        files = render_patient(row, ctx)  # everything in memory first: a bad row writes nothing
        # all of the row's files or none (a full disk midway takes back the ones already written)
        write_set([(Path(outdir) / name, data) for name, data in files], force=force)
        return row.number, "ok", "", tuple(n for n, _ in files)
    except RegimensError as exc:
        return row.number, "error", _one_line(row.number, exc), ()
    except Exception as exc:  # a bug must not stop the other patients
        # The exception text is left out: it may quote the row's measurements (patient data).
        return row.number, "internal", (
            f"row {row.number}: internal error ({type(exc).__name__}); please report it, and run this"
            " patient alone with `regimens --debug timeline ...` to see where"), ()


@click.command("batch")
@click.argument("patients", type=click.Path(dir_okay=False))
@click.option("--outdir", required=True, type=click.Path(file_okay=False),
              help="Directory for the outputs (created if missing; its parent must exist).")
@click.option("--outputs", "outputs", metavar="KINDS",
              help="Default output kinds for rows without an `outputs` column value, comma-separated: "
                   "json, csv, ics, nurse, pharmacist, patient. Default: json, ics and the three sheets "
                   "(those this version has).")
@click.option("--tz", "tz", envvar="REGIMENS_TZ", metavar="AREA/CITY",
              help="Clinic time zone for calendars (IANA name). [env: REGIMENS_TZ]")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None,
              help="Worker processes. Default: all cores.")
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
@click.option("--force", is_flag=True, help="Replace existing output files.")
def batch_cmd(patients: str, outdir: str, outputs: str | None, tz: str | None, jobs: int | None,
              protocols_dir: str | None, force: bool) -> None:
    """Write timelines, calendars and sheets for many patients: one row per patient.

    \b
    PATIENTS.csv columns: protocol, start (required); id, arm, choices ("a=1; b=2"), height, weight,
    bsa, age, measured_on, bsa_formula, outputs (optional). See docs/batch.md.

    A failing row is reported (row number and one line) and the others go on; the exit code is
    2 when any row failed. Output files are named after the `id` column, or row-NNNN.
    """
    from regimens.batch import BatchContext, default_kinds, parse_kinds, read_patients
    from regimens.cli.pipeline import generated_at, protocol_cache_dir

    from regimens.errors import read_text

    text = read_text(patients, f"patients file {patients!r}")
    if tz is not None:
        from regimens.cli.ics_cmd import check_zone

        tz = check_zone(tz)  # EST, chicago: the Area/City meant (docs/cli.md)
        _check_zone(tz)  # once for the batch, not once per row
    kinds = parse_kinds(outputs, "--outputs") if outputs else default_kinds()
    rows = read_patients(text)
    if not rows:
        raise RegimensError(f"{patients} has a header but no patient rows")
    out = Path(outdir)
    if not out.is_dir():
        if not out.parent.is_dir():
            raise RegimensError(f"cannot create {outdir}: directory {str(out.parent)!r} does not exist")
        out.mkdir()
    if tz is None and "ics" in kinds and not outputs:
        kinds = tuple(k for k in kinds if k != "ics")
        click.echo("regimens: note: no --tz given, so no calendars (.ics); give --tz Area/City for them",
                   err=True)
    ctx = BatchContext(protocols_dir=protocols_dir, default_outputs=kinds, generated_at=generated_at(), tz=tz,
                       cache_dir=protocol_cache_dir())
    try:
        results = _run(rows, ctx, str(out), force, jobs or os.cpu_count() or 1)
    except KeyboardInterrupt:
        # Workers ignore Ctrl-C and finish the file they are writing; nothing is left half-written.
        click.echo(f"regimens: interrupted; the files already in {outdir} are complete, the remaining rows"
                   " were not written (run again with --force, or remove those rows)", err=True)
        raise click.exceptions.Exit(130) from None

    failed = sorted(r for r in results if r[1] != "ok")
    for _, _, message, _ in failed:
        click.echo(f"regimens: error: {patients} {message}", err=True)
    ok = [r for r in results if r[1] == "ok"]
    files = sum(len(r[3]) for r in ok)
    click.echo(f"regimens: batch: {len(ok)} of {len(results)} patients written to {outdir} ({files} files)"
               + (f"; {len(failed)} failed (rows {', '.join(str(r[0]) for r in failed)})" if failed else ""),
               err=True)
    if any(r[1] == "internal" for r in failed):
        raise click.exceptions.Exit(1)
    if failed:
        raise click.exceptions.Exit(2)


def _run(rows, ctx, outdir: str, force: bool, jobs: int) -> list[tuple[int, str, str, tuple[str, ...]]]:
    from regimens.batch import RowError

    results = [(r.number, "error", str(r), ()) for r in rows if isinstance(r, RowError)]
    todo = [r for r in rows if not isinstance(r, RowError)]
    show = sys.stderr.isatty()
    with click.progressbar(length=len(rows), label="patients", file=sys.stderr,
                           hidden=not show) as bar:
        bar.update(len(results))
        if jobs == 1 or len(todo) <= 1:
            before = _fewer_collections()
            try:
                for row in todo:
                    results.append(process_row(row, ctx, outdir, force))
                    bar.update(1)
            finally:
                _usual_collections(before)
        else:
            # Ctrl-C only sets a flag: raising inside the executor's machinery can deadlock it.
            # Rows not started are cancelled, running ones finish their files, then we stop.
            import signal
            import threading
            from concurrent.futures import ProcessPoolExecutor, as_completed

            stop = threading.Event()
            previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
            try:
                with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_worker) as pool:
                    futures = {pool.submit(process_row, row, ctx, outdir, force): row for row in todo}
                    for fut in as_completed(futures):
                        try:
                            results.append(fut.result())
                        except Exception as exc:  # a worker died (killed, out of memory): report the row
                            n = futures[fut].number
                            results.append((n, "internal", f"row {n}: internal error ({type(exc).__name__});"
                                            " the worker process stopped; please report it", ()))
                        bar.update(1)
                        if stop.is_set():
                            for f in futures:
                                f.cancel()
                            break
            finally:
                signal.signal(signal.SIGINT, previous)
            if stop.is_set():
                raise KeyboardInterrupt
    return results


def _check_zone(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise RegimensError(f"--tz {tz!r} is not a time zone; give an IANA name such as America/Chicago"
                            " or Europe/Berlin") from None


def _worker() -> None:
    # Ctrl-C is handled once, by the parent: a worker stopped mid-row would only add tracebacks.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _fewer_collections()  # for the worker's whole life


GC_THRESHOLDS = (50_000, 50, 100)
"""The collector's thresholds in a batch (Python's default: 700, 10, 10)."""


def _fewer_collections() -> tuple[int, ...]:
    """A patient's outputs allocate a few hundred thousand short-lived objects (event dicts,
    template contexts, text), most of them freed by reference counting, and at Python's default
    thresholds the cyclic collector still ran about 40 times a patient and took 16-21 ms of its
    CPU, scanning the protocols and modules that live for the whole batch each time it reached
    the oldest generation. What exists now (imports, protocols already read) is frozen out of
    the collector's scans; the young generation is collected every 50,000 allocations, and the
    older ones rarely (50 and 100 times less often: at 10 and 10 the older collections cost
    as much as before). Measured in one process over 50 patients of the batch mix: 4-7 ms of
    collection a patient, a peak of 170 MB instead of 75 MB. Only the batch does this. Returns
    the thresholds before, for `_usual_collections` when the rows ran in the calling process."""
    import gc

    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


def _usual_collections(before: tuple[int, ...]) -> None:
    import gc

    gc.set_threshold(*before)
    gc.unfreeze()
