"""The four jobs endpoints of the Snowplow BDP API, returning plain dicts as the API sends them.

The documentation shows no JSON for runs and steps; what this client assumes, and tolerates,
is listed under "Assumptions" in this folder's README.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from dlt.common import logger

from jobpulse.sources.shared.errors import SourceConfigError, VendorAPIError, VendorPayloadError
from jobpulse.sources.shared.http import VendorClient, path_segment
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import iso_z, utc_now
from jobpulse.sources.snowplow.auth import SnowplowTokenAuth
from jobpulse.sources.snowplow.settings import (
    BASE_URL_SETTING,
    RUN_PATH,
    RUNS_PATH,
    STEP_PATH,
    STEPS_PATH,
    VENDOR,
)
from jobpulse.sources.snowplow.windows import Window, check_window

T = TypeVar("T")

# Keys under which an object may wrap the array the documentation implies.
_RUN_LIST_KEYS = ("runs", "jobRuns", "items", "data", "results")
_STEP_LIST_KEYS = ("steps", "items", "data", "results")
_RUN_OBJECT_KEYS = ("run", "jobRun", "data")
_STEP_OBJECT_KEYS = ("step", "data")
# Fields that show an object is the run or step itself rather than a wrapper around it.
_IDENTITY_KEYS = {"run": ("runId", "id"), "step": ("name", "stepName")}


class SnowplowClient:
    def __init__(
        self, base_url: str, organization_id: str, api_key: str, api_key_id: str | None = None
    ) -> None:
        if not organization_id or not organization_id.strip():
            raise SourceConfigError(VENDOR, "SOURCES__SNOWPLOW__ORGANIZATION_ID is empty")
        if not api_key:
            raise SourceConfigError(VENDOR, "SOURCES__SNOWPLOW__API_KEY is empty")
        self.organization_id = organization_id.strip()
        self.auth = SnowplowTokenAuth(
            base_url=base_url,
            organization_id=self.organization_id,
            api_key=api_key,
            api_key_id=api_key_id or None,
        )
        self._http = VendorClient(
            VENDOR, base_url, auth=self.auth, base_url_setting=BASE_URL_SETTING
        )

    def _path(self, template: str, **parts: str) -> str:
        encoded = {name: path_segment(value) for name, value in parts.items()}
        return template.format(organization_id=path_segment(self.organization_id), **encoded)

    def endpoint(self, template: str, **parts: str) -> str:
        """How errors name an endpoint: `GET /api/msc/v1/organizations/<org>/jobs/v1/runs`."""
        return self._http.describe(self._path(template, **parts))

    def get_json(self, template: str, params: dict[str, Any] | None = None, **parts: str) -> Any:
        """GET a path under the organisation: how the other Snowplow APIs share this client."""
        return self._http.get_json(self._path(template, **parts), params=params)

    def mint_token(self) -> None:
        """Exchange the API key for a token now: the cheapest proof of key and organisation."""
        self.auth.mint_token()

    def list_runs(self, window: Window) -> list[Record]:
        """Runs of the window, as listed. Refuses (ValueError) a window the API would reject."""
        check_window(window, utc_now())
        window_params = {"from": iso_z(window.start), "to": iso_z(window.end)}
        payload = self._http.get_json(self._path(RUNS_PATH), params=window_params)
        return _records(payload, _RUN_LIST_KEYS, self.endpoint(RUNS_PATH), "runs")

    def get_run(self, run_id: str) -> Record:
        """One run with its `steps`."""
        payload = self._http.get_json(self._path(RUN_PATH, run_id=run_id))
        return _record(payload, _RUN_OBJECT_KEYS, self.endpoint(RUN_PATH, run_id=run_id), "run")

    def get_steps(self, run_id: str) -> list[Record]:
        payload = self._http.get_json(self._path(STEPS_PATH, run_id=run_id))
        return _records(payload, _STEP_LIST_KEYS, self.endpoint(STEPS_PATH, run_id=run_id), "steps")

    def get_step(self, run_id: str, step_name: str) -> Record:
        """One step with its `stdout` and `stderr`."""
        parts = {"run_id": run_id, "step_name": step_name}
        payload = self._http.get_json(self._path(STEP_PATH, **parts))
        return _record(payload, _STEP_OBJECT_KEYS, self.endpoint(STEP_PATH, **parts), "step")


def none_if_missing(fetch: Callable[..., T], *ids: str) -> T | None:
    """`fetch(*ids)`, or None with a warning when the API answers 404.

    A queued run may have no steps yet, and a step's detail may lag its listing: one such
    answer should not fail the whole load. Runs in progress are fetched again next time.
    """
    try:
        return fetch(*ids)
    except VendorAPIError as exc:
        if exc.status != 404 or not exc.api_answered:
            raise
        logger.warning(f"{exc}; skipped")
        return None


def steps_of_run(run: Record, endpoint: str) -> list[Record]:
    """The `steps` embedded in a run returned by `get_run`."""
    return _records(run.get("steps") or [], _STEP_LIST_KEYS, endpoint, "steps")


def _records(payload: Any, keys: tuple[str, ...], endpoint: str, what: str) -> list[Record]:
    """A bare JSON array of objects, or an object wrapping it: under a known key, or alone.
    An empty body (or JSON null) means an empty list."""
    items = [] if payload is None else payload
    if isinstance(payload, dict):
        found = [payload[key] for key in keys if isinstance(payload.get(key), list)]
        lists = [value for value in payload.values() if isinstance(value, list)]
        items = found[0] if found else (lists[0] if len(lists) == 1 else None)
    if not isinstance(items, list):
        raise VendorPayloadError(
            VENDOR, endpoint, f"expected a JSON array of {what}", _preview(payload)
        )
    if not all(isinstance(item, dict) for item in items):
        raise VendorPayloadError(
            VENDOR, endpoint, f"the {what} array holds non-objects", _preview(payload)
        )
    return items


def _record(payload: Any, keys: tuple[str, ...], endpoint: str, what: str) -> Record:
    """A JSON object, or an object wrapping it under a known key; fields beside the wrapped
    object (say `stdout` next to `step`) are kept, the wrapped object's own fields win."""
    if isinstance(payload, dict):
        if any(key in payload for key in _IDENTITY_KEYS[what]):
            return payload
        for key in keys:
            if isinstance(payload.get(key), dict):
                beside = {name: value for name, value in payload.items() if name != key}
                return {**beside, **payload[key]}
        return payload
    raise VendorPayloadError(
        VENDOR, endpoint, f"expected a JSON object for the {what}", _preview(payload)
    )


def _preview(payload: Any) -> str:
    return json.dumps(payload, default=str)[:500]
