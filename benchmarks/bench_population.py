"""Building the full Yokohama preset, next to numpy drawing as many random values."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

CODE = """
import resource, sys, time
from twin.population import build_city
t = time.perf_counter()
c = build_city(sys.argv[1], seed=1, scale=float(sys.argv[2]))
dt = time.perf_counter() - t
print(dt, c.residents.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _build_in_child(city: str, scale: float) -> tuple[float, int, float]:
    """Build in a fresh process so peak RSS is the build's own."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", CODE, city, str(scale)], capture_output=True,
                         text=True, check=True, cwd=root, env={**os.environ, "PYTHONPATH": root})
    secs, n, rss = out.stdout.split()
    return float(secs), int(n), float(rss)


def main(argv: list[str]) -> int:
    """Print build time and peak RSS beside numpy's time to draw the same number of values."""
    args = argparse.ArgumentParser().parse_args([a for a in argv if a != "--quick"])
    del args
    scale = 0.1 if "--quick" in argv else 1.0
    secs, n, rss_mb = _build_in_child("yokohama", scale)
    rng = np.random.default_rng(1)
    t = time.perf_counter()
    rng.random(n)
    raw = time.perf_counter() - t
    print(f"   yokohama x{scale}: {n:,} residents in {secs:.2f} s, peak RSS {rss_mb:,.0f} MB")
    print(f"   numpy: {n:,} uniform draws in {raw * 1000:.1f} ms")
    print(f"   ratio build/draws: {secs / raw:.0f}x   (targets: <= 5 s and <= 1,500 MB at full scale)")
    return 0
