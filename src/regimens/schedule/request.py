"""What a user asks the compiler for. Patient data enters here (dates) and in dosing.py
(measurements) only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType


def _t(text: str) -> time:
    return time.fromisoformat(text)


@dataclass(frozen=True)
class AdministrationTimes:
    """Default clock times when the protocol gives only a day (configurable per clinic)."""

    clinic_start: time = _t("09:00")
    """Single daily IV/IT/SC/IM doses and continuous-infusion starts."""
    q12h_first: time = _t("08:00")
    """First dose of a q12h series (then 20:00, 08:00, ...)."""
    per_day: Mapping[int, tuple[time, ...]] = field(
        default_factory=lambda: MappingProxyType(
            {
                1: (_t("09:00"),),
                2: (_t("08:00"), _t("20:00")),
                3: (_t("08:00"), _t("14:00"), _t("20:00")),
                4: (_t("08:00"), _t("12:00"), _t("16:00"), _t("20:00")),
                5: (_t("06:00"), _t("10:00"), _t("14:00"), _t("18:00"), _t("22:00")),
                6: (_t("00:00"), _t("04:00"), _t("08:00"), _t("12:00"), _t("16:00"), _t("20:00")),
            }
        )
    )
    """Times for BID (2), TID (3), ... doses on one day."""


@dataclass(frozen=True)
class ScheduleRequest:
    start: date
    """Day 1 of the first element on the timeline."""
    arm: str | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    actual_starts: Mapping[str, date] = field(default_factory=dict)
    """cycle_id → actual day 1; everything after moves by the same delay."""
    start_at: str | None = None
    """Element id or cycle_id to begin the timeline at (earlier elements left out)."""
    times: AdministrationTimes = field(default_factory=AdministrationTimes)
    omit: Mapping[str, str] = field(default_factory=dict)
    """Selector → reason. Selector: a uid, a cycle_id, `cycle_id:day` or `cycle_id:day:drug`."""
    hold: Mapping[str, str] = field(default_factory=dict)
    """Like `omit`, for doses held (may be given later) rather than left out."""
