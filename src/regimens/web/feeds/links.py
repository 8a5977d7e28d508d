"""Subscribe links and QR codes (segno, SVG, made here: no network, no third-party service)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def feed_url(request, token: str) -> str:
    """https://…/feeds/<token>.ics. REGIMENS_FEED_BASE_URL sets the public address when the
    service's own address is not the one Google's and Microsoft's servers can reach."""
    path = reverse("feed", args=[token])
    base = getattr(settings, "REGIMENS_FEED_BASE_URL", "") or ""
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def webcal_url(url: str) -> str:
    """The same address as webcal:// (Apple and Outlook open it as a subscription, not an import)."""
    return "webcal://" + url.split("://", 1)[1]


def qr_svg(text: str, title: str) -> str:
    import segno

    return segno.make(text, error="m").svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
