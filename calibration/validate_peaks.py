"""Validation of the demand peaks and the counter guide, by sampling and by the twin's queue."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import stats

from calibration.checks import Check, Published, check
from calibration.data import row, table
from calibration.params import FittedParams

TOL_GUIDE = 0.2  # the Sakai guide's 'about 2 minutes'
TOL_PEAK = 0.1  # Ishigaki's 200-250 / under 50 a day
TOL_QUEUE = 0.05  # simulation noise at 200,000 customers is about 1-3 %


def _year_days(year: int = 2023) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day of year, ISO weekday (1 = Monday) and month of every day in a non-leap year."""
    days = [date(year, 1, 1) + timedelta(d) for d in range(365)]
    return (np.arange(1, 366), np.array([d.isoweekday() for d in days]), np.array([d.month for d in days]))


def _daily_counts(params: FittedParams, rng: np.random.Generator, base: float, years: int) -> np.ndarray:
    """Poisson daily request counts (years x 365) drawn from the fitted daily factors."""
    doy, iso, _ = _year_days()
    lam = base * params.demand.daily_factor(doy, iso - 1)
    return rng.poisson(lam, size=(years, lam.size))


def calendar_checks(params: FittedParams, rng: np.random.Generator, years: int = 50) -> list[Check]:
    """Busiest weekday and month, and Ishigaki's peak-day ratio, from sampled daily counts."""
    doy, iso, month = _year_days()
    counts = _daily_counts(params, rng, 45.0, years).mean(axis=0)
    weekday = int(np.argmax([counts[iso == d].mean() for d in range(1, 8)]) + 1)
    busiest_month = int(np.argmax([counts[month == m].sum() for m in range(1, 13)]) + 1)
    ordinary = ~np.isin(month, (3, 4, 6, 7)) & (iso <= 5)
    peak = np.isin(doy, (91, 92))  # 1-2 April
    ratio = float(counts[peak].mean() / counts[ordinary].mean() / params.demand.day_of_week[int(iso[peak][0]) - 1])
    ishi_n, ishi_p = (row("demand_peaks", place="ishigaki", kind=k) for k in ("normal_day", "peak_day"))
    how = f"Poisson daily counts over {years} sampled years"
    return [
        check("demand", "busiest weekday (1 = Monday)", Published(1, 1), weekday, "ISO day", 0.0, how,
              row("demand_peaks", place="sakai_naka", kind="day_of_week")["source"]),
        check("demand", "busiest month", Published(3, 4), busiest_month, "month", 0.0, how,
              table("demand_peaks").filter(pl.col("kind") == "season")["source"][0]),
        check("demand", "1-2 April / an ordinary weekday (same weekday mix)", Published(200 / 50, 250 / 50), ratio,
              "x", TOL_PEAK, how, f"{ishi_p['source']}; {ishi_n['source']}"),
    ]


def hour_checks(params: FittedParams, rng: np.random.Generator, n: int = 50_000) -> list[Check]:
    """The busiest clock hour of n sampled counter arrivals against each published window."""
    c = params.counter
    grid = np.arange(c.open_hour, c.close_hour, 0.25) + 0.125
    w = params.demand.hourly_weights(grid)
    hours = np.floor(rng.choice(grid, size=n, p=w / w.sum()))
    busiest = float(np.bincount(hours.astype(int)).argmax())
    out = []
    for r in table("demand_peaks").filter(pl.col("kind") == "time_of_day").iter_rows(named=True):
        lo, hi = float(r["start"]), float(r["end"]) - 1  # busiest hour's start inside [start, end)
        out.append(check("demand", f"{r['place']}: busiest hour (start)", Published(lo, hi), busiest, "h", 0.0,
                         f"hour with most of {n:,} sampled counter arrivals", r["source"]))
    return out


def _counter_queue(params: FittedParams, rng: np.random.Generator, customers: int, load: float):
    """Run the scenarios' ServicePoint as one ward's counter; return (people in line on arrival, waits)."""
    import simpy

    from scenarios.queueing import ServicePoint

    c = params.counter
    mean_min = c.service_time.mean_s / 60
    gaps = rng.exponential(mean_min / (load * c.reference_windows), customers)
    durations = c.service_time.sample(rng, customers) / 60
    env = simpy.Environment()
    point = ServicePoint(env, c.reference_windows, "counter")
    ahead = np.zeros(customers)
    waits = np.zeros(customers)

    def person(i: int):
        ahead[i] = point.queue_length
        waits[i] = yield from point.serve(i, float(durations[i]))

    def arrivals():
        for i in range(customers):
            yield env.timeout(float(gaps[i]))
            env.process(person(i))

    env.process(arrivals())
    env.run()
    return ahead, waits


def counter_guide_checks(params: FittedParams, rng: np.random.Generator, customers: int = 20_000,
                         load: float = 0.95) -> list[Check]:
    """Sakai's 'about 2 minutes per person ahead': slope of wait on the line met, in the twin's queue."""
    ahead, waits = _counter_queue(params, rng, customers, load)
    queued = ahead > 0
    slope = stats.linregress(ahead[queued], waits[queued]).slope
    r = row("counter_waits", place="sakai_naka", figure="minutes_per_person_ahead")
    how = (f"slope of wait on people in line at arrival, scenarios.queueing.ServicePoint with "
           f"{params.counter.reference_windows} windows at load {load}, {customers:,} customers")
    return [check("counter", "Sakai Naka: minutes of wait per person ahead", Published(r["value"], r["value"]),
                  float(slope), "min", TOL_GUIDE, how, r["source"])]


def queueing_checks(seed: int = 0, customers: int = 200_000) -> list[Check]:
    """FACTS.md's Erlang C values against the scenarios' queue run as an M/M/c."""
    from scenarios.mmc import simulate_mmc

    out = []
    cases = table("queueing_checks")
    for case in cases["case"].unique(maintain_order=True):
        rows = cases.filter(pl.col("case") == case)
        first = rows.row(0, named=True)
        run = simulate_mmc(first["arrivals_per_hour"] / 60, float(first["service_mean_min"]), int(first["servers"]),
                           customers, seed)
        for r in rows.iter_rows(named=True):
            twin = run.p_wait if r["figure"] == "p_wait" else run.mean_wait
            out.append(check("queue", f"{case}: {r['figure']}", Published(r["value"], r["value"]), twin, r["unit"],
                             TOL_QUEUE, f"scenarios.mmc.simulate_mmc (ServicePoint), {customers:,} customers",
                             r["source"]))
    return out
