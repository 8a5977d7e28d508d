"""Sheets and batch against a baseline, run side by side (python bench/sheets.py BASELINE_SRC).

BASELINE_SRC is the `src` directory of another checkout (the baseline), e.g.

    git worktree add --detach /tmp/base 79dbc73
    python bench/sheets.py /tmp/base/src

Each case runs once with the baseline and once with this checkout, one after the other, so that
both see the same machine load; the report gives wall time, CPU time (this process's children)
and peak memory (the largest process's maximum resident set, and the whole process tree's,
sampled: shared pages of forked workers count once per process, so the tree figure is an upper
bound), and the ratio baseline / current. The current checkout reads protocols through its parse
cache (REGIMENS_CACHE_DIR or the user cache folder), warm after its first run.
Cases: the whole-course NCT02877303 nurse PDF, its patient calendar PDF, and 1,000 mixed patients
through `regimens batch` with every output (N=... to change the count).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import compile_tree

HERE = Path(__file__).resolve().parents[1] / "src"
PY = sys.executable
ARGS = ["nct02877303", "--start", "2027-01-04", "--height", "175", "--weight", "80", "--age", "45"]
MIX = [("nct03114865", "1", "cycles=2"), ("nct03739814", "1", ""), ("nct04530565", "C", "tki=dasatinib"),
       ("nct03114865", "1", "cycles=6"), ("nct02877303", "1", "")]


def patients_csv(n: int) -> str:
    lines = ["id,protocol,arm,start,choices,height,weight,age"]
    for i in range(n):
        pid, arm, choices = MIX[i % len(MIX)]
        lines.append(f"p{i:05d},{pid},{arm},2027-{1 + i % 12:02d}-{1 + i % 28:02d},{choices},"
                     f"{150 + i % 50},{50 + i % 60},{20 + i % 60}")
    return "\n".join(lines) + "\n"


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants now (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(d), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * resource.getpagesize()  # field 24 of stat: resident pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / 2**20


def run(src: Path, argv: list[str], workdir: Path) -> tuple[float, float, float, float]:
    """(wall s, CPU s of the children, peak RSS MB of the largest process, peak RSS MB of the
    whole process tree, sampled every 0.1 s: what the 1 GB target is about when pages are laid
    out in worker processes)."""
    env = {**os.environ, "PYTHONPATH": str(src), "SOURCE_DATE_EPOCH": "1800000000", "TZ": "UTC"}
    code = "import sys; from regimens.cli import main; sys.exit(main(sys.argv[1:]))"
    # /usr/bin/time -f %M reports the peak RSS of the largest of the command and its children (KiB)
    timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([*timer, PY, "-c", code, *argv], cwd=workdir, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        tree = 0.0
        while proc.poll() is None:
            tree = max(tree, _tree_rss_mb(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - t
        err.seek(0)
        stderr = err.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{src}: {' '.join(argv[:3])}: exit {proc.returncode}\n{stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(stderr.strip().splitlines()[-1]) / 1024 if timer else after.ru_maxrss / 1024
    return wall, cpu, peak, tree


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = Path(sys.argv[1]).resolve()
    n = int(os.environ.get("N", "1000"))
    for src in (base, HERE):
        compile_tree(src)  # as installed: .pyc present (PYTHONDONTWRITEBYTECODE would recompile every run)
    print(f"baseline {base}\ncurrent  {HERE}\ncores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        (work / "patients.csv").write_text(patients_csv(n), encoding="utf-8")
        cases = [
            ("nurse PDF, whole course", ["sheet", *ARGS, "--kind", "nurse", "--format", "pdf", "-o", "OUT.pdf"]),
            ("patient calendar PDF, whole course", ["sheet", *ARGS, "--kind", "patient", "--format", "pdf",
                                                    "-o", "OUT.pdf"]),
            (f"batch, {n} mixed patients, all outputs", ["batch", "patients.csv", "--outdir", "OUT",
                                                         "--tz", "America/Chicago"]),
        ]
        only = os.environ.get("CASES")
        print(f"{'case':<40} {'':<9} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'tree MB':>8}  load before/after")
        for i, (label, argv) in enumerate(cases):
            if only and str(i) not in only:
                continue
            got = {}
            for name, src in (("baseline", base), ("current", HERE)):
                out = f"{name}-{i}"
                args = [a.replace("OUT", out) for a in argv]
                load0 = os.getloadavg()[0]
                got[name] = run(src, args, work)
                load1 = os.getloadavg()[0]
                shutil.rmtree(work / out, ignore_errors=True)
                (work / f"{out}.pdf").unlink(missing_ok=True)
                w, c, m, tm = got[name]
                print(f"{label:<40} {name:<9} {w:8.1f} {c:8.1f} {m:8.0f} {tm:8.0f}  {load0:.1f}/{load1:.1f}",
                      flush=True)
            (bw, bc, _, _), (cw, cc, _, _) = got["baseline"], got["current"]
            print(f"{'':<40} {'ratio':<9} {bw / cw:7.1f}x {bc / cc:7.1f}x  (baseline / current)", flush=True)


if __name__ == "__main__":
    main()
