"""Start-up and the whole `regimens ics` process: this checkout against a baseline checkout and
against the floors, every command interleaved in each round so that load from other jobs hits
all of them alike (python bench/startup_ab.py BASELINE_SRC [ROUNDS]).

    git worktree add --detach /tmp/base 4ea9e90
    python bench/startup_ab.py /tmp/base/src 15

Floors (issue 13): `python -c "import click"` for `regimens --help` (target <= 1.2x), and a Python
process that imports icalendar and builds and writes as many VEVENTs as `regimens ics
nct02877303` writes, with the same average SUMMARY and DESCRIPTION length (target <= 1.5x).
Reports the median and the minimum CPU time of each command over the rounds. The current
checkout reads protocols through a parse cache in a temporary folder (warm after the first run,
as it is for a user after their first command); the baseline has none or its own.

Two reference processes say what pydantic's import costs: `python -c pass` and `python -c "from
pydantic import BaseModel"`, in the same rounds. A `regimens ics` run with the protocol in the
parse cache and no plan or rounding file no longer pays it (protocol/model.py, plans/records.py
and plans/plan.py are plain records; tests/cli/test_ics_imports.py); a baseline from before that
does, so the line after the ratios says how far the baseline would be without it.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import icalendar
from bytecode import compile_tree
from ics_export import _FLOOR_PROCESS as FLOOR_PROCESS

HERE = Path(__file__).resolve().parents[1] / "src"
PY = sys.executable
MAIN = "import sys; from regimens.cli import main; sys.exit(main(sys.argv[1:]))"
ICS = ["ics", "nct02877303", "--start", "2027-01-04", "--tz", "America/Chicago", "--force", "-o"]
# The same bare-icalendar floor process as bench/ics_export.py, so both report one ratio.
FLOOR_ICS = FLOOR_PROCESS



def cpu(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = Path(sys.argv[1]).resolve()
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    for src in (base, HERE):
        compile_tree(src)
    with tempfile.TemporaryDirectory() as d:
        env0 = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env0 |= {"SOURCE_DATE_EPOCH": "1798761600", "REGIMENS_CACHE_DIR": f"{d}/cache"}
        envs = {"baseline": env0 | {"PYTHONPATH": str(base)}, "current": env0 | {"PYTHONPATH": str(HERE)}}
        subprocess.run([PY, "-c", MAIN, *ICS, f"{d}/shape.ics"], check=True, capture_output=True,
                       env=envs["current"])
        events = icalendar.Calendar.from_ical(Path(f"{d}/shape.ics").read_bytes()).walk("VEVENT")
        n = len(events)
        s_len = sum(len(str(e["SUMMARY"])) for e in events) // n
        d_len = sum(len(str(e["DESCRIPTION"])) for e in events) // n
        cmds = {
            "floor: python -c 'import click'": ([PY, "-c", "import click"], env0),
            "baseline: regimens --help": ([PY, "-c", MAIN, "--help"], envs["baseline"]),
            "current: regimens --help": ([PY, "-c", MAIN, "--help"], envs["current"]),
            f"floor: {n} bare icalendar VEVENTs": ([PY, "-c", FLOOR_ICS, str(n), str(s_len), str(d_len),
                                                    f"{d}/floor.ics"], env0),
            "baseline: regimens ics nct02877303": ([PY, "-c", MAIN, *ICS, f"{d}/base.ics"], envs["baseline"]),
            "current: regimens ics nct02877303": ([PY, "-c", MAIN, *ICS, f"{d}/cur.ics"], envs["current"]),
            "reference: python -c pass": ([PY, "-c", "pass"], env0),
            "reference: import pydantic's BaseModel": ([PY, "-c", "from pydantic import BaseModel"], env0),
        }
        for cmd, env in cmds.values():  # warm: bytecode, file cache, the current parse cache
            cpu(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        loads = [os.getloadavg()[0]]
        for _ in range(rounds):
            for label, (cmd, env) in cmds.items():
                times[label].append(cpu(cmd, env))
            loads.append(os.getloadavg()[0])
    print(f"baseline {base}\ncurrent  {HERE}\n{os.cpu_count()} cores, {rounds} rounds, load average "
          f"{min(loads):.1f}-{max(loads):.1f} during the runs\n")
    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    for k in cmds:
        print(f"{k:<42} CPU median {med[k] * 1000:6.0f} ms   min {low[k] * 1000:6.0f} ms")
    print()
    keys = list(cmds)
    for floor, b, c, target in ((keys[0], keys[1], keys[2], 1.2), (keys[3], keys[4], keys[5], 1.5)):
        what = c.split(": ", 1)[1]
        print(f"{what}: baseline {med[b] / med[floor]:.2f}x the floor, current {med[c] / med[floor]:.2f}x "
              f"(target <= {target}x; minimums {low[b] / low[floor]:.2f}x -> {low[c] / low[floor]:.2f}x); "
              f"baseline / current {med[b] / med[c]:.2f}x")
    pyd = med[keys[7]] - med[keys[6]]
    print(f"pydantic's import: {pyd * 1000:.0f} ms of CPU (median difference of the references); the baseline ics "
          f"run without it would be {(med[keys[4]] - pyd) / med[keys[3]]:.2f}x the floor")


if __name__ == "__main__":
    main()
