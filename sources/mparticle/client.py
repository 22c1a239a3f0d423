"""The mParticle Warehouse Sync endpoints jobpulse reads (and the one trigger it can send),
returning plain dicts as the API sends them.

Base path: `{base_url}/{api_path}/workspaces/{workspace_id}/inputs/warehouse`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pendulum

from jobpulse.sources.mparticle.auth import MparticleTokenAuth, TokenRefused, shared_auth
from jobpulse.sources.mparticle.paging import SIZE_PARAM, ShortPagePaginator
from jobpulse.sources.mparticle.records import without_credentials
from jobpulse.sources.mparticle.settings import (
    API_PATHS,
    CONNECTIONS_PATH,
    DATA_MODELS_PATH,
    MAX_PAGE_SIZE,
    PIPELINE_PATH,
    PIPELINES_PATH,
    RUN_PATH,
    RUNS_PATH,
    STATUS_PATH,
    VENDOR,
)
from jobpulse.sources.shared.errors import (
    SourceConfigError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.shared.http import VendorClient, path_segment
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import iso_z

# Keys under which an object may wrap the array the document shows bare.
_LIST_KEYS = ("items", "data", "results", "connections", "data_models", "pipelines")
_WAREHOUSE_UNREACHABLE = 505


class MparticleClient:
    def __init__(
        self,
        *,
        base_url: str,
        token_url: str,
        workspace_id: str,
        client_id: str,
        client_secret: str,
        api_path: str,
    ) -> None:
        self.workspace_id = str(workspace_id or "").strip()
        self.api_path = str(api_path or "").strip().strip("/")
        if not self.workspace_id:
            raise SourceConfigError(VENDOR, "SOURCES__MPARTICLE__WORKSPACE_ID is empty")
        if not client_id or not client_secret:
            raise SourceConfigError(
                VENDOR, "SOURCES__MPARTICLE__CLIENT_ID and CLIENT_SECRET must both be set"
            )
        if self.api_path not in API_PATHS:
            raise SourceConfigError(
                VENDOR,
                f"SOURCES__MPARTICLE__API_PATH must be one of {', '.join(API_PATHS)}; "
                f"got {api_path!r}",
            )
        self.auth: MparticleTokenAuth = shared_auth(token_url, client_id, client_secret)
        self._http = VendorClient(
            VENDOR, base_url, auth=self.auth, base_url_setting="SOURCES__MPARTICLE__BASE_URL"
        )

    # paths

    def _path(self, template: str, **parts: str | int) -> str:
        encoded = {name: path_segment(str(value)) for name, value in parts.items()}
        return template.format(
            api_path=self.api_path, workspace_id=path_segment(self.workspace_id), **encoded
        )

    def endpoint(self, template: str, method: str = "GET", **parts: str | int) -> str:
        """How errors name an endpoint: `GET /platform/v1/workspaces/1/inputs/warehouse/...`."""
        return self._http.describe(self._path(template, **parts), method=method)

    # endpoints

    def list_connections(self) -> list[Record]:
        return self._list(CONNECTIONS_PATH, "connections")

    def list_data_models(self) -> list[Record]:
        return self._list(DATA_MODELS_PATH, "data models")

    def list_pipelines(self) -> list[Record]:
        pipelines = self._list(PIPELINES_PATH, "pipelines")
        endpoint = self.endpoint(PIPELINES_PATH)
        for pipeline in pipelines:
            if pipeline.get("id") in (None, ""):
                raise VendorPayloadError(
                    VENDOR, endpoint, "a pipeline has no id", str(without_credentials(pipeline))
                )
            pipeline["id"] = str(pipeline["id"])
        return pipelines

    def get_status(self, pipeline_id: str) -> Record:
        return self._object(STATUS_PATH, "pipeline status", pipeline_id)

    def list_runs(
        self, pipeline_id: str, start_date: pendulum.DateTime | None, page_size: int
    ) -> Iterator[list[Record]]:
        """Pages of a pipeline's runs whose `logical_date` is at or after `start_date`."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise SourceConfigError(VENDOR, f"page_size must be 1 to {MAX_PAGE_SIZE}")
        path = self._path(RUNS_PATH, pipeline_id=pipeline_id)
        params: dict[str, Any] = {SIZE_PARAM: page_size}
        if start_date is not None:
            params["startDate"] = iso_z(start_date)
        endpoint = self.endpoint(RUNS_PATH, pipeline_id=pipeline_id)
        first_page = 0
        while True:
            paginator = ShortPagePaginator(page_size, first_page=first_page)
            try:
                with self._pipeline_errors(pipeline_id):
                    for page in self._http.paginate_json(path, paginator, params=params):
                        yield _objects(page, endpoint, "runs")
                return
            except VendorAPIError as exc:
                # An API counting pages from 1 may refuse page 0: start again from page 1.
                if exc.status == 400 and first_page == 0 and paginator.current_value == 0:
                    first_page = 1
                    continue
                raise

    def get_run(self, pipeline_id: str, run_id: int | str) -> Record:
        return self._object(RUN_PATH, "run", pipeline_id, run_id)

    def trigger(self, pipeline_id: str) -> Record:
        """`POST pipelines/{id}` with no body: a new run. 400 while the pipeline is not idle."""
        path = self._path(PIPELINE_PATH, pipeline_id=pipeline_id)
        with self._pipeline_errors(pipeline_id):
            payload = self._http.post_json(path)
        if not isinstance(payload, dict):
            endpoint = self.endpoint(PIPELINE_PATH, "POST", pipeline_id=pipeline_id)
            raise VendorPayloadError(VENDOR, endpoint, "expected a JSON object", str(payload))
        return payload

    # helpers

    def _list(self, template: str, what: str) -> list[Record]:
        with self._pipeline_errors(None):
            payload = self._http.get_json(self._path(template))
        return _objects(payload, self.endpoint(template), what)

    def _object(
        self, template: str, what: str, pipeline_id: str, run_id: int | str | None = None
    ) -> Record:
        parts: dict[str, str | int] = {"pipeline_id": pipeline_id}
        if run_id is not None:
            parts["run_id"] = run_id
        with self._pipeline_errors(pipeline_id):
            payload = self._http.get_json(self._path(template, **parts))
        if not isinstance(payload, dict):
            raise VendorPayloadError(
                VENDOR,
                self._http.describe(self._path(template, **parts)),
                f"expected a JSON object for the {what}",
                str(without_credentials(payload))[:300],
            )
        return payload

    def _pipeline_errors(self, pipeline_id: str | None) -> _ExplainErrors:
        return _ExplainErrors(self, pipeline_id)


class _ExplainErrors:
    """Re-raises the API's errors in the user's terms: which setting or which pipeline."""

    def __init__(self, client: MparticleClient, pipeline_id: str | None) -> None:
        self.client = client
        self.pipeline_id = pipeline_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> None:
        if not isinstance(exc, VendorAPIError) or isinstance(exc, TokenRefused):
            return  # the token URL's refusal already names the settings to fix
        if exc.status == _WAREHOUSE_UNREACHABLE:
            subject = f"pipeline {self.pipeline_id!r}" if self.pipeline_id else "the workspace"
            raise VendorAPIError(
                VENDOR,
                exc.endpoint,
                f"{subject}: mParticle could not connect to the warehouse; check the "
                "connection's user, password, source account id, region, warehouse and database",
                status=exc.status,
            ) from None
        if exc.status == 404 and self.pipeline_id is None:
            raise VendorAPIError(
                VENDOR,
                exc.endpoint,
                f"workspace {self.client.workspace_id} has no Warehouse Sync at "
                f"{self.client.api_path}; check SOURCES__MPARTICLE__WORKSPACE_ID and API_PATH",
                status=404,
            ) from None
        if isinstance(exc, VendorAuthError) and exc.status in (401, 403):
            raise VendorAuthError(
                VENDOR,
                exc.endpoint,
                "access token refused; check that the API client of SOURCES__MPARTICLE__CLIENT_ID "
                f"may use Warehouse Sync in workspace {self.client.workspace_id} "
                "(SOURCES__MPARTICLE__WORKSPACE_ID)",
                status=exc.status,
            ) from None


def _objects(payload: Any, endpoint: str, what: str) -> list[Record]:
    """A JSON array of objects, bare or wrapped in an object; an empty body is an empty list."""
    items = [] if payload is None else payload
    if isinstance(payload, dict):
        found = [payload[key] for key in _LIST_KEYS if isinstance(payload.get(key), list)]
        lists = [value for value in payload.values() if isinstance(value, list)]
        items = found[0] if found else (lists[0] if len(lists) == 1 else None)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        preview = str(without_credentials(payload))[:300]
        raise VendorPayloadError(VENDOR, endpoint, f"expected a JSON array of {what}", preview)
    return items
