"""The feed itself (public: the token is the credential) and the staff actions on feeds, each
permission-checked and written to the service's audit trail. No schedule logic here: bytes come
from served.py (through the release gate), HTTP answers from regimens.exporters.feed."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from regimens.errors import RegimensError
from regimens.exporters.feed import precheck, respond
from regimens.exporters.itip import ItipError, Party, same_day_messages
from regimens.web.clinic import audit, languages, roles, service
from regimens.web.clinic.models import Revision, TreatmentPlan
from regimens.web.clinic.roles import require
from regimens.web.feeds import accesslog, links, mail, served
from regimens.web.feeds.forms import EmailForm, NewFeedForm
from regimens.web.feeds.models import FeedToken
from regimens.web.feeds.tokens import new_token, token_hash, well_formed

MANAGE = "feeds.manage_feeds"


# --- the feed -----------------------------------------------------------------------------------

def _client(request) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):  # behind the hospital's reverse proxy
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _unlogged(r: HttpResponse) -> HttpResponse:
    # Django logs every 4xx/5xx answer with its path, and a feed's path is its credential
    r._has_been_logged = True
    return r


def _plain(status: int, text: str, extra: dict | None = None) -> HttpResponse:
    r = HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
    for k, v in (extra or {}).items():
        r[k] = v
    return _unlogged(r)


def _http(fr) -> HttpResponse:
    r = HttpResponse(fr.body, status=fr.status)
    for k, v in fr.headers:
        r[k] = v
    if fr.status == 304 or not fr.body and fr.status == 200:
        # HEAD and 304: Django would otherwise send its own length and type for the empty body
        for k in ("Content-Length", "Content-Type"):
            if fr.header(k) is None and k in r:
                del r[k]
        if fr.header("Content-Length") is not None:
            r["Content-Length"] = fr.header("Content-Length")
    return _unlogged(r)


def feed(request, token: str):
    """GET or HEAD /feeds/<token>.ics. Unknown and revoked tokens: 404 at once (a revoked one is
    logged against its feed, so the staff see who still polls it)."""
    t = served.lookup(token_hash(token)) if well_formed(token) else None
    if t is None:
        return _plain(404, "No such calendar.")
    agent = request.META.get("HTTP_USER_AGENT", "")
    address = _client(request)
    if t.revoked:
        accesslog.record(t.feed_id, address, agent, 404)
        return _plain(404, "No such calendar.")
    headers = {k[5:].replace("_", "-"): v for k, v in request.META.items() if k.startswith("HTTP_")}
    try:
        key, digest, modified, size = served.tag(t)
        fr = precheck(digest, modified, request.method, headers, size=size)
        if fr is None:
            ent = served.entity(t, key)
            fr = respond(ent.body, ent.modified, request.method, headers, digest=ent.digest, gzipped=ent.gzipped)
    except served.Unavailable:
        accesslog.record(t.feed_id, address, agent, 503)
        # calendar apps keep what they have and try again later
        return _plain(503, "This calendar is not available yet.", {"Retry-After": "3600"})
    accesslog.record(t.feed_id, address, agent, fr.status)
    return _http(fr)


# --- staff: create, rotate, revoke ----------------------------------------------------------------

def _plan(plan_id) -> TreatmentPlan:
    return get_object_or_404(TreatmentPlan.objects.select_related("patient"), id=plan_id)


def _feed(tp: TreatmentPlan, feed_id) -> FeedToken:
    return get_object_or_404(FeedToken, plan=tp, id=feed_id)


def _describe(ft: FeedToken) -> str:
    return f"{ft.get_holder_display().split(' (')[0].lower()} feed {str(ft.id)[:8]}, {ft.audience} wording"


def _show_once(request, tp: TreatmentPlan, ft: FeedToken, token: str, status: int = 200):
    """The one page that shows the token: subscribe links, QR codes and instructions."""
    url = links.feed_url(request, token)
    webcal = links.webcal_url(url)
    titles = ("QR code: subscribe on an iPhone or iPad", "QR code: the calendar link for other phones and computers")
    # The patient's part of the page in the plan's patient language (English keeps its own page).
    pl = languages.output_language(tp.language)
    h = None
    if pl is not None:
        from regimens.web.feeds.handout import MESSAGES, handout

        h = handout(pl)
        plain = pl.translator(html=False)
        titles = (plain.gettext(MESSAGES["qr_apple"]), plain.gettext(MESSAGES["qr_other"]))
    ctx = {"plan": tp, "patient": tp.patient, "feed": ft, "url": url, "webcal": webcal, "token": token,
           "qr_webcal": links.qr_svg(webcal, titles[0]), "qr_https": links.qr_svg(url, titles[1]),
           "released": served.released_revision_id(tp) is not None, "h": h,
           "language": languages.describe(tp.language)}
    return render(request, "feeds/created.html", ctx, status=status)


@require(roles.VIEW, MANAGE)
@require_POST
def feed_new(request, plan_id):
    tp = _plan(plan_id)
    form = NewFeedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The feed was not created: " + "; ".join(
            str(e) for errs in form.errors.values() for e in errs))
        return redirect("plan", plan_id=tp.id)
    token, digest = new_token()
    with transaction.atomic():
        ft = FeedToken.objects.create(plan=tp, token_hash=digest, audience=form.cleaned_data["audience"],
                                      holder=form.cleaned_data["holder"], email=form.cleaned_data["email"],
                                      created_by=request.user)
        audit.record(request.user, "feed.create", f"calendar feed created: {_describe(ft)}", patient=tp.patient,
                     plan=tp)
    return _show_once(request, tp, ft, token, status=201)


@require(roles.VIEW, MANAGE)
@require_POST
def feed_rotate(request, plan_id, feed_id):
    """A new link with the same settings; the old one answers 404 from now on."""
    tp = _plan(plan_id)
    old = _feed(tp, feed_id)
    if old.revoked:
        messages.error(request, "That feed is already revoked; create a new one.")
        return redirect("plan", plan_id=tp.id)
    token, digest = new_token()
    with transaction.atomic():
        FeedToken.objects.filter(id=old.id).update(revoked=True, revoked_at=timezone.now(), revoked_by=request.user)
        ft = FeedToken.objects.create(plan=tp, token_hash=digest, audience=old.audience, holder=old.holder,
                                      email=old.email, created_by=request.user, replaces=old)
        audit.record(request.user, "feed.rotate", f"calendar feed rotated: {_describe(old)} revoked, "
                     f"replaced by {_describe(ft)}", patient=tp.patient, plan=tp,
                     reason=request.POST.get("reason", "")[:500])
    return _show_once(request, tp, ft, token)


@require(roles.VIEW, MANAGE)
@require_POST
def feed_revoke(request, plan_id, feed_id):
    tp = _plan(plan_id)
    ft = _feed(tp, feed_id)
    with transaction.atomic():
        n = FeedToken.objects.filter(id=ft.id, revoked=False).update(revoked=True, revoked_at=timezone.now(),
                                                                     revoked_by=request.user)
        if n:
            audit.record(request.user, "feed.revoke", f"calendar feed revoked: {_describe(ft)}", patient=tp.patient,
                         plan=tp, reason=request.POST.get("reason", "")[:500])
    messages.success(request, "The feed is revoked: its link no longer works." if n else "Already revoked.")
    return redirect("plan", plan_id=tp.id)


@require(roles.VIEW, MANAGE)
@require_POST
def feed_calendar(request, plan_id, feed_id):
    """The patient calendar (PDF) of the released revision with this feed's link printed as QR
    codes (regimens.exporters.patient_feed). The link is stored only as its hash, so it comes back
    from the one page that showed it, in the POST body: never in a URL, a log or the audit."""
    from regimens.exporters.sheet import Selection, SheetOptions, render_html, render_pdf

    tp = _plan(plan_id)
    ft = _feed(tp, feed_id)
    token = request.POST.get("token", "")
    if ft.revoked or not well_formed(token) or token_hash(token) != ft.token_hash:
        return _plain(400, "This is not the link of an active feed of this plan: rotate the feed to print a new one.")
    try:
        rev, _pf, _p, tl = service.released(tp)
    except service.NotReleased as exc:
        return render(request, "clinic/not_released.html", {"plan": tp, "patient": tp.patient, "reason": str(exc)},
                      status=409)
    p = tp.patient
    opts = SheetOptions(kind="patient", patient_name=p.display_name, mrn=p.record_number or None,
                        feed_url=links.feed_url(request, token), language=languages.output_language(tp.language))
    try:
        pdf = render_pdf(render_html(tl, Selection(), opts, service.generated_at()))
    except RegimensError as exc:
        return _plain(400, str(exc))
    audit.record(request.user, "sheet.print", f"patient sheet (pdf) of revision {rev.number} with the link of "
                 f"{_describe(ft)}", patient=p, plan=tp, revision=rev)
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f'attachment; filename="{tp.protocol_id}-patient-r{rev.number}-feed.pdf"'
    r["Cache-Control"] = "no-store"  # it holds the feed's credential
    return r


# --- staff: same-day change e-mail ----------------------------------------------------------------

@require(roles.VIEW, MANAGE)
@require_POST
def feed_email(request, plan_id, feed_id):
    """E-mail the feed's holder the events of today and tomorrow that the newest verified revision
    changed (iTIP), for the apps that refresh subscriptions only every few hours to a day."""
    tp = _plan(plan_id)
    ft = _feed(tp, feed_id)
    form = EmailForm(request.POST, initial={"email": ft.email})
    if ft.revoked or not form.is_valid():
        messages.error(request, "Not sent: " + ("the feed is revoked" if ft.revoked else "give a valid e-mail address"))
        return redirect("plan", plan_id=tp.id)
    try:
        clinic = mail.organizer()
        rev, _pf, _plan_file, tl = service.released(tp)
        prev = (Revision.objects.filter(plan=tp, verified_by__isnull=False, number__lt=rev.number)
                .order_by("-number").first())
        if prev is None:
            raise ItipError("this is the plan's first verified revision: there is no change to send")
        _pf, _p, old_tl = service.compiled(prev)
        old, _ = served.calendar_of(prev, old_tl, ft.audience, tp)
        new, _ = served.calendar_of(rev, tl, ft.audience, tp)
        today = timezone.localdate()
        msgs = same_day_messages(old, new, clinic, Party(form.cleaned_data["email"]), timezone.now(),
                                 within=(today, today + timedelta(days=1)))
        mail.send(msgs)
    except (service.NotReleased, RegimensError, mail.MailNotConfigured) as exc:
        messages.error(request, f"Not sent: {exc}")
        return redirect("plan", plan_id=tp.id)
    except (smtplib.SMTPException, OSError) as exc:
        messages.error(request, f"Not sent: the mail server refused or could not be reached ({type(exc).__name__})")
        return redirect("plan", plan_id=tp.id)
    subjects = "; ".join(str(m["Subject"]) for m in msgs)
    audit.record(request.user, "feed.email", f"same-day change e-mail ({subjects}) for revision {prev.number} → "
                 f"{rev.number}, to the {ft.get_holder_display().split(' (')[0].lower()} of {_describe(ft)}",
                 patient=tp.patient, plan=tp, revision=rev)
    messages.success(request, f"Sent {len(msgs)} e-mail{'s' if len(msgs) != 1 else ''} ({subjects}).")
    return redirect("plan", plan_id=tp.id)
