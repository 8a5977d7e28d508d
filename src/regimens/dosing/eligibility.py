"""Eligibility limits a protocol states as data (protocol.model.EligibilityLimit), checked against
the patient's measurements before doses are calculated (docs/dosing.md#eligibility).

A patient outside a limit (NCT03114865: "Weight <45 kg" is an exclusion criterion, and below 45 kg
the BLINCYTO label doses by BSA instead of the flat adult doses the record gives) gets no patient
dose unless the limit is confirmed by name with a reason; confirmed or not, every output warns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from regimens.errors import RequestError


def check(limits: Iterable, weight_kg: float | None, age_years: float | None,
          confirmed: Mapping[str, str]) -> list[str]:
    """Warnings for every limit the patient is outside of; RequestError for the first one that is
    not confirmed. A limit that depends on a value not given is not checked (nothing is guessed)."""
    limits = list(limits)
    known = {lim.id for lim in limits}
    for name in confirmed:
        if name not in known:
            raise RequestError(f"--confirm-outside {name!r}: this protocol states no such limit; "
                               f"limits: {', '.join(sorted(known)) or 'none'}")
    warnings = []
    for lim in limits:
        why = lim.outside(weight_kg, age_years)
        if why is None:
            continue
        tail = f"the record states {lim.criterion!r} (source {lim.source}): {lim.consequence}"
        if lim.id not in confirmed:
            raise RequestError(f"OUTSIDE ELIGIBILITY ({lim.id}): {why}; {tail}; no patient dose is calculated"
                               f" without a named confirmation: give --confirm-outside {lim.id} --reason TEXT")
        # the warning reaches calendars and sheets: it names the limit, not the patient's value
        warnings.append(f"OUTSIDE ELIGIBILITY ({lim.id}): the patient is outside this limit; {tail}; doses"
                        f" calculated as confirmed by --confirm-outside {lim.id}, reason: {confirmed[lim.id]}")
    return warnings
