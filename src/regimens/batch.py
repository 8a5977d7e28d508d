"""Batch runs: one patient per row of a CSV file, each rendered to its outputs independently.

Pure library code (no click, no clock, no environment, no file writes): `read_patients` parses
the CSV text into rows, `render_patient` turns one row into named output bytes. The CLI
(cli/batch_cmd.py) spreads rows over processes and writes the files atomically, so a failing
row never stops the others and never leaves a partial file.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from regimens.errors import RegimensError, RequestError

REQUIRED = ("protocol", "start")
OPTIONAL = ("id", "arm", "choices", "height", "weight", "bsa", "age", "measured_on", "bsa_formula",
            "outputs")
COLUMNS = REQUIRED + OPTIONAL

KINDS = ("json", "csv", "ics", "nurse", "pharmacist", "patient")
"""Output kinds a row may ask for. `ics` needs regimens.exporters.ics, the three sheets
regimens.exporters.sheet; both are looked up when a batch runs (`available_kinds`)."""
SUFFIX = {"json": ".json", "csv": ".csv", "ics": ".ics", "nurse": ".nurse.html",
          "pharmacist": ".pharmacist.html", "patient": ".patient.html"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MEASURE = {"height": "height_cm", "weight": "weight_kg", "bsa": "bsa_m2", "age": "age_years"}
_UNIT = {"height": "cm", "weight": "kg", "bsa": "m2", "age": "years"}


class RowError(RegimensError):
    """One row cannot be read; the message never repeats the row's other patient values."""

    number: int = 0
    """Row number (set by read_patients)."""


@dataclass(frozen=True)
class PatientRow:
    number: int
    """Row number as a spreadsheet shows it (the header is row 1)."""
    stem: str
    """File name stem of this patient's outputs: the `id` column, or `row-0002`."""
    protocol: str
    start: date
    arm: str | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    measurements: Mapping[str, float] = field(default_factory=dict)
    """height_cm, weight_kg, bsa_m2, age_years (only those given)."""
    measured_on: date | None = None
    bsa_formula: str | None = None
    outputs: tuple[str, ...] | None = None
    """None: the batch's default kinds."""
    given_units: Mapping[str, tuple[float, str | None]] = field(default_factory=dict)
    """height and weight: (cm or kg, the value as written when it was in other units)."""


@dataclass(frozen=True)
class BatchContext:
    """What every row shares; picklable so that worker processes receive it."""

    protocols_dir: str | None
    default_outputs: tuple[str, ...]
    generated_at: datetime
    tz: str | None = None
    """Clinic time zone for calendars (None: no `ics` output possible)."""
    cache_dir: str | None = None
    """Parse cache of validated protocols (protocol/cache.py); None: parse in every worker."""


def available_kinds() -> tuple[str, ...]:
    """Kinds whose exporter is installed in this version (checked at run time)."""
    from importlib.util import find_spec

    kinds = ["json", "csv"]
    if find_spec("regimens.exporters.ics") is not None:
        kinds.append("ics")
    if find_spec("regimens.exporters.sheet") is not None:
        kinds.extend(("nurse", "pharmacist", "patient"))
    return tuple(kinds)


def default_kinds() -> tuple[str, ...]:
    """Timeline JSON, calendar and the three sheets (those installed); CSV only when asked."""
    return tuple(k for k in available_kinds() if k != "csv")


def parse_kinds(text: str, where: str) -> tuple[str, ...]:
    kinds = tuple(k.strip().lower() for k in re.split(r"[,;\s]+", text) if k.strip())
    if not kinds:
        raise RowError(f"{where}: no output kinds given; use some of {', '.join(KINDS)}")
    avail = available_kinds()
    for k in kinds:
        if k not in KINDS:
            raise RowError(f"{where}: unknown output kind {k!r}; use some of {', '.join(KINDS)}")
        if k not in avail:
            raise RowError(f"{where}: output kind {k!r} is not available in this version "
                           f"(available: {', '.join(avail)})")
    return tuple(dict.fromkeys(kinds))


# --- reading --------------------------------------------------------------------------------


def read_patients(text: str) -> list[PatientRow | RowError]:
    """Parse the CSV; a bad row becomes a RowError in its place, a bad header raises RequestError."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    # European spreadsheets save "CSV" with semicolons (the comma is their decimal mark): read it
    # as such when the header has semicolons and no commas.
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RequestError("the patients file is empty; the first row names the columns "
                           f"({', '.join(REQUIRED)} and any of {', '.join(OPTIONAL)})") from None
    except csv.Error as exc:
        raise RequestError(f"the patients file header cannot be read as CSV ({exc})") from None
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    dup = sorted({h for h in header if header.count(h) > 1})
    if missing or unknown or dup:
        what = (f"missing column {', '.join(missing)}" if missing else
                f"unknown column {unknown[0]!r}" if unknown else f"column {dup[0]!r} appears twice")
        raise RequestError(f"patients file header: {what}; columns are {', '.join(REQUIRED)} (required) "
                           f"and {', '.join(OPTIONAL)} (optional)")
    rows: list[PatientRow | RowError] = []
    stems: dict[str, int] = {}
    for number, values in enumerate(_records(reader), start=2):
        if isinstance(values, csv.Error):
            err = RowError(f"row {number}: cannot be read as CSV ({values}); check its quotes")
            err.number = number
            rows.append(err)
            break  # the reader cannot find where the next row starts
        if not any(v.strip() for v in values):
            continue  # blank line
        try:
            if len(values) != len(header):
                raise RowError(f"row {number}: {len(values)} values for {len(header)} columns; "
                               "check for a stray comma or a missing quote")
            row = _row(number, dict(zip(header, (v.strip() for v in values), strict=True)))
            if row.stem in stems:
                raise RowError(f"row {number}: id {row.stem!r} is already used by row {stems[row.stem]}; "
                               "ids name the output files and must be unique")
            stems[row.stem] = number
            rows.append(row)
        except RowError as exc:
            exc.number = number
            rows.append(exc)
    return rows


def _records(reader):
    """The reader's rows; a CSV error becomes the last item instead of an exception."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc
            return


def _row(number: int, v: dict[str, str]) -> PatientRow:
    where = f"row {number}"
    if not v.get("protocol"):
        raise RowError(f"{where}: protocol is empty; give a protocol id (see `regimens list`)")
    stem = v.get("id") or f"row-{number:04d}"
    if not _SAFE_ID.match(stem):
        raise RowError(f"{where}: id must be letters, digits, '-', '_' or '.', at most 64, "
                       "starting with a letter or digit (it names the output files)")
    units = _with_units(v, where)
    return PatientRow(
        number=number, stem=stem, protocol=v["protocol"], start=_date(v.get("start", ""), "start", where),
        arm=v.get("arm") or None, choices=_choices(v.get("choices", ""), where),
        measurements={key: (units[col][0] if col in units else _number(v[col], col, where))
                      for col, key in _MEASURE.items() if v.get(col)},
        given_units=units,
        measured_on=_date(v["measured_on"], "measured_on", where) if v.get("measured_on") else None,
        bsa_formula=v.get("bsa_formula") or None,
        outputs=parse_kinds(v["outputs"], f"{where} outputs") if v.get("outputs") else None,
    )


def _date(text: str, col: str, where: str) -> date:
    if not text:
        raise RowError(f"{where}: {col} is empty; write YYYY-MM-DD (e.g. 2027-01-04)")
    if not _ISO.match(text):
        raise RowError(f"{where}: {col} {text!r} is not in YYYY-MM-DD form (e.g. 2027-01-04)")
    try:
        d = date.fromisoformat(text)
    except ValueError:
        raise RowError(f"{where}: {col} {text!r} is not a real date; write YYYY-MM-DD") from None
    if not 1900 <= d.year <= 2199:  # as on the command line (cli/options.py)
        raise RowError(f"{where}: {col} {text!r} is outside the years 1900-2199; check the year")
    return d


def _with_units(v: dict[str, str], where: str) -> Mapping[str, tuple[float, str | None]]:
    """height/weight columns with the same units as --height/--weight (`154lb`, `5ft9in`; a bare
    number is kg/cm): column → (value in kg or cm, value as written when converted)."""
    from regimens.dosing.measurements import parse_height, parse_weight

    out = {}
    for col, parse in (("height", parse_height), ("weight", parse_weight)):
        if v.get(col):
            try:
                q = parse(v[col], col)
            except RequestError as exc:
                raise RowError(f"{where}: {exc}") from None
            out[col] = (q.value, q.given if q.converted else None)
    return out


def _number(text: str, col: str, where: str) -> float:
    try:
        x = float(text)
    except ValueError:
        if re.fullmatch(r"\d+,\d+", text):
            raise RowError(f"{where}: {col} {text!r}: use a decimal point, not a comma "
                           f"({text.replace(',', '.')})") from None
        raise RowError(f"{where}: {col} {text!r} is not a number; write it in {_UNIT[col]} "
                       "without the unit (e.g. 70.5)") from None
    if not math.isfinite(x) or x <= 0:
        raise RowError(f"{where}: {col} {text!r} must be a positive number in {_UNIT[col]}")
    return x


def _choices(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[;|]", text))):
        name, eq, value = (s.strip() for s in part.partition("="))
        if not eq or not name or not value:
            raise RowError(f"{where}: choice {part!r} must be NAME=VALUE (several: a=1; b=2)")
        if name in out and out[name] != value:
            raise RowError(f"{where}: choice {name!r} is given twice; give it once")
        out[name] = value
    return out


# --- rendering ------------------------------------------------------------------------------

# The library's messages name command-line options; in a batch the same values are columns.
_OPTION_TO_COLUMN = [
    (re.compile(r"--choose (\w+)=VALUE"), r"\1=VALUE in the choices column"),
    (re.compile(r"--choose\b"), "the choices column"),
    (re.compile(r"--measured-on\b"), "the measured_on column"),
    (re.compile(r"--bsa-formula\b"), "the bsa_formula column"),
    (re.compile(r"--(arm|height|weight|bsa|age|start)\b(?!-)"), r"the \1 column"),
    (re.compile(r"\bgive the (\w+) column"), r"fill the \1 column"),
]


def in_column_words(message: str) -> str:
    """`give --choose tki=VALUE` → `give tki=VALUE in the choices column`."""
    for pattern, repl in _OPTION_TO_COLUMN:
        message = pattern.sub(repl, message)
    return message



@lru_cache(maxsize=64)
def _protocol(protocols_dir: str | None, ref: str, cache_dir: str | None = None):
    # Parsing a protocol takes longer than compiling it: each worker process reads each file
    # once, and from the parse cache when an earlier run (or worker) validated it.
    from regimens.protocol.cache import ParseCache
    from regimens.protocol.catalog import Catalog

    return Catalog(Path(protocols_dir) if protocols_dir else None,
                   ParseCache(cache_dir) if cache_dir else None).load(ref)


def output_names(row: PatientRow, ctx: BatchContext) -> list[str]:
    """The file names a row writes, in a fixed order (deterministic: id or row number + kind)."""
    kinds = row.outputs or ctx.default_outputs
    return [row.stem + SUFFIX[k] for k in KINDS if k in kinds]


def render_patient(row: PatientRow, ctx: BatchContext) -> list[tuple[str, bytes]]:
    """Every output of one row, in memory: (file name, bytes). Raises RegimensError on bad input."""
    from regimens.dosing.doses import resolve_doses
    from regimens.plans.plan import Given, merge
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.timeline import in_zone

    pf = _protocol(ctx.protocols_dir, row.protocol, ctx.cache_dir)
    m = row.measurements
    given = Given(start=row.start, arm=row.arm, choices=dict(row.choices),
                  height_cm=m.get("height_cm"), weight_kg=m.get("weight_kg"),
                  height_given=row.given_units.get("height", (None, None))[1],
                  weight_given=row.given_units.get("weight", (None, None))[1], bsa_m2=m.get("bsa_m2"),
                  age_years=m.get("age_years"), measured_on=row.measured_on, bsa_formula=row.bsa_formula)
    plan = merge(None, pf, given)
    tl = compile_timeline(pf, plan.to_request())
    measurements, mods = plan.dosing()
    overrides = plan.cap_override_list()
    if measurements is not None or mods or overrides:
        tl = resolve_doses(tl, measurements, mods, _rules(), overrides, plan.confirmed_outside)
    if ctx.tz:  # every output of the row stops an infusion over hours on the clinic's clock
        tl = in_zone(tl, ctx.tz)
    kinds = row.outputs or ctx.default_outputs
    out: list[tuple[str, bytes]] = []
    for kind in KINDS:
        if kind in kinds:
            out.append((row.stem + SUFFIX[kind], _render(kind, tl, ctx)))
    return out


@lru_cache(maxsize=1)
def _rules():
    from regimens.dosing.rounding import load_rules

    return load_rules()


def _render(kind: str, tl, ctx: BatchContext) -> bytes:
    if kind in ("json", "csv"):
        from regimens.exporters import tabular

        return tabular.to_json(tl) if kind == "json" else tabular.to_csv(tl)
    if kind == "ics":
        from regimens.exporters import ics

        if ctx.tz is None:
            raise RequestError("calendars need the clinic's time zone: give --tz Area/City")
        opts = ics.IcsOptions(tz=ctx.tz)
        opts.check()
        return ics.to_ics(tl, opts, ctx.generated_at)
    from regimens.exporters.sheet import Selection, SheetOptions, render_html

    return render_html(tl, Selection(), SheetOptions(kind=kind), ctx.generated_at).encode("utf-8")
