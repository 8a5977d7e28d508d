"""Byte identity of the calendar export between this checkout and a baseline checkout: every
shipped protocol and arm, every audience, the patient languages, splits, bag lengths, reminder
settings, location, phone, UID salt, omitted and held doses, a plan (a delayed element, an omitted
day, a held dose, a revision), and clinic zones with and without
DST, each written by both trees and compared byte for byte (python bench/ics_identity.py BASE/src).

    git worktree add --detach /tmp/base c24f123     # main before the direct content-line writer
    python bench/ics_identity.py /tmp/base/src [OUT_DIR]

Exits 1 and names the first differing line of each calendar that differs. With OUT_DIR the
current tree's calendars are kept there (for icscheck and expand/compare.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

WRITER = r'''
import json, sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from regimens.errors import RegimensError
from regimens.exporters import ics
from regimens.language.site import patient_language
from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

out = Path(sys.argv[1])
STAMP = datetime(2027, 1, 1, tzinfo=UTC)
cat = Catalog()
names = []
def write(name, tl, split=None, **kw):
    try:
        files = ics.export(tl, ics.IcsOptions(**kw), STAMP, split=split)
    except RegimensError as e:
        names.append((name, "error: " + str(e)))
        return
    for part, data in files:
        n = f"{name}{'-' + part if part else ''}.ics"
        (out / n).write_bytes(data)
        names.append((n, "ok"))

for pid in cat.ids():
    pf = cat.load(pid)
    dec = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
    for arm in pf.protocol.arms:
        try:
            tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=dec))
        except RegimensError as e:
            names.append((f"{pid}-{arm.label}", "error: " + str(e)))
            continue
        base = f"{pid}-{arm.label}".replace("/", "_")
        for aud in ("patient", "staff", "minimal"):
            write(f"{base}-{aud}", tl, tz="America/Chicago", audience=aud)
        write(f"{base}-berlin-loc", tl, tz="Europe/Berlin", location="Tagesklinik — 3. OG, Zi. 4; Eingang B",
              phone="+49 30 1234-5678", uid_salt="plan-7f3a")
        write(f"{base}-london-staff", tl, tz="Europe/London", audience="staff", bag_hours=48,
              reminder_minutes=0, clinic_reminder_minutes=90)
        write(f"{base}-kolkata-norem", tl, tz="Asia/Kolkata", reminders=False)
        write(f"{base}-sydney-some", tl, tz="Australia/Sydney", remind=frozenset({"lab", "take-home"}),
              all_day_reminder=time(7, 30), day_before_reminder=time(19, 15), measurements=True,
              patient_label="J. D., MRN 00123")
        write(f"{base}-phase", tl, split="phase", tz="America/New_York")
        for code in ("es", "zh_Hans", "ar", "vi"):
            lang = patient_language(code)
            write(f"{base}-{code}", tl, tz="Europe/Lisbon", language=lang, phone="112")
            write(f"{base}-{code}-minimal", tl, tz="Asia/Tokyo", language=lang, audience="minimal")
        # omitted and held doses: EXDATEs, CANCELLED and TENTATIVE events
        doses = [e for e in tl.events if e.drug]
        changed = tuple(e.with_(status="omitted" if k % 3 == 0 else "held", status_reason="test")
                        if e in doses[1::4] else e for k, e in enumerate(tl.events))
        write(f"{base}-changed", tl.with_events(changed), tz="America/Sao_Paulo")
        write(f"{base}-changed-staff", tl.with_events(changed), tz="Pacific/Auckland", audience="staff")
        # a plan: the second element starts a week late, one day omitted and one dose held, at
        # revision 3 (SEQUENCE), across the spring-forward change in Chicago and in Spanish
        if len(tl.cycles) > 1:
            c1, c2 = tl.cycles[0], tl.cycles[1]
            day1 = [e for e in tl.events if e.cycle_id == c1.cycle_id and e.drug]
            req = ScheduleRequest(start=date(2027, 2, 22), arm=arm.label, choices=dec,
                                  actual_starts={c2.cycle_id: c2.start + (date(2027, 2, 22) - date(2027, 1, 4)) + timedelta(days=7)},
                                  omit={f"{c1.cycle_id}:{day1[-1].day}": "platelets low"} if day1 else {},
                                  hold={day1[0].uid: "fever"} if day1 else {})
            try:
                planned = compile_timeline(pf, req)
            except RegimensError as e:
                names.append((f"{base}-plan", "error: " + str(e)))
            else:
                planned = replace(planned, revision=3)
                write(f"{base}-plan", planned, tz="America/Chicago", uid_salt="0123456789abcdef")
                write(f"{base}-plan-staff", planned, tz="America/Chicago", audience="staff")
                write(f"{base}-plan-es", planned, tz="America/Chicago", language=patient_language("es"))
                write(f"{base}-plan-ar-minimal", planned, tz="Europe/London", language=patient_language("ar"),
                      audience="minimal")
print(json.dumps(names))
'''


def run(src: Path, out: Path) -> list[tuple[str, str]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(src)}
    r = subprocess.run([sys.executable, "-c", WRITER, str(out)], capture_output=True, text=True, env=env)
    if r.returncode:
        sys.exit(f"{src}: {r.stderr.strip().splitlines()[-1]}")
    return [tuple(x) for x in json.loads(r.stdout)]


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = Path(sys.argv[1]).resolve()
    keep = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d, "base"), keep or Path(d, "cur")
        a.mkdir()
        b.mkdir(parents=True, exist_ok=True)
        na, nb = run(base, a), run(HERE, b)
        if na != nb:
            sys.exit(f"the trees made different sets of calendars: {len(na)} against {len(nb)}")
        bad, size = 0, 0
        files = [n for n, s in nb if s == "ok"]
        for n in files:
            x, y = (a / n).read_bytes(), (b / n).read_bytes()
            size += len(y)
            if x != y:
                bad += 1
                lx, ly = x.split(b"\r\n"), y.split(b"\r\n")
                k = next((i for i, (p, q) in enumerate(zip(lx, ly)) if p != q), min(len(lx), len(ly)))
                print(f"DIFFERS {n} line {k + 1}:\n  base    {lx[k:k + 1]}\n  current {ly[k:k + 1]}")
        digest = hashlib.sha256(b"".join((b / n).read_bytes() for n in files)).hexdigest()[:16]
        print(f"{len(files)} calendars ({size:,} bytes, sha256 {digest}); {len(nb) - len(files)} refused "
              f"alike by both trees; {bad} differ")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
