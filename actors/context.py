"""What every request handler reaches: the actors by name, the credentials, the clock, the design.

One `Context` per Serve replica, built when the replica starts; handlers get it through
FastAPI's dependency injection (`ctx`). `call` awaits an actor call and turns Ray's
failures into the twin's refusals (a TwinError raised in an actor) or a 503 (an actor that
died or is restarting), so a caller knows to retry with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends

from actors import routing
from actors.auth import Credentials
from actors.batching import Batcher
from actors.challenges import Challenges
from actors.supervisor import Wiring
from twin.errors import NotFound, TwinError

MAX_SKEW_S = 300.0  # a device clock may run this far ahead of the service's
MAX_TAP_AGE_S = 72 * 3600.0  # a reader's queued tap is accepted this long after it was read (offline readers)
BATCH_WINDOW_S = 0.002  # a single tap waits this long for others arriving with it (one actor call for all)


class Unavailable(TwinError):
    """An actor died or is restarting; nothing is lost — retry with the same key."""

    code = "unavailable"
    status = 503


class ServiceDisabled(NotFound):
    """The design does not run this service."""

    code = "service_disabled"


class Context:
    """The replica's view of the service."""

    def __init__(self, wiring: Wiring, front_token: str = "") -> None:
        import ray

        from actors import world

        self.spec = wiring.service_spec()
        self.front_token = front_token  # set: a mutual TLS front stands before the ingress (actors/edge.py)
        self.credentials = Credentials.from_public(wiring.credentials)
        # keyed by the session key in credentials.json (owner-only, kept across restarts)
        self.challenges = Challenges(self.credentials.session_key)
        self.group_of = {int(k): int(v) for k, v in wiring.shelter_group_of.items()}
        self.design = world.design(self.spec)
        ns = self.spec.namespace

        def get(kind: str, index: int | None = None) -> Any:
            return ray.get_actor(routing.actor_name(kind, index), namespace=ns)

        self.shelters = [get(routing.SHELTERS, g) for g in range(self.spec.shelter_groups)]
        self.residents = [get(routing.RESIDENTS, k) for k in range(self.spec.resident_shards)]
        self.trust, self.kiosks = get(routing.TRUST), get(routing.KIOSKS)
        self.linkage, self.childwatch = get(routing.LINKAGE), get(routing.CHILDWATCH)

        self._batchers: dict[tuple, Batcher] = {}

    def named_actors(self) -> list[tuple[str, Any]]:
        """Every actor of the service with its name."""
        shelters = [(routing.actor_name(routing.SHELTERS, g), h) for g, h in enumerate(self.shelters)]
        residents = [(routing.actor_name(routing.RESIDENTS, k), h) for k, h in enumerate(self.residents)]
        return [*shelters, *residents, (routing.actor_name(routing.TRUST), self.trust),
                (routing.actor_name(routing.KIOSKS), self.kiosks),
                (routing.actor_name(routing.LINKAGE), self.linkage),
                (routing.actor_name(routing.CHILDWATCH), self.childwatch)]

    def now(self) -> float:
        """The service's clock."""
        return self.spec.now()

    def batcher(self, group: int, kind: str, send: Callable[..., Awaitable[list]]) -> Batcher:
        """The replica's batcher for one shelter group and kind (single taps, or their settlements)."""
        key = (group, kind)
        if key not in self._batchers:
            self._batchers[key] = Batcher(lambda rows: send(self, group, kind, rows), window_s=BATCH_WINDOW_S)
        return self._batchers[key]

    def shard(self, resident_id: int) -> Any:
        """The resident shard holding `resident_id`."""
        return self.residents[routing.shard_of(resident_id, len(self.residents))]

    def require(self, service: str) -> None:
        """Refuse when the design does not enable `service` (a service key)."""
        if not self.design.service(service).enabled:
            raise ServiceDisabled(f"the {service} service is not enabled in design {self.design.name!r}")


async def call(ref: Awaitable[Any]) -> Any:
    """Await an actor call; a refusal raised in the actor is re-raised as itself, a dead actor as 503."""
    from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

    try:
        return await ref
    except RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, TwinError):
            raise cause from None
        if isinstance(cause, (RayActorError, ActorUnavailableError)):
            raise Unavailable(f"a service actor is restarting ({type(cause).__name__}); retry with the same "
                              "idempotency key") from None
        raise
    except (RayActorError, ActorUnavailableError) as err:
        raise Unavailable(f"a service actor is restarting ({type(err).__name__}); retry with the same "
                          "idempotency key") from None


_CONTEXT: Context | None = None


def install(context: Context) -> None:
    """Make `context` the one the handlers of this process use."""
    global _CONTEXT
    _CONTEXT = context


async def ctx() -> Context:
    """The dependency handlers declare to reach the service (async: no worker thread per request)."""
    if _CONTEXT is None:
        raise Unavailable("the service is starting; retry shortly")
    return _CONTEXT


Ctx = Annotated[Context, Depends(ctx)]
