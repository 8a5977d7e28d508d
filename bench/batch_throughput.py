"""Batch throughput: 1,000 patients through `regimens batch` (python bench/batch_throughput.py [N]).

The patients are spread over the shipped protocols that compile without a user decision, with
deterministic measurements, and written as JSON only and as every default kind (JSON, calendar and
sheets). Each configuration runs with one worker and with all cores.
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

REGIMENS = str(Path(sys.executable).with_name("regimens"))
# (protocol, arm, choices): small to large timelines
MIX = [("nct03114865", "1", "cycles=2"), ("nct03739814", "1", ""), ("nct04530565", "C", "tki=dasatinib"),
       ("nct03114865", "1", "cycles=6"), ("nct02877303", "1", "")]


def patients_csv(n: int, mix) -> str:
    lines = ["id,protocol,arm,start,choices,height,weight,age"]
    for i in range(n):
        pid, arm, choices = mix[i % len(mix)]
        lines.append(f"p{i:05d},{pid},{arm},2027-{1 + i % 12:02d}-{1 + i % 28:02d},{choices},"
                     f"{150 + i % 50},{50 + i % 60},{20 + i % 60}")
    return "\n".join(lines) + "\n"


def run(csv: Path, outputs: str, jobs: int) -> tuple[float, float, int]:
    out = csv.parent / f"out-{outputs.replace(',', '-')}-{jobs}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([REGIMENS, "batch", str(csv), "--outdir", str(out), "--outputs", outputs,
                           "--jobs", str(jobs), "--tz", "America/Chicago"],
                          capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1800000000"})
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    files = len(list(out.iterdir()))
    shutil.rmtree(out)
    return dt, cpu, files


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as d:
        for label, mix in (("mixed (1 in 5 is NCT02877303, ~1,800 events)", MIX),
                           ("small only (NCT03114865, NCT03739814)", MIX[:2])):
            csv = Path(d) / "patients.csv"
            csv.write_text(patients_csv(n, mix), encoding="utf-8")
            print(f"{n} patients, {label}:")
            for outputs in ("json", "json,ics,nurse,pharmacist,patient"):
                for jobs in sorted({1, cores}):
                    dt, cpu, files = run(csv, outputs, jobs)
                    print(f"  outputs {outputs:<36} jobs {jobs}: wall {dt:6.1f} s  {n / dt:6.1f} patients/s"
                          f"  CPU {cpu:6.1f} s ({cpu / n * 1000:5.0f} ms/patient)  ({files} files)")


if __name__ == "__main__":
    main()
