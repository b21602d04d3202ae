"""Ray adapters: the twin's aggregates as Ray actors, served live by Ray Serve with a FastAPI ingress.

- `spec`: the service's settings (city, design, store, shards) as one validated value.
- `hosts_*`: plain classes that host twin aggregates (shelter groups, resident shards, trust,
  kiosk fleet, linkage, child watch) on a durable store; `supervisor` wraps them with
  `ray.remote(...)`, names them and restarts them (state rebuilt from the store).
- `routing`: which actor holds which resident, ward, shelter or device.
- `auth`: device, agency and resident credentials.
- `app` (+ `routes_*`, `models`): the HTTP endpoints; `service` starts and stops it all.
- `load`: the open-loop load generator behind `run.py load`.
"""
