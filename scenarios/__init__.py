"""SimPy scenarios (virtual time) that drive the twin's real service code.

Modules: `queueing` (the multi-server queues kiosks, counters and shelter readers use),
`erlang` (analytic M/M/c), `params` (frozen scenario parameters), `results` (result values),
`stats` (confidence intervals), the scenarios `disaster`, `certificates`, `payments`,
`registry` (name -> scenario), `sweep` (Ray replications) and `report` (files).
"""
