"""Pages. Each view checks its permission server-side (roles.require), scopes every object by its
opaque id, writes the audit trail, and asks the library (through service.py) for every date and
dose: no schedule or dose logic here."""

from __future__ import annotations

import calendar
import hashlib
import json
import secrets
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from regimens.errors import RegimensError
from regimens.exporters.ics import IcsOptions, to_ics
from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf
from regimens.exporters.tabular import csv_table, to_json
from regimens.plans.changes import describe
from regimens.plans.diff import diff
from regimens.plans.plan import check_protocol, describe_given
from regimens.plans.verification import VerificationError
from regimens.protocol.summary import show_text
from regimens.web.clinic import audit, forms, languages, roles, service
from regimens.web.clinic.models import (
    Administration,
    AuditEntry,
    Patient,
    Revision,
    SetupToken,
    SheetRow,
    TreatmentPlan,
)
from regimens.web.clinic.roles import require

PAGE_SIZE = 50


# --- first administrator -------------------------------------------------------------------

def new_setup_token() -> str | None:
    """A one-time token for /setup/, only while no administrator exists (printed by `serve`)."""
    if get_user_model().objects.filter(is_superuser=True).exists():
        return None
    token = secrets.token_urlsafe(24)
    SetupToken.objects.all().delete()
    SetupToken.objects.create(token_hash=hashlib.sha256(token.encode()).hexdigest())
    return token


@require_http_methods(["GET", "POST"])
def setup(request, token: str):
    th = hashlib.sha256(token.encode()).hexdigest()
    if not SetupToken.objects.filter(token_hash=th).exists() or \
            get_user_model().objects.filter(is_superuser=True).exists():
        raise Http404
    form = forms.SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = get_user_model().objects.create_superuser(form.cleaned_data["username"], None,
                                                             form.cleaned_data["password1"])
            user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
            SetupToken.objects.all().delete()
            audit.record(user, "user.create", "first administrator created")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("admin:index")
    return render(request, "clinic/setup.html", {"form": form})


# --- patients ------------------------------------------------------------------------------

@require(roles.VIEW)
@require_GET
def patients(request):
    form = forms.SearchForm(request.GET or None)
    qs = Patient.objects.all()
    q = ""
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:  # the ORM parameterises: a quote or `' OR 1=1 --` is just text to look for
            qs = qs.filter(Q(display_name__icontains=q) | Q(record_number__iexact=q))
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = list(qs.order_by("display_name", "id")[(page - 1) * PAGE_SIZE: page * PAGE_SIZE + 1])
    return render(request, "clinic/patients.html", {
        "form": form, "patients": rows[:PAGE_SIZE], "q": q, "page": page,
        "next_page": page + 1 if len(rows) > PAGE_SIZE else None, "prev_page": page - 1 if page > 1 else None})


@require(roles.ADD_PATIENT)
@require_http_methods(["GET", "POST"])
def patient_new(request):
    form = forms.PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            p = Patient.objects.create(display_name=form.cleaned_data["display_name"].strip(),
                                       record_number=form.cleaned_data["record_number"].strip())
            audit.record(request.user, "patient.create", "patient created", patient=p,
                         after=json.dumps({"display_name": p.display_name, "record_number": p.record_number}))
        return redirect("patient", patient_id=p.id)
    return render(request, "clinic/patient_new.html", {"form": form})


@require(roles.VIEW)
@require_GET
def patient(request, patient_id):
    p = get_object_or_404(Patient, id=patient_id)
    plans = list(p.plans.all())
    audit.record(request.user, "patient.view", "patient page viewed", patient=p)
    return render(request, "clinic/patient.html", {"patient": p, "plans": plans,
                                                   "protocols": service.protocol_ids()})


# --- new plan, import ------------------------------------------------------------------------

@require(roles.AUTHOR)
@require_http_methods(["GET", "POST"])
def plan_new(request, patient_id):
    p = get_object_or_404(Patient, id=patient_id)
    pid = request.GET.get("protocol") or request.POST.get("protocol")
    if pid not in service.protocol_ids():
        return render(request, "clinic/plan_pick.html", {"patient": p, "protocols": service.protocol_ids()})
    pf = service.protocol(pid)
    form = forms.NewPlanForm(pf, request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = service.create_plan(p, form.plan, request.user, language=form.cleaned_data["language"])
        messages.success(request, "Plan saved as revision 1: awaiting verification by a second pharmacist.")
        return redirect("plan", plan_id=saved.plan.id)
    return render(request, "clinic/plan_new.html", {"patient": p, "pf": pf, "form": form})


@require(roles.AUTHOR)
@require_http_methods(["GET", "POST"])
def plan_import(request, patient_id):
    p = get_object_or_404(Patient, id=patient_id)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = service.create_plan(p, form.plan, request.user, note="imported from a plan file",
                                        language=form.cleaned_data["language"])
        except RegimensError as exc:
            form.add_error("plan_file", str(exc))
        else:
            messages.success(request, "Plan imported: awaiting verification by a second pharmacist.")
            return redirect("plan", plan_id=saved.plan.id)
    return render(request, "clinic/plan_import.html", {"patient": p, "form": form})


# --- a plan ----------------------------------------------------------------------------------

def _plan(request, plan_id) -> TreatmentPlan:
    return get_object_or_404(TreatmentPlan.objects.select_related("patient"), id=plan_id)


def _latest(tp: TreatmentPlan) -> Revision:
    return Revision.objects.select_related("author", "verified_by").get(plan=tp, number=tp.latest_number)


def _context(request, tp: TreatmentPlan, view: str) -> dict:
    rev = _latest(tp)
    audit.record(request.user, f"plan.view.{view}", f"plan {view} viewed (revision {rev.number})",
                 patient=tp.patient, plan=tp, revision=rev)
    cycles = service.cycles(rev)
    return {"plan": tp, "patient": tp.patient, "rev": rev, "head": service.header(rev), "cycles": cycles,
            "revisions": list(tp.revisions.select_related("author", "verified_by").order_by("-number")),
            "view": view, "released_ok": tp.released_id == rev.id,
            "language": languages.describe(tp.language),
            "language_form": languages.language_form(tp) if request.user.has_perm(roles.AUTHOR) else None}


def _chosen_cycle(request, cycles) -> str | None:
    """The cycle asked for (?cycle=ID), else the first one not over yet, else the first."""
    ids = [c.cycle_id for c in cycles]
    want = request.GET.get("cycle")
    if want in ids:
        return want
    today = timezone.localdate()
    return next((c.cycle_id for c in cycles if c.last >= today), ids[0] if ids else None)


@require(roles.VIEW)
@require_GET
def plan(request, plan_id):
    tp = _plan(request, plan_id)
    ctx = _context(request, tp, "timeline")
    want = _chosen_cycle(request, ctx["cycles"])
    rev = ctx["rev"]
    ctx["body"] = _fragment("clinic/plan_timeline_body.html", rev, want, lambda: {
        "rev": rev, "cycles": ctx["cycles"], "cycle": want,
        "events": service.for_display(service.events(rev, [want]) if want else [])})
    return render(request, "clinic/plan.html", ctx)


def _fragment(template: str, rev: Revision, part, context):
    """A page's body rendered from one revision (immutable), cached per revision, its digest and
    the part shown; `context()` is called only when it is rendered."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    html = service.derived("fragment", (template, rev.id, rev.timeline_digest, part, get_language()),
                           lambda: str(render_to_string(template, context())))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, autoescaped


def _months(first: date, last: date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@require(roles.VIEW)
@require_GET
def plan_month(request, plan_id):
    tp = _plan(request, plan_id)
    ctx = _context(request, tp, "month")
    cycles = ctx["cycles"]
    months = _months(min(c.first for c in cycles), max(c.last for c in cycles)) if cycles else []
    want = request.GET.get("month")
    if want not in months:
        now = timezone.localdate().isoformat()[:7]
        want = now if now in months else (months[0] if months else now)

    def month_context() -> dict:
        y, m = (int(x) for x in want.split("-"))
        lo = date(y, m, 1)
        hi = date(y + (m == 12), m % 12 + 1, 1)
        shown = [c.cycle_id for c in cycles if c.first < hi and c.last >= lo]
        by_day: dict[str, list] = {}
        for e in service.events(ctx["rev"], shown):
            if e["date"][:7] == want and e["kind"] != "phase":
                by_day.setdefault(e["date"], []).append(e)
        by_day = {k: service.for_display(v) for k, v in by_day.items()}
        weeks = [[{"date": d, "in_month": d.month == m, "events": by_day.get(d.isoformat(), [])} for d in week]
                 for week in calendar.Calendar(firstweekday=0).monthdatescalendar(y, m)]
        i = months.index(want) if want in months else 0
        return {"month": lo, "weeks": weeks, "months": months,
                "prev_month": months[i - 1] if i > 0 else None,
                "next_month": months[i + 1] if i + 1 < len(months) else None,
                "weekdays": list(calendar.day_name)}

    ctx["body"] = _fragment("clinic/plan_month_body.html", ctx["rev"], want, month_context)
    return render(request, "clinic/plan_month.html", ctx)


@require(roles.VIEW)
@require_GET
def plan_working(request, plan_id):
    tp = _plan(request, plan_id)
    ctx = _context(request, tp, "working")
    want = _chosen_cycle(request, ctx["cycles"])

    def working_context() -> dict:
        evs = service.events(ctx["rev"], [want]) if want else []
        return {"cycles": ctx["cycles"], "cycle": want, "doses": service.for_display(
            [e for e in evs if e.get("working") or e["kind"] == "administration"])}

    ctx["body"] = _fragment("clinic/plan_working_body.html", ctx["rev"], want, working_context)
    return render(request, "clinic/plan_working.html", ctx)


@require(roles.VIEW)
@require_GET
def protocol_page(request, protocol_id):
    if protocol_id not in service.protocol_ids():
        raise Http404
    pf = service.protocol(protocol_id)
    return render(request, "clinic/protocol.html", {"pf": pf, "p": pf.protocol, "text": show_text(pf)})


@require(roles.VERIFY)
@require_POST
def plan_verify(request, plan_id):
    tp = _plan(request, plan_id)
    rev = get_object_or_404(Revision, plan=tp, id=request.POST.get("revision"))
    try:
        service.verify(rev, request.user)
    except VerificationError as exc:
        audit.record(request.user, "plan.verify.refused", f"verification of revision {rev.number} refused: {exc}",
                     patient=tp.patient, plan=tp, revision=rev)
        messages.error(request, str(exc))
        return redirect("plan", plan_id=tp.id)
    messages.success(request, f"Revision {rev.number} verified: nurse sheets and calendars are released.")
    return redirect("plan", plan_id=tp.id)


@require(roles.AUTHOR)
@require_POST
def plan_language(request, plan_id):
    """Change the patient's language (audited). No new revision and no re-verification: the words
    around the schedule change, not the schedule (service.set_language says why)."""
    tp = _plan(request, plan_id)
    form = languages.language_form(tp, request.POST)
    if not form.is_valid():
        messages.error(request, "Language not changed: " + "; ".join(
            f"{name}: {e}" for name, errs in form.errors.items() for e in errs))
        return redirect("plan", plan_id=tp.id)
    code = form.cleaned_data["language"]
    if service.set_language(tp, code, request.user, form.cleaned_data["reason"].strip()):
        messages.success(request, f"Patient language is now {languages.describe(code)}. Patient calendars, calendar"
                                  " files and feeds use it from now on; staff sheets are unchanged.")
    return redirect("plan", plan_id=tp.id)


# --- recording a change ------------------------------------------------------------------------

@require(roles.AUTHOR)
@require_http_methods(["GET", "POST"])
def plan_change(request, plan_id):
    tp = _plan(request, plan_id)
    rev = _latest(tp)
    base = rev
    if request.method == "POST":
        try:
            base = Revision.objects.get(plan=tp, number=int(request.POST.get("base", "")))
        except (ValueError, Revision.DoesNotExist):
            return HttpResponseBadRequest("unknown revision")
    saved = service.plan_of(base)
    pf = service.protocol(saved.protocol.id)
    try:
        check_protocol(saved, pf, "this plan")
    except RegimensError as exc:
        messages.error(request, str(exc))
        return redirect("plan", plan_id=tp.id)
    cycles = [(c.cycle_id, f"{c.cycle_id} ({c.phase} cycle {c.number}, from {c.first.isoformat()})")
              for c in service.cycles(base)]
    by = request.user.get_username()
    form = forms.ChangeForm(pf, saved, cycles, by, request.POST or None, initial={"base": base.number},
                            realiser=service.preview_realised,
                            limits=service.limits())
    ctx = {"plan": tp, "patient": tp.patient, "rev": rev, "form": form, "preview": None, "conflict": None}
    if request.method == "POST" and form.is_valid():
        outcome = form.outcome
        # the digest the new revision will store and its verifier sign (memoised with its
        # compile): a save goes ahead only with exactly what the pharmacist was shown
        digest = service.digest(pf, outcome.plan, share=False)

        def shown() -> dict:  # what moves, for a page that shows the preview (not for a save)
            ctx.update(preview=outcome.preview, preview_dict=outcome.preview.to_dict(), warnings=outcome.warnings,
                       moved_by_cycle=outcome.preview.moved_by_cycle())
            return ctx

        if request.POST.get("action") == "save" and form.cleaned_data.get("previewed") == digest:
            c = form.cleaned_data
            try:
                out = service.record_change(tp, base.number, outcome.plan, request.user, _describe(form),
                                            c["reason"].strip(), timezone.localdate())
            except service.Conflict as exc:
                latest = _latest(tp)
                _pf, _p, latest_tl = service.compiled(latest)
                ctx["conflict"] = {"base": exc.base, "latest": latest,
                                   "changes": diff(outcome.before, latest_tl).to_dict()}
                audit.record(request.user, "plan.change.refused", f"change on revision {base.number} refused:"
                             f" revision {exc.latest} saved meanwhile", patient=tp.patient, plan=tp)
                return render(request, "clinic/plan_change.html", shown(), status=409)
            messages.success(request, f"Revision {out.revision.number} saved: awaiting verification by a second"
                                      " pharmacist. Nurse sheets and calendars are withheld until then.")
            return redirect("plan", plan_id=tp.id)
        # show what moves, then offer the save of exactly these values: the form is already
        # validated (the preview above), only the hidden digest it renders changes
        data = request.POST.copy()
        data["previewed"] = digest
        form.data = data
        shown()
    return render(request, "clinic/plan_change.html", ctx)


def _describe(form) -> str:
    c = form.cleaned_data
    g, changes = form.parsed()
    text = describe(changes) if changes else describe_given(g)
    text += f" ({c['reason'].strip()})"
    if c.get("note"):
        text += f" — {c['note'].strip()}"
    return text


# --- downloads --------------------------------------------------------------------------------

def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


BAND = ('<div role="note" aria-label="not verified" style="position:fixed;top:0;left:0;right:0;'
        'background:#b00020;color:#fff;font:bold 14pt sans-serif;text-align:center;padding:4pt;z-index:9">'
        'NOT VERIFIED — draft awaiting a second pharmacist; do not give doses from this sheet</div>')


def _band(html: str) -> str:
    """A draft's sheet carries a band on every page (position: fixed repeats in print)."""
    at = html.find(">", html.find("<body")) + 1
    return html[:at] + BAND + html[at:]


@require(roles.VIEW)
@require_GET
def plan_sheet(request, plan_id, kind: str, fmt: str):
    tp = _plan(request, plan_id)
    if kind not in ("nurse", "pharmacist", "patient") or fmt not in ("html", "pdf"):
        raise Http404
    draft = False
    if kind == "pharmacist":
        if not request.user.has_perm(roles.AUTHOR):
            raise PermissionDenied
        rev = _latest(tp)
        _pf, _p, tl = service.compiled(rev)
        draft = tp.released_id != rev.id
    else:
        try:
            rev, _pf, _p, tl = service.released(tp)
        except service.NotReleased as exc:
            audit.record(request.user, "sheet.refused", f"{kind} sheet refused: {exc}", patient=tp.patient, plan=tp)
            return render(request, "clinic/not_released.html", {"plan": tp, "patient": tp.patient,
                                                                 "reason": str(exc)}, status=409)
    p = tp.patient
    # the patient calendar in the plan's language; nurse and pharmacist sheets in the site's
    lang = languages.output_language(tp.language) if kind == "patient" else None
    opts = SheetOptions(kind=kind, patient_name=p.display_name, mrn=p.record_number or None, language=lang)
    sel = Selection(cycle=request.GET.get("cycle") or None)
    try:
        html = render_html(tl, sel, opts, service.generated_at())
    except RegimensError as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    if draft:
        html = _band(html)
    audit.record(request.user, "sheet.print", f"{kind} sheet ({fmt}) of revision {rev.number}"
                 f"{' (NOT VERIFIED draft)' if draft else ''}", patient=p, plan=tp, revision=rev)
    name = f"{tp.protocol_id}-{kind}-r{rev.number}"
    if fmt == "pdf":
        return _download(render_pdf(html), "application/pdf", f"{name}.pdf")
    resp = HttpResponse(html, content_type="text/html; charset=utf-8")
    # the sheet is a self-contained document with its own inline CSS: allow exactly that here
    resp["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return resp


@require(roles.VIEW)
@require_GET
def plan_ics(request, plan_id):
    tp = _plan(request, plan_id)
    try:
        rev, _pf, _p, tl = service.released(tp)
    except service.NotReleased as exc:
        return render(request, "clinic/not_released.html", {"plan": tp, "patient": tp.patient, "reason": str(exc)},
                      status=409)
    from django.conf import settings

    # The same per-plan UIDs as the plan's feeds, so a download and a subscription never duplicate.
    # Patient wording, in the plan's language (as the plan's patient feed).
    body = to_ics(tl, IcsOptions(tz=settings.REGIMENS_CALENDAR_TZ, uid_salt=f"plan {tp.id}",
                                 language=languages.output_language(tp.language)), service.generated_at())
    audit.record(request.user, "calendar.download", f".ics of revision {rev.number}", patient=tp.patient,
                 plan=tp, revision=rev)
    return _download(body, "text/calendar; charset=utf-8", f"{tp.protocol_id}-r{rev.number}.ics")


@require(roles.AUTHOR)
@require_GET
def plan_file(request, plan_id):
    tp = _plan(request, plan_id)
    rev = _latest(tp)
    audit.record(request.user, "plan.download", f"plan file of revision {rev.number}", patient=tp.patient,
                 plan=tp, revision=rev)
    return _download(rev.plan_text.encode("utf-8"), "application/yaml", f"{tp.protocol_id}-plan-r{rev.number}.yaml")


@require(roles.VIEW)
@require_GET
def plan_json(request, plan_id):
    tp = _plan(request, plan_id)
    rev = _latest(tp)
    _pf, _p, tl = service.compiled(rev)
    audit.record(request.user, "timeline.download", f"timeline JSON of revision {rev.number}", patient=tp.patient,
                 plan=tp, revision=rev)
    return _download(to_json(tl, with_header=True), "application/json", f"{tp.protocol_id}-r{rev.number}.json")


# --- nurse ---------------------------------------------------------------------------------------

@require(roles.ADMINISTER)
@require_http_methods(["GET", "POST"])
def today(request):
    day = timezone.localdate()
    if request.method == "POST":
        return _record_administration(request, day)
    rows = list(SheetRow.objects.filter(date=day).select_related("plan__patient").order_by("time", "plan_id"))
    given = set(Administration.objects.filter(revision_id__in={r.revision_id for r in rows})
                .values_list("revision_id", "uid"))
    for r in rows:
        r.given = (r.revision_id, r.uid) in given
    return render(request, "clinic/today.html", {"rows": rows, "day": day, "form": None})


def _record_administration(request, day):
    row = get_object_or_404(SheetRow.objects.select_related("plan__patient"), id=request.POST.get("row"))
    form = forms.AdministrationForm(request, request.POST)
    if not form.is_valid() or form.cleaned_data["uid"] != row.uid:
        rows = list(SheetRow.objects.filter(date=day).select_related("plan__patient").order_by("time", "plan_id"))
        return render(request, "clinic/today.html", {"rows": rows, "day": day, "form": form, "form_row": row.id},
                      status=400)
    try:
        rev, *_ = service.released(row.plan)
    except service.NotReleased as exc:
        messages.error(request, str(exc))
        return redirect("today")
    if rev.id != row.revision_id:
        messages.error(request, "the plan changed: reload the list")
        return redirect("today")
    with transaction.atomic():
        a = Administration.objects.create(revision=rev, uid=row.uid, given_at=timezone.now(), given_by=request.user,
                                          checked_by=form.checker_user, dose_given=form.cleaned_data["dose_given"],
                                          note=form.cleaned_data["note"])
        audit.record(request.user, "dose.given", f"{row.title} {row.dose} ({row.cycle_id} day {row.day}) given,"
                     f" checked by {form.checker_user.get_username()}", patient=row.plan.patient, plan=row.plan,
                     revision=rev, after=a.dose_given, reason=a.note)
    messages.success(request, f"{row.title} recorded as given.")
    return redirect("today")


# --- audit -------------------------------------------------------------------------------------

@require(roles.VIEW)
@require_GET
def patient_audit(request, patient_id):
    p = get_object_or_404(Patient, id=patient_id)
    entries = list(AuditEntry.objects.filter(patient=p).order_by("-seq")[:500])
    return render(request, "clinic/audit.html", {"patient": p, "entries": entries})


@require(roles.VIEW)
@require_GET
def patient_audit_export(request, patient_id, fmt: str):
    p = get_object_or_404(Patient, id=patient_id)
    return _export(AuditEntry.objects.filter(patient=p).order_by("seq"), fmt, f"audit-{p.id}")


@require(roles.AUDIT)
@require_GET
def audit_export(request, fmt: str):
    problems = audit.verify_chain()
    resp = _export(AuditEntry.objects.order_by("seq"), fmt, "audit")
    resp["X-Audit-Chain"] = "intact" if not problems else f"BROKEN: {problems[0]}"
    return resp


def _export(qs, fmt: str, name: str) -> HttpResponse:
    rows = audit.rows(qs.iterator())
    if fmt == "json":
        return _download(json.dumps(rows, indent=1, ensure_ascii=False).encode("utf-8"), "application/json",
                         f"{name}.json")
    if fmt != "csv":
        raise Http404
    # the exporters' one rule for cells a spreadsheet would run as a formula (= + - @ tab CR)
    text = csv_table(list(audit.FIELDS) + ["hash"], rows)
    return _download(text.encode("utf-8"), "text/csv; charset=utf-8", f"{name}.csv")


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if request.user.has_perm(roles.VIEW) and not request.user.has_perm(roles.ADMINISTER):
        return redirect("patients")
    if request.user.has_perm(roles.ADMINISTER):
        return redirect("today")
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied


def now_local() -> datetime:
    return timezone.localtime()
