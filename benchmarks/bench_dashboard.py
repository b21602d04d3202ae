"""The dashboard's default comparison: first look, second look, beside bare `run_sweep`.

Runs the page's default request (the default study's settings, scenarios/defaults.py)
through `dashboards.compute` as the page does, then again (the second look, from the cache),
and the same replications through `scenarios.sweep.run_sweep`
sequentially, measured in the same process after one warm-up replication per scenario.
"""

from __future__ import annotations

import logging
import time

from streamlit.logger import get_logger

# Outside a Streamlit server the caches live in memory, as in the page: no warning needed.
get_logger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)

from dashboards import compute  # noqa: E402
from dashboards.spec import (  # noqa: E402
    DEFAULT_DESIGNS,
    DEFAULT_REPS,
    DEFAULT_SCALE,
    QUICK_OVERRIDES,
    make_spec,
    shipped_choice,
)
from scenarios.registry import names  # noqa: E402
from scenarios.sweep import run_sweep  # noqa: E402


def main(argv: list[str]) -> int:
    """Print the first and second look of the page's default run beside bare run_sweep."""
    reps = 2 if "--quick" in argv else DEFAULT_REPS
    spec = make_spec(city="kumamoto", designs=[shipped_choice(d) for d in DEFAULT_DESIGNS],
                     scenarios=names(), reps=reps, seed=0, scale=DEFAULT_SCALE,
                     overrides=QUICK_OVERRIDES)
    for s in spec.scenarios:  # warm-up (imports, cities, calibration), outside the timings
        run_sweep(s, [spec.params(s, 0)], 1, 99, executor="local")
    t = time.perf_counter()
    compute.run_all(spec)
    first = time.perf_counter() - t
    t = time.perf_counter()
    compute.run_all(spec)
    second = time.perf_counter() - t
    t = time.perf_counter()
    for s in spec.scenarios:
        run_sweep(s, [spec.params(s, i) for i in range(len(spec.designs))], reps, 0,
                  executor="local")
    bare = time.perf_counter() - t
    n = len(spec.scenarios) * len(spec.designs) * reps
    print(f"   page default ({n} replications): first look {first:.1f} s, second look "
          f"{second * 1000:.0f} ms")
    print(f"   bare run_sweep, same replications: {bare:.1f} s")
    print(f"   ratios: first look / bare {first / bare:.2f}x (target <= 1.1x), second look / bare "
          f"{second / bare:.4f}x (target < 0.01x)")
    return 0
