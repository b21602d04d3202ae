"""Starting and stopping the live service: Ray (with token authentication), the actors, Serve.

The composition root of the live deployment: `connect` joins or starts Ray, `start` creates
the actors through the supervisor and deploys the FastAPI ingress on Serve, `Service.stop`
takes it all down again (the stores keep the state for the next start).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.spec import ServiceSpec
from actors.startup import START_TIMEOUT_S, StartFailed, bounded
from actors.supervisor import Supervisor, Wiring
from twin.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "myna-twin"
AUTH_MODE = "RAY_AUTH_MODE"


def require_token_auth() -> None:
    """Refuse a setting that turns Ray's token authentication off (Ray 2.60 turns it on for a local
    cluster, and for a joined one when a token is found: $RAY_AUTH_TOKEN, $RAY_AUTH_TOKEN_PATH or
    ~/.ray/auth_token)."""
    mode = os.environ.get(AUTH_MODE)
    if mode is not None and mode.strip().lower() != "token":
        raise ValidationError(f"{AUTH_MODE}={mode!r}: the live service keeps Ray's token authentication on; "
                              f"unset it or set {AUTH_MODE}=token")


def token_auth_on() -> bool:
    """Whether this Ray session authenticates with a token."""
    from ray._private.authentication.authentication_utils import is_token_auth_enabled

    return bool(is_token_auth_enabled())


# Ray Serve's high-throughput mode (Ray 2.56+): user code on the replica's event loop, buffered
# request logs, direct ingress. Measured with `python -m benchmarks serve`: batched check-ins
# 17,600 -> 20,000/s and single check-in p99 at half the maximum 149 -> 53 ms on 2 cores.
# An operator may set RAY_SERVE_THROUGHPUT_OPTIMIZED=0 to turn it off. Its replicas wait 30 s by default
# before they stop (time for an outside load balancer to forget their own ports, which this service does not
# publish; requests in flight are still waited for): 2 s here, so a stop takes seconds, not half a minute.
SERVE_ENV = {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1", "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2"}


def serve_env() -> dict[str, str]:
    """Put the Serve settings in this process's environment (unless already set there), before Ray starts,
    so a local cluster's processes inherit them; the settings in force."""
    for name, value in SERVE_ENV.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in SERVE_ENV}


def connect(address: str | None = None, num_cpus: int | None = None,
            metrics_port: int | None = None) -> dict[str, Any]:
    """Start a local Ray (address None) or join a cluster, with token authentication; its context.

    A local Ray exports metrics on `metrics_port` (default: a free port Ray picks)."""
    require_token_auth()
    import ray

    env = {"env_vars": {"PYTHONPATH": str(ROOT), **serve_env()}}
    kwargs: dict[str, Any] = {"runtime_env": env, "log_to_driver": False, "configure_logging": False}
    if address is None:
        kwargs |= {"num_cpus": num_cpus, "include_dashboard": False}
        if metrics_port:
            kwargs["_metrics_export_port"] = int(metrics_port)
    try:
        ctx = ray.init(address=address, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError) as exc:
        raise StartFailed(f"Ray did not start ({'joining ' + address if address else 'local'}): "
                          f"{str(exc).strip()[:300]}; see the Ray logs in /tmp/ray/session_latest/logs") from exc
    except Exception as exc:  # Ray raises a bare Exception when its node times out at start
        if "timed out" not in str(exc):
            raise
        raise StartFailed(f"Ray's node did not start in time (the machine may be overloaded): {str(exc)[:300]}; "
                          "see the Ray logs in /tmp/ray/session_latest/logs") from exc
    if not token_auth_on():
        ray.shutdown()
        raise ValidationError(f"the Ray cluster at {address or 'local'} runs without token authentication; start it "
                              f"with {AUTH_MODE}=token (see `ray get-auth-token --generate`)")
    from actors.metrics import export_url

    return {"address": ctx.address_info.get("gcs_address", ""), "node_id": ray.get_runtime_context().get_node_id(),
            "metrics": export_url()}


@dataclass
class Service:
    """A running service: its supervisor, wiring and base URL."""

    supervisor: Supervisor
    wiring: Wiring
    url: str
    stopped: bool = field(default=False)
    front: Any = None  # the mutual TLS front (actors/tls_front.py), if one serves the public port

    def stop(self) -> None:
        """Undeploy the endpoints and kill the actors (state stays in the stores)."""
        if self.stopped:
            return
        from ray import serve

        try:
            if self.front is not None:
                self.front.stop()
            serve.delete(APP_NAME)
        finally:
            self.supervisor.stop()
            self.stopped = True


def start(spec: ServiceSpec, host: str = "127.0.0.1", port: int = 8000, replicas: int = 1,
          tls: dict[str, str] | None = None, start_timeout: float = START_TIMEOUT_S, front_token: str = "") -> Service:
    """Create the actors and deploy the endpoints on Serve at host:port, HTTPS with `tls` (Ray must be up);
    every wait ends within `start_timeout` s, or StartFailed says what did not start and where the logs are.

    `tls` holds Ray Serve's ssl_certfile, ssl_keyfile and optionally ssl_ca_certs; `front_token` tells the
    ingress that a mutual TLS front stands before it (`start_behind_front`).
    """
    from ray import serve

    from actors.app import ingress_deployment

    if not 1 <= int(replicas) <= 64:
        raise ValidationError(f"replicas must be 1..64, got {replicas!r}")
    if not 0 < float(start_timeout) <= 86_400:
        raise ValidationError(f"start_timeout must be in (0, 86400] seconds, got {start_timeout!r}")
    sup = Supervisor(spec, start_timeout=start_timeout)
    try:
        wiring = sup.start()
        bounded("starting Ray Serve's HTTP proxy",
                lambda: serve.start(http_options={"host": host, "port": int(port), **(tls or {})}), start_timeout)
        ingress = ingress_deployment().options(num_replicas=int(replicas))
        bounded("deploying the HTTP ingress", lambda: serve.run(ingress.bind(wiring, front_token), name=APP_NAME, route_prefix="/"),
                start_timeout)
        scheme = "https" if tls else "http"
        url = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{int(port)}"
        wait_ready(url, min(120.0, start_timeout), verify=not tls)  # our own port on this machine: no secret is sent
    except BaseException:
        sup.stop()
        raise
    return Service(sup, wiring, f"{'https' if tls else 'http'}://{host}:{int(port)}")


def wait_ready(url: str, timeout: float = 120.0, verify: bool | str = True) -> None:
    """Wait until the endpoints answer at `url`; a Serve already running here on another port is named."""
    import time

    import httpx

    end = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=10, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > end:
            raise StartFailed(f"the endpoints do not answer at {url}: Serve may already run on this Ray "
                              "cluster with other HTTP options (host/port); stop it or use its port")
        time.sleep(0.5)


def start_behind_front(spec: ServiceSpec, host: str, port: int, replicas: int, tls: dict[str, str],
                       start_timeout: float = START_TIMEOUT_S) -> Service:
    """The service with mutual TLS: Serve on a free loopback port, the TLS front (client certificates
    required, device id bound to the certificate) on host:port."""
    from actors.tls_front import TlsFront, free_port, new_token

    token, inner = new_token(), free_port()
    svc = start(spec, "127.0.0.1", inner, replicas, None, start_timeout, front_token=token)
    try:
        svc.front = TlsFront(host, port, f"http://127.0.0.1:{inner}", tls, token).start()
    except BaseException:
        svc.stop()
        raise
    svc.url = f"https://{host}:{int(port)}"
    return svc
