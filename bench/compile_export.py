"""Load, compile and export time of every shipped protocol and arm (python bench/compile_export.py).

Times are the median of several runs in one warm process (imports and the first template load
are not counted; `startup.py` measures start-up separately).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime

from regimens.batch import available_kinds
from regimens.dosing.doses import Measurements, resolve_doses
from regimens.exporters import tabular
from regimens.protocol.catalog import Catalog
from regimens.protocol.loader import load_path
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

RUNS = 7
WHEN = datetime(2027, 1, 1, tzinfo=UTC)


def median_ms(fn) -> float:
    """Median CPU time of this process (time.process_time): other load on the machine does not
    inflate it the way it inflates wall time."""
    fn()
    times = []
    for _ in range(RUNS):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times) * 1000


def main() -> None:
    kinds = available_kinds()
    exporters = {"json": tabular.to_json, "csv": tabular.to_csv, "table": tabular.to_table}
    if "ics" in kinds:
        from regimens.exporters import ics

        opts = ics.IcsOptions(tz="America/Chicago")
        exporters["ics"] = lambda tl: ics.to_ics(tl, opts, WHEN)
    if "nurse" in kinds:
        from regimens.exporters.sheet import Selection, SheetOptions, render_html

        for k in ("nurse", "pharmacist", "patient"):
            exporters[k] = (lambda kind: lambda tl: render_html(tl, Selection(), SheetOptions(kind=kind), WHEN))(k)
    m = Measurements(height_cm=170, weight_kg=70, age_years=40)
    cat = Catalog()
    head = f"{'protocol':<12} {'arm':<4} {'events':>6} {'load':>7} {'compile':>8} {'dose':>6}  " + \
        "  ".join(f"{k:>10}" for k in exporters)
    print(head + "   (CPU ms, median of %d)" % RUNS)
    for pid in cat.ids():
        path = cat.files()[pid][0]
        load = median_ms(lambda: load_path(path))
        pf = cat.load(pid)
        choices = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
        for arm in pf.protocol.arms:
            req = ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices)
            comp = median_ms(lambda: compile_timeline(pf, req))
            tl = compile_timeline(pf, req)
            dose = median_ms(lambda: resolve_doses(tl, m))
            dosed = resolve_doses(tl, m)
            cells = []
            for name, fn in exporters.items():
                try:
                    cells.append(f"{median_ms(lambda: fn(dosed)):10.1f}")
                except Exception:  # e.g. a sheet with nothing to give
                    cells.append(f"{'n/a':>10}")
            print(f"{pid:<12} {arm.label:<4} {len(tl.events):>6} {load:7.1f} {comp:8.1f} {dose:6.1f}  "
                  + "  ".join(cells))


if __name__ == "__main__":
    main()
