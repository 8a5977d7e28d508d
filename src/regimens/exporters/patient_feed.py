"""The calendar feed on paper: the plan's subscription link (docs/feeds.md) printed on the patient
calendar as QR codes with short subscribe steps for each calendar app.

The link is a capability (whoever has it reads the calendar), so it is only printed when asked
for, the page says it is private, and no error message repeats it. The QR codes are SVG drawn
by segno inside the HTML: no image file, no network, the same bytes every run.
"""

from __future__ import annotations

import re

from regimens.errors import RegimensError
from regimens.exporters.patient_words import Words
from regimens.language.site import N_

# A feed link as the clinic service prints it: https (or http on a test server) or webcal, a host,
# a path; no spaces, quotes or angle brackets (it goes into a QR code and a printed line).
_LINK = re.compile(r"^(https?|webcal)://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[^\s\"<>]*)?$")

QR_APPLE = N_("QR code: subscribe on an iPhone, iPad or Mac")
QR_OTHER = N_("QR code: the calendar link for Google, Outlook and Android")


def links(url: str) -> tuple[str, str]:
    """(https link, webcal link) for a feed link given either way. Refused without repeating it."""
    url = (url or "").strip()
    if not _LINK.match(url) or len(url) > 500:
        raise RegimensError("--feed-url: not a calendar feed link; give the https:// (or webcal://) link the "
                            "clinic service showed when the feed was made")
    scheme, rest = url.split("://", 1)
    https = url if scheme in ("https", "http") else "https://" + rest
    return https, "webcal://" + rest


def qr_svg(text: str, title: str) -> str:
    """An inline SVG QR code of exactly `text` (error correction M: a fold or a smudge still reads)."""
    import segno

    return segno.make(text, error="m", micro=False).svg_inline(
        border=4, title=title, dark="#000", light="#fff", svgclass="qrcode", lineclass=None,
        omitsize=True)  # a viewBox instead of a pixel size: the page's CSS sets the printed size


def subscribe(url: str, w: Words) -> dict[str, str]:
    """What the template's "on your phone" page needs."""
    https, webcal = links(url)
    return {"https": https, "webcal": webcal,
            "qr_webcal": qr_svg(webcal, w(QR_APPLE)), "qr_https": qr_svg(https, w(QR_OTHER))}
