"""The sandbox's event-specification catalogue and endpoints: documented shapes, clock moves."""

from __future__ import annotations

from collections.abc import Iterator

import pendulum
import pytest
import requests
import time_machine

from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from jobpulse.sources.snowplow.sandbox_event_specs import (
    CHANGED_BY,
    DELETED_AT,
    NEW_VERSION_AT,
    SEARCH_SCHEMA,
    SETTLED_AT,
    STRUCTURE_BUMP_AT,
    SpecView,
    at_hours,
    catalogue,
)
from tests.conftest import FIXED_NOW
from tests.snowplow.event_spec_fixtures import documented

SETTLED = at_hours(FIXED_NOW, SETTLED_AT + 1)
CHANGED = at_hours(FIXED_NOW, CHANGED_BY)


def _by_name(moment: pendulum.DateTime, seed: int = 0) -> dict[str, SpecView]:
    return {view.spec["name"]: view for view in catalogue(seed, moment)}


def _codes(view: SpecView) -> list[str]:
    return [error["code"] for error in view.errors]


def test_catalogue_has_specs_in_every_status() -> None:
    statuses = {view.spec["status"] for view in catalogue(0, SETTLED)}
    assert statuses == {"draft", "published", "deprecated"}


def test_findings_of_both_codes_all_warnings_and_a_compatible_spec_with_none() -> None:
    specs = _by_name(SETTLED)
    assert _codes(specs["Page ping"]) == ["SchemaUndecidable"]
    # Incompatible with its current and its latest data-structure version: two entries.
    checkout = specs["Checkout"].errors
    assert [e["code"] for e in checkout] == ["SchemaIncompatible"] * 2
    assert checkout[0]["title"] != checkout[1]["title"]
    assert specs["Search"].errors == []
    assert (
        specs["Search"].spec["event"]["schema"] == SEARCH_SCHEMA == documented()["event"]["schema"]
    )
    assert {e["type"] for view in specs.values() for e in view.errors} == {"Warning"}
    assert {e["source"] for view in specs.values() for e in view.errors} == {"event.schema"}


def test_histories_have_several_versions_and_publishing_squashes_the_drafts_between() -> None:
    before, after = _by_name(SETTLED)["Add to cart"], _by_name(CHANGED)["Add to cart"]
    assert [(e["version"], e["status"]) for e in before.history] == [
        (0, "draft"),
        (3, "published"),
        (4, "draft"),
    ]
    assert [(e["version"], e["status"]) for e in after.history] == [
        (0, "draft"),
        (3, "published"),
        (5, "published"),
    ]
    assert before.history[:2] == after.history[:2], "kept entries do not change"
    assert (after.spec["version"], after.spec["status"]) == (5, "published")


def test_as_the_clock_advances_a_spec_is_deleted_and_a_warning_comes_and_goes() -> None:
    before, after = _by_name(SETTLED), _by_name(CHANGED)
    assert SETTLED_AT < NEW_VERSION_AT < DELETED_AT < STRUCTURE_BUMP_AT < CHANGED_BY
    assert "Promo banner" in before
    assert "Promo banner" not in after
    # The data structure gets a new version: a warning on a spec that did not change.
    assert before["Link click"].errors == []
    assert _codes(after["Link click"]) == ["SchemaIncompatible"]
    assert after["Link click"].history == before["Link click"].history
    # A new version fixes "Add to cart"'s incompatibility with the latest data structure.
    assert _codes(before["Add to cart"]) == ["SchemaIncompatible"]
    assert after["Add to cart"].errors == []


def test_catalogue_is_a_function_of_seed_and_time() -> None:
    assert catalogue(0, SETTLED) == catalogue(0, SETTLED)
    assert {v.spec["id"] for v in catalogue(0, SETTLED)}.isdisjoint(
        {v.spec["id"] for v in catalogue(1, SETTLED)}
    )


@pytest.fixture
def sandbox() -> Iterator[SnowplowSandbox]:
    with time_machine.travel(SETTLED, tick=False), SnowplowSandbox() as started:
        yield started


def _get(sandbox: SnowplowSandbox, path: str = "", **params: str) -> requests.Response:
    settings = sandbox.source_settings()
    org = settings["organization_id"]
    token = requests.get(
        f"{sandbox.base_url}/api/msc/v1/organizations/{org}/credentials/v3/token",
        headers={"X-API-Key": settings["api_key"], "X-API-Key-ID": settings["api_key_id"]},
        timeout=5,
    ).json()["accessToken"]
    return requests.get(
        f"{sandbox.base_url}/api/msc/v1/organizations/{org}/event-specs/v1{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_list_attaches_each_specs_latest_change_only_when_asked(sandbox: SnowplowSandbox) -> None:
    plain = _get(sandbox).json()
    assert plain["includes"] == []
    assert plain["errors"] == []
    listed = _get(sandbox, withLatestHistory="true").json()
    truth = sandbox.event_spec_catalogue()
    assert listed["data"] == [view.spec for view in truth]
    assert listed["includes"] == [view.history[-1] for view in truth]


@pytest.mark.parametrize("name", ["dataProductId", "sourceId", "status"])
def test_list_filters(sandbox: SnowplowSandbox, name: str) -> None:
    truth = sandbox.event_spec_catalogue()
    value = {
        "dataProductId": truth[0].spec["dataProductId"],
        "sourceId": truth[0].source_id,
        "status": "published",
    }[name]
    listed = _get(sandbox, **{name: value}).json()["data"]
    assert listed
    assert len(listed) < len(truth)
    assert all(spec in [view.spec for view in truth] for spec in listed)


def test_single_read_carries_findings_and_the_whole_history_when_asked(
    sandbox: SnowplowSandbox,
) -> None:
    checkout = next(v for v in sandbox.event_spec_catalogue() if v.spec["name"] == "Checkout")
    path = f"/{checkout.spec['id']}"
    without = _get(sandbox, path).json()
    assert (without["data"], without["includes"], without["errors"]) == (
        [checkout.spec],
        [],
        checkout.errors,
    )
    assert _get(sandbox, path, withHistory="true").json()["includes"] == checkout.history


def test_unknown_spec_is_a_404_with_an_error_entry(sandbox: SnowplowSandbox) -> None:
    answer = _get(sandbox, "/no-such-spec")
    assert answer.status_code == 404
    (error,) = answer.json()["errors"]
    assert error["type"] == "Error"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_sandbox_refuses_writes(sandbox: SnowplowSandbox, method: str) -> None:
    spec_id = sandbox.event_spec_catalogue()[0].spec["id"]
    url = f"{sandbox.base_url}/api/msc/v1/organizations/{sandbox.organization_id}/event-specs/v1"
    answer = requests.request(method, f"{url}/{spec_id}", json={"spec": {}}, timeout=5)
    assert answer.status_code == 405


def test_event_spec_endpoints_need_a_token(sandbox: SnowplowSandbox) -> None:
    url = f"{sandbox.base_url}/api/msc/v1/organizations/{sandbox.organization_id}/event-specs/v1"
    assert requests.get(url, timeout=5).status_code == 401
