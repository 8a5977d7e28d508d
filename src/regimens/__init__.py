"""regimens: oncology treatment protocols compiled into per-patient dose schedules.

The public API a script uses (documented in docs/api.md); everything else is private and may
change between releases. Names are resolved lazily (PEP 562) so that `regimens --help`, which
imports this package, does not pay for pydantic, YAML or icalendar.

    import regimens
    pf = regimens.load("nct03114865")
    tl = regimens.compile(pf, regimens.ScheduleRequest(start=date(2027, 1, 4)))
    tl = regimens.resolve_doses(tl, regimens.Measurements(height_cm=175, weight_kg=80))
    ics_bytes = regimens.to_ics(tl, regimens.IcsOptions(tz="America/Chicago"), generated)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_API: dict[str, tuple[str, str]] = {
    "Catalog": ("regimens.protocol.catalog", "Catalog"),
    "load_path": ("regimens.protocol.loader", "load_path"),
    "ProtocolFile": ("regimens.protocol.loader", "ProtocolFile"),
    "ScheduleRequest": ("regimens.schedule.request", "ScheduleRequest"),
    "AdministrationTimes": ("regimens.schedule.request", "AdministrationTimes"),
    "compile": ("regimens.schedule.compiler", "compile"),
    "Timeline": ("regimens.schedule.timeline", "Timeline"),
    "DoseEvent": ("regimens.schedule.timeline", "DoseEvent"),
    "in_zone": ("regimens.schedule.timeline", "in_zone"),
    "Measurements": ("regimens.dosing.bsa", "Measurements"),
    "resolve_doses": ("regimens.dosing.doses", "resolve_doses"),
    "parse_modification": ("regimens.dosing.doses", "parse_modification"),
    "load_plan": ("regimens.plans.plan", "load_plan"),
    "to_json": ("regimens.exporters.tabular", "to_json"),
    "to_csv": ("regimens.exporters.tabular", "to_csv"),
    "IcsOptions": ("regimens.exporters.ics", "IcsOptions"),
    "to_ics": ("regimens.exporters.ics", "to_ics"),
    "Selection": ("regimens.exporters.sheet", "Selection"),
    "SheetOptions": ("regimens.exporters.sheet", "SheetOptions"),
    "render_html": ("regimens.exporters.sheet", "render_html"),
    "render_pdf": ("regimens.exporters.sheet", "render_pdf"),
    "RegimensError": ("regimens.errors", "RegimensError"),
}

__all__ = ["__version__", "load", *sorted(_API)]  # noqa: PLE0604 - the table above is the list


def load(ref: str, protocols_dir: str | None = None):
    """A protocol by id (shipped, or from a site folder) or by path to a .yaml file."""
    from pathlib import Path

    from regimens.protocol.catalog import Catalog

    return (Catalog(Path(protocols_dir)) if protocols_dir else Catalog()).load(ref)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _API[name]
    except KeyError:
        raise AttributeError(f"module 'regimens' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
