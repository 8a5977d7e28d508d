"""Outputs: tabular (JSON/CSV/table), iCalendar (ics, ics_text, vtimezone) and printable sheets
(sheet, sheet_views, patient_calendar and templates/). Timeline in, bytes out; no exporter
recomputes schedule or dose logic.

Layer 6: imports errors, notation, protocol, schedule, dosing, plans. Never cli or web.
"""
