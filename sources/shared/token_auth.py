"""Bearer auth for vendors that exchange long-lived keys for short-lived access tokens."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from requests import PreparedRequest, Response

from jobpulse.sources.shared.errors import VendorPayloadError
from jobpulse.sources.shared.redaction import register_secret

# Marks a request that was already re-sent with a fresh token, so a second 401 is final.
_REMINTED_ATTR = "_jobpulse_reminted"
_TOKEN_ATTR = "_jobpulse_token"  # noqa: S105 - an attribute name, not a credential
# A token is renewed this long before its stated expiry (at most a tenth of its lifetime), so
# that no request leaves with a token that lapses in flight.
_EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class MintedToken:
    """A token with the lifetime its issuer stated (`expires_in` seconds; None: unknown)."""

    value: str
    expires_in: float | None = None


def access_token_in(payload: Any, keys: Sequence[str], vendor: str, endpoint: str) -> str:
    """The token in a token endpoint's answer: the first of `keys` with a value (the documented
    key first). `TokenExchangeAuth` registers it as a secret once `mint_token` returns it."""
    token = None
    if isinstance(payload, dict):
        token = next((payload[key] for key in keys if payload.get(key)), None)
    if not isinstance(token, str):
        raise VendorPayloadError(vendor, endpoint, f"no {keys[0]} in the token response")
    return token


@configspec
class TokenExchangeAuth(AuthConfigBase):
    """Mints an access token on first use, keeps it in memory only, and re-mints once on a 401.

    Subclasses implement `mint_token`; a token returned as a `MintedToken` with `expires_in` is
    re-minted when that lifetime is over. The token is never stored in a field, so it cannot reach
    dlt's configuration, state or traces. A request that still gets 401 with a fresh token is
    returned as is; the client then raises an auth error naming the endpoint. Safe to share
    between the worker threads of a parallel extract: one thread mints, the others wait for it.
    """

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at: float | None = None  # wall-clock seconds; None: until a 401

    def mint_token(self) -> str | MintedToken:
        """Exchange the configured keys for a new access token (raise a SourceError on failure)."""
        raise NotImplementedError

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        self._authorize(request, self._current_token())
        request.register_hook("response", self._remint_once_on_401)  # type: ignore[no-untyped-call]
        return request

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None or self._expired():
                self._token = self._mint_registered()
            return self._token

    def _expired(self) -> bool:
        return self._expires_at is not None and time.time() >= self._expires_at

    def _renewed_token(self, rejected: str | None) -> str:
        """A fresh token, unless another thread already replaced the rejected one."""
        with self._lock:
            if self._token is None or self._token == rejected:
                self._token = self._mint_registered()
            return self._token

    def _mint_registered(self) -> str:
        minted = self.mint_token()
        if isinstance(minted, str):
            minted = MintedToken(minted)
        register_secret(minted.value)
        self._expires_at = None
        if minted.expires_in is not None:
            margin = min(_EXPIRY_MARGIN_SECONDS, minted.expires_in / 10)
            self._expires_at = time.time() + minted.expires_in - margin
        return minted.value

    def token_headers(self, token: str) -> dict[str, str]:
        """The headers that carry `token`: a bearer header, unless the vendor uses its own."""
        return {"Authorization": f"Bearer {token}"}

    def _authorize(self, request: PreparedRequest, token: str) -> None:
        request.headers.update(self.token_headers(token))
        setattr(request, _TOKEN_ATTR, token)

    def _remint_once_on_401(self, response: Response, **send_kwargs: Any) -> Response:
        request = response.request
        if response.status_code != 401 or getattr(request, _REMINTED_ATTR, False):
            return response
        token = self._renewed_token(getattr(request, _TOKEN_ATTR, None))
        retry = request.copy()
        self._authorize(retry, token)
        setattr(retry, _REMINTED_ATTR, True)
        response.close()
        second: Response = response.connection.send(retry, **send_kwargs)
        second.history.append(response)
        second.request = retry
        return second
