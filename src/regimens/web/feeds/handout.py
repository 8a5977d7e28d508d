"""The printed feed handout (the page shown once when a feed is made) in the plan's patient
language: title, privacy line, subscribe steps and link labels, translated through the catalogs
(regimens.language). Most messages are the patient calendar's own "on your phone" page, so a
translator writes them once. The staff part of the page stays in the site's language.

Django templates cannot call gettext with our catalogs, so the view passes the finished text:
Markup from an HTML translator (the visible English fallback is a marked span), which Django
inserts as is."""

from __future__ import annotations

from regimens.language.site import N_, PatientLanguage

MESSAGES = {
    "title": N_("Your calendar on your phone"),
    "private": N_("This link is private."),
    "private_more": N_("Like a key, it opens your treatment calendar: do not share it or post it. If it is lost "
                       "or shared, ask your team for a new link (the old one then stops working)."),
    "subscribe": N_("Subscribe, do not import: a subscribed calendar follows every change your team makes, by "
                    "itself."),
    "apple": N_("iPhone, iPad, Mac"),
    "scan": N_("scan to subscribe"),
    "other": N_("Google, Outlook, Android"),
    "link": N_("the calendar link"),
    "iphone": N_("iPhone or iPad"),
    "iphone_steps": N_("Point the camera at the iPhone QR code, tap the link, then Subscribe and Done."),
    "mac": N_("Mac"),
    "mac_steps": N_("Calendar → File → New Calendar Subscription…, type the subscribe link, Subscribe; set "
                    "Auto-refresh to every hour."),
    "google": N_("Google Calendar"),
    "google_steps": N_("On a computer, open calendar.google.com → next to “Other calendars” click + → From URL, "
                       "type the calendar link, Add calendar."),
    "android": N_("Android"),
    "android_steps": N_("After adding it in Google Calendar: Google Calendar app → Settings → the new calendar → "
                        "turn on Sync. Without Google: an app that subscribes to links (such as ICSx⁵), with the "
                        "second QR code."),
    "outlook": N_("Outlook"),
    "outlook_steps": N_("Calendar → Add calendar → Subscribe from web, type the calendar link, Import. Classic "
                        "Outlook: Home → Add Calendar → From Internet…"),
    "calendar_link": N_("Calendar link"),
    "subscribe_link": N_("Subscribe link (Apple, Outlook)"),
    "refresh": N_("Google and Outlook look for changes every few hours, sometimes once a day; Apple devices about "
                  "every hour. What your team tells you always comes first."),
    "switch_off": N_("The link works for this treatment calendar only, and your clinic can switch it off."),
    "reminder": N_("Always check with your care team: the calendar is a reminder, not the order."),
    "qr_apple": N_("QR code: subscribe on an iPhone, iPad or Mac"),
    "qr_other": N_("QR code: the calendar link for Google, Outlook and Android"),
}
FALLBACK_NOTE = N_("Underlined text is in English: it has no translation yet.")


def handout(pl: PatientLanguage) -> dict:
    """The handout's text in the patient's language, plus lang/dir, the "not yet reviewed" lines
    (both languages) and the line of a language that is not installed (English)."""
    tr = pl.translator(html=True)
    text = {k: tr.gettext(m) for k, m in MESSAGES.items()}
    plain = pl.translator(html=False)
    return {"t": text, "lang": pl.lang.html_lang, "dir": pl.lang.direction,
            "unreviewed": pl.unreviewed_lines(plain), "not_installed": pl.fallback_line(),
            "fallback_note": tr.gettext(FALLBACK_NOTE) if tr.missing else None}
