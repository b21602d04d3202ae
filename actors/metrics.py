"""The service's Prometheus metrics, through Ray's metrics API (`ray.util.metrics`).

Every process records its own (the HTTP replicas count answers, the actors their journals and
snapshots); each node's Ray metrics agent exports them with Ray Serve's request metrics at
`http://NODE:METRICS_EXPORT_PORT/metrics` (`run.py serve` prints the head node's URL). Outside
Ray (plain hosts in tests, scenarios) recording does nothing. Counters count answers as the
clients got them, new and repeated alike: `status` tells them apart.
"""

from __future__ import annotations

from typing import Any

PREFIX = "myna_"
_METRICS: dict[str, Any] = {}
_DEFS: dict[str, tuple[str, str, tuple[str, ...], dict[str, Any]]] = {
    "taps": ("Counter", "reader taps answered, by device role, outcome and HTTP status",
             ("role", "outcome", "status"), {}),
    "refusals": ("Counter", "requests and taps refused, by error code", ("code",), {}),
    "postings": ("Counter", "ledger requests answered, by operation and HTTP status", ("op", "status"), {}),
    "batch_size": ("Histogram", "taps per call to a shelter group", ("kind",),
                   {"boundaries": [1, 2, 5, 10, 20, 50, 100, 200, 500]}),
    "batcher_queue": ("Gauge", "single taps waiting in a replica's batcher", ("group", "kind"), {}),
    "journal_length": ("Gauge", "commands in an actor's journal", ("actor",), {}),
    "replay_seconds": ("Gauge", "seconds an actor took to rebuild its state at its last start", ("actor",), {}),
    "snapshot_seconds": ("Histogram", "seconds to take a snapshot", ("actor",),
                         {"boundaries": [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60]}),
}


def _metric(name: str) -> Any | None:
    """The metric `name` of this process (created on first use), or None outside Ray."""
    if name in _METRICS:
        return _METRICS[name]
    try:
        import ray

        if not ray.is_initialized():
            return None
        from ray.util import metrics
    except ImportError:
        return None
    kind, doc, tags, extra = _DEFS[name]
    _METRICS[name] = getattr(metrics, kind)(PREFIX + name, description=doc, tag_keys=tags, **extra)
    return _METRICS[name]


def record(name: str, value: float, **tags: Any) -> None:
    """Add to a counter, observe a histogram or set a gauge (a no-op outside Ray)."""
    m = _metric(name)
    if m is None:
        return
    tags = {k: str(v) for k, v in tags.items()}
    kind = _DEFS[name][0]
    if kind == "Counter":
        m.inc(value, tags=tags)
    elif kind == "Histogram":
        m.observe(value, tags=tags)
    else:
        m.set(value, tags=tags)


def taps(role: str, answers: list[tuple[dict, int]]) -> None:
    """Count reader tap answers by outcome and status, and refusals by code."""
    for answer, status in answers:
        result = answer.get("result") or {}
        outcome = result.get("outcome") or answer.get("status", "")
        record("taps", 1, role=role, outcome=outcome, status=status)
        if status >= 400:
            record("refusals", 1, code=answer.get("error", ""))


def posting(op: str, status: int, error: str = "") -> None:
    """Count one ledger answer (and its refusal code)."""
    record("postings", 1, op=op, status=status)
    if status >= 400:
        record("refusals", 1, code=error)


def export_url() -> str:
    """This node's Ray metrics endpoint, or "" when Ray does not say."""
    import ray

    me = ray.get_runtime_context().get_node_id()
    for node in ray.nodes():
        if node.get("NodeID") == me and node.get("MetricsExportPort"):
            return f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    return ""
