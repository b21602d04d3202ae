"""A live state taken from a disaster run at some hour, and what that run then showed (see scenarios.nowcast_check)."""

from scenarios.nowcast_check import state_at, t95_of

__all__ = ["state_at", "t95_of"]
