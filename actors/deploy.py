"""The service as a Ray Serve config file: `run.py serve --print-config`, then `serve run`/`serve deploy`.

`build(args)` is the application builder the config's `import_path` names. Serve runs it on
the cluster: it opens the data folder, creates (or finds) the service's actors — detached, so
they outlive the builder's task and a redeploy finds them by name — and returns the ingress.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from actors.service import APP_NAME, ROOT, SERVE_ENV
from actors.spec import ServiceSpec

SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(ServiceSpec) if f.name != "secret")  # read from the folder


def build(args: dict[str, Any]) -> Any:
    """The Serve application of the service described by `args` (ServiceSpec fields)."""
    from actors.app import ingress_deployment
    from actors.supervisor import Supervisor

    unknown = sorted(set(args) - set(SPEC_FIELDS) - {"replicas"})
    if unknown:
        from twin.errors import ValidationError

        raise ValidationError(f"unknown service settings in the config: {', '.join(unknown)}")
    spec = ServiceSpec(**{k: v for k, v in args.items() if k != "replicas"})
    wiring = Supervisor(spec, detached=True).start()
    return ingress_deployment().options(num_replicas=int(args.get("replicas", 1))).bind(wiring)


def config(spec: ServiceSpec, host: str, port: int, replicas: int = 1,
           tls: dict[str, str] | None = None) -> dict[str, Any]:
    """The Serve config (as a dict) that runs `spec` at host:port."""
    args = {k: getattr(spec, k) for k in ("data_dir", "city", "seed", "scale", "design", "store",
                                          "shelter_groups", "resident_shards", "time_shift",
                                          "snapshot_every", "namespace", "trust_ca", "drill_cards",
                                          "drill_cards_only")}
    args["replicas"] = int(replicas)
    http: dict[str, Any] = {"host": host, "port": int(port), **(tls or {})}
    return {"proxy_location": "HeadOnly", "http_options": http,
            "applications": [{"name": APP_NAME, "route_prefix": "/", "import_path": "actors.deploy:build",
                              "args": args,
                              "runtime_env": {"env_vars": {"PYTHONPATH": str(ROOT), **SERVE_ENV}}}]}


def config_yaml(cfg: dict[str, Any]) -> str:
    """The config as YAML (JSON is YAML; every value here is a plain scalar, list or mapping)."""
    head = ("# myna-twin live service, for Ray Serve: `RAY_SERVE_THROUGHPUT_OPTIMIZED=1 serve run "
            "THIS_FILE`\n# (or `serve deploy THIS_FILE` on a running cluster started with "
            "RAY_AUTH_MODE=token).\n")
    if cfg["http_options"].get("ssl_ca_certs"):
        head += ("# Mutual TLS: Ray Serve does not require client certificates (ssl_ca_certs alone); `run.py serve\n"
                 "# --client-ca` puts its own TLS front before Serve. With this file, put a TLS proxy that requires\n"
                 "# them in front (docs/operations.md).\n")
    return head + json.dumps(cfg, indent=2) + "\n"
