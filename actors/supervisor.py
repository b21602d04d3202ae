"""The supervisor (監督): creates the service's actors for a city and design, and knows them by name.

Each host class is wrapped with `ray.remote(...)`: named in the service's namespace for
lookup, restarted up to `max_restarts` times (the host rebuilds its state from its store),
no CPU reserved (they wait on I/O and each other far more than they compute), and spread
over the cluster's nodes. The supervisor then registers the devices the actors report (every
shelter reader, school reader, kiosk, counter) and the agencies, issuing their credentials once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors import routing
from actors.auth import CREDENTIALS, Credentials, Device
from actors.hosts_childwatch import ChildWatchHost
from actors.hosts_kiosks import KioskHost
from actors.hosts_linkage import LinkageHost
from actors.hosts_residents import ResidentHost
from actors.hosts_safety import ShelterHost
from actors.hosts_trust import TrustHost
from actors.spec import ServiceSpec
from actors.startup import START_TIMEOUT_S, wait_actors

CLINICS = 2  # clinic devices registered for vital-record writes
HQ_DEVICES = 1


@dataclass(frozen=True)
class Wiring:
    """What the HTTP ingress needs: the spec, the actor names, who owns which shelter, credentials."""

    spec: dict[str, Any]
    shelter_group_of: dict[int, int]  # shelter facility id -> group
    credentials: dict[str, Any]  # Credentials.public()

    def service_spec(self) -> ServiceSpec:
        """The spec as a value."""
        return ServiceSpec(**self.spec)


class Supervisor:
    """Creates, finds, and stops the actors of one service."""

    def __init__(self, spec: ServiceSpec, detached: bool = False, start_timeout: float = START_TIMEOUT_S) -> None:
        self.spec = spec.open()
        self.detached = detached  # from a Serve config: the actors outlive the builder, found again by name
        self.handles: dict[str, Any] = {}
        self.start_timeout = float(start_timeout)

    def _options(self, name: str) -> dict[str, Any]:
        s = self.spec
        extra: dict[str, Any] = {"lifetime": "detached", "get_if_exists": True} if self.detached else {}
        return {"name": name, "namespace": s.namespace, "max_restarts": s.max_restarts, "num_cpus": 0,
                "scheduling_strategy": "SPREAD" if s.spread else "DEFAULT", "max_concurrency": 1, **extra}

    def plan(self) -> list[tuple[str, type, tuple]]:
        """(actor name, host class, constructor args) of every actor."""
        s = self.spec
        out: list[tuple[str, type, tuple]] = [(routing.actor_name(routing.TRUST), TrustHost, (s,))]
        out += [(routing.actor_name(routing.SHELTERS, g), ShelterHost, (s, g)) for g in range(s.shelter_groups)]
        out += [(routing.actor_name(routing.RESIDENTS, k), ResidentHost, (s, k)) for k in range(s.resident_shards)]
        out += [(routing.actor_name(n), cls, (s,)) for n, cls in
                ((routing.KIOSKS, KioskHost), (routing.LINKAGE, LinkageHost), (routing.CHILDWATCH, ChildWatchHost))]
        return out

    def start(self) -> Wiring:
        """Create every actor, wait until each has rebuilt its state (at most `start_timeout` s), register
        devices; the wiring. An actor that fails or does not answer in time is named (StartFailed)."""
        import ray

        for name, cls, args in self.plan():
            self.handles[name] = ray.remote(cls).options(**self._options(name)).remote(*args)
        wait_actors({n: h.ping.remote() for n, h in self.handles.items()}, "starting the service's actors",
                    self.start_timeout)
        return self._wire()

    def _wire(self) -> Wiring:
        h, s = self.handles, self.spec
        groups = [h[routing.actor_name(routing.SHELTERS, g)] for g in range(s.shelter_groups)]
        n = len(groups)
        asks = {**{f"{routing.actor_name(routing.SHELTERS, g)}.readers": x.readers.remote() for g, x in enumerate(groups)},
                **{f"{routing.actor_name(routing.SHELTERS, g)}.shelters": x.shelters.remote() for g, x in enumerate(groups)},
                "childwatch.sites": h[routing.CHILDWATCH].sites.remote(), "kiosks.sites": h[routing.KIOSKS].sites.remote(),
                "linkage.agencies": h[routing.LINKAGE].agencies.remote()}
        got = wait_actors(asks, "registering the devices", self.start_timeout)
        answers = [got[k] for k in asks]
        readers, shelters, (schools, sites, agencies) = answers[:n], answers[n:2 * n], answers[2 * n:]
        devices = shelter_devices(readers) + [Device(f"school-{f}", "school", f"school-{f}", facility_id=f)
                                              for f in schools]
        devices += [Device(f"kiosk-{f}", "kiosk", f"kiosk-{f}", facility_id=f) for f in sites["kiosks"]]
        devices += [Device(f"counter-{w}", "counter", f"ward-{w}", ward=w) for w in sites["counters"]]
        devices += [Device(f"hq-{i}", "hq", "hq") for i in range(1, HQ_DEVICES + 1)]
        devices += [Device(f"clinic-{i}", "clinic", f"clinic-{i}") for i in range(1, CLINICS + 1)]
        creds = Credentials.issue(s.folder / CREDENTIALS, devices, agencies)
        group_of = {int(f): g for g, fids in enumerate(shelters) for f in fids}
        return Wiring(s.public(), group_of, creds.public())

    def ping(self) -> list[dict[str, Any]]:
        """Every actor's ping (name, node, pid, journal length, replayed commands)."""
        import ray

        return ray.get([h.ping.remote() for h in self.handles.values()])

    def stop(self) -> None:
        """Kill every actor (no restart); their stores keep the state for the next start."""
        import ray

        for handle in self.handles.values():
            try:
                ray.kill(handle, no_restart=True)
            except Exception:  # already gone
                pass
        self.handles.clear()


def shelter_devices(readers_per_group: list[list[tuple[int, int]]]) -> list[Device]:
    """One device per shelter reader: shelter-<facility>-<n>, site shelter-<facility>."""
    out = []
    for g, readers in enumerate(readers_per_group):
        count: dict[int, int] = {}
        for reader_id, fid in readers:
            count[fid] = count.get(fid, 0) + 1
            out.append(Device(f"shelter-{fid}-{count[fid]}", "shelter", f"shelter-{fid}", facility_id=fid,
                              group=g, reader_id=reader_id))
    return out
