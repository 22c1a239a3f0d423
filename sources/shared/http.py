"""The HTTP client every vendor source uses: dlt's RESTClient on dlt's retrying session.

Retries are dlt's, configured in `[runtime]` (`request_max_attempts`, `request_backoff_factor`,
`request_max_retry_delay`, `request_timeout`): 429, 5xx, connection errors and timeouts are
retried with exponential backoff, and `Retry-After` is honoured up to `request_max_retry_delay`.
A `Retry-After` of 0 or a past date falls back to the exponential backoff, so it never burns
the attempts in a burst: that backoff is the floor.

What this module adds: responses are checked here and turned into `VendorAPIError`s that name
the vendor, the endpoint and the status, and redirects are never followed, because every request
carries credentials that must not be sent to another host. Each retry is logged as a warning
(dlt retries silently), so a load waiting on an unreachable host shows why.

Error messages quote a short, redacted excerpt of the body, except for endpoints that answer with
credentials (`quote_body=False`): there no excerpt is ever made, not even in an exception that
is replaced later, because dlt's trace keeps every exception of a chain.

Every attempt, retries included, goes through the client's `AdaptiveLimiter` (throttle.py): at
most `extract.workers` requests in flight, fewer after 429s. Per-request overhead is paid once per
client instead (measured in bench/README.md): requests reads proxies and the CA bundle from the
environment on every call, and `os.path.isdir`s the CA bundle path, although one client only ever
talks to one host.

Options a vendor may need: `retry=False` for calls that are not safe to repeat (launching a job:
a retried timeout could launch it twice); a `RateLimiter` for APIs that ask for serial,
rate-limited requests; `paginate_json` for listings dlt's paginators can page.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

import dlt
import requests
from dlt.common import logger
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client.client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from dlt.sources.helpers.rest_client.utils import join_url
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.utils import requote_uri

from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.shared.ratelimit import RateLimiter
from jobpulse.sources.shared.throttle import AdaptiveLimiter, Outcome, retry_after_seconds

if TYPE_CHECKING:  # the stubs' names for what requests returns as plain dicts
    from requests.adapters import _HostParams, _PoolKwargs

_RETRYABLE_STATUS = frozenset({429, *range(500, 600)})
# In flight at most, when `extract.workers` is not set: jobpulse's own default for it.
DEFAULT_MAX_IN_FLIGHT = 16
_POOL_SIZE = 50  # kept-alive connections per host, as dlt's own session keeps


class VendorClient:
    """A RESTClient bound to one vendor's base URL and auth, returning decoded JSON.

    `base_url_setting` is how the user sets the base URL (`SOURCES__SNOWPLOW__BASE_URL`): errors
    that point at a wrong base URL name it.
    """

    def __init__(
        self,
        vendor: str,
        base_url: str,
        auth: AuthBase | None = None,
        *,
        base_url_setting: str = "the base URL setting",
        retry: bool = True,
        limiter: RateLimiter | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        self.vendor = vendor
        self.base_url_setting = base_url_setting
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceConfigError(
                vendor,
                f"{base_url_setting} = {base_url!r} is not an http(s) URL; write it in full, "
                "e.g. https://host.example.com",
            )
        self.host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        runtime = resolve_configuration(RuntimeConfiguration())
        self.rest = RESTClient(
            base_url=base_url.strip().rstrip("/"),
            auth=auth,
            paginator=SinglePagePaginator(),
            # None (dlt's default, though its annotation omits it): dlt's retrying session.
            session=None if retry else _session_without_retries(),  # type: ignore[arg-type]
            config=runtime,
        )
        self.throttle = AdaptiveLimiter(
            max_in_flight or _configured_workers(),
            max_pause=float(runtime.request_max_retry_delay),
        )
        session = self.rest.session
        adapter = ThrottledAdapter(self.throttle, limiter)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _read_environment_once(session, self.rest.base_url)
        # dlt's retrying session exposes its tenacity `Retrying` as `send.retry`; each wait it
        # makes is reported through this hook.
        retrying = getattr(self.rest.session.send, "retry", None)
        if retrying is not None:
            retrying.before_sleep = self._report_retry

    def get_json(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        quote_body: bool = True,
    ) -> Any:
        """GET `path` (relative to the base URL) and return its JSON body (None if empty).

        Raises `VendorAuthError` for 401/403, `VendorAPIError` for any other error status or when
        the vendor cannot be reached after the configured retries, and `VendorPayloadError` when
        a 2xx body is not JSON. With `quote_body=False` no error quotes the body.
        """
        return self._request_json("GET", path, params, headers, None, quote_body)

    def post_json(
        self,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        quote_body: bool = True,
    ) -> Any:
        """POST `body` as JSON (no body when None) and return the JSON answer, as `get_json`."""
        return self._request_json("POST", path, params, headers, body, quote_body)

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
        started = time.monotonic()
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
            raise_for_vendor_status(
                self.vendor,
                _describe_url(response.request.url),
                response,
                base_url_setting=self.base_url_setting,
            )
        except requests.JSONDecodeError:
            raise VendorPayloadError(
                self.vendor, self.describe(path, params), "a page of the listing is not JSON"
            ) from None
        except requests.RequestException as exc:
            raise self._unreachable("GET", path, params, exc, started) from exc

    def _request_json(
        self,
        method: Literal["GET", "POST"],
        path: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        body: Any,
        quote_body: bool,
    ) -> Any:
        started = time.monotonic()
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
            raise self._unreachable(method, path, params, exc, started) from exc
        if not 200 <= response.status_code < 300:
            raise_for_vendor_status(
                self.vendor,
                _describe_url(response.request.url, method),
                response,
                quote_body=quote_body,
                base_url_setting=self.base_url_setting,
            )
        if not response.content.strip():
            return None  # 204, or a 200 with nothing to say: callers decide what empty means
        payload, is_json = _decoded(response)
        if not is_json:
            raise VendorPayloadError(
                self.vendor,
                self.describe(path, params, method),
                "the body is not JSON",
                response.text if quote_body else "",
            )
        return payload

    def _unreachable(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        exc: Exception,
        started: float,
    ) -> VendorAPIError:
        waited = time.monotonic() - started
        return VendorAPIError(
            self.vendor,
            self.describe(path, params, method),
            f"could not reach {self.host} ({type(exc).__name__}); retried for {waited:.0f} s "
            f"as configured; check {self.base_url_setting} and the network",
            retryable=True,
        )

    def describe(self, path: str, params: dict[str, Any] | None = None, method: str = "GET") -> str:
        """How messages name an endpoint: `GET /path?query`, sensitive parameters masked."""
        url = join_url(self.rest.base_url, path)
        if not params:
            # What preparing a request does to a path, without the rest of preparing it: sources
            # name an endpoint for every item they fetch, in case it turns out malformed.
            return _describe_url(requote_uri(url), method)
        return _describe_url(requests.Request(method, url, params=params).prepare().url, method)

    def _report_retry(self, state: Any) -> None:
        """tenacity's before_sleep: one warning per wait, naming host, cause and attempt."""
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        if failure is not None:
            cause = type(failure).__name__
        else:
            cause = f"HTTP {outcome.result().status_code}" if outcome is not None else "failure"
        wait = state.next_action.sleep if state.next_action is not None else 0
        logger.warning(
            f"{self.vendor} API {self.host}: {cause} on attempt {state.attempt_number}; "
            f"retrying in {wait:.0f} s"
        )


class ThrottledAdapter(HTTPAdapter):
    """requests' adapter, with every attempt passing the client's `AdaptiveLimiter` (and its
    `RateLimiter`, for vendors that ask for serial, rate-limited requests), and connection pool
    keys (which cost an `os.path.isdir` of the CA bundle per request) worked out once per host."""

    def __init__(self, throttle: AdaptiveLimiter, rate: RateLimiter | None = None) -> None:
        super().__init__(pool_maxsize=_POOL_SIZE)
        self.throttle = throttle
        self.rate = rate
        self._pool_keys: dict[tuple[str, str, Any, Any], tuple[_HostParams, _PoolKwargs]] = {}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        round_started = self.throttle.acquire()
        outcome: Outcome = "failed"
        retry_after = None
        try:
            with self.rate or contextlib.nullcontext():
                response = super().send(request, *args, **kwargs)
            if response.status_code == 429:
                outcome = "throttled"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            else:
                outcome = "answered"
            return response
        finally:
            self.throttle.release(round_started, outcome, retry_after)

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


def _decoded(response: requests.Response) -> tuple[Any, bool]:
    """(payload, True), or (None, False) when the body is not JSON. The decoding error is not
    kept: it holds the whole body, and an exception raised while handling it would chain it."""
    try:
        return json.loads(response.content), True
    except ValueError:
        return None, False


def _session_without_retries() -> requests.Session:
    """dlt's session with no status and no exception to retry, and the configured timeout."""
    client = Client(raise_for_status=False, status_codes=(), exceptions=())
    client.configure()  # [runtime] request_timeout; its retry settings have nothing to retry
    session: requests.Session = client.session
    return session


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


def raise_for_vendor_status(
    vendor: str,
    endpoint: str,
    response: requests.Response,
    *,
    quote_body: bool = True,
    base_url_setting: str = "the base URL setting",
) -> None:
    """Raise the jobpulse error that matches a non-2xx `response`."""
    status = response.status_code
    body = response.text if quote_body else ""
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
    if status == 404 and not _decoded(response)[1]:
        # The API answers its own 404s in JSON; a page that is not is another server's.
        raise VendorAPIError(
            vendor,
            endpoint,
            f"not found, and the answer is not the API's JSON: check {base_url_setting}",
            status=status,
            api_answered=False,
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
