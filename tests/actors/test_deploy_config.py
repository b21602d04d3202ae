"""`run.py serve --print-config` writes a Ray Serve config that Ray's own `serve run` starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.actors.live_helpers import free_port, wait_until
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_printed_config_starts_the_service_with_rays_own_serve_run(cli, tmp_path):
    port, data = free_port(), tmp_path / "data"
    r = cli("serve", "--print-config", "--port", str(port), "--scale", "0.01", "--data", str(data),
            "--shelter-groups", "1", "--resident-shards", "1")
    assert r.returncode == 0, r.stderr
    cfg = json.loads(r.stdout.split("\n", 2)[2])  # after the two comment lines
    assert cfg["applications"][0]["import_path"] == "actors.deploy:build"
    (tmp_path / "serve.yaml").write_text(r.stdout)
    serve = Path(sys.executable).with_name("serve")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
    proc = subprocess.Popen([str(serve), "run", str(tmp_path / "serve.yaml")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=400, step=1.0)
        assert proc.poll() is None, proc.stdout.read()
        body = httpx.get(f"{url}/readyz", timeout=30).json()
        assert body["ready"] and body["actors"] == 1 + 1 + 4
        assert httpx.get(f"{url}/v1/health", timeout=30).json()["city"] == "kumamoto"
        assert (data / "credentials.json").exists()
        proc.send_signal(signal.SIGINT)
        proc.wait(240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
