"""The one documented endpoint, `GET /api/v1/bulk_metadata/job/`, by integer id or by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from jobpulse.sources.alation.auth import API_TOKEN_SETTING, ApiTokenAuth, RefreshTokenAuth
from jobpulse.sources.alation.settings import (
    DETAIL_INVALID_TOKEN,
    DETAIL_MISSING_TOKEN,
    DOCUMENTED_FIELDS,
    JOB_PATH,
    NOT_FOUND_STATUSES,
    SETTING_PREFIX,
    VENDOR,
)
from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.ratelimit import RateLimiter
from jobpulse.sources.shared.records import Record


@dataclass(frozen=True)
class NotFound:
    """Alation's answer for a job it does not know: its HTTP status, for the warning."""

    status: int | None


class AlationClient:
    """Serial, rate-limited requests with the `TOKEN` header (configured or minted)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_token: str | None = None,
        refresh_token: str | None = None,
        user_id: int | None = None,
        requests_per_second: float,
    ) -> None:
        if not base_url or not base_url.strip():
            raise SourceConfigError(VENDOR, f"{SETTING_PREFIX}BASE_URL is empty")
        if requests_per_second <= 0:
            raise SourceConfigError(VENDOR, f"{SETTING_PREFIX}REQUESTS_PER_SECOND must be positive")
        limiter = RateLimiter(requests_per_second)
        self.auth: ApiTokenAuth | RefreshTokenAuth
        if api_token:
            self.auth = ApiTokenAuth(api_token)
        elif refresh_token and user_id is not None:
            self.auth = RefreshTokenAuth(refresh_token=refresh_token, user_id=user_id).bind(
                VendorClient(
                    VENDOR, base_url, limiter=limiter, base_url_setting=f"{SETTING_PREFIX}BASE_URL"
                )
            )
        else:
            raise SourceConfigError(
                VENDOR,
                f"set {API_TOKEN_SETTING}, or {SETTING_PREFIX}REFRESH_TOKEN and "
                f"{SETTING_PREFIX}USER_ID to mint API access tokens",
            )
        self._http = VendorClient(
            VENDOR,
            base_url,
            auth=self.auth,
            limiter=limiter,
            base_url_setting=f"{SETTING_PREFIX}BASE_URL",
        )

    def get_job(self, *, job_id: int | None = None, name: str | None = None) -> Record | NotFound:
        """The job's status object as sent, or `NotFound` when Alation does not know the job.

        The query is percent-encoded whole (`#` as `%23`, a space as `%20`, never `+`), which
        every server decodes alike.
        """
        query: dict[str, Any] = {"id": job_id} if name is None else {"name": name}
        path = f"{JOB_PATH}?{urlencode(query, quote_via=quote)}"
        try:
            payload = self._http.get_json(path)
        except VendorAuthError as exc:
            raise self._explained(exc) from None
        except VendorAPIError as exc:
            if exc.status in NOT_FOUND_STATUSES:
                return NotFound(exc.status)
            raise
        if not isinstance(payload, dict):
            raise VendorPayloadError(
                VENDOR, self._http.describe(path), "expected a JSON object", str(payload)[:500]
            )
        if not payload.keys() & DOCUMENTED_FIELDS:
            # An error object with status 200 (`{"detail": "Not found."}`): no job to store.
            return NotFound(200)
        return payload

    def _explained(self, exc: VendorAuthError) -> VendorAuthError:
        """The documented 401 bodies, and 403, in the user's terms: which setting to fix."""
        settings = self.auth.settings
        if exc.status == 403:
            detail = f"the token's user may not read job status; check {settings}"
        elif DETAIL_MISSING_TOKEN.rstrip(".") in exc.body:
            detail = (
                f"Alation received no token ({DETAIL_MISSING_TOKEN!r}); check that {settings} "
                "is set, and that no proxy strips the TOKEN header"
            )
        elif isinstance(self.auth, RefreshTokenAuth):
            detail = (
                f"the API access token minted from the refresh token was refused, also after "
                f"minting a new one ({DETAIL_INVALID_TOKEN!r}); check {settings}"
            )
        else:
            detail = (
                f"the API token was refused ({DETAIL_INVALID_TOKEN!r}); check {settings} "
                "(API tokens expire: create a new one, or use a refresh token)"
            )
        return VendorAuthError(VENDOR, exc.endpoint, detail, status=exc.status)
