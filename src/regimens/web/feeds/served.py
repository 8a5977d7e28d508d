"""The bytes a feed serves, built once per verified revision and wording and cached (memory in
front of the FeedBody table), so that answering a poll — usually a 304 — costs a token lookup
and a tag comparison, never a schedule compile.

Every body is built through the service's release gate (`service.released`): nothing a second
pharmacist has not verified reaches a feed. While a newer revision awaits verification the plan
is not released; its feeds keep serving the last verified bytes (what every subscribed phone
already shows), never the draft.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from regimens import __version__
from regimens.exporters.feed import GZIP_MIN_BYTES, feed_calendar
from regimens.exporters.ics import IcsOptions, to_ics
from regimens.web.clinic import languages, service
from regimens.web.clinic.models import Revision, TreatmentPlan
from regimens.web.feeds.models import MINIMAL, FeedBody

VERSION = f"{__version__}+feed1"
"""Part of the cache key: bump the suffix when the served bytes change for the same release."""
BODIES_KEPT = 256
TAGS_KEPT = 200_000


class Unavailable(Exception):
    """No verified revision of this plan has been released yet."""


@dataclass
class Entity:
    body: bytes
    digest: str
    modified: datetime
    _gz: bytes | None = None

    @property
    def gzipped(self) -> bytes | None:
        if self._gz is None and len(self.body) >= GZIP_MIN_BYTES:
            self._gz = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gz


_lock = threading.Lock()
_building: dict[tuple, threading.Lock] = {}
_bodies: OrderedDict[tuple, Entity] = OrderedDict()
_tags: OrderedDict[tuple, tuple[str, datetime, int]] = OrderedDict()


def clear() -> None:
    """Forget the memory cache (tests; the FeedBody table stays)."""
    with _lock:
        _bodies.clear()
        _tags.clear()


def version_of(language: str | None) -> str:
    """FeedBody.version of a plan's feeds: the software, and the state of the plan's patient
    language (code, catalog hash, review), so a change of any of them builds new bytes."""
    return f"{VERSION} {languages.state(language)}"


def ics_options(audience: str, tp: TreatmentPlan) -> IcsOptions:
    """The calendar options of a feed: the clinic's zone, the wording in the plan's patient
    language, and UIDs unique to this plan (stable across revisions). Never a patient label: no
    name or record number in any feed."""
    return IcsOptions(tz=settings.REGIMENS_CALENDAR_TZ, audience="minimal" if audience == MINIMAL else "patient",
                      uid_salt=f"plan {tp.id}", language=languages.output_language(tp.language))


def calendar_of(rev: Revision, tl, audience: str, tp: TreatmentPlan,
                after: datetime | None = None) -> tuple[bytes, datetime]:
    """The feed bytes of a revision whose timeline the caller obtained through the release gate;
    `after`: a Last-Modified these bytes must be later than (bytes served before them)."""
    when = (rev.verified_at or rev.created_at).astimezone(UTC).replace(microsecond=0)
    if tp.language_changed_at is not None:
        # new words for the same schedule: a later Last-Modified, or If-Modified-Since keeps the old
        when = max(when, tp.language_changed_at.astimezone(UTC).replace(microsecond=0))
    if after is not None and when <= after:
        when = after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    # SEQUENCE is the plan revision (docs/ics.md): a moved event's is higher than before the move
    tl = dataclasses.replace(tl, revision=rev.number)
    return feed_calendar(to_ics(tl, ics_options(audience, tp), when), when), when


def _remember(key: tuple, ent: Entity) -> None:
    with _lock:
        _bodies[key] = ent
        _bodies.move_to_end(key)
        while len(_bodies) > BODIES_KEPT:
            _bodies.popitem(last=False)
        _tags[key] = (ent.digest, ent.modified, len(ent.body))
        _tags.move_to_end(key)
        while len(_tags) > TAGS_KEPT:
            _tags.popitem(last=False)


def released_revision_id(tp: TreatmentPlan) -> int | None:
    """The plan's released revision when it is the newest and verified (what `service.released`
    checks before compiling), else None."""
    rev = tp.released
    if rev is None or rev.number != tp.latest_number or rev.verified_by_id is None:
        return None
    return rev.id


@dataclass(frozen=True)
class Target:
    """What one poll needs to know about its feed, read in one query of a few columns (not the
    plan text or the stored timeline)."""

    feed_id: object
    revoked: bool
    audience: str
    plan_id: object
    current: int | None
    """The released revision's id when it is the plan's newest and verified, else None."""
    language: str = "en"
    """The plan's patient language (TreatmentPlan.language)."""


def lookup(token_digest: str) -> Target | None:
    """One indexed query. Written as SQL because it is the hot path of every poll: building the
    equivalent ORM query costs more than running it (bench/feeds_load.py)."""
    from django.db import connection

    from regimens.web.feeds.models import FeedToken

    f, p, r = FeedToken._meta.db_table, TreatmentPlan._meta.db_table, Revision._meta.db_table
    sql = (f"SELECT f.id, f.revoked, f.audience, f.plan_id, p.latest_number, p.released_id, r.number, "
           f"r.verified_by_id, p.language FROM {f} f JOIN {p} p ON p.id = f.plan_id LEFT JOIN {r} r ON r.id = p.released_id "
           f"WHERE f.token_hash = %s")
    with connection.cursor() as c:
        c.execute(sql, [token_digest])
        row = c.fetchone()
    if row is None:
        return None
    fid, revoked, audience, plan_id, latest, rid, rnum, verifier, language = row
    current = rid if rid is not None and rnum == latest and verifier is not None else None
    return Target(fid, bool(revoked), audience, plan_id, current, language or "en")


def key_for(t: Target) -> tuple:
    """The cache key (revision id, audience, version) of what a feed of this plan serves now;
    Unavailable when nothing is released."""
    if t.current is not None:
        return (t.current, t.audience, version_of(t.language))
    # A newer revision awaits verification: the last verified bytes built for this plan, in the
    # language they were built in (a language changed meanwhile arrives with the verification:
    # nothing new reaches a patient from a plan that is not released).
    from django.db.models import Q

    # (bytes built before plans had a language carry VERSION alone: English, still this software)
    last = list(FeedBody.objects.filter(Q(version=VERSION) | Q(version__startswith=VERSION + " "),
                                        revision__plan_id=t.plan_id, audience=t.audience)
                .order_by("-revision__number", "-id").values_list("revision_id", "version")[:1])
    if not last:
        raise Unavailable("no verified revision of this plan has been released yet")
    return (last[0][0], t.audience, last[0][1])


def tag(t: Target) -> tuple[tuple, str, datetime, int]:
    """(key, digest, modified, size) of what the feed serves now: memory, else the table, else
    built."""
    key = key_for(t)
    with _lock:
        hit = _tags.get(key)
    if hit is not None:
        return (key, *hit)
    row = list(FeedBody.objects.filter(revision_id=key[0], audience=t.audience, version=key[2]).order_by()
               .values_list("digest", "modified", "size")[:1])
    if row:
        with _lock:
            _tags[key] = row[0]
        return (key, *row[0])
    ent = _build(t.plan_id, t.audience, key)
    return key, ent.digest, ent.modified, len(ent.body)


def entity(t: Target, key: tuple) -> Entity:
    with _lock:
        hit = _bodies.get(key)
        if hit is not None:
            _bodies.move_to_end(key)
            return hit
    row = FeedBody.objects.filter(revision_id=key[0], audience=t.audience, version=key[2]).order_by().first()
    if row is None:
        return _build(t.plan_id, t.audience, key)
    ent = Entity(bytes(row.body), row.digest, row.modified)
    _remember(key, ent)
    return ent


def _build(plan_id, audience: str, key: tuple) -> Entity:
    """Compile and export through the release gate, once per key even under concurrent polls."""
    asked = key
    with _lock:
        gate = _building.setdefault(asked, threading.Lock())
    with gate:
        with _lock:
            if key in _bodies:
                return _bodies[key]
        row = FeedBody.objects.filter(revision_id=key[0], audience=audience, version=key[2]).order_by().first()
        if row is not None:
            ent = Entity(bytes(row.body), row.digest, row.modified)
        else:
            tp = TreatmentPlan.objects.get(id=plan_id)
            try:
                rev, _pf, _plan, tl = service.released(tp)
            except service.NotReleased as exc:
                raise Unavailable(str(exc)) from None
            if rev.id != key[0] or version_of(tp.language) != key[2]:
                # verified or language changed in between: build what is released now
                key = (rev.id, audience, version_of(tp.language))
            body, when = calendar_of(rev, tl, audience, tp)
            served_before = (FeedBody.objects.filter(revision=rev, audience=audience).exclude(version=key[2])
                             .order_by("-modified").values_list("digest", "modified").first())
            if served_before is not None and served_before[0] != hashlib.sha256(body).hexdigest() \
                    and when <= served_before[1]:
                # The same verified revision, new bytes: another software version or a change of
                # the language's catalog or review (the not-reviewed line goes). Last-Modified
                # must move past what subscribers hold, or one polling with If-Modified-Since
                # alone gets a 304 and keeps the old words. Derived from the stored row, so every
                # worker process builds the same bytes.
                body, when = calendar_of(rev, tl, audience, tp, after=served_before[1])
            ent = Entity(body, hashlib.sha256(body).hexdigest(), when)
            try:
                with transaction.atomic():
                    FeedBody.objects.create(revision=rev, audience=audience, version=key[2], body=body,
                                            digest=ent.digest, size=len(body), modified=when)
            except IntegrityError:  # another process built it first: the same bytes
                pass
        _remember(key, ent)
    with _lock:
        _building.pop(asked, None)
    return ent
