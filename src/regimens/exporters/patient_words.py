"""Every phrase the patient calendar's content is made of, marked for translation (`N_`: the
catalogs under regimens/language/locales hold each one in every shipped language), and `Words`,
which puts numbers and dates into them in the patient's language. The page's fixed text is in
the template (templates/sheet/patient.html.j2).

Plain words over clinical shorthand: routes spelled out, no cycle ids, no protocol ambiguity ids,
no tall-man lettering (a safety device for staff reading drug lists, not for patients), m² not m2.
"""

from __future__ import annotations

import re
from datetime import date

from regimens.exporters.sheet_views import MONTHS, long_date
from regimens.language.catalogs import Translator, language
from regimens.language.site import N_

ROUTE_WORDS = {
    "IV": N_("into a vein"), "PO": N_("by mouth"), "SC": N_("injection under the skin"),
    "SUBCUT": N_("injection under the skin"), "IM": N_("injection into a muscle"),
    "IT": N_("into the spinal fluid (lumbar puncture)"), "ITH": N_("into the spinal fluid (lumbar puncture)"),
}
# The words of the grid's key stay the sort keys of a day square (patient_calendar.PRIORITY); what
# is printed is their translation, so the order is the same in every language.
WORDS = {"Clinic": N_("Clinic"), "Tablets": N_("Tablets"), "Pump": N_("Pump"), "Hospital": N_("Hospital"),
         "Blood test": N_("Blood test"), "Start": N_("Start"), "Rest": N_("Rest"),
         "Clinic visit": N_("Clinic visit"), "Check-up": N_("Check-up"), "Procedure": N_("Procedure"),
         "Continues": N_("Treatment continues as your team decides")}
LABELS = {"lab": "Blood test", "visit": "Clinic visit", "assessment": "Check-up",
          "procedure": "Procedure", "gate": "Check-up"}
TIMES_A_DAY = {1: N_("once a day"), 2: N_("twice a day"), 3: N_("three times a day"), 4: N_("four times a day")}
N_TIMES_A_DAY = N_("%(n)s times a day")
# Which dose of the day: whole sentences (an ordinal does not translate on its own).
NTH_DOSE = {1: N_("1st of %(n)s doses today"), 2: N_("2nd of %(n)s doses today"),
            3: N_("3rd of %(n)s doses today"), 4: N_("4th of %(n)s doses today")}
KTH_DOSE = N_("dose %(k)s of %(n)s today")
AT_TIME = N_("at %(time)s")
# Tick-box labels when a medicine is taken once or twice a day (the time itself when more often).
AM, PM = N_("AM"), N_("PM")

TEAM_TELLS_DOSE = N_("your team will tell you the dose")
"""A dose no public source gives: the patient's team gives it (never a guess on paper)."""
HIGH_ALERT_WEEKLY = ("methotrexate",)
"""Taken once a week by mouth: a daily mistake is dangerous, so the week box says so."""
ONCE_THIS_WEEK = N_("once this week, only on the day with boxes")
ON_HOLD = N_("on hold: do not take unless your team tells you")
ON_HOLD_BOX = N_("on hold")
PREMED = N_("given before another medicine, to prevent a reaction")
PUMP_ALL_DAY = N_("through a pump, day and night")
LAST_DAY_OF_PUMP = N_("%(drug)s: last day of the pump or drip")
AT_HOME = N_("at home")
SEE_BELOW = N_("(see below)")
WEEK_OF = N_("Week of %(date)s")
UNTIL = N_("until %(date)s")
PUMP_OFF = N_("your pump comes off on %(date)s at %(time)s")
"""When the pump stops (DoseEvent.stops: the clock time every output prints), in the day list."""
PUMP_OFF_DAY = N_("%(drug)s: your pump comes off at %(time)s")
PUMP_OFF_AT = N_("comes off at %(time)s")
"""The day square of the morning the pump stops (09:00 on day 29, after the last whole day)."""

_AMBIGUITY_ID = re.compile(r"\s*\((?:[A-Z]\d+(?:,\s*)?)+\)")
_M2 = re.compile(r"\bm2\b")
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plain(text: str) -> str:
    """Text for a patient: no `(A5)` ambiguity ids, m² for m2."""
    return _M2.sub("m²", _AMBIGUITY_ID.sub("", text or "")).strip()


def drug(name: str) -> str:
    """The generic name as a patient reads it on the box: lower case, Latin script, no tall-man."""
    return plain(name).lower()


class Words:
    """The phrases above in one patient's language (`tr`; English when None)."""

    def __init__(self, tr: Translator | None = None):
        self.tr = tr or Translator(language("en"))
        self.english = self.tr.is_source

    def __call__(self, message: str, **params) -> str:
        text = self.tr.gettext(message)
        return text % params if params else text

    # dates: English as the calendar always printed them, other languages from CLDR
    def short(self, d: date) -> str:
        """`Mon 4 Jan`."""
        if self.english:
            return f"{WEEKDAY_SHORT[d.weekday()]} {d.day} {MONTHS[d.month - 1][:3]}"
        return self.tr.date(d, "EEE d MMM")

    def day_month(self, d: date) -> str:
        return f"{d.day} {MONTHS[d.month - 1][:3]}" if self.english else self.tr.date(d, "d MMM")

    def long(self, d: date) -> str:
        return long_date(d) if self.english else self.tr.date(d, "full")

    def clock(self, t) -> str:
        """`9:00`, `17:30`: a 24-hour clock time without a leading zero, as a patient writes it."""
        return f"{t.hour}:{t.minute:02d}"

    def weekdays_short(self) -> list[str]:
        """Abbreviated weekday names in printed order (the locale's first day of the week first)."""
        if self.english:
            return list(WEEKDAY_SHORT)
        return self.tr.weekday_names("abbreviated")

    # sentences with numbers
    def often(self, per_day: int) -> str:
        msg = TIMES_A_DAY.get(per_day)
        return self(msg) if msg else self(N_TIMES_A_DAY, n=per_day)

    def dose_of_day(self, k: int, n: int, time: str) -> str:
        """`2nd of 3 doses today, at 14:00`."""
        text = self(NTH_DOSE[k], n=n) if k in NTH_DOSE else self(KTH_DOSE, k=k, n=n)
        return f"{text}, {self(AT_TIME, time=time)}" if time else text

    def stay_first_day(self, days: int) -> str:
        """The first square of a hospital stay: `stay, 3 days`."""
        return self.tr.ngettext("stay, %(n)s day", "stay, %(n)s days", days) % {"n": days}

    def stay_day(self, k: int, days: int) -> str:
        """A later square of the stay: `day 2 of 3`."""
        return self(N_("day %(k)s of %(n)s"), k=k, n=days)

    def stay(self, days: int, first: date, last: date) -> str:
        """`Hospital stay: 3 days (Mon 4 Jan to Wed 6 Jan)`."""
        if days == 1:
            return self(N_("Hospital stay: 1 day (%(first)s)"), first=self.short(first))
        text = self.tr.ngettext("Hospital stay: %(n)s day (%(first)s to %(last)s)",
                                "Hospital stay: %(n)s days (%(first)s to %(last)s)", days)
        return text % {"n": days, "first": self.short(first), "last": self.short(last)}
