"""Run the benchmarks: `uv run python -m benchmarks [NAME ...] [--quick]`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import benchmarks


def available() -> list[str]:
    """The benchmark names (bench_NAME.py → NAME)."""
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules(benchmarks.__path__)
                  if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default) one after another."""
    names = available()
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description="Run myna-twin's benchmarks. "
                                 "Each prints its figures next to a baseline measured in the same run "
                                 "(ratios, since the machines are shared and noisy).")
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help=f"benchmarks to run (default: all): {', '.join(names)}")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
    for name in args.names or names:
        print(f"== {name}", flush=True)
        t = time.perf_counter()
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        rc = mod.main(["--quick"] if args.quick else [])
        print(f"   ({time.perf_counter() - t:.1f} s wall)", flush=True)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
