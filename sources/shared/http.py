"""The HTTP client every vendor source uses: dlt's RESTClient on dlt's retrying session.

Retries are dlt's, configured in `[runtime]` (`request_max_attempts`, `request_backoff_factor`,
`request_max_retry_delay`, `request_timeout`): 429, 5xx, connection errors and timeouts are
retried with exponential backoff, and `Retry-After` is honoured up to `request_max_retry_delay`.
A `Retry-After` of 0 or a past date falls back to the exponential backoff, so it never burns
the attempts in a burst: that backoff is the floor.

What this module adds: responses are checked here and turned into `VendorAPIError`s that name
the vendor, the endpoint and the status, and redirects are never followed, because every request
carries credentials that must not be sent to another host. Every attempt, retries included, goes
through the client's `AdaptiveLimiter` (throttle.py): fewer requests in flight after 429s.

Per-request overhead is paid once per client instead (measured in bench/README.md): requests
reads proxies and the CA bundle from the environment on every call, and `os.path.isdir`s the CA
bundle path, although one client only ever talks to one host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import dlt
import requests
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from dlt.sources.helpers.rest_client.utils import join_url
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.utils import requote_uri

from jobpulse.sources.shared.errors import VendorAPIError, VendorAuthError, VendorPayloadError
from jobpulse.sources.shared.throttle import AdaptiveLimiter, Outcome, retry_after_seconds

if TYPE_CHECKING:  # the stubs' names for what requests returns as plain dicts
    from requests.adapters import _HostParams, _PoolKwargs

_RETRYABLE_STATUS = frozenset({429, *range(500, 600)})
# In flight at most, when `extract.workers` is not set: jobpulse's own default for it.
DEFAULT_MAX_IN_FLIGHT = 16
_POOL_SIZE = 50  # kept-alive connections per host, as dlt's own session keeps


class VendorClient:
    """A RESTClient bound to one vendor's base URL and auth, returning decoded JSON.

    At most `max_in_flight` requests at once (default: dlt's `extract.workers`), fewer while the
    vendor answers 429.
    """

    def __init__(
        self,
        vendor: str,
        base_url: str,
        auth: AuthBase | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self.vendor = vendor
        runtime = resolve_configuration(RuntimeConfiguration())
        self.rest = RESTClient(
            base_url=base_url.rstrip("/"),
            auth=auth,
            paginator=SinglePagePaginator(),
            config=runtime,
        )
        self.limiter = AdaptiveLimiter(
            max_in_flight or _configured_workers(),
            max_pause=float(runtime.request_max_retry_delay),
        )
        session = self.rest.session
        adapter = ThrottledAdapter(self.limiter)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _read_environment_once(session, self.rest.base_url)

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
        try:
            response = self.rest.get(path, params=params, headers=headers, allow_redirects=False)
        except requests.RequestException as exc:
            raise VendorAPIError(
                self.vendor,
                self.describe(path, params),
                f"could not reach the API after the configured retries ({type(exc).__name__})",
                retryable=True,
            ) from exc
        if not 200 <= response.status_code < 300:
            raise_for_vendor_status(self.vendor, _describe_url(response.request.url), response)
        if not response.content.strip():
            return None  # 204, or a 200 with nothing to say: callers decide what empty means
        try:
            return response.json()
        except ValueError:
            raise VendorPayloadError(
                self.vendor, self.describe(path, params), "the body is not JSON", response.text
            ) from None

    def describe(self, path: str, params: dict[str, Any] | None = None) -> str:
        """How messages name an endpoint: `GET /path?query`, sensitive parameters masked."""
        url = join_url(self.rest.base_url, path)
        if not params:
            # What preparing a request does to a path, without the rest of preparing it: sources
            # name an endpoint for every item they fetch, in case it turns out malformed.
            return _describe_url(requote_uri(url))
        return _describe_url(requests.Request("GET", url, params=params).prepare().url)


class ThrottledAdapter(HTTPAdapter):
    """requests' adapter, with every attempt passing `limiter`, and connection pool keys
    (which cost an `os.path.isdir` of the CA bundle per request) worked out once per host."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        super().__init__(pool_maxsize=_POOL_SIZE)
        self.limiter = limiter
        self._pool_keys: dict[tuple[str, str, Any, Any], tuple[_HostParams, _PoolKwargs]] = {}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        round_started = self.limiter.acquire()
        outcome: Outcome = "failed"
        retry_after = None
        try:
            response = super().send(request, *args, **kwargs)
            if response.status_code == 429:
                outcome = "throttled"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            else:
                outcome = "answered"
            return response
        finally:
            self.limiter.release(round_started, outcome, retry_after)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        parts = urlsplit(request.url or "")
        key = (parts.scheme, parts.netloc, verify, cert)
        if key not in self._pool_keys:
            self._pool_keys[key] = super().build_connection_pool_key_attributes(
                request, verify, cert
            )
        host_params, pool_kwargs = self._pool_keys[key]
        return host_params.copy(), pool_kwargs.copy()  # callers may change them


def _configured_workers() -> int:
    workers = dlt.config.get("extract.workers", int)
    return workers if workers is not None and workers >= 1 else DEFAULT_MAX_IN_FLIGHT


def _read_environment_once(session: requests.Session, base_url: str) -> None:
    """Proxies and CA bundle from the environment (`HTTPS_PROXY`, `NO_PROXY`,
    `REQUESTS_CA_BUNDLE`, ...) for `base_url`, fixed on the session, which then stops reading
    the environment on each call. Every request of a VendorClient goes to that host; `.netrc`,
    the one other thing `trust_env` reads, would only apply to requests without auth."""
    settings = session.merge_environment_settings(base_url, {}, None, None, None)
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    session.trust_env = False


def _describe_url(url: str | None) -> str:
    parts = urlsplit(sanitize_url(url or ""))
    query = f"?{parts.query}" if parts.query else ""
    return f"GET {parts.path}{query}"


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
