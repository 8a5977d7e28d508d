"""Calendar feeds of verified plans (docs/feeds.md).

A feed is a capability URL (`/feeds/<token>.ics`): calendar apps cannot send credentials, so the
long random token is the credential. Only its SHA-256 is stored; the token is shown once, when
the feed is made (or rotated), and never logged. The wording (full or minimal) is fixed for the
life of a token — a different wording is a new token — so a feed's bytes are a function of its
plan's verified revision, which is what makes a 304 to If-Modified-Since safe (exporters/feed.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from regimens.web.clinic.models import Revision, TreatmentPlan

FULL, MINIMAL = "full", "minimal"
AUDIENCES = [(FULL, "Full: medicine names and doses"),
             (MINIMAL, "Minimal: “Clinic visit 09:30”, “Take your tablets”, no medicine names")]
PATIENT, CARER = "patient", "carer"
HOLDERS = [(PATIENT, "Patient"), (CARER, "Carer (a second, view-only feed)")]


class FeedToken(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    """Opaque id for the staff pages (never the token)."""
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="feeds")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    audience = models.CharField(max_length=10, choices=AUDIENCES)
    holder = models.CharField(max_length=10, choices=HOLDERS, default=PATIENT)
    email = models.EmailField(blank=True, default="")
    """Where same-day change e-mails go (optional)."""
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by")
    """The token this one rotated."""

    class Meta:
        ordering = ["plan", "-created_at"]
        permissions = [("manage_feeds", "Create, rotate and revoke calendar feeds; send change e-mails")]

    def __str__(self) -> str:
        return f"{self.get_holder_display()} feed ({self.audience})"


class FeedAccess(models.Model):
    """One request for a feed: when, from where, with what app, and the answer. Never the token."""

    feed = models.ForeignKey(FeedToken, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    agent = models.CharField(max_length=120, blank=True, default="")
    status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["feed", "at"])]


class FeedBody(models.Model):
    """The served bytes of one verified revision in one wording, built once (so a conditional
    request never compiles the schedule) and kept across restarts and worker processes."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=10, choices=AUDIENCES)
    version = models.CharField(max_length=40)
    """Software that built it: a new version rebuilds rather than serving another's bytes."""
    body = models.BinaryField()
    digest = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    modified = models.DateTimeField()
    """The revision's verification time: Last-Modified, DTSTAMP and LAST-MODIFIED."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["revision", "audience", "version"],
                                               name="feed_body_unique")]
