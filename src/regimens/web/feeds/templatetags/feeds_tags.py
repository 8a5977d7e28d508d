"""`{% feeds_panel plan %}`: the plan page's feed section (list, flags, create/rotate/revoke and
change e-mail controls), rendered with its own queries so the plan view needs no change."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from regimens.web.feeds import served
from regimens.web.feeds.forms import NewFeedForm
from regimens.web.feeds.models import FeedAccess, FeedToken

register = template.Library()
WINDOW = timedelta(days=7)


def address_limit() -> int:
    return int(getattr(settings, "REGIMENS_FEED_ADDRESS_LIMIT", 12))


def flagged(feed_ids, since) -> dict:
    """feed id → distinct client addresses in the window, for feeds over the limit."""
    rows = (FeedAccess.objects.filter(feed_id__in=list(feed_ids), at__gte=since, address__isnull=False)
            .values("feed_id").annotate(n=Count("address", distinct=True)))
    return {r["feed_id"]: r["n"] for r in rows if r["n"] > address_limit()}


@register.inclusion_tag("feeds/panel.html", takes_context=True)
def feeds_panel(context, plan):
    request = context["request"]
    feeds = list(FeedToken.objects.filter(plan=plan).order_by("revoked", "-created_at"))
    since = timezone.now() - WINDOW
    stats = {r["feed_id"]: r for r in FeedAccess.objects.filter(feed__plan=plan, at__gte=since)
             .values("feed_id").annotate(n=Count("id"), last=Max("at"), addresses=Count("address", distinct=True))}
    flags = flagged([f.id for f in feeds], since)
    rows = [{"feed": f, "stats": stats.get(f.id), "flag": flags.get(f.id)} for f in feeds]
    return {"plan": plan, "rows": rows, "form": NewFeedForm(), "csrf_token": context.get("csrf_token"),
            "can_manage": request.user.has_perm("feeds.manage_feeds"),
            "released": served.released_revision_id(plan) is not None, "limit": address_limit(),
            "mail_ready": bool(getattr(settings, "REGIMENS_SMTP_HOST", "") and getattr(settings, "REGIMENS_MAIL_FROM", ""))}
