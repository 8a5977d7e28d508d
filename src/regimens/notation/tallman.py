"""Reading a site's tall-man list (`--tall-man FILE`): YAML mapping or two-column CSV.

A jurisdiction keeps its own list (the reference notes AU/NZ lists differ from the US one), so a
file replaces regimens.notation.ismp.DEFAULT_TALL_MAN rather than merging into it: a site that wants
the US entries too copies them (docs/sheets.md shows the format).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from regimens.errors import RegimensError, read_text


def load_tall_man(path: str | Path) -> dict[str, str]:
    """`generic: TALLman` pairs from a .yaml/.yml or .csv file, checked entry by entry."""
    p = Path(path)
    text = read_text(p, f"--tall-man {path}")
    if p.suffix.lower() == ".csv":
        pairs = _csv_pairs(text, path)
    elif p.suffix.lower() in (".yaml", ".yml"):
        pairs = _yaml_pairs(text, path)
    else:
        raise RegimensError(f"--tall-man {path}: use a .yaml/.yml mapping or a .csv file with two columns")
    table: dict[str, str] = {}
    for where, generic, shown in pairs:
        generic, shown = generic.strip(), shown.strip()
        if not generic or not shown:
            raise RegimensError(f"--tall-man {path}:{where}: empty name; write `generic,TALLman`")
        # A typo in the tall-man form would print a different drug name on a sheet: refuse it.
        if generic.lower() != shown.lower():
            raise RegimensError(
                f"--tall-man {path}:{where}: {shown!r} is not {generic!r} in other letter case; "
                "the tall-man form must spell the same name")
        table[generic.lower()] = shown
    return table


def _yaml_pairs(text: str, path) -> list[tuple[str, str, str]]:
    import yaml  # here, not at the top: most runs never read or write this kind of file

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise RegimensError(f"--tall-man {path}{where}: not valid YAML; write one `generic: TALLman` per line") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise RegimensError(f"--tall-man {path}: expected a mapping of `generic: TALLman` lines")
    out = []
    for k, v in data.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise RegimensError(f"--tall-man {path}: entry {k!r}: both names must be text")
        out.append((k, k, v))
    return out


def _csv_pairs(text: str, path) -> list[tuple[str, str, str]]:
    out = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise RegimensError(f"--tall-man {path}:{n}: expected two columns `generic,TALLman`, got {len(row)}")
        if n == 1 and row[0].strip().lower() in ("generic", "name", "drug"):
            continue  # header row
        out.append((str(n), row[0], row[1]))
    return out
