"""The documented Tailer API actions, one method each, returning plain dicts as sent.

Every call is a POST of a JSON body naming an `action` and the full identity of the data
operation. The JWT goes in `Authorization: Bearer`; it is registered as a secret when read.
"""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from jobpulse.sources.shared.errors import SourceConfigError, VendorAuthError, VendorPayloadError
from jobpulse.sources.shared.http import VendorClient
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.redaction import register_secret
from jobpulse.sources.tailer.identity import Operation
from jobpulse.sources.tailer.settings import (
    BASE_URL_SETTING,
    CHECK_RUN_STATUS,
    CONFIGURATION_STATUS_PATH,
    GET_LAST_STATUS,
    JWT_ADVICE,
    LAUNCH_JOB,
    LAUNCH_PATH,
    MAX_LIMIT,
    RESET_WORKFLOW_STATUS,
    SET_CONFIGURATION_STATUS,
    STATUS_PATH,
    VENDOR,
    WORKFLOW_STATUS_PATH,
)


class TailerClient:
    def __init__(self, base_url: str, jwt: str) -> None:
        if not jwt or not str(jwt).strip():
            raise SourceConfigError(
                VENDOR, "SOURCES__TAILER__JWT is empty; get one with `tailer auth get-token`"
            )
        jwt = str(jwt).strip()
        register_secret(jwt)
        auth = BearerTokenAuth(token=jwt)
        self._http = VendorClient(VENDOR, base_url, auth=auth, base_url_setting=BASE_URL_SETTING)
        # Launching is not safe to repeat: a retried timeout could start the job twice.
        self._http_once = VendorClient(
            VENDOR, base_url, auth=auth, base_url_setting=BASE_URL_SETTING, retry=False
        )

    def endpoint(self, path: str, action: str) -> str:
        """How messages name a call: `POST /v1/dag/status (get_last_status)`."""
        return f"{self._http.describe(path, method='POST')} ({action})"

    def _post(self, path: str, action: str, body: Record, *, once: bool = False) -> Any:
        http = self._http_once if once else self._http
        try:
            return http.post_json(path, {"action": action, **body})
        except VendorAuthError as exc:
            raise VendorAuthError(
                VENDOR, self.endpoint(path, action), JWT_ADVICE, status=exc.status
            ) from None

    def get_last_status(
        self,
        operation: Operation,
        *,
        limit: int,
        execution_date: str | None = None,
        status: str | None = None,
    ) -> list[Record]:
        """The latest `limit` runs of the operation (of one UTC day with `execution_date`)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1 to {MAX_LIMIT}, got {limit}")
        body: Record = {**operation.body(), "limit": limit}
        if execution_date is not None:
            body["execution_date"] = execution_date
        if status is not None:
            body["status"] = status
        payload = self._post(STATUS_PATH, GET_LAST_STATUS, body)
        return results_of(payload, self.endpoint(STATUS_PATH, GET_LAST_STATUS))

    def check_run_status(self, operation: Operation, job_id: str, run_id: str) -> list[Record]:
        """The run's current status; `job_id` exactly as the API gave it."""
        body = {**operation.body(), "job_id": job_id, "run_id": run_id}
        payload = self._post(STATUS_PATH, CHECK_RUN_STATUS, body)
        return results_of(payload, self.endpoint(STATUS_PATH, CHECK_RUN_STATUS))

    def launch_job(self, operation: Operation, execution_date: str | None = None) -> str:
        """Launch the operation once (never retried) and return its run id."""
        body: Record = operation.body()
        if execution_date is not None:
            body["execution_date"] = execution_date
        payload = self._post(LAUNCH_PATH, LAUNCH_JOB, body, once=True)
        run_id = payload.get("run_id") if isinstance(payload, dict) else None
        if not isinstance(run_id, str) or not run_id:
            raise VendorPayloadError(
                VENDOR, self.endpoint(LAUNCH_PATH, LAUNCH_JOB), "no run_id", str(payload)[:300]
            )
        return run_id

    def reset_workflow_status(self, operation: Operation) -> Any:
        payload = self._post(WORKFLOW_STATUS_PATH, RESET_WORKFLOW_STATUS, operation.body())
        return _ok(payload, self.endpoint(WORKFLOW_STATUS_PATH, RESET_WORKFLOW_STATUS))

    def set_configuration_status(
        self, operation: Operation, *, activated: bool, archived: bool
    ) -> Any:
        body = {"activated": activated, "archived": archived, **operation.body()}
        payload = self._post(CONFIGURATION_STATUS_PATH, SET_CONFIGURATION_STATUS, body)
        return _ok(payload, self.endpoint(CONFIGURATION_STATUS_PATH, SET_CONFIGURATION_STATUS))


def results_of(payload: Any, endpoint: str) -> list[Record]:
    """The `results` array of a status answer; an empty body, null or no `results` is none."""
    if payload is None:
        return []
    results = payload
    if isinstance(payload, dict):
        # A bare run instead of a wrapper, or a wrapper around a single run, is one run.
        results = [payload] if "run_id" in payload else payload.get("results")
    if isinstance(results, dict):
        results = [results]
    if results is None:
        return []
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise VendorPayloadError(
            VENDOR, endpoint, "expected `results`: a JSON array of runs", str(payload)[:300]
        )
    return results


def _ok(payload: Any, endpoint: str) -> Any:
    """The answer of a reset or status change: `{"message": "ok"}` (or code 200), else KO."""
    if isinstance(payload, dict):
        message = str(payload.get("message", "")).strip().lower()
        code = payload.get("code")
        if message == "ok" or (not message and str(code) == "200"):
            return payload
    raise VendorPayloadError(VENDOR, endpoint, "the API did not answer ok", str(payload)[:300])
