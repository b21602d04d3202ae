import time
from scenarios.sensitivity import analyse, bases_for
bases, fixed = bases_for("disaster", ["full"], scale=0.01)
print(fixed)
t=time.perf_counter()
r = analyse(bases, trajectories=3, samples=8, top=3, executor="local", design_keys=fixed)
print(time.perf_counter()-t, r.runs.height)
import polars as pl
pl.Config.set_tbl_rows(30)
print(r.ranking("checkin_wait_p95_min"))
print(r.sobol.filter(pl.col("kpi")=="checkin_wait_p95_min"))
print(r.top(3))
print(r.notes)
b2, f2 = bases_for("disaster", ["baseline","full"], scale=0.01)
r2 = analyse(b2, trajectories=2, samples=0, executor="local", design_keys=f2)
print(r2.ranking("households_found_within_6h_share"), r2.top(3))
