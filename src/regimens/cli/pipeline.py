"""From command-line parameters to a Timeline: the one path every output command shares."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..catalog import from_env
from ..compiler import compile as compile_timeline
from ..errors import RegimensError
from ..request import ScheduleRequest
from ..source import ProtocolFile
from ..timeline import Timeline
from .options import administration_times, parse_date, parse_pairs


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


def load_protocol(ref: str | None, protocols_dir: str | None) -> ProtocolFile:
    if not ref:
        raise RegimensError("missing protocol: give a protocol id (see `regimens list`) or a .yaml path")
    return from_env(protocols_dir, dict(os.environ)).load(ref)


def build(params: dict[str, Any]) -> Built:
    """Load the protocol, merge plan and options, compile. Dosing is applied by `resolve` hooks."""
    pf = load_protocol(params.get("protocol"), params.get("protocols_dir"))
    if params.get("start") is None:
        raise RegimensError("missing --start YYYY-MM-DD (day 1 of the first element)")
    actual = {k: parse_date(v, f"--actual-start {k}") for k, v in
              parse_pairs(params.get("actual_start") or (), "--actual-start").items()}
    request = ScheduleRequest(
        start=params["start"],
        arm=params.get("arm"),
        choices=parse_pairs(params.get("choose") or (), "--choose"),
        actual_starts=actual,
        start_at=params.get("start_at"),
        times=administration_times(params),
    )
    tl = compile_timeline(pf, request)
    # Dosing (issue 4) plugs in here: measurements + modifications -> patient doses.
    return Built(pf, tl)
