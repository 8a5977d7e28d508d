"""The audit trail: append-only, hash-chained entries (who, when, what, before → after, reason).

Each entry stores the hash of the one before and its own hash over its fields and that link, so
editing, deleting or reordering a row breaks the chain from that row on (`verify_chain`). Writers
lock the single AuditHead row (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the IMMEDIATE
transaction holds the write lock) so two requests never chain onto the same entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from regimens.web.clinic.models import AuditEntry, AuditHead, Patient

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "action", "patient", "plan_ref", "revision_ref", "what", "before", "after",
          "reason", "prev_hash")


def _payload(e: AuditEntry) -> dict:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "patient": str(e.patient_id) if e.patient_id else "", "plan_ref": e.plan_ref,
            "revision_ref": e.revision_ref, "what": e.what, "before": e.before, "after": e.after,
            "reason": e.reason, "prev_hash": e.prev_hash}


def entry_hash(e: AuditEntry) -> str:
    text = json.dumps(_payload(e), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(actor, action: str, what: str, *, patient: Patient | None = None, plan=None, revision=None,
           before: str = "", after: str = "", reason: str = "") -> AuditEntry:
    """Append one entry (inside the caller's transaction when there is one)."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            head = AuditHead.objects.create(id=1, last_hash=GENESIS)
        last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        e = AuditEntry(seq=last + 1, at=timezone.now(), actor=getattr(actor, "username", None) or str(actor),
                       action=action, patient=patient, plan_ref=str(plan.id) if plan else "",
                       revision_ref=str(revision.id) if revision else "", what=what, before=before,
                       after=after, reason=reason, prev_hash=head.last_hash)
        # The stored `at` is what the database returns (microseconds kept by both engines).
        e.hash = entry_hash(e)
        e.save(force_insert=True)
        AuditHead.objects.filter(id=1).update(last_hash=e.hash)
    return e


def verify_chain(entries: Iterable[AuditEntry] | None = None) -> list[str]:
    """Problems found walking the whole chain in order; empty when intact."""
    problems = []
    prev = GENESIS
    expected_seq = 1
    for e in entries if entries is not None else AuditEntry.objects.order_by("seq").iterator():
        if e.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next is {e.seq})")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: link to the entry before does not match")
        if entry_hash(e) != e.hash:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev = e.hash
        expected_seq = e.seq + 1
    head = AuditHead.objects.filter(id=1).values_list("last_hash", flat=True).first()
    if head is not None and head != prev:
        problems.append("the newest entry is missing (chain head does not match)")
    return problems


def rows(qs) -> list[dict]:
    """Entries as plain dicts for the CSV/JSON export (with their hashes, so the hospital can
    re-check the chain on its own)."""
    out = []
    for e in qs:
        d = _payload(e)
        d["hash"] = e.hash
        out.append(d)
    return out
