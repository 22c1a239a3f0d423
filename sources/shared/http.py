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

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from dlt.sources.helpers.rest_client.utils import join_url
from requests.auth import AuthBase

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError

_RETRYABLE_STATUS = frozenset({429, *range(500, 600)})


class VendorClient:
    """A RESTClient bound to one vendor's base URL and auth, returning decoded JSON."""

    def __init__(self, vendor: str, base_url: str, auth: AuthBase | None = None) -> None:
        self.vendor = vendor
        self.rest = RESTClient(
            base_url=base_url.rstrip("/"), auth=auth, paginator=SinglePagePaginator()
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
        return self._json_of("GET", path, params=params, headers=headers)

    def post_json(
        self,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST `json` (no body when None) to `path` and return the JSON answer, as `get_json`."""
        return self._json_of("POST", path, json=json, headers=headers)

    def paginate_json(
        self,
        path: str,
        paginator: BasePaginator,
        *,
        params: dict[str, Any] | None = None,
        data_selector: str | None = None,
    ) -> Iterator[list[Any]]:
        """GET `path` page by page with dlt's `paginator`; yield each page's items.

        The items are found at `data_selector`, or where dlt detects them (a bare array, or the
        array under `items`, `data`, `results`...). Errors are raised as by `get_json`.
        """
        pages = self.rest.paginate(
            path,
            params=params,
            paginator=paginator,
            data_selector=data_selector,
            hooks={"response": [_raise_for_error_status]},
            allow_redirects=False,
        )
        try:
            for page in pages:
                yield list(page)
        except requests.HTTPError as exc:
            response = exc.response
            if response is None:
                raise
            raise_for_vendor_status(self.vendor, _describe_url(response.request.url), response)
        except requests.JSONDecodeError:
            raise VendorPayloadError(
                self.vendor, self.describe(path, params), "a page of the listing is not JSON"
            ) from None
        except requests.RequestException as exc:
            raise self._unreachable("GET", path, params, exc) from exc

    def _json_of(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        try:
            response = self.rest.request(
                path,
                method=method,  # type: ignore[arg-type]
                params=params,
                json=json,
                headers=headers,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._unreachable(method, path, params, exc) from exc
        if not 200 <= response.status_code < 300:
            endpoint = _describe_url(response.request.url, method)
            raise_for_vendor_status(self.vendor, endpoint, response)
        if not response.content.strip():
            return None  # 204, or a 200 with nothing to say: callers decide what empty means
        try:
            return response.json()
        except ValueError:
            raise VendorPayloadError(
                self.vendor,
                self.describe(path, params, method),
                "the body is not JSON",
                response.text,
            ) from None

    def _unreachable(
        self, method: str, path: str, params: dict[str, Any] | None, exc: Exception
    ) -> VendorAPIError:
        return VendorAPIError(
            self.vendor,
            self.describe(path, params, method),
            f"could not reach the API after the configured retries ({type(exc).__name__})",
            retryable=True,
        )

    def describe(self, path: str, params: dict[str, Any] | None = None, method: str = "GET") -> str:
        """How messages name an endpoint: `GET /path?query`, sensitive parameters masked."""
        url = requests.Request(method, join_url(self.rest.base_url, path), params=params).prepare()
        return _describe_url(url.url, method)


def _raise_for_error_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A response hook for paged listings: any non-2xx is an HTTPError, which dlt's retry
    inspects (429 and 5xx are retried) and `paginate_json` turns into a vendor error; an empty
    2xx body is an empty page."""
    if not 200 <= response.status_code < 300:
        raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
    if not response.content.strip():
        # An empty page (a 204, or a 200 with nothing to say) is an empty listing, as in
        # `get_json`; dlt's paginator would otherwise fail decoding it.
        response._content = b"[]"


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
