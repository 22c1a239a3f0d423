"""Snowplow's token exchange: an API key (v2), or an API key ID and key (v3), for a bearer token."""

from __future__ import annotations

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from requests import PreparedRequest
from requests.auth import AuthBase

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError
from jobpulse.sources.shared.http import VendorClient, path_segment
from jobpulse.sources.shared.redaction import register_secret
from jobpulse.sources.shared.token_auth import TokenExchangeAuth, access_token_in
from jobpulse.sources.snowplow.settings import (
    BASE_URL_SETTING,
    DEFAULT_BASE_URL,
    TOKEN_PATH_V2,
    TOKEN_PATH_V3,
    VENDOR,
)

# The documented key first; the snake_case forms other token endpoints use after it.
_TOKEN_KEYS = ("accessToken", "access_token", "token")


class _KeyHeaders(AuthBase):
    """Sends the API key headers. An auth object, not plain headers: dlt logs plain headers."""

    def __init__(self, api_key: str, api_key_id: str | None) -> None:
        self._headers = {"X-API-Key": api_key}
        if api_key_id:
            self._headers["X-API-Key-ID"] = api_key_id

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers.update(self._headers)
        return request


@configspec
class SnowplowTokenAuth(TokenExchangeAuth):
    """v3 when `api_key_id` is set, else v2, as the Snowplow documentation describes."""

    base_url: str = DEFAULT_BASE_URL
    # dlt configspec convention: required fields default to None until resolved or passed.
    organization_id: str = None  # type: ignore[assignment]
    api_key: TSecretStrValue = None  # type: ignore[assignment]
    api_key_id: TSecretStrValue | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        register_secret(self.api_key)
        register_secret(self.api_key_id)

    @property
    def flow(self) -> str:
        return "v3" if self.api_key_id else "v2"

    def mint_token(self) -> str:
        path = (TOKEN_PATH_V3 if self.api_key_id else TOKEN_PATH_V2).format(
            organization_id=path_segment(self.organization_id)
        )
        client = VendorClient(
            VENDOR,
            self.base_url,
            auth=_KeyHeaders(self.api_key, self.api_key_id),
            base_url_setting=BASE_URL_SETTING,
        )
        try:
            # The token endpoint answers with credentials: its body is never quoted.
            payload = client.get_json(path, quote_body=False)
        except VendorAPIError as exc:
            raise self._explained(exc) from None
        return access_token_in(payload, _TOKEN_KEYS, VENDOR, client.describe(path))

    def _explained(self, exc: VendorAPIError) -> VendorAPIError:
        """The token endpoint's errors in the user's terms: which setting is wrong."""
        if exc.status in (401, 403):
            keys = "API_KEY_ID and API_KEY" if self.api_key_id else "API_KEY"
            return VendorAuthError(
                VENDOR,
                exc.endpoint,
                f"API key rejected ({self.flow} token exchange); check SOURCES__SNOWPLOW__{keys}",
                status=exc.status,
            )
        if exc.status == 404 and exc.api_answered:
            return VendorAuthError(
                VENDOR,
                exc.endpoint,
                f"organization not found: {self.organization_id!r}; check "
                "SOURCES__SNOWPLOW__ORGANIZATION_ID (the UUID after .com/ in the console URL)",
                status=404,
            )
        return exc
