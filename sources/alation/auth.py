"""Alation's `TOKEN` header: a configured API token, or one minted from a refresh token."""

from __future__ import annotations

from typing import ClassVar

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from requests import PreparedRequest
from requests.auth import AuthBase

from jobpulse.sources.alation.settings import SETTING_PREFIX, TOKEN_HEADER, TOKEN_PATH, VENDOR
from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.redaction import register_secret
from jobpulse.sources.shared.token_auth import TokenExchangeAuth, access_token_in

# The documented key first, then the spellings other token endpoints use.
_TOKEN_KEYS = ("api_access_token", "access_token", "token")
REFRESH_SETTINGS = f"{SETTING_PREFIX}REFRESH_TOKEN and {SETTING_PREFIX}USER_ID"
API_TOKEN_SETTING = f"{SETTING_PREFIX}API_TOKEN"


class ApiTokenAuth(AuthBase):
    """Sends a configured API token. An auth object, not plain headers: dlt logs plain headers."""

    flow: ClassVar[str] = "API token"
    settings: ClassVar[str] = API_TOKEN_SETTING

    def __init__(self, api_token: str) -> None:
        register_secret(api_token)
        self._token = api_token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers[TOKEN_HEADER] = self._token
        return request


@configspec
class RefreshTokenAuth(TokenExchangeAuth):
    """Mints an API access token with `POST /integration/v1/createAPIAccessToken/` on first use,
    keeps it in memory only, and mints a new one once when a request gets 401."""

    flow: ClassVar[str] = "refresh token"
    settings: ClassVar[str] = REFRESH_SETTINGS
    # dlt configspec convention: required fields default to None until resolved or passed.
    refresh_token: TSecretStrValue = None  # type: ignore[assignment]
    user_id: int = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        register_secret(self.refresh_token)
        self._minter: VendorClient | None = None

    def bind(self, minter: VendorClient) -> RefreshTokenAuth:
        """The client (no auth, the source's rate limit) that sends the mint request."""
        self._minter = minter
        return self

    def token_headers(self, token: str) -> dict[str, str]:
        return {TOKEN_HEADER: token}

    def mint_token(self) -> str:
        if self._minter is None:
            raise RuntimeError("RefreshTokenAuth.bind() was not called")
        body = {"refresh_token": self.refresh_token, "user_id": self.user_id}
        endpoint = self._minter.describe(TOKEN_PATH, method="POST")
        unreadable = False
        try:
            payload = self._minter.post_json(TOKEN_PATH, body, quote_body=False)
        except VendorAPIError as exc:
            raise _explained(exc) from None
        except VendorPayloadError:
            unreadable = True
        if unreadable:
            # Raised outside the handler, so that no exception context keeps the body: a cut-off
            # token answer holds a token that could not be registered as a secret.
            raise VendorPayloadError(VENDOR, endpoint, "the token answer is not JSON")
        return access_token_in(payload, _TOKEN_KEYS, VENDOR, endpoint)


def _explained(exc: VendorAPIError) -> VendorAPIError:
    """The token endpoint's refusals in the user's terms: which setting to fix."""
    if exc.status in (400, 401, 403):
        return VendorAuthError(
            VENDOR,
            exc.endpoint,
            f"the refresh token was refused; check {REFRESH_SETTINGS} (the refresh token must "
            "be active and belong to that user)",
            status=exc.status,
            body=exc.body,
        )
    if exc.status == 404:
        return VendorAPIError(
            VENDOR,
            exc.endpoint,
            f"no token endpoint here; check {SETTING_PREFIX}BASE_URL",
            status=404,
        )
    return exc
