"""Check-as-you-type for the new-plan and record-a-change forms (htmx, docs/service.md): each
field's wrapper posts the whole form here after a change, and the answer is the library's
message for each field whose message changed, swapped into that field's aria-live region.
Nothing is saved or audited here (nothing is shown but validation messages) and no check lives
here: the forms call the same library functions as the command line and as the submit, which
stays the authority."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from regimens.errors import RegimensError
from regimens.plans.plan import check_protocol
from regimens.web.clinic import forms, roles, service
from regimens.web.clinic.models import Patient, Revision, TreatmentPlan
from regimens.web.clinic.roles import require


def _trigger(request) -> str | None:
    # htmx names the element that asked: the field's wrapper, id "f-<name>"
    t = request.headers.get("HX-Trigger", "")
    return t.removeprefix("f-") if t.startswith("f-") else None


def _answer(request, form) -> HttpResponse:
    r = render(request, "clinic/live.html", {"messages_live": [m for m in form.live_messages() if m.changed]})
    r["Cache-Control"] = "no-store"
    return r


@require(roles.AUTHOR)
@require_POST
def plan_new_check(request, patient_id):
    get_object_or_404(Patient, id=patient_id)
    pid = request.POST.get("protocol")
    if pid not in service.protocol_ids():
        return HttpResponseBadRequest("unknown protocol")
    form = forms.NewPlanForm(service.protocol(pid), request.POST, live=True, trigger=_trigger(request))
    return _answer(request, form)


@require(roles.AUTHOR)
@require_POST
def plan_change_check(request, plan_id):
    tp = get_object_or_404(TreatmentPlan, id=plan_id)
    try:
        base = Revision.objects.get(plan=tp, number=int(request.POST.get("base", "")))
    except (ValueError, Revision.DoesNotExist):
        return HttpResponseBadRequest("unknown revision")
    saved = service.plan_of(base)
    pf = service.protocol(saved.protocol.id)
    try:
        check_protocol(saved, pf, "this plan")
    except RegimensError:
        return HttpResponse(status=204)  # the page itself says so on submit
    cycles = [(c.cycle_id, c.cycle_id) for c in service.cycles(base)]
    form = forms.ChangeForm(pf, saved, cycles, request.user.get_username(), request.POST, live=True,
                            trigger=_trigger(request), realiser=service.preview_realised,
                            limits=service.limits())  # saved revision compiled once
    return _answer(request, form)
