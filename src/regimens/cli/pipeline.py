"""From command-line parameters to a Timeline: the one path every output command shares."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from regimens.cli.options import administration_times
from regimens.errors import RegimensError
from regimens.protocol.catalog import from_env
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.timeline import Timeline


def generated_at(environ: dict[str, str] | None = None) -> datetime:
    """Generation time for DTSTAMP and footers: SOURCE_DATE_EPOCH when set (reproducible builds),
    otherwise now, to the second, in UTC."""
    env = os.environ if environ is None else environ
    sde = env.get("SOURCE_DATE_EPOCH")
    if sde:
        try:
            return datetime.fromtimestamp(int(sde), UTC)
        except (ValueError, OverflowError, OSError):
            raise RegimensError(f"SOURCE_DATE_EPOCH={sde!r} is not a Unix timestamp in seconds") from None
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Built:
    protocol: ProtocolFile
    timeline: Timeline
    extras: dict[str, Any] = field(default_factory=dict)


CACHE_ENV = "REGIMENS_CACHE_DIR"


def protocol_cache_dir(environ: dict[str, str] | None = None) -> str | None:
    """Where validated protocols are kept between runs (protocol/cache.py): $REGIMENS_CACHE_DIR,
    else `protocols` in the platform's user cache folder (~/.cache/regimens on Linux). An empty
    REGIMENS_CACHE_DIR turns the cache off."""
    env = os.environ if environ is None else environ
    value = env.get(CACHE_ENV)
    if value is not None:
        return value or None
    from platformdirs import user_cache_dir

    return os.path.join(user_cache_dir("regimens", appauthor=False), "protocols")


def catalog_of(protocols_dir: str | None):
    """The catalog a command reads protocols from (--protocols or $REGIMENS_PROTOCOLS; the cache)."""
    return from_env(protocols_dir, dict(os.environ), protocol_cache_dir())


def load_protocol(ref: str | None, protocols_dir: str | None) -> ProtocolFile:
    if not ref:
        raise RegimensError("missing protocol: give a protocol id (see `regimens list`) or a .yaml path")
    catalog = catalog_of(protocols_dir)
    try:
        return catalog.load(ref)
    except RegimensError as exc:
        if str(exc).startswith("unknown protocol"):
            near = did_you_mean(ref, catalog.ids())
            if near:
                raise RegimensError(f"unknown protocol {ref!r}; did you mean {near}? (see `regimens list`)") from None
        raise


def did_you_mean(given: str, known: list[str]) -> str | None:
    """The closest known name (`nct0311486` → nct03114865), or None."""
    import difflib

    lower = {k.lower(): k for k in known}
    near = difflib.get_close_matches(given.strip().lower(), list(lower), n=1, cutoff=0.7)
    return lower[near[0]] if near else None


def warn_far_start(start, today) -> str | None:
    """A start date years from today is usually a typo in the year (2207 for 2027)."""
    if start is None:
        return None
    years = abs(start.year - today.year)
    if years >= 2:
        return (f"--start {start.isoformat()} is {years} years from today ({today.isoformat()}); "
                "check the year")
    return None


def build(params: dict[str, Any]) -> Built:
    """Load the protocol, merge plan (--plan) and options (options win), compile, and calculate
    patient doses when measurements or modifications are given (cli/patient.py, docs/plans.md).
    extras["plan"] is the effective plan (what `plan new` would write)."""
    from regimens.cli import patient

    plan_path = params.get("plan_path")
    saved = patient.read_plan(plan_path) if plan_path else None
    pf = load_protocol(patient.protocol_ref(params, saved), params.get("protocols_dir"))
    labels = [a.label for a in pf.protocol.arms]
    arm = params.get("arm")
    if arm and arm not in labels:  # `--arm b` for arm B: the registry's letters, any case
        same = [label for label in labels if label.lower() == arm.strip().lower()]
        if same:
            params = {**params, "arm": same[0]}
    plan = patient.effective_plan(params, pf, saved, plan_path)
    # a site rounding file is checked now; the shipped rules are read when a dose is calculated
    rounding = patient.read_rounding(params["rounding_path"]) if params.get("rounding_path") else None
    # lifetime-dose lines for staff sheets of a saved plan (not calendars or patient sheets)
    cumulative = saved is not None and params.get("kind") in ("pharmacist", "nurse")
    tl = patient.timeline_of(pf, plan, rounding, cumulative=cumulative, times=administration_times(params))
    if saved is not None:
        tl = replace(tl, revision=saved.revision)
    if params.get("zone"):  # stop times of infusions over hours on the clinic's clock (schedule/timeline.py)
        from regimens.schedule.timeline import in_zone

        tl = in_zone(tl, params["zone"])
    far = warn_far_start(params.get("start"), datetime.now(UTC).date())
    if far:
        tl = replace(tl, warnings=(*tl.warnings, far))
    return Built(pf, tl, {"plan": plan, "saved_plan": saved})
