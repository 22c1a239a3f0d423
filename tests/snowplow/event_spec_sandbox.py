"""The event-spec endpoints composed with the sandbox kit alone, with a minimal token exchange.

Stands in for `SnowplowSandbox` until it is on the kit; the same mixin and rules go into it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from jobpulse.sources.shared.sandbox import ApiError, Sandbox
from jobpulse.sources.snowplow.sandbox import (
    DEFAULT_API_KEY,
    DEFAULT_API_KEY_ID,
    DEFAULT_ORGANIZATION_ID,
)
from jobpulse.sources.snowplow.sandbox_event_specs import EVENT_SPEC_RULES, EventSpecEndpoints

_TOKEN = "/api/msc/v1/organizations/<organization_id>/credentials/<flow>/token"


class EventSpecSandbox(EventSpecEndpoints, Sandbox):
    vendor = "Snowplow"
    url_map = Map([Rule(_TOKEN, endpoint="token", methods=["GET"]), *EVENT_SPEC_RULES])

    def __init__(
        self,
        *,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        api_key_id: str = DEFAULT_API_KEY_ID,
        issue_token: Callable[[], str] = lambda: secrets.token_urlsafe(16),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.organization_id = DEFAULT_ORGANIZATION_ID
        self.api_key = api_key
        self.api_key_id = api_key_id
        self.issue_token = issue_token
        self.tokens: list[str] = []

    def on_token(self, request: Request, organization_id: str, flow: str) -> Any:
        if request.headers.get("X-API-Key") != self.api_key:
            raise ApiError(401, "invalid API key")
        token = self.issue_token()
        self.tokens.append(token)
        return {"accessToken": token}

    def require_token(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise ApiError(401, self.unauthorized_message())

    def source_settings(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "api_key": self.api_key,
            "api_key_id": self.api_key_id,
            "base_url": self.base_url,
        }
