"""A small protocol written for the change tests, and the calendar worked out by hand from it.

Course A, 21 days, 3 cycles, start Monday 2027-03-22:
  cyclophosphamide 300 mg/m² IV every 12 hours × 4 from day 1 (08:00, 20:00, 08:00, 20:00)
  doxorubicin 50 mg/m² IV day 1; vincristine 1.4 mg/m² (cap 2 mg) IV days 1 and 8
  methotrexate 12 mg IT day 8, window days 8-10; dexamethasone 40 mg PO days 1-4; blood count day 15

Cycle 1: day 1 = Mon 2027-03-22, day 8 = Mon 2027-03-29 (Easter Monday, an England and Wales
bank holiday), day 15 = 2027-04-05. Good Friday 2027-03-26 is day 5 (nothing is given).
Cycle 2: day 1 = 2027-04-12, day 8 = 2027-04-19, day 15 = 2027-04-26.
Cycle 3: day 1 = Mon 2027-05-03 (Early May bank holiday), day 8 = 2027-05-10, day 15 = 2027-05-17.
"""

from datetime import date

PROTOCOL = """
id: changetest
title: Change test protocol
version: "1.0"
registry: {}
sources:
  - {key: adult-2, kind: reference, cite: "adult-regimens.md §2"}
courses:
  a:
    name: Course A
    length_days: 21
    length_source: adult-2
    items:
      - drug: cyclophosphamide
        route: IV
        dose: {value: 300, unit: mg/m2}
        days: "1-2"
        every_hours: 12
        doses: 4
        over: 3 h
        source: adult-2 (q12h x 4)
      - drug: doxorubicin
        route: IV
        dose: {value: 50, unit: mg/m2}
        days: "1"
        source: adult-2
      - drug: vincristine
        route: IV
        dose: {value: 1.4, unit: mg/m2, cap: 2, cap_unit: mg}
        days: "1, 8"
        source: adult-2
      - drug: methotrexate
        route: IT
        dose: {value: 12, unit: mg}
        days: "8"
        window: "8-10"
        source: adult-2 ("IT methotrexate day 8 to 10")
      - drug: dexamethasone
        route: PO
        dose: {value: 40, unit: mg}
        days: "1-4"
        source: adult-2
      - event: lab
        title: Blood count
        days: "15"
        source: adult-2
phases:
  main: {name: Main, pattern: [a], cycles: 3, source: adult-2}
arms:
  - {label: "1", name: Only arm, sequence: [main], source: adult-2}
"""

START = date(2027, 3, 22)
C1, C2, C3 = date(2027, 3, 22), date(2027, 4, 12), date(2027, 5, 3)
EASTER_MONDAY, MAY_DAY, GOOD_FRIDAY = date(2027, 3, 29), date(2027, 5, 3), date(2027, 3, 26)
