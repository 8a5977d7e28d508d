"""`{% given_panel plan %}`: what the nurses recorded as given against each dose of this plan.

Rendered with its own queries, outside the plan page's per-revision body: an administration is
recorded against a verified revision and never makes a new one (docs/service.md, "What was
given"), so the page's cached schedule stays right while this list grows."""

from __future__ import annotations

from django import template

from regimens.web.clinic import service
from regimens.web.clinic.models import Administration

register = template.Library()
SHOWN = 200


@register.inclusion_tag("clinic/given_panel.html")
def given_panel(plan):
    given = list(Administration.objects.filter(revision__plan=plan).select_related("revision", "given_by", "checked_by")
                 .order_by("-given_at")[:SHOWN])
    events: dict = {}
    for rev in {a.revision for a in given}:
        uids = {a.uid for a in given if a.revision_id == rev.id}
        for e in service.for_display(service.events(rev)):
            if e["uid"] in uids:
                events[(rev.id, e["uid"])] = e
    rows = [{"a": a, "e": events.get((a.revision_id, a.uid))} for a in given]
    return {"rows": rows, "more": len(given) == SHOWN}
