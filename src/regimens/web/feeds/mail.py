"""Sending the same-day change e-mails through the hospital's SMTP server, configured from the
environment (docs/feeds.md): REGIMENS_SMTP_HOST, REGIMENS_SMTP_PORT, REGIMENS_SMTP_SECURITY
(starttls, ssl or none), REGIMENS_SMTP_USER, REGIMENS_SMTP_PASSWORD, REGIMENS_MAIL_FROM,
REGIMENS_MAIL_FROM_NAME."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from django.conf import settings

from regimens.exporters.itip import Party


class MailNotConfigured(Exception):
    pass


def organizer() -> Party:
    addr = getattr(settings, "REGIMENS_MAIL_FROM", "")
    if not getattr(settings, "REGIMENS_SMTP_HOST", "") or not addr:
        raise MailNotConfigured("e-mail is not set up: set REGIMENS_SMTP_HOST and REGIMENS_MAIL_FROM "
                                "(docs/feeds.md)")
    return Party(addr, getattr(settings, "REGIMENS_MAIL_FROM_NAME", "") or None)


def send(messages: list[EmailMessage]) -> None:
    """Send all messages over one connection; smtplib errors propagate (the view reports them)."""
    host = settings.REGIMENS_SMTP_HOST
    security = (getattr(settings, "REGIMENS_SMTP_SECURITY", "starttls") or "starttls").lower()
    port = int(getattr(settings, "REGIMENS_SMTP_PORT", 0) or (465 if security == "ssl" else 587))
    timeout = 20
    if security == "ssl":
        conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
    with conn:
        if security == "starttls":
            conn.starttls(context=ssl.create_default_context())
        user = getattr(settings, "REGIMENS_SMTP_USER", "")
        if user:
            conn.login(user, getattr(settings, "REGIMENS_SMTP_PASSWORD", ""))
        domain = organizer().email.rsplit("@", 1)[-1]
        for m in messages:
            if "Message-ID" not in m:
                m["Message-ID"] = make_msgid(domain=domain)
            conn.send_message(m)
