"""Start-up time of `regimens --help` against `python -c "import click"` (the floor: click is
what --help needs), and what it imports (run by hand: python bench/startup.py).

Heavy modules must stay out of `--help`: they are imported inside the commands that need them.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bytecode import compile_tree

REGIMENS = str(Path(sys.executable).with_name("regimens"))
HEAVY = ("weasyprint", "jinja2", "icalendar", "pydantic", "yaml", "dateutil", "regimens.schedule.compiler",
         "regimens.protocol.loader", "regimens.exporters", "regimens.dosing.doses", "concurrent.futures",
         "django", "waitress", "whitenoise", "regimens.web")
RUNS = 20


def wall(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child): CPU time is what a busy machine does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ratio(runs: int = RUNS) -> tuple[float, float, float]:
    """(`regimens --help` CPU, `python -c "import click"` CPU, ratio): medians of runs taken
    alternately, so load from other jobs hits both alike. Target: ratio <= 1.2."""
    a = [REGIMENS, "--help"]
    b = [sys.executable, "-c", "import click"]
    wall(a), wall(b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(wall(a)[1])
        tb.append(wall(b)[1])
    ma, mb = statistics.median(ta), statistics.median(tb)
    return ma, mb, ma / mb


def main() -> None:
    print(f"package {compile_tree()} (byte-compiled), load average {os.getloadavg()[0]:.1f}")
    ma, mb, r = ratio()
    print(f"regimens --help        CPU median {ma * 1000:6.0f} ms")
    print(f"python -c 'import click' CPU median {mb * 1000:4.0f} ms")
    print(f"ratio                  {r:.2f}x (target <= 1.2x; {RUNS} runs each, alternated)\n")
    for label, cmd in (("python -c pass", [sys.executable, "-c", "pass"]),
                       ("regimens --help", [REGIMENS, "--help"]),
                       ("regimens --version", [REGIMENS, "--version"]),
                       ("regimens list", [REGIMENS, "list"])):
        wall(cmd)  # warm the file cache
        runs = [wall(cmd) for _ in range(RUNS)]
        times = sorted(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"{label:<22} wall median {statistics.median(times) * 1000:6.0f} ms  min {times[0] * 1000:6.0f} ms"
              f"   CPU median {cpu * 1000:6.0f} ms   ({RUNS} runs)")

    # -X importtime: every module imported by `--help`, with its cumulative time in microseconds
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; from regimens.cli import main; sys.argv=['regimens','--help'];"
                           " main(['--help'])"], capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    names = {r[2] for r in rows}
    heavy = sorted(n for n in names if n.startswith(HEAVY))
    top = sorted((r for r in rows if r[1] <= 2), reverse=True)[:8]
    print("\nlargest top-level imports of `regimens --help` (cumulative):")
    for us, _, name in top:
        print(f"  {us / 1000:7.1f} ms  {name}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"\nmodules imported: {len(names)}; heavy modules imported: {', '.join(heavy) or 'none'}")
    if heavy:
        sys.exit(1)


if __name__ == "__main__":
    main()
