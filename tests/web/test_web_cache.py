"""What the service caches (web/clinic/service.py `derived`) is keyed by content, so it never
serves a stale revision: a change shows on the plan page at once, in this process and through
the shared file cache other worker processes read; a cached timeline is the one a fresh compile
gives (same verification digest), and verification and release still check that digest.

Dates from the seed record (NCT03114865: cycle 2 starts on day 43, 2027-02-15 for a start on
2027-01-04; docs/protocols)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.urls import reverse

from regimens.plans.verification import compile_plan, timeline_digest
from regimens.web.clinic import service
from regimens.web.clinic.models import Revision

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["memory", "files"])
def shared_cache(request, settings, tmp_path):
    """This process's memo in front of a LocMem cache, or of the file cache worker processes share."""
    if request.param == "files":
        backend = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                   "LOCATION": str(tmp_path / "cache"), "TIMEOUT": None}
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t", "TIMEOUT": None}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                       "regimens": backend}
    from django.core.cache import caches

    caches["regimens"].clear()
    service.clear_memo()
    yield request.param
    caches["regimens"].clear()
    service.clear_memo()


def _delay(client, plan, base: int, action: str, **extra):
    data = {"kind": "actual_start", "cycle": "maintenance.c2", "new_start": "2027-03-22", "reason": "counts low",
            "base": str(base), "action": action, "bsa_formula": "", **extra}
    return client.post(reverse("plan_change", args=[plan.id]), data)


def test_a_change_shows_on_the_plan_page_at_once(verified_plan, as_user, shared_cache):
    c = as_user("ph1")
    url = reverse("plan", args=[verified_plan.id]) + "?cycle=maintenance.c2"
    before = c.get(url).content.decode()
    assert "2027-02-15" in before and "Revision 1 verified" in before
    assert c.get(url).content.decode().count("2027-02-15") == before.count("2027-02-15")  # a cache hit, same page
    r = _delay(c, verified_plan, 1, "preview")
    assert _delay(c, verified_plan, 1, "save", previewed=r.context["form"]["previewed"].value()).status_code == 302
    if shared_cache == "files":
        service.clear_memo()  # as another worker process, which only has the shared cache
    after = c.get(url).content.decode()
    assert "NOT VERIFIED" in after and "Revision 2 by ph1" in after
    assert "2027-03-22" in after and "2027-02-15" not in after  # cycle 2 now starts on the delayed day
    month = c.get(reverse("plan_month", args=[verified_plan.id]) + "?month=2027-02").content.decode()
    assert "15 Feb" in month and "maintenance.c2" not in month.split("15 Feb", 1)[1].split("</td>", 1)[0]


def test_verification_after_a_change_is_bound_to_the_new_digest(verified_plan, as_user, shared_cache, settings):
    a, b = as_user("ph1"), as_user("ph2")
    r = _delay(a, verified_plan, 1, "preview")
    _delay(a, verified_plan, 1, "save", previewed=r.context["form"]["previewed"].value())
    rev2 = Revision.objects.get(plan=verified_plan, number=2)
    if shared_cache == "files":
        service.clear_memo()
    # the cached compile of revision 2 is exactly a fresh one: same digest as stored at the save
    pf, plan, tl = service.compiled(rev2)
    fresh = compile_plan(pf, plan, zone=settings.REGIMENS_CALENDAR_TZ)
    assert timeline_digest(tl) == timeline_digest(fresh) == rev2.timeline_digest
    assert b.post(reverse("plan_verify", args=[verified_plan.id]), {"revision": str(rev2.id)}).status_code == 302
    rev2.refresh_from_db()
    assert rev2.verified_digest == rev2.timeline_digest
    sheet = as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "html"]))
    assert sheet.status_code == 200 and "2027-03-22" in sheet.content.decode()
    # a verification made against another digest is not released, cache or not
    Revision.objects.filter(id=rev2.id).update(timeline_digest="0" * 64, verified_digest="0" * 64)
    assert as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "html"])).status_code == 409


def test_cached_timeline_is_keyed_by_plan_text_and_protocol_content(plan, shared_cache, settings):
    rev = plan.revisions.get()
    pf, p, tl = service.compiled(rev)
    assert service.compiled(rev)[2] is tl  # this process: the same object
    moved = p.model_copy(update={"actual_starts": {"maintenance.c2": p.start.replace(month=3, day=22)}})
    tl2 = service.timeline(pf, moved)
    fresh = compile_plan(pf, moved, zone=settings.REGIMENS_CALENDAR_TZ)
    assert tl2 is not tl and timeline_digest(tl2) == timeline_digest(fresh) != rev.timeline_digest
    service.clear_memo()
    from_shared = service.compiled(rev)[2]
    assert timeline_digest(from_shared) == rev.timeline_digest
    other = replace(pf, content_hash="f" * 64)
    assert service.timeline(other, p) is not service.timeline(pf, p)  # another protocol text, another entry


def test_a_change_preview_compiles_only_the_changed_plan(verified_plan, as_user, shared_cache, monkeypatch):
    from regimens.plans import changes

    calls = []
    real = changes.realise
    monkeypatch.setattr(service, "realise", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    service.clear_memo()
    service.compiled(verified_plan.revisions.get())  # the saved revision, as its plan page did
    calls.clear()
    r = _delay(as_user("ph1"), verified_plan, 1, "preview")
    assert r.status_code == 200 and r.context["preview_dict"]["moved"]
    assert len(calls) == 1 and calls[0].actual_starts  # the changed plan, once; not the saved one, not twice


def test_the_preview_counts_every_moved_event_by_cycle(verified_plan, as_user):
    r = _delay(as_user("ph1"), verified_plan, 1, "preview")
    groups, moved = r.context["moved_by_cycle"], r.context["preview_dict"]["moved"]
    assert sum(g["count"] for g in groups) == len(moved) == r.context["preview_dict"]["summary"]["moved"]
    c2 = next(g for g in groups if g["cycle_id"] == "maintenance.c2")
    assert c2["shift_days"] == 35 and c2["first"] == "2027-02-15" and c2["new_first"] == "2027-03-22"
    assert "What moves, by cycle" in r.content.decode()


def test_revision_and_history_never_change_a_compiled_timeline():
    """service.schedule_content leaves a plan's revision number and history out of the compile's
    key, so a saved change reuses its preview's compile. That holds only while `realise` ignores
    both: checked on every arm of every shipped protocol, with a held dose so records are applied."""
    from datetime import date

    from regimens.dosing.rounding import load_rules
    from regimens.errors import RegimensError
    from regimens.plans.changes import realise
    from regimens.plans.plan import Given, merge, next_revision
    from regimens.protocol.catalog import Catalog

    checked = 0
    for pid in Catalog().ids():
        pf = Catalog().load(pid)
        for arm in pf.protocol.arms:
            try:
                plan = merge(None, pf, Given(start=date(2027, 1, 4), arm=arm.label, height_cm=175, weight_kg=80,
                                             age_years=45))
                tl, _ = realise(pf, plan, load_rules())
            except RegimensError:
                continue  # this arm needs choices the generic patient does not give
            first = next((e for e in tl.events if e.kind == "administration"), None)
            held = merge(plan, pf, Given(hold={f"{first.cycle_id}:{first.day}": "counts low"})) if first else plan
            for p in {id(plan): plan, id(held): held}.values():
                later = next_revision(next_revision(p, "a note", date(2027, 2, 1), "why", "ph1"), "again", None)
                assert later.revision == p.revision + 2 and len(later.history) == len(p.history) + 2
                assert realise(pf, later, load_rules()) == realise(pf, p, load_rules()), (pid, arm.label)
                assert service.schedule_content(later) == service.schedule_content(p)
            if first:
                assert service.schedule_content(held) != service.schedule_content(plan)
                checked += 1
    assert checked >= len(Catalog().ids())  # as many held plans as protocols (some have several arms)


def test_a_save_reuses_its_preview_and_its_digest_is_a_fresh_compiles(verified_plan, as_user, shared_cache,
                                                                      monkeypatch, settings):
    calls = []
    real = service.realise
    monkeypatch.setattr(service, "realise", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    service.compiled(verified_plan.revisions.get())  # the saved revision, as its plan page did
    calls.clear()
    c = as_user("ph1")
    r = _delay(c, verified_plan, 1, "preview")
    n = len(calls)
    assert n == 1  # the changed plan
    assert _delay(c, verified_plan, 1, "save", previewed=r.context["form"]["previewed"].value()).status_code == 302
    assert len(calls) == n  # the save compiled nothing: revision 2 is what the preview showed
    rev2 = Revision.objects.get(plan=verified_plan, number=2)
    pf, plan, _tl = service.compiled(rev2)
    assert plan.revision == 2 and plan.history
    fresh = compile_plan(pf, plan, zone=settings.REGIMENS_CALENDAR_TZ)  # no cache at all
    assert rev2.timeline_digest == timeline_digest(fresh) == r.context["form"]["previewed"].value()
    # a previewed digest of other values is not saved
    stale = _delay(c, verified_plan, 2, "save", previewed="0" * 64)
    assert stale.status_code == 200 and not Revision.objects.filter(plan=verified_plan, number=3).exists()


def test_the_nurses_index_holds_every_administration_of_the_verified_revision(verified_plan, as_user, settings):
    """The nurses' index written at verification: the rows read back through the
    ORM are the released timeline's administrations, with real dates and times."""
    from regimens.exporters.tabular import patient_dose_text
    from regimens.notation.ismp import display_drug
    from regimens.web.clinic.models import SheetRow

    rev = verified_plan.revisions.get()
    pf, plan, _tl = service.compiled(rev)
    tl = compile_plan(pf, plan, zone=settings.REGIMENS_CALENDAR_TZ)
    want = sorted((e.uid, e.date, e.time, e.kind, display_drug(e.title) if e.drug else e.title, e.route or "",
                   patient_dose_text(e), e.cycle_id, e.day, e.status) for e in tl.administrations())
    got = sorted(SheetRow.objects.filter(plan=verified_plan, revision=rev).values_list(
        "uid", "date", "time", "kind", "title", "route", "dose", "cycle_id", "day", "status"))
    assert len(want) >= 6 and got == want  # NCT03114865, 2 cycles: 6 administrations
    assert any(t is not None for _u, _d, t, *_ in got)  # a TimeField came back as a time
