"""A real cluster: a head and a second node started with `ray start` on this machine (token
authentication on, own ports and folders), `run.py serve --address` on it, actors on both nodes,
the service checked end to end, and everything stopped afterwards (only what this test started)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.actors.live_helpers import free_port, wait_until
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
RAY = str(Path(sys.executable).parent / "ray")


TAKEN: set[int] = set()  # ports this module handed out: two free_port() calls may return the same one


def distinct_port() -> int:
    """A free port not handed out before by this module."""
    port = free_port()
    while port in TAKEN:
        port = free_port()
    TAKEN.add(port)
    return port


def node_ports() -> list[str]:
    """Distinct free ports for one node's services, so the cluster clashes with no other Ray here."""
    names = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
             "metrics-export-port", "runtime-env-agent-port")
    return [f"--{n}={distinct_port()}" for n in names]


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 60.0) -> int | None:
    """Signal a process this test started (and, if it lingers, its own process group)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


@pytest.fixture(scope="module")
def short_tmp():
    """A folder with a short path (Ray's unix sockets must fit in 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="myna-rc-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def running(proc: subprocess.Popen, log: Path) -> None:
    """Fail at once, with its log, if a node process died."""
    if proc.poll() is not None:
        raise AssertionError(f"a ray node exited ({proc.returncode}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, short_tmp):
    """Two Ray nodes (head + one joining) with a token of their own; (address, env)."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    token = tmp_path / "token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "PYTHONPATH": str(ROOT),
           "RAY_USAGE_STATS_ENABLED": "0"}
    port = distinct_port()
    address = f"127.0.0.1:{port}"
    logs = [open(tmp_path / f"node{i}.log", "w") for i in range(2)]  # noqa: SIM115 — closed below
    common = ["--block", "--num-cpus=2", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    head = subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--include-dashboard=false",
                             f"--ray-client-server-port={distinct_port()}", f"--temp-dir={short_tmp}",
                             *node_ports(), *common], env=env, stdout=logs[0], stderr=subprocess.STDOUT,
                            start_new_session=True)
    procs = [head]
    try:
        wait_until(lambda: running(head, tmp_path / "node0.log") or _gcs_up(address, env), timeout=180, step=1.0)
        for attempt in range(3):  # a busy machine can miss Ray's fixed 30 s raylet start window: try again
            procs.append(subprocess.Popen([RAY, "start", f"--address={address}", *node_ports(), *common], env=env,
                                          stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True))
            try:
                wait_until(lambda: running(procs[-1], tmp_path / "node1.log") or _nodes(address, env) == 2,
                           timeout=180, step=1.0)
                break
            except AssertionError:
                stop(procs.pop())
                if attempt == 2:
                    raise
        yield address, env
    finally:
        for proc in reversed(procs):
            stop(proc)
        for f in logs:
            f.close()


def _gcs_up(address: str, env: dict) -> bool:
    r = subprocess.run([RAY, "status", f"--address={address}"], env=env, capture_output=True, text=True, timeout=60)
    return r.returncode == 0


def _nodes(address: str, env: dict) -> int:
    code = (f"import ray; ray.init(address={address!r}, log_to_driver=False); "
            "print('ALIVE_NODES=%d' % sum(n['Alive'] for n in ray.nodes()))")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    found = re.findall(r"ALIVE_NODES=(\d+)", r.stdout)  # Ray may print log lines around it
    return int(found[-1]) if found else 0


def test_run_py_serve_on_a_two_node_cluster_places_actors_on_both_and_serves_end_to_end(cluster, tmp_path):
    address, env = cluster
    ready, http_port = tmp_path / "ready.json", free_port()
    serve = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--address", address, "--port",
                              str(http_port), "--scale", "0.01", "--data", str(tmp_path / "data"), "--ready-file",
                              str(ready)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)
    try:
        wait_until(lambda: ready.exists() or serve.poll() is not None, timeout=400, step=1.0)
        assert serve.poll() is None, serve.stdout.read()
        info = json.loads(ready.read_text())
        assert len(set(info["nodes"].values())) == 2  # actors on both nodes
        _check_end_to_end(info)
    finally:
        code = stop(serve, signal.SIGTERM, wait=180)
    out = serve.stdout.read()
    assert code == 0, out
    assert "stopped" in out and "token authentication on" in out
    assert _nodes(address, env) == 2  # the cluster itself is left running for its owner


def test_run_py_sweep_over_cities_on_the_cluster_spreads_them_over_both_nodes(cluster, tmp_path):
    address, env = cluster
    cities = ["kumamoto", "sendai", "chiba", "sakai"]
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "sweep", "--scenario", "disaster",
                        "--designs", "full", "--cities", *cities, "--scale", "0.01", "--reps", "1",
                        "--address", address, "--out", str(tmp_path / "out"), "--format", "json"],
                       env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(r.stdout)
    assert sorted(data["cities"]) == sorted(cities)
    nodes = {n for c in data["cities"].values() for n in c["nodes"]}
    assert len(nodes) == 2, data["cities"]  # the cities' replications ran on both nodes
    assert _nodes(address, env) == 2  # the sweep leaves the cluster running


def _check_end_to_end(info: dict) -> None:
    creds = json.loads((Path(info["data"]) / "credentials.json").read_text())
    http = httpx.Client(base_url=info["url"], timeout=60)
    health = http.get("/v1/health").json()
    assert health["status"] == "ok" and health["actors"] == 8
    spec = json.loads((Path(info["data"]) / "service.json").read_text())
    from actors import world
    from actors.spec import ServiceSpec

    layout = {k: v for k, v in spec.items() if k != "store_kind"}
    city = world.city(ServiceSpec(data_dir=info["data"], **layout))
    serials = city.residents.filter(city.residents["has_card"])["card_serial"].to_list()[:2]
    for group in (0, 1):
        dev = next(d for d in creds["devices"] if d["role"] == "shelter" and d["group"] == group)
        tap = {"tap_id": secrets.token_hex(16), "device_id": dev["device_id"], "site_id": dev["site_id"],
               "kind": "checkin", "at": time.time(), "card": {"card_serial": serials[group]}}
        r = http.post("/v1/readers/taps", json=tap, headers={"Authorization": f"Bearer {dev['token']}",
                                                             "X-Device-Id": dev["device_id"]})
        assert r.status_code == 201 and r.json()["result"]["outcome"] == "checked_in", r.text
    hq = next(d for d in creds["devices"] if d["role"] == "hq")
    counts = http.get("/v1/hq/headcounts", headers={"Authorization": f"Bearer {hq['token']}",
                                                   "X-Device-Id": hq["device_id"]}).json()
    assert counts["total_reported"] == 2
