"""Liveness and readiness for load balancers: through HTTP on the live service, and the failing cases."""

from __future__ import annotations

import asyncio

import httpx
from fastapi.testclient import TestClient

from actors import context as context_module
from actors import routes_ops
from actors.app import make_app
from actors.hosts_residents import ResidentHost
from tests.actors.test_hosts import make_spec


def test_healthz_and_readyz_answer_without_credentials_when_every_actor_can_write(live):
    with httpx.Client(base_url=live.url, timeout=30) as http:  # no Authorization header
        assert http.get("/healthz").json() == {"status": "ok"}
        r = http.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True and body["failing"] == []
    assert body["actors"] == live.spec.shelter_groups + live.spec.resident_shards + 4
    paths = live.http.get("/openapi.json").json()["paths"]
    assert "/healthz" in paths and "/readyz" in paths


class _Handle:
    """A stand-in actor handle whose ready() answers, hangs, or fails."""

    def __init__(self, name: str, how: str) -> None:
        self.name, self.how = name, how
        self.ready = self

    def remote(self):
        async def answer():
            if self.how == "hang":
                await asyncio.sleep(60)
            if self.how == "fail":
                raise RuntimeError("actor died")
            return {"name": self.name, "ready": self.how == "ok", "why": "" if self.how == "ok"
                    else "store not writable: OperationalError: disk I/O error"}
        return answer()


class _Context:
    def __init__(self, hows: dict[str, str]) -> None:
        self.hows = hows

    def named_actors(self):
        return [(n, _Handle(n, h)) for n, h in self.hows.items()]


def test_readyz_names_each_failing_actor_and_why_with_503(monkeypatch):
    monkeypatch.setattr(routes_ops, "READY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(context_module, "_CONTEXT", _Context(
        {"trust": "ok", "shelters_0": "hang", "residents_1": "fail", "kiosks": "readonly"}))
    with TestClient(make_app()) as client:
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
    assert r.status_code == 503
    why = {f["name"]: f["why"] for f in r.json()["failing"]}
    assert set(why) == {"shelters_0", "residents_1", "kiosks"}
    assert "no answer within 0.2 s" in why["shelters_0"]
    assert "actor died" in why["residents_1"] and "not writable" in why["kiosks"]


def test_readyz_is_503_while_the_replica_is_still_starting(monkeypatch):
    monkeypatch.setattr(context_module, "_CONTEXT", None)
    with TestClient(make_app()) as client:
        r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["failing"][0]["why"] == "starting"


def test_a_host_whose_store_is_gone_is_not_ready_and_says_why(tmp_path):
    host = ResidentHost(make_spec(tmp_path), 0)
    assert host.ready() == {"name": host.name, "ready": True, "why": ""}
    host.store.close()
    answer = host.ready()
    assert answer["ready"] is False and "store not writable" in answer["why"]
