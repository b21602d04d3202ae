"""The reader's HTTP side: send taps to the live endpoints with the device's credentials."""

from __future__ import annotations

import ssl

import httpx

from devices.contract import (
    AUTH_HEADER,
    BATCH_PATH,
    DEVICE_HEADER,
    MAX_BATCH,
    TAPS_PATH,
    Tap,
    TapResult,
)
from twin.errors import Forbidden, TwinError, ValidationError

RETRY_STATUSES = {408, 425, 429}  # and every 5xx: the tap stays queued


class EndpointUnavailable(TwinError):
    """The endpoint could not be reached or could not answer now; the taps stay queued."""

    code = "endpoint_unavailable"
    status = 503


class CredentialsRefused(Forbidden):
    """The endpoint refused the device's credentials (401); the taps stay queued."""

    code = "credentials_refused"


class Uplink:
    """Posts taps to one endpoint as one registered device."""

    def __init__(self, endpoint: str, device_id: str, token: str, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None, verify: ssl.SSLContext | bool = True) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValidationError(f"endpoint must be an http(s) URL, not {endpoint!r}")
        if not token:
            raise ValidationError("a device token is required (see docs/readers.md: credentials)")
        headers = {AUTH_HEADER: f"Bearer {token}", DEVICE_HEADER: device_id}
        self.endpoint = endpoint.rstrip("/")
        self._http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout,
                                  transport=transport, verify=verify)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def send(self, taps: list[Tap]) -> list[TapResult]:
        """Send taps (one: the single endpoint; more: batches) and return one answer per tap."""
        if len(taps) == 1:
            return [self._single(taps[0])]
        out: list[TapResult] = []
        for i in range(0, len(taps), MAX_BATCH):
            out += self._batch(taps[i : i + MAX_BATCH])
        return out

    def _post(self, path: str, body: dict) -> httpx.Response:
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise EndpointUnavailable(f"cannot reach {self.endpoint}{path}: {exc!r}") from exc
        if response.status_code == 401:
            raise CredentialsRefused(f"{self.endpoint} refused this device's credentials: {response.text[:200]}")
        if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
            raise EndpointUnavailable(f"{self.endpoint}{path} answered {response.status_code}; will retry")
        return response

    def _single(self, tap: Tap) -> TapResult:
        response = self._post(TAPS_PATH, tap.to_json())
        body = _json(response)
        if response.status_code in (200, 201):
            return TapResult.from_json(body)
        return TapResult(tap.tap_id, "rejected", str(body.get("error", response.status_code)),
                         str(body.get("detail", response.text[:500])))

    def _batch(self, taps: list[Tap]) -> list[TapResult]:
        response = self._post(BATCH_PATH, {"taps": [t.to_json() for t in taps]})
        if response.status_code != 200:  # the batch as a whole was refused: send one by one
            return [self._single(t) for t in taps]
        results = [TapResult.from_json(r) for r in _json(response).get("results", [])]
        by_id = {r.tap_id: r for r in results}
        missing = [t.tap_id for t in taps if t.tap_id not in by_id]
        if missing:
            raise EndpointUnavailable(f"the batch answer lacks {len(missing)} taps (first {missing[0]}); will retry")
        return [by_id[t.tap_id] for t in taps]


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {"error": f"http_{response.status_code}", "detail": response.text[:500]}
    return body if isinstance(body, dict) else {"error": "bad_answer", "detail": str(body)[:500]}
