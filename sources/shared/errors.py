"""Errors raised by jobpulse sources. Each names the vendor, the endpoint and what to do."""

from __future__ import annotations

from jobpulse.sources.shared.redaction import redact

_BODY_EXCERPT_CHARS = 300


class SourceError(Exception):
    """Base of every error a jobpulse source raises on purpose; its message is already redacted."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class SourceConfigError(SourceError):
    """A setting is missing or invalid; nothing was requested from the vendor."""

    def __init__(self, vendor: str, message: str) -> None:
        super().__init__(f"{vendor} configuration: {message}")


class VendorAPIError(SourceError):
    """The vendor answered with an error status, or could not be reached.

    `retryable` says whether running the load again later may succeed (429, 5xx, network)
    or whether something must be fixed first (credentials, organisation, request).
    `api_answered` is False when the answer was not the API's own (a 404 page of another
    server: the base URL is wrong), so callers do not read it as "this object does not exist".
    """

    def __init__(
        self,
        vendor: str,
        endpoint: str,
        detail: str,
        *,
        status: int | None = None,
        body: str = "",
        retryable: bool = False,
        api_answered: bool = True,
    ) -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        self.status = status
        self.retryable = retryable
        self.api_answered = api_answered
        self.body = redact(body)  # for callers that explain a vendor's documented error bodies
        status_part = f"HTTP {status}" if status is not None else "no response"
        message = f"{vendor} API {endpoint}: {status_part}: {detail}"
        excerpt = _excerpt(body)
        if excerpt:
            message += f" (response: {excerpt})"
        super().__init__(message)


class VendorAuthError(VendorAPIError):
    """The vendor rejected the credentials or the account they point at."""


class VendorPayloadError(SourceError):
    """The vendor answered 2xx with a body jobpulse cannot use; nothing from it was loaded."""

    def __init__(self, vendor: str, endpoint: str, problem: str, body: str = "") -> None:
        self.vendor = vendor
        self.endpoint = endpoint
        message = f"{vendor} API {endpoint}: unexpected response: {problem}"
        excerpt = _excerpt(body)
        if excerpt:
            message += f" (response: {excerpt})"
        super().__init__(message)


def _excerpt(body: str) -> str:
    """A short single-line excerpt of a response body, redacted."""
    flat = " ".join(redact(body).split())
    if len(flat) > _BODY_EXCERPT_CHARS:
        flat = flat[:_BODY_EXCERPT_CHARS] + "…"
    return flat


# The dlt resource metric (a list of messages) under which a source reports items it could not
# load while the rest of its load goes on; the pipeline's summary names them and fails the command.
ITEM_ERRORS_METRIC = "item_errors"
