"""The HTTP client every vendor source uses: dlt's RESTClient on dlt's retrying session.

Retries are dlt's, configured in `[runtime]` (`request_max_attempts`, `request_backoff_factor`,
`request_max_retry_delay`, `request_timeout`): 429, 5xx, connection errors and timeouts are
retried with exponential backoff, and `Retry-After` is honoured up to `request_max_retry_delay`.
A `Retry-After` of 0 or a past date falls back to the exponential backoff, so it never burns
the attempts in a burst: that backoff is the floor.

What this module adds: responses are checked here and turned into `VendorAPIError`s that name
the vendor, the endpoint and the status, and redirects are never followed, because every request
carries credentials that must not be sent to another host.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from dlt.sources.helpers.rest_client.utils import join_url
from requests.auth import AuthBase

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError

_RETRYABLE_STATUS = frozenset({429, *range(500, 600)})


class VendorClient:
    """A RESTClient bound to one vendor's base URL and auth, returning decoded JSON.

    `retry=False` sends each request once: for calls that are not safe to repeat (launching a
    job), where a retried timeout could do the thing twice.
    """

    def __init__(
        self, vendor: str, base_url: str, auth: AuthBase | None = None, *, retry: bool = True
    ) -> None:
        self.vendor = vendor
        self.rest = RESTClient(
            base_url=base_url.rstrip("/"),
            auth=auth,
            paginator=SinglePagePaginator(),
            # None (dlt's default, though its annotation omits it): dlt's retrying session.
            session=None if retry else _session_without_retries(),  # type: ignore[arg-type]
        )

    def get_json(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """GET `path` (relative to the base URL) and return its JSON body (None if empty).

        Raises `VendorAuthError` for 401/403, `VendorAPIError` for any other error status or when
        the vendor cannot be reached after the configured retries, and `VendorPayloadError` when
        a 2xx body is not JSON.
        """
        return self._request_json("GET", path, params=params, headers=headers)

    def post_json(
        self,
        path: str,
        body: dict[str, Any],
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST `body` as JSON to `path` and return the JSON answer; errors as `get_json`."""
        return self._request_json("POST", path, params=params, headers=headers, body=body)

    def _request_json(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        try:
            response = self.rest.request(
                path,
                method,
                params=params,
                json=body,
                headers=headers,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise VendorAPIError(
                self.vendor,
                self.describe(path, params, method),
                f"could not reach the API after the configured retries ({type(exc).__name__})",
                retryable=True,
            ) from exc
        endpoint = _describe_url(response.request.url, method)
        if not 200 <= response.status_code < 300:
            raise_for_vendor_status(self.vendor, endpoint, response)
        if not response.content.strip():
            return None  # 204, or a 200 with nothing to say: callers decide what empty means
        try:
            return response.json()
        except ValueError:
            raise VendorPayloadError(
                self.vendor, endpoint, "the body is not JSON", response.text
            ) from None

    def describe(self, path: str, params: dict[str, Any] | None = None, method: str = "GET") -> str:
        """How messages name an endpoint: `GET /path?query`, sensitive parameters masked."""
        url = requests.Request(method, join_url(self.rest.base_url, path), params=params).prepare()
        return _describe_url(url.url, method)


def _session_without_retries() -> requests.Session:
    """dlt's session with no status and no exception to retry, and the configured timeout."""
    client = Client(raise_for_status=False, status_codes=(), exceptions=())
    client.configure()  # [runtime] request_timeout; its retry settings have nothing to retry
    session: requests.Session = client.session
    return session


def _describe_url(url: str | None, method: str = "GET") -> str:
    parts = urlsplit(sanitize_url(url or ""))
    query = f"?{parts.query}" if parts.query else ""
    return f"{method} {parts.path}{query}"


def raise_for_vendor_status(vendor: str, endpoint: str, response: requests.Response) -> None:
    """Raise the jobpulse error that matches a non-2xx `response`."""
    status = response.status_code
    body = response.text
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("Location", "")).netloc or "another location"
        raise VendorAPIError(
            vendor,
            endpoint,
            f"redirect to {target} not followed, because the request carries credentials",
            status=status,
        )
    if status in (401, 403):
        raise VendorAuthError(
            vendor,
            endpoint,
            "credentials rejected; check the configured keys",
            status=status,
            body=body,
        )
    if status in _RETRYABLE_STATUS:
        raise VendorAPIError(
            vendor,
            endpoint,
            "the API kept failing after the configured retries; try again later",
            status=status,
            body=body,
            retryable=True,
        )
    raise VendorAPIError(vendor, endpoint, "request refused", status=status, body=body)


def path_segment(value: str) -> str:
    """`value` as one URL path segment: every reserved character encoded, `.` and `..` too,
    which `quote` leaves alone and URL resolution would otherwise turn into a parent path."""
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded
