"""mParticle's OAuth client-credentials exchange: a bearer token per process, cached for its
`expires_in` and re-minted once on a 401 (by `TokenExchangeAuth`)."""

from __future__ import annotations

import threading
from typing import Any

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue

from jobpulse.sources.mparticle.settings import (
    DEFAULT_TOKEN_URL,
    TOKEN_AUDIENCE,
    TOKEN_GRANT_TYPE,
    VENDOR,
)
from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.redaction import register_secret
from jobpulse.sources.shared.token_auth import MintedToken, TokenExchangeAuth, access_token_in

_SETTINGS = "SOURCES__MPARTICLE__CLIENT_ID and SOURCES__MPARTICLE__CLIENT_SECRET"


class TokenRefused(VendorAuthError):
    """The token URL refused the client credentials."""


@configspec
class MparticleTokenAuth(TokenExchangeAuth):
    """POSTs the documented JSON body to the token URL for a bearer token."""

    token_url: str = DEFAULT_TOKEN_URL
    # dlt configspec convention: required fields default to None until resolved or passed.
    client_id: str = None  # type: ignore[assignment]
    client_secret: TSecretStrValue = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        register_secret(self.client_secret)

    def mint_token(self) -> MintedToken:
        client = VendorClient(
            VENDOR, self.token_url, base_url_setting="SOURCES__MPARTICLE__TOKEN_URL"
        )
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "audience": TOKEN_AUDIENCE,
            "grant_type": TOKEN_GRANT_TYPE,
        }
        try:
            payload = client.post_json("", body, quote_body=False)
        except VendorAPIError as exc:
            if exc.status in (400, 401, 403):
                raise TokenRefused(
                    VENDOR,
                    exc.endpoint,
                    f"client credentials rejected by the token URL; check {_SETTINGS}",
                    status=exc.status,
                ) from None
            raise
        return _minted(payload, client.describe("", method="POST"))


def _minted(payload: Any, endpoint: str) -> MintedToken:
    token = access_token_in(payload, ("access_token",), VENDOR, endpoint)
    expires_in: float | None = None
    try:
        expires_in = float(payload["expires_in"])
    except (KeyError, TypeError, ValueError):
        expires_in = None  # no stated lifetime: the token is used until the API answers 401
    return MintedToken(token, expires_in if expires_in and expires_in > 0 else None)


_shared: dict[tuple[str, str, str], MparticleTokenAuth] = {}
_shared_lock = threading.Lock()


def shared_auth(token_url: str, client_id: str, client_secret: str) -> MparticleTokenAuth:
    """One auth object, hence one token, per process and set of credentials: a load, a check
    and a trigger in the same process do not each mint their own."""
    register_secret(client_secret)
    key = (token_url, client_id, client_secret)
    with _shared_lock:
        auth = _shared.get(key)
        if auth is None:
            auth = _shared[key] = MparticleTokenAuth(
                token_url=token_url, client_id=client_id, client_secret=client_secret
            )
        return auth


def forget_tokens() -> None:
    """Drop every cached token (tests: each sandbox issues its own)."""
    with _shared_lock:
        _shared.clear()
