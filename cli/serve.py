"""`run.py serve`: the live service — the twin's actors on Ray, the HTTP endpoints on Ray Serve."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from cli import serve_drill
from twin.errors import ValidationError

DEFAULT_DATA = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "myna-twin" / "serve"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    p = sub.add_parser(
        "serve",
        help="serve the twin live: Ray actors behind HTTP endpoints (readers, kiosks, residents, HQ)",
        description="Start the live service: the twin's services as Ray actors (state in SQLite files, or "
        "PostgreSQL with --store) behind HTTP endpoints on Ray Serve. The OpenAPI document is at "
        "/openapi.json. Device and agency tokens are written once to DATA/credentials.json (owner-only); the "
        "authority's and virtual cards' keys come from a random secret made at the first start in "
        "DATA/secret/trust-root.key (owner-only; back it up with the folder). "
        "Binds 127.0.0.1 unless --host says otherwise; Ray's token authentication stays on. "
        "Ctrl-C (SIGINT) or SIGTERM stops the endpoints, the actors and Ray; the state stays in DATA.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    p.add_argument("--city", default="kumamoto", help="city preset (default: kumamoto)")
    p.add_argument("--scale", type=float, default=0.1, help="share of the population, (0, 1] (default: 0.1)")
    p.add_argument("--seed", type=int, default=1, help="city seed (default: 1)")
    p.add_argument("--design", default="full", help="design name in designs/ or a TOML path (default: full)")
    p.add_argument("--address", default=None, help="join this Ray cluster (e.g. 10.0.0.5:6379) instead of "
                   "starting a local one; the cluster must run with RAY_AUTH_MODE=token")
    p.add_argument("--data", default=None, help=f"data folder (default: {DEFAULT_DATA}/CITY-sSEED-xSCALE)")
    p.add_argument("--store", default="sqlite", help="'sqlite' (default) or a postgresql:// DSN")
    p.add_argument("--shelter-groups", type=int, default=2, help="shelter-group actors (default: 2)")
    p.add_argument("--resident-shards", type=int, default=2, help="resident-shard actors (default: 2)")
    p.add_argument("--replicas", type=int, default=1, help="HTTP ingress replicas (default: 1)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs for a local Ray (default: all)")
    p.add_argument("--time-shift", type=float, default=0.0, help="seconds added to the clock (a drill run as "
                   "if at another time, e.g. within kiosk hours) (default: 0)")
    p.add_argument("--snapshot-every", type=int, default=50_000,
                   help="snapshot each actor's state every N journaled commands, so a restart replays only "
                        "the commands after the newest snapshot; 0 = never (default: 50,000)")
    p.add_argument("--start-timeout", type=float, default=600.0,
                   help="seconds each start-up step may take (actors building, Serve deploying) before the "
                        "service gives up with an error naming the step and the Ray log folder (default: 600)")
    p.add_argument("--ready-file", default=None, help="write the service's URL and data folder as JSON here "
                   "once it is up (for scripts)")
    p.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (PEM; e.g. from "
                   "`run.py devices issue`)")
    p.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    p.add_argument("--client-ca", default=None, help="CA bundle for device certificates: mutual TLS, every "
                   "client must present a certificate from it, and a device's token counts only with the "
                   "device's own certificate (subject CN = device id; see docs/operations.md)")
    serve_drill.add_arguments(p)
    p.add_argument("--insecure-http", action="store_true", help="allow plain HTTP on an address other than "
                   "loopback (tokens then cross the network in the clear)")
    p.add_argument("--metrics-port", type=int, default=None, help="port of Ray's Prometheus metrics endpoint "
                   "for a local Ray (default: one Ray picks; the URL is printed and in the ready file)")
    p.add_argument("--print-config", action="store_true",
                   help="print the Ray Serve config file (YAML) of this service and exit, for Ray's own "
                   "`serve run FILE` / `serve deploy FILE` on an existing cluster (see docs/operations.md)")
    p.set_defaults(func=run)


def _spec(args: argparse.Namespace):
    from actors.spec import ServiceSpec

    data = args.data or str(DEFAULT_DATA / f"{args.city}-s{args.seed}-x{args.scale:g}")
    return ServiceSpec(data_dir=data, city=args.city, seed=args.seed, scale=args.scale, design=args.design,
                       store=args.store, shelter_groups=args.shelter_groups,
                       resident_shards=args.resident_shards, time_shift=args.time_shift,
                       snapshot_every=args.snapshot_every, **serve_drill.spec_fields(args)).open()


def run(args: argparse.Namespace) -> int:
    """Start everything, wait for SIGINT/SIGTERM, stop everything."""
    if not 0 < args.port < 65536:
        raise ValidationError(f"--port must be 1..65535, got {args.port}")
    tls = tls_options(args)
    spec = _spec(args)
    drill_line = serve_drill.check(spec)
    if args.print_config:
        from actors.deploy import config, config_yaml

        sys.stdout.write(config_yaml(config(spec, args.host, args.port, args.replicas, tls)))
        return 0
    stop = threading.Event()
    _on_signals(stop)
    from actors import service
    from cli._quiet import ray_lines_to

    log = Path(spec.data_dir) / "logs" / "ray-driver.log"
    print(f"starting Ray ({'joining ' + args.address if args.address else 'local'}; its notices go to "
          f"{log}) ...", flush=True)
    with ray_lines_to(log):
        info = service.connect(args.address, args.num_cpus, args.metrics_port)
    _on_signals(stop)  # again: ray.init installs its own SIGTERM handler in the driver
    svc = None
    try:
        print(f"building {spec.city} (scale {spec.scale}) and its actors; data in {spec.data_dir} ...", flush=True)
        with ray_lines_to(log):
            if "ssl_ca_certs" in tls:  # mutual TLS: the front requires device certificates (actors/tls_front.py)
                svc = service.start_behind_front(spec, args.host, args.port, args.replicas, tls, args.start_timeout)
            else:
                svc = service.start(spec, args.host, args.port, args.replicas, tls, args.start_timeout)
        _announce(svc, spec, info, args)
        if drill_line:
            print(f"  {drill_line}", flush=True)
        while not stop.wait(0.5):
            pass
        print("stopping ...", flush=True)
    finally:
        with ray_lines_to(log):
            _shutdown(svc, joined=args.address is not None)
    print("stopped", flush=True)
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def tls_options(args: argparse.Namespace) -> dict[str, str]:
    """Ray Serve's ssl_* HTTP options from the TLS flags, every file checked; refuse clear text off loopback."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValidationError("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        raise ValidationError("--client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)")
    files = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key, "ssl_ca_certs": args.client_ca}
    out = {}
    for key, value in files.items():
        if value:
            path = Path(value).expanduser().resolve()
            if not path.is_file():
                raise ValidationError(f"--{key.replace('ssl_', '').replace('file', '').replace('_', '-')} "
                                      f"{value}: no such file")
            out[key] = str(path)
    if args.host not in LOOPBACK and not out and not args.insecure_http:
        raise ValidationError(f"--host {args.host} is not loopback: serve HTTPS (--tls-cert, --tls-key; "
                              "`run.py devices issue` makes a drill's certificates) or say --insecure-http")
    return out


def _on_signals(stop: threading.Event) -> None:
    """SIGINT and SIGTERM ask for a clean stop (the main loop notices within half a second)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def _announce(svc, spec, info: dict, args: argparse.Namespace) -> None:
    creds = Path(spec.data_dir) / "credentials.json"
    print(f"serving {spec.city} ({spec.design}) at {svc.url}  (OpenAPI: {svc.url}/openapi.json)")
    print(f"  device and agency tokens: {creds}")
    print(f"  Ray: {info['address']} (token authentication on)")
    if svc.front is not None:
        print(f"  mutual TLS: client certificates from {args.client_ca} required; device ids bound to them")
    print(f"  metrics (Prometheus): {info.get('metrics') or 'not exported by this Ray'}")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"  warning: bound to {args.host}; plain HTTP carries tokens — put TLS in front", file=sys.stderr)
    placed = {p["name"]: p["node_id"] for p in svc.supervisor.ping()}
    print(f"  actors: {len(placed)} on {len(set(placed.values()))} node(s)")
    if args.ready_file:
        Path(args.ready_file).write_text(json.dumps({"url": svc.url, "data": spec.data_dir, "pid": os.getpid(),
                                                     "nodes": placed, "ray": info["address"],
                                                     "metrics": info.get("metrics", "")}))
    sys.stdout.flush()


def _shutdown(svc, joined: bool) -> None:
    """Undeploy and stop the actors; shut Serve down (on a joined cluster only if no other app runs on it);
    shut our local Ray down, or disconnect from the cluster."""
    import ray
    from ray import serve

    try:
        if svc is not None:
            svc.stop()
        if not joined or not serve.status().applications:
            serve.shutdown()
    finally:
        ray.shutdown()
