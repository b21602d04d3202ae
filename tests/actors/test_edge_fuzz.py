"""A property-based fuzz of every operation in the served OpenAPI document, through a real HTTP client.

Schemathesis generates requests from the document the service publishes; each is sent with
credentials of the right kind (device, agency or resident session) so it gets past 401, and
every answer must be no 5xx and inside the document (a listed status code, a declared content
type, a body matching its schema). The number of examples per operation is bounded to keep
the test short; `FUZZ_EXAMPLES` in the environment raises it for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.usefixtures("live")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLE_OF = {"/v1/readers": "shelter", "/v1/kiosks": "kiosk", "/v1/payments/fees": "kiosk",
           "/v1/payments/top-ups": "counter", "/v1/payments/refunds": "counter", "/v1/points": "counter",
           "/v1/counters": "counter", "/v1/hq": "hq", "/v1/vitals": "clinic"}


def _headers(live, path: str, session: dict[str, str]) -> dict[str, str]:
    if path.startswith("/v1/me"):
        return session
    if path.startswith("/v1/linkage"):
        return live.agency_headers("city.child_care")
    role = next((r for prefix, r in ROLE_OF.items() if path.startswith(prefix)), None)
    return live.headers(live.device(role)) if role else {}


def _fuzzer(url: str, op, headers: dict[str, str]):
    """A Hypothesis test of one operation: generated requests, sent with `headers`, answers checked."""

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def fuzz(case) -> None:
        response = case.call(base_url=url, headers=headers)
        case.validate_response(response, checks=CHECKS)

    return fuzz


def test_no_operation_answers_a_5xx_or_outside_its_documented_schema(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    # a holder of its own per operation (no other test uses them): fuzzing a loss report or a logout ends
    # that holder's session and card, not the next operation's
    serials = live.holders(len(operations), skip=2900)["card_serial"].to_list()
    failures: list[str] = []
    for op, serial in zip(operations, serials, strict=True):
        session = live.login(serial) if op.path.startswith("/v1/me") else {}
        try:
            _fuzzer(live.url, op, _headers(live, op.path, session))()
        except Exception as exc:  # every operation is fuzzed; all failures reported together
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
