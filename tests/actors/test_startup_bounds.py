"""Start-up never hangs: a part that cannot start ends the start with an error naming it and the Ray logs."""

from __future__ import annotations

import time
import uuid

import pytest

from actors import routing
from actors.spec import ServiceSpec
from actors.startup import StartFailed, bounded
from actors.supervisor import Supervisor
from tests.actors.live_helpers import free_port


class _Unplaceable(Supervisor):
    """The trust actor asks for a resource no node has: its worker never starts (like a broken worker env)."""

    def _options(self, name: str) -> dict:
        opts = super()._options(name)
        return {**opts, "resources": {"no-such-node": 1}} if name == routing.TRUST else opts


def test_an_actor_whose_worker_never_starts_fails_the_start_in_time_naming_it_and_the_logs(ray_session, tmp_path):
    spec = ServiceSpec(data_dir=str(tmp_path / "svc"), scale=0.01, shelter_groups=1, resident_shards=1,
                       namespace=f"hang-{uuid.uuid4().hex[:8]}")
    sup = _Unplaceable(spec, start_timeout=5)
    began = time.monotonic()
    try:
        with pytest.raises(StartFailed) as err:
            sup.start()
    finally:
        sup.stop()
    assert time.monotonic() - began < 60
    assert "trust" in str(err.value) and "did not answer within 5 s" in str(err.value)
    assert "logs" in str(err.value)


def test_a_step_that_never_returns_or_raises_ends_as_start_failed():
    with pytest.raises(StartFailed, match="deploying x did not finish within 0 s"):
        bounded("deploying x", lambda: time.sleep(30), 0.2)
    with pytest.raises(StartFailed, match=r"deploying y failed \(RuntimeError: boom\)"):
        bounded("deploying y", lambda: (_ for _ in ()).throw(RuntimeError("boom")), 5)


def test_run_py_serve_whose_actors_do_not_start_in_time_exits_non_zero_naming_them_and_the_logs(cli, tmp_path):
    r = cli("serve", "--scale", "0.01", "--data", str(tmp_path / "svc"), "--num-cpus", "1",
            "--start-timeout", "1", "--port", str(free_port()), timeout=240)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "starting the service's actors" in r.stderr and "did not answer within 1 s" in r.stderr, r.stderr[-2000:]
    assert "see the Ray logs in /" in r.stderr and "trust" in r.stderr
