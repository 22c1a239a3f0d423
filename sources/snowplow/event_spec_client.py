"""The two read endpoints of Snowplow's event-specifications API, on the jobs client's tokens.

jobpulse only reads: it never creates, edits, publishes, deprecates or deletes a specification,
so the API's POST, PUT and DELETE endpoints have no method here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError
from jobpulse.sources.snowplow.client import SnowplowClient
from jobpulse.sources.snowplow.event_spec_records import Envelope, parse_envelope
from jobpulse.sources.snowplow.settings import EVENT_SPEC_PATH, EVENT_SPECS_PATH, VENDOR

_TRUE = "true"  # how the documentation spells boolean query parameters


class EventSpecUnreadable(Exception):
    """The API refused to give one specification (a 4xx): the load reports it for that spec
    and goes on with the others."""

    def __init__(self, endpoint: str, status: int, detail: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        super().__init__(f"{endpoint}: HTTP {status}: {detail}")


class EventSpecClient:
    def __init__(self, snowplow: SnowplowClient) -> None:
        self.snowplow = snowplow

    @property
    def organization_id(self) -> str:
        return self.snowplow.organization_id

    def list_specs(self, filters: Mapping[str, str]) -> Envelope:
        """Every spec (matching `filters`), each with its latest change among the includes."""
        params = {"withLatestHistory": _TRUE, **filters}
        try:
            payload = self.snowplow.get_json(EVENT_SPECS_PATH, params)
        except VendorAuthError as exc:
            # The key passed the token exchange, so it is access to this API that is missing.
            raise VendorAuthError(
                VENDOR,
                exc.endpoint,
                "the API key may not read event specifications; grant it access, or set "
                "SOURCES__SNOWPLOW__EVENT_SPECS=false to load the jobs only",
                status=exc.status,
            ) from None
        return parse_envelope(payload, self.snowplow.endpoint(EVENT_SPECS_PATH))

    def get_spec(self, spec_id: str, *, with_history: bool) -> Envelope:
        """One spec with its compatibility findings in `errors`, and its whole history if asked.

        Raises `EventSpecUnreadable` for a refusal of this one spec (a 4xx other than 401, 403
        and 429, whose `Error` entries it names). Credentials refused, failures that outlast the
        retries (`VendorAPIError`) and a 2xx that is not the envelope (`VendorPayloadError`: a
        proxy's page, a cut answer) fail the load, as on every other endpoint.
        """
        params = {"withHistory": _TRUE} if with_history else None
        endpoint = self.snowplow.endpoint(EVENT_SPEC_PATH, event_spec_id=spec_id)
        try:
            payload = self.snowplow.get_json(EVENT_SPEC_PATH, params, event_spec_id=spec_id)
        except VendorAPIError as exc:
            if isinstance(exc, VendorAuthError) or exc.retryable or exc.status is None:
                raise
            if not 400 <= exc.status < 500:
                raise
            raise EventSpecUnreadable(exc.endpoint, exc.status, _error_titles(exc.body)) from None
        return parse_envelope(payload, endpoint)


def _error_titles(body: str) -> str:
    """The `Error` entries of an error answer, as one line; the request's refusal if none."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    titles = [
        f"{entry.get('code') or 'Error'}: {entry.get('title') or entry.get('message') or ''}"
        for entry in errors or []
        if isinstance(entry, dict) and str(entry.get("type", "Error")).lower() == "error"
    ]
    return "; ".join(titles) or "request refused"
