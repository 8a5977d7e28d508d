"""Between the pages and the library: every schedule, dose, preview and export comes from the
regimens library (the same functions as the CLI); this module stores and releases revisions.

The release rule lives here and in the database: `released()` is the single way a nurse sheet,
a patient calendar, an .ics or a feed gets a timeline, and it refuses any revision that is not
the plan's newest, not verified by a second pharmacist, or whose compiled schedule no longer
matches the digest that was verified.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from regimens.errors import RegimensError
from regimens.exporters.tabular import header as tabular_header
from regimens.exporters.tabular import patient_dose_text
from regimens.notation.ismp import display_drug, ismp_clean
from regimens.dosing.rounding import load_rules
from regimens.plans.changes import realise
from regimens.plans.closures import ClosureReport
from regimens.plans.plan import Plan, check_protocol, dump_plan, load_plan, next_revision
from regimens.plans.verification import VerificationError, check_digest, check_verifier, timeline_digest
from regimens.protocol.catalog import Catalog
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.timeline import Timeline, in_zone
from regimens.web.clinic import audit
from regimens.web.clinic.models import Revision, RevisionCycle, SheetRow, TreatmentPlan


class Conflict(RegimensError):
    """Someone saved a newer revision since this page was opened (optimistic lock)."""

    def __init__(self, base: int, latest: int):
        self.base, self.latest = base, latest
        super().__init__(f"revision {latest} was saved after revision {base}, which this change was made on")


class NotReleased(RegimensError):
    """Nothing may reach a nurse or a patient from this plan (yet)."""


# --- what is derived from an immutable revision, cached ------------------------------------------
#
# A revision is never edited (a change is a new revision), and everything the pages derive from
# one (the plan read from its text, the realised timeline with every dose working, the rendered
# event tables) depends only on what is in the cache key: the plan text (or the revision's id and
# timeline digest), the protocol file's content hash, and the code that compiles and renders (a
# hash of every file of the regimens package, the Python and Django versions). So an entry can
# never be stale: a change, a new protocol version or an upgrade is another key, never a hit.
#
# Two levels: a small LRU in this process (no copy, no unpickling), then Django's "regimens"
# cache (settings.CACHES: files in the data folder by default, so the worker processes of
# `regimens serve --workers N` share what one of them compiled; or a database table).

_lock = threading.Lock()
_protocols: dict[str, tuple[tuple, ProtocolFile]] = {}
_KEPT = {"plan": 512, "realised": 48, "timeline": 48, "digest": 1024, "cycles": 512, "fragment": 1024, "limits": 4, "rules": 4}
# kinds kept in this process only: a plan parses faster than it unpickles; a zoned timeline is
# its realised timeline (shared) plus about 1 ms of `in_zone`, not worth 40 ms of pickling
_LOCAL = frozenset({"plan", "timeline", "limits", "rules"})
_memo: dict[str, OrderedDict] = {kind: OrderedDict() for kind in _KEPT}
_NOTHING = object()
_written: set[str] = set()  # keys this process knows the shared cache holds


@functools.cache
def code_key() -> str:
    """Hash of the code that turns a revision into what a page shows (sources, templates, data)."""
    import sys
    from pathlib import Path

    import django

    import regimens

    h = hashlib.sha256(f"{regimens.__version__}\n{sys.version}\ndjango {django.get_version()}\n".encode())
    root = Path(regimens.__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".mo"):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:32]


def _shared():
    from django.core.cache import caches

    try:
        return caches["regimens"]
    except Exception:  # noqa: BLE001 - no shared cache configured: this process's memo only
        return None


def derived(kind: str, parts: tuple, build, share: bool = True):
    """`build()`, memoised per process and in the shared cache under (kind, code, *parts). Every
    part that decides the result must be in `parts`; a build that raises is not cached.
    `share=False`: read from the shared cache but do not write to it (a change preview's compile:
    most are never saved, and pickling a long timeline costs a third of compiling it); a later
    call with `share=True` (the save) writes the memoised value."""
    key = hashlib.sha256("\0".join(map(str, (kind, code_key(), *parts))).encode()).hexdigest()
    memo = _memo[kind]
    shared = _shared() if kind not in _LOCAL else None
    with _lock:
        hit = memo.get(key, _NOTHING)
        if hit is not _NOTHING:
            memo.move_to_end(key)
            if not share or shared is None or key in _written:
                return hit
    value = hit
    if value is _NOTHING and shared is not None:
        try:
            value = shared.get(f"{kind}:{key}", _NOTHING)
        except Exception:  # noqa: BLE001 - a damaged or unreadable entry is a miss, never an error
            value = _NOTHING
        if value is not _NOTHING:
            _wrote(key)
    if value is _NOTHING:
        value = build()
    if share and shared is not None and key not in _written:
        try:
            shared.set(f"{kind}:{key}", value)
            _wrote(key)
        except Exception:  # noqa: BLE001 - a cache that cannot be written is skipped
            pass
    with _lock:
        memo[key] = value
        while len(memo) > _KEPT[kind]:
            memo.popitem(last=False)
    return value


def _wrote(key: str) -> None:
    """Remember that the shared cache holds `key` (bounded: forgetting only costs a rewrite)."""
    with _lock:
        if len(_written) > 20_000:
            _written.clear()
        _written.add(key)


def clear_memo() -> None:
    """Forget this process's memo (tests; the shared cache is content-keyed and needs no clearing)."""
    with _lock:
        for memo in _memo.values():
            memo.clear()
        _written.clear()


def catalog() -> Catalog:
    from pathlib import Path

    site = getattr(settings, "REGIMENS_PROTOCOLS", None)
    return Catalog(Path(site) if site else None)


def protocol_ids() -> list[str]:
    return catalog().ids()


def protocol(pid: str) -> ProtocolFile:
    """The protocol by id, re-read when its file changes (a site edits its protocol folder)."""
    files = catalog().files()
    if pid not in files:
        raise RegimensError(f"unknown protocol {pid!r}")
    path, _origin = files[pid]
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _protocols.get(pid)
    if hit and hit[0] == key:
        return hit[1]
    pf = catalog().load(pid)
    with _lock:
        _protocols[pid] = (key, pf)
    return pf


def schedule_content(plan: Plan) -> str:
    """Everything in a plan that its compiled timeline depends on: all of it but the revision
    number and the history (plans.plan.same_content's rule: recording a plan that differs only
    in those adds nothing). So a change's new revision is the timeline its preview compiled, and
    the save does not compile it again; tests/web/test_web_cache.py checks, on every shipped
    protocol, that `realise` gives the same timeline whatever the revision and history."""
    return plan.model_dump_json(exclude={"revision", "history"})


def realised(pf: ProtocolFile, plan: Plan, rounding=None, share: bool = True) -> tuple[Timeline, ClosureReport]:
    """plans.changes.realise, memoised on (protocol content, plan content): the one compile of
    a revision, shared by its pages, its verification, its release and a preview's "before"."""
    if rounding is not None:  # rules other than the shipped ones (in the code key): not cached
        return realise(pf, plan, rounding)
    return derived("realised", (pf.content_hash, schedule_content(plan)),
                   lambda: realise(pf, plan, rules()), share)


def preview_realised(pf: ProtocolFile, plan: Plan, rounding=None) -> tuple[Timeline, ClosureReport]:
    """`realised` for a change preview (the forms' realiser): memoised in this process, and read
    from the shared cache, but written there only when the change is saved."""
    return realised(pf, plan, rounding, share=False)


def timeline(pf: ProtocolFile, plan: Plan, share: bool = True) -> Timeline:
    """compile_plan(pf, plan, zone=the clinic's zone), memoised: the same path (realise with the
    shipped rounding rules, then stop times on the clinic's clock). `share` as in `derived` (a
    stored revision's compile is written to the shared cache, a preview's is not)."""
    zone = settings.REGIMENS_CALENDAR_TZ
    base = realised(pf, plan, share=share)[0]  # memoised: this also writes a saved revision's compile
    if not zone:
        return base
    return derived("timeline", (pf.content_hash, schedule_content(plan), zone), lambda: in_zone(base, zone))


def digest(pf: ProtocolFile, plan: Plan, share: bool = True) -> str:
    """timeline_digest(timeline(pf, plan)), memoised with it: what a revision stores, what its
    verifier signs and what every release checks (about 60 ms of canonical JSON for the longest
    protocol, once per plan content instead of at the preview, the save, the verification and
    each release). `share` is for the timeline; the digest itself is always shared."""
    return derived("digest", (pf.content_hash, schedule_content(plan), settings.REGIMENS_CALENDAR_TZ or ""),
                   lambda: timeline_digest(timeline(pf, plan, share)))


def rules():
    """The shipped rounding rules (frozen), read once per process instead of at every compile
    (parsing and validating the YAML was ~6 ms of each); the code key covers the shipped file."""
    return derived("rules", (), load_rules)


def limits():
    """The shipped cumulative (lifetime) limits, read once per process: part of the package, so
    the code key covers them (a preview read and validated the YAML twice, ~10 ms each)."""
    from regimens.plans.cumulative import load_limits

    return derived("limits", (), load_limits)


def plan_of(rev: Revision) -> Plan:
    return derived("plan", (rev.plan_text,), lambda: load_plan(rev.plan_text, f"revision {rev.number}"))


def compiled(rev: Revision) -> tuple[ProtocolFile, Plan, Timeline]:
    """The revision compiled against the protocol as it is now; a protocol changed since the plan
    was written is reported (PlanError) rather than silently used."""
    plan = plan_of(rev)
    pf = protocol(plan.protocol.id)
    check_protocol(plan, pf, "this plan")
    return pf, plan, timeline(pf, plan)


def header(rev: Revision) -> dict:
    """The stored timeline header of a revision (protocol, arm, choices, start, warnings)."""
    return json.loads(zlib.decompress(rev.snapshot))


def cycles(rev: Revision) -> list[RevisionCycle]:
    """The revision's cycles in timeline order, without their events."""
    return derived("cycles", (rev.id, rev.timeline_digest), lambda: list(
        RevisionCycle.objects.filter(revision=rev).defer("events").order_by("seq")))


def events(rev: Revision, cycle_ids: list[str] | None = None) -> list[dict]:
    """Stored events (timeline JSON records) of the given cycles, or of all, in timeline order."""
    qs = RevisionCycle.objects.filter(revision=rev).order_by("seq")
    if cycle_ids is not None:
        qs = qs.filter(cycle_id__in=cycle_ids)
    out: list[dict] = []
    for blob in qs.values_list("events", flat=True):
        out += json.loads(zlib.decompress(blob))
    return out


def _header_bytes(tl: Timeline) -> bytes:
    return zlib.compress(json.dumps(tabular_header(tl), ensure_ascii=False).encode("utf-8"), 6)


def _cycle_rows(rev: Revision, tl: Timeline) -> list[RevisionCycle]:
    by_cycle: dict[str, list] = {}
    for e in tl.events:
        by_cycle.setdefault(e.cycle_id, []).append(e)
    rows = []
    for seq, (cid, evs) in enumerate(by_cycle.items()):
        text = ismp_clean(json.dumps([e.to_dict() for e in evs], ensure_ascii=False, separators=(",", ":")))
        rows.append(RevisionCycle(revision=rev, seq=seq, cycle_id=cid, phase=evs[0].phase, number=evs[0].cycle,
                                  first=min(e.date for e in evs), last=max(e.end_date for e in evs), count=len(evs),
                                  events=zlib.compress(text.encode("utf-8"), 6)))
    return rows


# --- writing revisions ----------------------------------------------------------------------

@dataclass
class Saved:
    plan: TreatmentPlan
    revision: Revision


def create_plan(patient, plan: Plan, author, note: str = "new plan", language: str = "en") -> Saved:
    pf = protocol(plan.protocol.id)
    check_protocol(plan, pf, "this plan")
    tl = timeline(pf, plan)
    with transaction.atomic():
        tp = TreatmentPlan.objects.create(patient=patient, protocol_id=pf.protocol.id, created_by=author,
                                          latest_number=plan.revision, language=language or "en")
        rev = _store(tp, pf, plan, tl, author, note, "")
        audit.record(author, "plan.create", f"plan for {pf.protocol.id} created, revision {plan.revision},"
                     f" patient language {tp.language}", patient=patient, plan=tp, revision=rev,
                     after=rev.plan_text, reason=note)
    return Saved(tp, rev)


def set_language(tp: TreatmentPlan, code: str, actor, reason: str) -> bool:
    """Change the plan's patient language (audited; False when it is already that language).

    Not a revision and no re-verification: the language changes the words printed around the
    schedule, never a date, dose or dose working (the verified digest covers those and stays
    the same). What reaches a patient still comes only from a verified revision through
    `released()`: a plan whose newest revision awaits verification has no new calendar in any
    language until it is verified; its feeds keep the last verified bytes."""
    with transaction.atomic():
        locked = TreatmentPlan.objects.select_for_update(of=("self",)).select_related("released").get(id=tp.id)
        before = locked.language
        if before == code:
            return False
        now = timezone.now().replace(microsecond=0)
        shown = text_modified(locked)
        if shown is not None and now <= shown:
            # as in verify(): feeds send Last-Modified to the second, and the new words must be
            # later than what a subscriber that polled within this second already has
            now = shown + timedelta(seconds=1)
        TreatmentPlan.objects.filter(id=tp.id).update(language=code, language_changed_at=now)
        audit.record(actor, "plan.language", f"patient language {before} → {code} (patient calendar, calendar"
                     " file and feeds; no change to the schedule or doses)", patient=locked.patient, plan=locked,
                     before=before, after=code, reason=reason)
    tp.refresh_from_db()
    return True


def _store(tp: TreatmentPlan, pf: ProtocolFile, plan: Plan, tl: Timeline, author, note: str, reason: str) -> Revision:
    rev = Revision.objects.create(plan=tp, number=plan.revision, plan_text=dump_plan(plan).decode("utf-8"),
                                  timeline_digest=digest(pf, plan), protocol_hash=tl.content_hash,
                                  note=note, reason=reason, author=author, snapshot=_header_bytes(tl))
    RevisionCycle.objects.bulk_create(_cycle_rows(rev, tl))
    return rev


def record_change(tp: TreatmentPlan, base_number: int, changed: Plan, author, note: str, reason: str,
                  today) -> Saved:
    """Store `changed` as the next revision, if nobody saved one since `base_number` (else
    Conflict). The new revision starts unverified; the plan is withdrawn from nurses and patients
    until a second pharmacist verifies it."""
    pf = protocol(changed.protocol.id)
    final = next_revision(changed.model_copy(update={"revision": base_number}), note, today)
    tl = timeline(pf, final)  # memoised: the preview compiled it (schedule_content); the verification reuses it
    with transaction.atomic():
        won = TreatmentPlan.objects.filter(id=tp.id, latest_number=base_number).update(
            latest_number=base_number + 1, released=None)
        if not won:
            latest = TreatmentPlan.objects.values_list("latest_number", flat=True).get(id=tp.id)
            raise Conflict(base_number, latest)
        before = Revision.objects.get(plan=tp, number=base_number)
        rev = _store(tp, pf, final, tl, author, note, reason)
        SheetRow.objects.filter(plan=tp).delete()
        audit.record(author, "plan.change", f"revision {base_number} → {final.revision}: {note}",
                     patient=tp.patient, plan=tp, revision=rev, before=before.plan_text, after=rev.plan_text,
                     reason=reason)
    tp.refresh_from_db()
    return Saved(tp, rev)


def verify(rev: Revision, verifier) -> Revision:
    """The second pharmacist's check: refused for the author, for anything but the newest
    revision, and when the schedule compiled now differs from the one the author saw."""
    check_verifier(str(rev.author_id), str(verifier.id))
    pf, plan, tl = compiled(rev)
    current = digest(pf, plan)
    if current != rev.timeline_digest:
        raise VerificationError("the compiled schedule changed since this revision was written (protocol or"
                                " rounding rules): record the change again so it can be checked")
    with transaction.atomic():
        tp = TreatmentPlan.objects.select_for_update().get(id=rev.plan_id)
        if tp.latest_number != rev.number:
            raise VerificationError(f"revision {rev.number} is no longer the newest (revision"
                                    f" {tp.latest_number} is): verify that one")
        now = timezone.now()
        # Feeds send Last-Modified to the second and answer a matching If-Modified-Since with 304:
        # a newer verified revision must be at least a second later than the last verified one,
        # or a subscriber that polled in between would keep the old schedule. That one is read
        # from the revisions, not from tp.released: recording a change clears `released`, so by
        # now it is None (issue 17: the guard never fired, and a change verified in the same
        # second as the revision before it kept its Last-Modified).
        previous = (Revision.objects.filter(plan_id=tp.id, verified_at__isnull=False, number__lt=rev.number)
                    .order_by("-number").values_list("verified_at", flat=True).first())
        if tp.language_changed_at is not None and (previous is None or tp.language_changed_at > previous):
            previous = tp.language_changed_at  # feeds' Last-Modified moved to a language change
        if previous is not None and now.replace(microsecond=0) <= previous.replace(microsecond=0):
            now = previous.replace(microsecond=0) + timedelta(seconds=1)
        try:
            with transaction.atomic():
                n = Revision.objects.filter(id=rev.id, verified_by__isnull=True).update(
                    verified_by=verifier, verified_at=now, verified_digest=current)
        except IntegrityError:  # the database's own rule: verifier is not the author
            raise VerificationError("you wrote this revision: a second pharmacist must verify it") from None
        if not n:
            raise VerificationError("this revision is already verified")
        rev.refresh_from_db()
        tp.released = rev
        tp.save(update_fields=["released"])
        _index_rows(tp, rev, tl)
        audit.record(verifier, "plan.verify", f"revision {rev.number} verified (digest {current[:12]})",
                     patient=tp.patient, plan=tp, revision=rev, after=current)
    return rev


def _index_rows(tp: TreatmentPlan, rev: Revision, tl: Timeline) -> None:
    SheetRow.objects.filter(plan=tp).delete()
    # Django's bulk_create, not a hand-written INSERT: a rare write (once per verification) where
    # the ORM's own defaults, conversions and backends matter more than its ~tens of ms
    SheetRow.objects.bulk_create([
        SheetRow(revision=rev, plan=tp, uid=e.uid, date=e.date, time=e.time, kind=e.kind,
                 title=display_drug(e.title) if e.drug else e.title, route=e.route or "",
                 dose=patient_dose_text(e), cycle_id=e.cycle_id, day=e.day, status=e.status)
        for e in tl.administrations()
    ], batch_size=500)


def released(tp: TreatmentPlan) -> tuple[Revision, ProtocolFile, Plan, Timeline]:
    """The one gate for anything a nurse or a patient receives (sheets, calendars, .ics, feeds)."""
    tp = TreatmentPlan.objects.select_related("released").get(id=tp.id)
    rev = tp.released
    if rev is None or rev.number != tp.latest_number:
        raise NotReleased("this plan has a revision awaiting verification by a second pharmacist;"
                          " nurse sheets and patient calendars are released only from a verified revision")
    if rev.verified_by_id is None or rev.verified_by_id == rev.author_id:
        raise NotReleased("this revision has not been verified by a second pharmacist")
    pf, plan, tl = compiled(rev)
    try:
        check_digest(rev.verified_digest, digest(pf, plan))
    except VerificationError as exc:
        raise NotReleased(str(exc)) from None
    return rev, pf, plan, tl


def text_modified(tp: TreatmentPlan) -> datetime | None:
    """When the patient text of the plan's released calendar last changed (to the second): its
    verification, or a later change of the patient's language. None when nothing is released."""
    rev = tp.released
    times = [t for t in (rev.verified_at if rev else None, tp.language_changed_at) if t is not None]
    return max(times).astimezone(UTC).replace(microsecond=0) if times and rev else None


def generated_at() -> datetime:
    return timezone.now().astimezone(UTC).replace(microsecond=0)


def for_display(events: list[dict]) -> list[dict]:
    """Staff display of stored events: tall-man drug names and ISMP dose text (library notation)."""
    from regimens.exporters.tabular import stop_time_text
    from regimens.notation.ismp import NOT_PUBLIC_TEXT, format_dose

    out = []
    for e in events:
        e = dict(e)
        e["what"] = display_drug(e["title"]) if e.get("drug") else e["title"]
        e["dose_text"] = (NOT_PUBLIC_TEXT if e.get("not_public") else
                          format_dose(e["dose"], e["unit"]) if e.get("dose") is not None else "")
        e["patient_text"] = format_dose(e["patient_dose"], e["patient_unit"]) if e.get("patient_dose") is not None else ""
        # when the pump comes off, as the sheets print it (the library's stop rule, on the clinic's
        # clock): "to 2027-03-15" alone reads as a whole last day
        stops = e.get("stops") if e.get("continuous") else None
        e["stops_text"] = stop_time_text(datetime.fromisoformat(stops)) if stops else ""
        out.append(e)
    return out
