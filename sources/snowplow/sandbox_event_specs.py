"""Event-specification endpoints of the Snowplow sandbox (`snowplow-event-specifications-api.txt`).

The catalogue is a pure function of ``(seed, now)``. Time runs in epoch-aligned cycles of
``CYCLE`` (7 days); every cycle holds a fresh catalogue (ids derived from seed and cycle), whose
changes happen at fixed hours into the cycle (``SPECS``). The API's view at ``now``:

- a spec exists from its first change until it is deleted (``deleted_at``);
- its version and status are those of its latest change; publishing discards the versions
  between the previous published one (or the first) and the new one, as the API documents;
- its compatibility findings (``errors`` of the single-spec read only) compare its event schema
  with the current version of its data structure (``event.source``) and with the latest one
  available at ``now``: a new data-structure version can raise a warning on an unchanged spec.

Only GET is routed: jobpulse reads, and the sandbox refuses writes (405).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pendulum
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from jobpulse.sources.shared.sandbox import RecordedRequest, SandboxClock

CYCLE = pendulum.duration(days=7)
_EPOCH = pendulum.datetime(1970, 1, 1)
_PATH = "/api/msc/v1/organizations/<organization_id>/event-specs/v1"
_NAMESPACE = uuid.UUID("9b4a3c1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d")

EVENT_SPEC_RULES = [
    Rule(_PATH, endpoint="event_specs", methods=["GET"]),
    Rule(f"{_PATH}/<event_spec_id>", endpoint="event_spec", methods=["GET"]),
]

# The documentation's example event schema (the "Search" spec below uses it as is).
SEARCH_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "description": "Event to capture search submit",
    "type": "object",
    "required": ["label", "action"],
    "properties": {
        "action": {"type": "string", "enum": ["click"]},
        "label": {"type": "string", "enum": ["Search"]},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class DataStructure:
    vendor: str
    name: str
    versions: tuple[tuple[float, str], ...]  # (hours into the cycle it appears, version)

    def uri(self, version: str) -> str:
        return f"iglu:{self.vendor}/{self.name}/jsonschema/{version}"

    def latest(self, hours: float) -> str:
        return [version for at, version in self.versions if at <= hours][-1]


@dataclass(frozen=True)
class Change:
    """One history entry: at `at` hours into the cycle the spec got `version` and `status`;
    its event schema is compatible with the data-structure versions in `compatible`."""

    at: float
    version: int
    status: str
    message: str
    compatible: tuple[str, ...] = ("1-0-0",)
    properties: tuple[str, ...] = ("label",)


@dataclass(frozen=True)
class SpecPlan:
    key: str
    name: str
    description: str
    structure: DataStructure
    data_product: str
    changes: tuple[Change, ...]
    has_schema: bool = True
    undecidable: bool = False
    deleted_at: float | None = None


def _ds(name: str, *versions: tuple[float, str]) -> DataStructure:
    return DataStructure("com.example", name, ((0.0, "1-0-0"), *versions))


_SHOP, _SITE = "shop", "site"

# Hours into the cycle at which the catalogue changes after it has settled (tests start before).
SETTLED_AT = 100.0
NEW_VERSION_AT = 115.0  # "Add to cart" v5 published: v4 discarded, its warning gone
DELETED_AT = 118.0  # "Promo banner" deleted
STRUCTURE_BUMP_AT = 120.0  # link_click 1-0-1: "Link click" becomes incompatible with the latest
CHANGED_BY = 121.0

SPECS: tuple[SpecPlan, ...] = (
    SpecPlan(
        "search", "Search", "Tracking the use of the search box",
        DataStructure("com.example", "ui_actions", ((0.0, "1-0-0"),)), _SITE,
        (Change(1, 0, "draft", "initial draft"),),
    ),
    SpecPlan(
        "add_to_cart", "Add to cart", "A product added to the basket",
        _ds("add_to_cart", (20.0, "1-0-1")), _SHOP,
        (
            Change(2, 0, "draft", "initial draft"),
            Change(3, 1, "draft", "add sku", properties=("label", "sku")),
            Change(4, 2, "draft", "rename label", properties=("name", "sku")),
            Change(5, 3, "published", "ready to implement", properties=("name", "sku")),
            Change(30, 4, "draft", "add quantity", properties=("name", "sku", "quantity")),
            Change(
                NEW_VERSION_AT, 5, "published", "quantity from 1-0-1",
                compatible=("1-0-0", "1-0-1"), properties=("name", "sku", "quantity"),
            ),
        ),
    ),
    SpecPlan(
        "checkout", "Checkout", "The checkout form submitted",
        _ds("checkout", (10.0, "1-0-1"), (40.0, "1-0-2")), _SHOP,
        (
            Change(6, 0, "draft", "initial draft", compatible=()),
            Change(7, 1, "published", "publish", compatible=()),
            Change(50, 2, "deprecated", "replaced by the new checkout", compatible=()),
        ),
    ),
    SpecPlan(
        "page_ping", "Page ping", "Activity tracking heartbeat",
        _ds("page_ping"), _SITE, (Change(8, 0, "published", "initial version"),),
        undecidable=True,
    ),
    SpecPlan(
        "link_click", "Link click", "A link followed",
        _ds("link_click", (STRUCTURE_BUMP_AT, "1-0-1")), _SITE,
        (Change(9, 0, "draft", "initial draft"), Change(12, 1, "published", "publish")),
    ),
    SpecPlan(
        "promo_banner", "Promo banner", "The spring promotion banner shown",
        _ds("banner", (0.5, "1-0-1")), _SHOP,
        (Change(11, 0, "published", "initial version"),),
        deleted_at=DELETED_AT,
    ),
    SpecPlan(
        "video_play", "Video play", "A video started (schema still to be written)",
        _ds("video_play"), _SITE, (Change(13, 0, "draft", "initial draft"),),
        has_schema=False,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class SpecView:
    """One spec as the API shows it at some instant."""

    spec: dict[str, Any]
    history: list[dict[str, Any]]  # squashed, oldest first
    errors: list[dict[str, Any]]
    source_id: str


def cycle_start(now: pendulum.DateTime) -> pendulum.DateTime:
    cycles = (now - _EPOCH).total_seconds() // CYCLE.total_seconds()
    return _EPOCH + pendulum.duration(seconds=cycles * CYCLE.total_seconds())


def at_hours(now: pendulum.DateTime, hours: float) -> pendulum.DateTime:
    """The instant `hours` into the cycle that holds `now`."""
    return cycle_start(now) + pendulum.duration(seconds=hours * 3600)


def catalogue(seed: int, now: pendulum.DateTime) -> list[SpecView]:
    """Every spec that exists at `now`, as the API shows it."""
    start = cycle_start(now)
    hours = (now - start).total_seconds() / 3600
    cycle = int((start - _EPOCH).total_seconds() // CYCLE.total_seconds())
    return [
        _view(plan, seed, cycle, start, hours)
        for plan in SPECS
        if plan.changes[0].at <= hours and (plan.deleted_at is None or hours < plan.deleted_at)
    ]


def _uuid(seed: int, *parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(map(str, (seed, *parts)))))


def _view(
    plan: SpecPlan, seed: int, cycle: int, start: pendulum.DateTime, hours: float
) -> SpecView:
    spec_id = _uuid(seed, cycle, plan.key)
    changes = _squashed([change for change in plan.changes if change.at <= hours])
    current = changes[-1]
    history = [
        {
            "author": _uuid(seed, "author", _rng(seed, cycle, plan, change).randrange(3)),
            "message": change.message,
            "date": _date(start, change.at, _rng(seed, cycle, plan, change)),
            "eventSpecId": spec_id,
            "version": change.version,
            "status": change.status,
            "type": "History",
        }
        for change in changes
    ]
    event: dict[str, Any] = {"source": plan.structure.uri("1-0-0")}
    if plan.has_schema:
        event["schema"] = _schema(plan, current)
    spec = {
        "id": spec_id,
        "version": current.version,
        "status": current.status,
        "name": plan.name,
        "description": plan.description,
        "dataProductId": _uuid(seed, "data-product", plan.data_product),
        "event": event,
        "entities": {
            "tracked": [{"source": "iglu:com.example/user/jsonschema/1-0-0", "minCardinality": 1}],
            "enriched": [],
        },
    }
    errors = _findings(plan, current, spec_id, hours) if plan.has_schema else []
    return SpecView(spec, history, errors, _uuid(seed, "data-structure", plan.structure.name))


def _rng(seed: int, cycle: int, plan: SpecPlan, change: Change) -> random.Random:
    """One change's own randomness: the same whichever other changes the API still shows."""
    return random.Random(f"{seed}:{cycle}:{plan.key}:{change.version}")


def _squashed(changes: list[Change]) -> list[Change]:
    """Publishing discards the versions between the previous published one (or the first
    version) and the new one."""
    kept: list[Change] = []
    for change in changes:
        if change.status == "published":
            anchor = max((i for i, c in enumerate(kept) if c.status == "published"), default=0)
            kept = kept[: anchor + 1]
        kept.append(change)
    return kept


def _date(start: pendulum.DateTime, hours: float, rng: random.Random) -> str:
    moment = start + pendulum.duration(seconds=hours * 3600, microseconds=rng.randrange(10**6))
    return moment.format("YYYY-MM-DDTHH:mm:ss.SSSSSS") + "Z"


def _schema(plan: SpecPlan, change: Change) -> dict[str, Any]:
    if plan.key == "search":
        return SEARCH_SCHEMA
    properties: dict[str, Any] = {name: {"type": "string"} for name in change.properties}
    if plan.undecidable:
        properties = {"patternProperties": {"^x_": {"not": {"type": "null"}}}}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "description": plan.description,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _findings(plan: SpecPlan, change: Change, spec_id: str, hours: float) -> list[dict[str, Any]]:
    """Checked against the current version ("1-0-0") and the latest; a fetch reports both as
    warnings, as the documentation says; one finding when they are the same version."""
    versions = list(dict.fromkeys(["1-0-0", plan.structure.latest(hours)]))
    findings = []
    for version in versions:
        if plan.undecidable:
            code, verdict = "SchemaUndecidable", "UNDECIDABLE"
        elif version not in change.compatible:
            code, verdict = "SchemaIncompatible", "INCOMPATIBLE"
        else:
            continue
        findings.append(
            {
                "type": "Warning",
                "code": code,
                "title": f"Event specification with id: {spec_id}, event schema is {verdict} "
                f"with schema with name: {plan.structure.name}, vendor: "
                f"{plan.structure.vendor}, version: {version}",
                "source": "event.schema",
            }
        )
    return findings


def envelope(
    data: Sequence[dict[str, Any]],
    includes: Sequence[dict[str, Any]] = (),
    errors: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {"data": list(data), "includes": list(includes), "errors": list(errors)}


class EventSpecEndpoints:
    """The `on_<endpoint>` handlers of `EVENT_SPEC_RULES`, mixed into the Snowplow sandbox, which
    provides the clock, the seed, the request log and `_authorized`."""

    clock: SandboxClock
    seed: int
    requests: list[RecordedRequest]

    def _authorized(self, request: Request, organization_id: str) -> pendulum.DateTime:
        """The host sandbox's check of organisation and bearer token; returns its "now"."""
        raise NotImplementedError

    @property
    def event_spec_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if "/event-specs/" in r.path]

    def event_spec_catalogue(self) -> list[SpecView]:
        """The truth, for tests: every spec as the API shows it now."""
        return catalogue(self.seed, self.clock.now())

    def on_event_specs(self, request: Request, organization_id: str) -> Any:
        now = self._authorized(request, organization_id)
        query = request.args
        views = [view for view in catalogue(self.seed, now) if _matches(view, query)]
        includes = []
        if query.get("withLatestHistory", "").lower() == "true":
            includes = [view.history[-1] for view in views]
        return envelope([view.spec for view in views], includes)

    def on_event_spec(self, request: Request, organization_id: str, event_spec_id: str) -> Any:
        now = self._authorized(request, organization_id)
        found = [v for v in catalogue(self.seed, now) if v.spec["id"] == event_spec_id]
        status = request.args.get("status")
        if not found or (status is not None and found[0].spec["status"] != status):
            return _not_found(f"event specification {event_spec_id} not found")
        view = found[0]
        with_history = request.args.get("withHistory", "").lower() == "true"
        return envelope([view.spec], view.history if with_history else [], view.errors)


def _matches(view: SpecView, query: Any) -> bool:
    wanted = {
        "dataProductId": view.spec["dataProductId"],
        "sourceId": view.source_id,
        "status": view.spec["status"],
    }
    return all(query.get(name) in (None, value) for name, value in wanted.items())


def _not_found(title: str) -> Response:
    body = envelope([], [], [{"type": "Error", "code": "NotFound", "title": title}])
    return Response(json.dumps(body), status=404, mimetype="application/json")
