"""What the clinic keeps: patients, their plans, each plan revision (the plan file text plus the
digest of its compiled timeline), verifications, administrations and the audit trail.

The rules that protect patients live here and in the database, not in the pages:
- a revision's verifier is never its author (check constraint), and a verification records the
  digest it was made against (check constraint: equal to the revision's digest);
- a revision is never edited: a change is a new revision, which starts unverified;
- an administration's second checker is never the nurse who gave it (check constraint);
- audit rows are append-only (save/delete refused on existing rows; hash chain detects edits).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Patient(models.Model):
    """Minimal patient data: a display name and an optional record number. The id is opaque
    (a random UUID), and is what URLs carry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=120)
    record_number = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        indexes = [models.Index(fields=["display_name"]), models.Index(fields=["record_number"])]
        permissions = [("view_patients", "See patients and their plans")]

    def __str__(self) -> str:  # never logged; admin only
        return self.display_name


class TreatmentPlan(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    protocol_id = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    latest_number = models.PositiveIntegerField(default=0)
    """Number of the newest revision: the optimistic lock a save compares against."""
    released = models.ForeignKey("Revision", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    """The newest verified revision, the one nurses and patients get (set by release.verify)."""
    language = models.CharField(max_length=35, default="en")
    """The patient's language (a catalog code: en, es, zh_Hans, vi, ar or a site's): every
    patient-facing output of this plan is written in it; staff pages and sheets are not. Not part
    of a revision: it changes the words around the schedule, never a date or a dose
    (docs/service.md, "The patient's language")."""
    language_changed_at = models.DateTimeField(null=True, blank=True)
    """When the language was last changed: feeds send it as Last-Modified when later than the
    verification, so a calendar app polling with If-Modified-Since gets the new words."""

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("author_plan", "Create plans and record changes (pharmacist)"),
            ("verify_plan", "Verify another pharmacist's revision"),
            ("record_administration", "Record an administration (nurse)"),
        ]


class Revision(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    plan_text = models.TextField()
    """The plan file (YAML, regimens-plan/1) exactly as `regimens plan` would write it."""
    timeline_digest = models.CharField(max_length=64)
    """plans.verification.timeline_digest of the compiled timeline when the revision was made."""
    protocol_hash = models.CharField(max_length=64)
    snapshot = models.BinaryField()
    """The compiled timeline's header (protocol, arm, choices, start, warnings) as JSON (zlib);
    its events are in RevisionCycle, one row per cycle, so a page decodes only what it shows."""
    note = models.TextField(blank=True, default="")
    reason = models.TextField(blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_digest = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=Q(verified_by__isnull=True) | ~Q(verified_by=F("author")),
                                   name="verifier_is_not_author"),
            models.CheckConstraint(
                condition=(Q(verified_by__isnull=True, verified_at__isnull=True, verified_digest="")
                           | Q(verified_by__isnull=False, verified_at__isnull=False,
                               verified_digest=F("timeline_digest"))),
                name="verification_bound_to_digest"),
        ]

    @property
    def is_verified(self) -> bool:
        return self.verified_by_id is not None


class RevisionCycle(models.Model):
    """One cycle of a revision's compiled timeline, stored for pages (downloads and verification
    recompile from the plan text)."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="cycles")
    seq = models.PositiveIntegerField()
    cycle_id = models.CharField(max_length=80)
    phase = models.CharField(max_length=200)
    number = models.IntegerField()
    first = models.DateField()
    last = models.DateField()
    count = models.PositiveIntegerField()
    events = models.BinaryField()
    """The cycle's events as the timeline JSON records (docs/cli.md), zlib-compressed."""

    class Meta:
        ordering = ["revision", "seq"]
        constraints = [models.UniqueConstraint(fields=["revision", "cycle_id"], name="revision_cycle_unique")]


class SheetRow(models.Model):
    """One administration of the released revision, indexed by date for the nurse's "today" view
    (rebuilt when a revision is verified; holds no patient data beyond the plan's id)."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="rows")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="+")
    uid = models.CharField(max_length=80)
    date = models.DateField()
    time = models.TimeField(null=True, blank=True)
    kind = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    route = models.CharField(max_length=40, blank=True, default="")
    dose = models.CharField(max_length=120, blank=True, default="")
    cycle_id = models.CharField(max_length=80)
    day = models.IntegerField()
    status = models.CharField(max_length=20, default="planned")

    class Meta:
        indexes = [models.Index(fields=["date", "time"])]


class Administration(models.Model):
    """A dose given, recorded by the nurse who gave it and checked by a second person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="administrations")
    uid = models.CharField(max_length=80)
    given_at = models.DateTimeField()
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dose_given = models.CharField(max_length=120)
    note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(checked_by=F("given_by")), name="checker_is_not_giver"),
        ]


class AppendOnly(Exception):
    pass


class AuditEntry(models.Model):
    """One action, hash-chained to the one before (web/clinic/audit.py writes and checks them)."""

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    plan_ref = models.CharField(max_length=36, blank=True, default="")
    revision_ref = models.CharField(max_length=36, blank=True, default="")
    what = models.TextField()
    before = models.TextField(blank=True, default="")
    after = models.TextField(blank=True, default="")
    reason = models.TextField(blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["patient", "seq"])]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are never deleted")


class AuditHead(models.Model):
    """A single row locked while appending, so two writers never chain onto the same entry."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)


class SetupToken(models.Model):
    """The one-time link that creates the first administrator (stored hashed)."""

    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
