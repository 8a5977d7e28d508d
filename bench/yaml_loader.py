"""Protocol YAML loading: libyaml's C composer (what regimens uses) against PyYAML's pure-Python
SafeLoader (the fallback and the old path), side by side in one run, as ratios.

    python bench/yaml_loader.py

For each shipped protocol: parse_text (YAML → data with line numbers) and load_text (the same
plus schema and cross-field checks) with each loader, CPU time, best of N interleaved runs. Also
the time to refuse the 1 KB alias bomb of tests/data/protocols/invalid/yaml-alias-bomb.yaml.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from regimens.errors import ProtocolError
from regimens.protocol import loader

RUNS = 15


def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def best_pair(fast, slow) -> tuple[float, float]:
    f, s = [], []
    for _ in range(RUNS):  # interleaved: a busy machine slows both alike
        f.append(cpu(fast))
        s.append(cpu(slow))
    return min(f), min(s)


def load_with(text: str, name: str, ldr) -> None:
    saved = loader.LOADER
    loader.LOADER = ldr
    try:
        loader.load_text(text, name)
    finally:
        loader.LOADER = saved


def main() -> None:
    print(f"PyYAML {yaml.__version__}, libyaml {'yes' if yaml.__with_libyaml__ else 'NO'}; CPU ms, best of {RUNS}")
    print(f"{'protocol':<14}{'kB':>5}  {'parse C':>8} {'parse py':>9} {'ratio':>6}   {'load C':>7} {'load py':>8} {'ratio':>6}")
    tot = [0.0, 0.0, 0.0, 0.0]
    for path in sorted((ROOT / "protocols").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        pc, pp = best_pair(lambda: loader.parse_text(text, "f", yaml.CSafeLoader),
                           lambda: loader.parse_text(text, "f", yaml.SafeLoader))
        lc, lp = best_pair(lambda: load_with(text, str(path), yaml.CSafeLoader),
                           lambda: load_with(text, str(path), yaml.SafeLoader))
        for i, v in enumerate((pc, pp, lc, lp)):
            tot[i] += v
        print(f"{path.stem:<14}{len(text) / 1000:>5.0f}  {pc * 1e3:>8.1f} {pp * 1e3:>9.1f} {pp / pc:>5.1f}x"
              f"   {lc * 1e3:>7.1f} {lp * 1e3:>8.1f} {lp / lc:>5.1f}x")
    print(f"{'all five':<19}  {tot[0] * 1e3:>8.1f} {tot[1] * 1e3:>9.1f} {tot[1] / tot[0]:>5.1f}x"
          f"   {tot[2] * 1e3:>7.1f} {tot[3] * 1e3:>8.1f} {tot[3] / tot[2]:>5.1f}x")
    bomb = (ROOT / "tests/data/protocols/invalid/yaml-alias-bomb.yaml").read_text()

    def refuse():
        try:
            loader.load_text(bomb, "bomb")
        except ProtocolError:
            return
        raise AssertionError("the alias bomb was accepted")

    print(f"alias bomb ({len(bomb)} bytes, 9^10 values if expanded): refused in {min(cpu(refuse) for _ in range(5)) * 1e3:.0f} ms CPU")


if __name__ == "__main__":
    main()
