"""Bearer auth for vendors that exchange long-lived keys for short-lived access tokens."""

from __future__ import annotations

import threading
from typing import Any

from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from requests import PreparedRequest, Response

from jobpulse.sources.shared.redaction import register_secret

# Marks a request that was already re-sent with a fresh token, so a second 401 is final.
_REMINTED_ATTR = "_jobpulse_reminted"
_TOKEN_ATTR = "_jobpulse_token"  # noqa: S105 - an attribute name, not a credential


@configspec
class TokenExchangeAuth(AuthConfigBase):
    """Mints an access token on first use, keeps it in memory only, and re-mints once on a 401.

    Subclasses implement `mint_token`. The token is never stored in a field, so it cannot reach
    dlt's configuration, state or traces. A request that still gets 401 with a fresh token is
    returned as is; the client then raises an auth error naming the endpoint. Safe to share
    between the worker threads of a parallel extract: one thread mints, the others wait for it.
    """

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None

    def mint_token(self) -> str:
        """Exchange the configured keys for a new access token (raise a SourceError on failure)."""
        raise NotImplementedError

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        self._authorize(request, self._current_token())
        request.register_hook("response", self._remint_once_on_401)  # type: ignore[no-untyped-call]
        return request

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._mint_registered()
            return self._token

    def _renewed_token(self, rejected: str | None) -> str:
        """A fresh token, unless another thread already replaced the rejected one."""
        with self._lock:
            if self._token is None or self._token == rejected:
                self._token = self._mint_registered()
            return self._token

    def _mint_registered(self) -> str:
        token = self.mint_token()
        register_secret(token)
        return token

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
