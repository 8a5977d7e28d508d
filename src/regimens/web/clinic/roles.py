"""Roles are Django groups holding model permissions (created by migration 0002). Views check
permissions server-side with `require`; templates use `roles` only to hide links."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

PHARMACIST, NURSE, PRESCRIBER, ADMINISTRATOR = "pharmacist", "nurse", "prescriber", "administrator"
ROLES = (PHARMACIST, NURSE, PRESCRIBER, ADMINISTRATOR)

# group → permissions (app_label.codename)
GRANTS = {
    PHARMACIST: ["clinic.view_patients", "clinic.add_patient", "clinic.author_plan", "clinic.verify_plan"],
    NURSE: ["clinic.view_patients", "clinic.record_administration"],
    PRESCRIBER: ["clinic.view_patients"],
    ADMINISTRATOR: ["auth.add_user", "auth.change_user", "auth.view_user", "auth.view_group",
                    "clinic.view_auditentry"],
}

VIEW = "clinic.view_patients"
AUTHOR = "clinic.author_plan"
VERIFY = "clinic.verify_plan"
ADMINISTER = "clinic.record_administration"
ADD_PATIENT = "clinic.add_patient"
AUDIT = "clinic.view_auditentry"


def require(*perms: str):
    """Login, then every permission; PermissionDenied (403) otherwise."""

    def deco(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return deco


def context(request):
    u = getattr(request, "user", None)
    if u is None or not u.is_authenticated:
        return {"can": {}}
    return {"can": {"view": u.has_perm(VIEW), "author": u.has_perm(AUTHOR), "verify": u.has_perm(VERIFY),
                    "administer": u.has_perm(ADMINISTER), "add_patient": u.has_perm(ADD_PATIENT),
                    "audit": u.has_perm(AUDIT), "admin": u.is_staff}}
