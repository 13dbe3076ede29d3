"""Wall time of ``coverage-gis audit --demo`` as a subprocess (process start-up included).

python benchmarks/bench_demo_audit.py          # median of 5 runs; target <= 3 s
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0


def main(argv: list[str] | None = None) -> int:
    """Run the demo audit ``--runs`` times and print the median; exit 1 above target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    exe = shutil.which("coverage-gis", path=str(Path(sys.executable).parent)) or "coverage-gis"
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [exe, "audit", "--demo", "--out", tmp, "--format", "table,csv,json", "-q"]
        for _ in range(args.runs):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - t0)
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return done.returncode
    med = statistics.median(times)
    print(
        f"coverage-gis audit --demo: median {med:.2f} s of {args.runs} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}; load average {os.getloadavg()[0]:.2f}); "
        f"target <= {TARGET_S:.0f} s: {'met' if med <= TARGET_S else 'NOT met'}"
    )
    return 0 if med <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
