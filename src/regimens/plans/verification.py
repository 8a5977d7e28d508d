"""Two-person verification of a plan revision: what the second pharmacist's signature is bound to.

A verification is bound to a digest of the *compiled* result of a plan, not to the plan text
alone: the dated timeline, every patient dose with its working, the protocol's identity and
content hash, and the warnings. Anything that changes a date, a dose or its working (a change
recorded in the plan, a new protocol version, different rounding rules) changes the digest, so a
verification made before it no longer matches and the revision must be verified again.

Used by the service (web/) and by anything else that releases a schedule (calendar feeds, the
CLI), so that they all compute the same digest. Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from regimens.dosing.rounding import RoundingRules, load_rules
from regimens.errors import RegimensError
from regimens.plans.changes import realise
from regimens.plans.plan import Plan
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.request import AdministrationTimes
from regimens.schedule.timeline import Timeline, in_zone

DIGEST_VERSION = "regimens-verification/1"


class VerificationError(RegimensError):
    """A verification that must not happen (own work) or no longer holds (digest changed)."""


def compile_plan(pf: ProtocolFile, plan: Plan, rounding: RoundingRules | None = None,
                 times: AdministrationTimes | None = None, zone: str | None = None) -> Timeline:
    """The plan's timeline as the treatment really is (plans.changes.realise: compiled, patient
    doses, moves, closures, ceased drugs, recorded administrations): the same path as the CLI's
    `--plan`, so the service, the feeds and the command line agree on every date and dose.
    `zone`: the clinic's zone, so stop times are on its clock (schedule/timeline.in_zone)."""
    extra = {"times": times} if times is not None else {}
    tl, _closures = realise(pf, plan, rounding or load_rules(), **extra)
    return in_zone(tl, zone) if zone else tl


def _canonical(tl: Timeline) -> dict[str, Any]:
    # The revision number is left out on purpose: renumbering alone changes no date or dose.
    return {
        "format": DIGEST_VERSION,
        "protocol": {"id": tl.protocol_id, "version": tl.protocol_version, "content_hash": tl.content_hash},
        "arm": tl.arm,
        "choices": [list(c) for c in tl.choices],
        "start": tl.start.isoformat(),
        "cycles": [[c.cycle_id, c.start.isoformat(), c.length_days] for c in tl.cycles],
        "events": [e.to_dict() for e in tl.events],
        "warnings": list(tl.warnings),
    }


def timeline_digest(tl: Timeline) -> str:
    """sha256 (hex) of the compiled timeline and every dose working, in a canonical JSON form."""
    text = json.dumps(_canonical(tl), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_verifier(author: str, verifier: str) -> None:
    """A pharmacist never verifies their own plan or change (independent double check)."""
    if not author or not verifier:
        raise VerificationError("a verification needs both the author and the verifier")
    if author == verifier:
        raise VerificationError("you wrote this revision: a second pharmacist, not its author, must verify it")


def check_digest(verified: str | None, current: str) -> None:
    """Refuse to release a revision whose verification is missing or no longer matches."""
    if not verified:
        raise VerificationError("this revision is awaiting verification by a second pharmacist")
    if verified != current:
        raise VerificationError(
            "the compiled schedule no longer matches what was verified (the protocol, rounding rules or"
            " plan changed since): a pharmacist must verify it again")
