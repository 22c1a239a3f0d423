"""Whole loads of the event-specifications source against the sandbox, into a real DuckDB."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pendulum
import pytest
import time_machine
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import load, print_summaries, summarize
from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.event_specs import snowplow_event_specs_source, snowplow_sources
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from jobpulse.sources.snowplow.sandbox_event_specs import CHANGED_BY, SETTLED_AT, at_hours
from tests.conftest import FIXED_NOW
from tests.snowplow.helpers import query, table_exists

HOURS_TO_CHANGES = (CHANGED_BY - SETTLED_AT - 1) * 3600


@pytest.fixture
def clock_start() -> pendulum.DateTime:
    """Before the catalogue's changes: a test's `clock.shift(HOURS_TO_CHANGES)` makes them."""
    return at_hours(FIXED_NOW, SETTLED_AT + 1)


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[SnowplowSandbox]:
    with SnowplowSandbox() as started:
        yield started


def load_specs(pipeline: Pipeline, sandbox: SnowplowSandbox, **options: Any) -> None:
    pipeline.run(snowplow_event_specs_source(**{**sandbox.source_settings(), **options}))


def _history_truth(*views: list[Any]) -> set[tuple[Any, ...]]:
    return {
        (entry["eventSpecId"], entry["version"], pendulum.parse(entry["date"]), entry["status"])
        for catalogue in views
        for view in catalogue
        for entry in view.history
    }


def _stored_history(pipeline: Pipeline) -> set[tuple[Any, ...]]:
    rows = query(
        pipeline, "select event_spec_id, version, date, status from snowplow_event_spec_history"
    )
    return {
        (spec_id, version, pendulum.instance(date), status)
        for spec_id, version, date, status in rows
    }


def test_load_advance_load_keeps_every_history_entry_the_api_ever_showed(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    first = sandbox.event_spec_catalogue()
    load_specs(pipeline, sandbox)
    assert _stored_history(pipeline) == _history_truth(first)

    clock.shift(HOURS_TO_CHANGES)
    second = sandbox.event_spec_catalogue()
    load_specs(pipeline, sandbox)

    stored = _stored_history(pipeline)
    assert stored == _history_truth(first, second)
    squashed = _history_truth(first) - _history_truth(second)
    assert squashed, "the sandbox must have discarded a version between the loads"
    assert squashed <= stored
    (duplicates,) = query(
        pipeline,
        "select count(*) - count(distinct (event_spec_id, version, date)) "
        "from snowplow_event_spec_history",
    )
    assert duplicates == (0,)


def test_specs_table_holds_every_spec_and_marks_the_deleted_one_once(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    first = {view.spec["id"]: view.spec for view in sandbox.event_spec_catalogue()}
    load_specs(pipeline, sandbox)
    clock.shift(HOURS_TO_CHANGES)
    found_gone_at = pendulum.now("UTC")
    second = {view.spec["id"]: view.spec for view in sandbox.event_spec_catalogue()}
    load_specs(pipeline, sandbox)
    clock.shift(3600)
    load_specs(pipeline, sandbox)  # a later load keeps the first sighting of the deletion

    rows = query(
        pipeline,
        "select id, name, version, status, event__source, event__schema, is_deleted, "
        "deleted_seen_at from snowplow_event_specs",
    )
    stored = {row[0]: row for row in rows}
    assert set(stored) == set(first) | set(second)
    (deleted_id,) = set(first) - set(second)
    for spec_id, spec in second.items():
        _, name, version, status, source, _, is_deleted, seen_at = stored[spec_id]
        assert (name, version, status, source) == (
            spec["name"],
            spec["version"],
            spec["status"],
            spec["event"]["source"],
        )
        assert (is_deleted, seen_at) == (False, None)
    _, name, version, status, _, schema, is_deleted, seen_at = stored[deleted_id]
    gone = first[deleted_id]
    assert (name, version, status, is_deleted) == (
        gone["name"],
        gone["version"],
        gone["status"],
        True,
    )
    assert json.loads(schema) == gone["event"]["schema"], "its other fields are kept"
    assert 0 <= (pendulum.instance(seen_at) - found_gone_at).total_seconds() < 60
    (history_kept,) = query(
        pipeline,
        f"select count(*) from snowplow_event_spec_history where event_spec_id = '{deleted_id}'",
    )
    assert history_kept[0] >= 1


def test_issues_show_findings_appearing_and_going_away_per_load(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    truths = []
    for _ in range(2):
        truths.append(sandbox.event_spec_catalogue())
        load_specs(pipeline, sandbox)
        clock.shift(HOURS_TO_CHANGES)
    rows = query(
        pipeline,
        "select observed_at, event_spec_id, type, code, title, source "
        "from snowplow_event_spec_issues order by observed_at",
    )
    loads = sorted({row[0] for row in rows})
    assert len(loads) == 2
    for observed_at, truth in zip(loads, truths, strict=True):
        seen = Counter(row[1:] for row in rows if row[0] == observed_at)
        expected = Counter(
            (view.spec["id"], e["type"], e["code"], e["title"], e["source"])
            for view in truth
            for e in view.errors
        )
        assert seen == expected
    names = {view.spec["id"]: view.spec["name"] for view in truths[0]}
    by_load = [{names.get(row[1]) for row in rows if row[0] == at} for at in loads]
    assert "Link click" in by_load[1] - by_load[0], "a warning appeared"
    assert "Add to cart" in by_load[0] - by_load[1], "a warning went away"
    assert "Search" not in by_load[0] | by_load[1], "a compatible spec has none"


def _checked_at(pipeline: Pipeline) -> dict[str, Any]:
    rows = query(
        pipeline,
        "select id, compatibility_checked_at from snowplow_event_specs where not is_deleted",
    )
    return dict(rows)


def test_specs_carry_the_latest_load_that_checked_their_compatibility_even_finding_none(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_specs(pipeline, sandbox)
    clock.shift(HOURS_TO_CHANGES)
    load_specs(pipeline, sandbox)
    first, second = sorted(
        row[0]
        for row in query(pipeline, "select distinct observed_at from snowplow_event_spec_issues")
    )
    checked = _checked_at(pipeline)
    assert set(checked.values()) == {second}, "every live spec, with findings or without"
    ids = {view.spec["name"]: view.spec["id"] for view in sandbox.event_spec_catalogue()}
    cleared = ids["Add to cart"]
    seen = query(
        pipeline,
        f"select observed_at from snowplow_event_spec_issues where event_spec_id = '{cleared}'",
    )
    assert {row[0] for row in seen} == {first}, "the second check found none: nothing appended"

    clock.shift(3600)
    load_specs(pipeline, sandbox, check_compatibility=False)
    assert _checked_at(pipeline) == checked, "not checked: taken over from the stored rows"

    clock.shift(3600)
    refused = ids["Checkout"]
    sandbox.inject(f"*/event-specs/v1/{refused}", Fault.status_code(422))
    load_specs(pipeline, sandbox)
    (fourth,) = {
        row[0] for row in query(pipeline, "select observed_at from snowplow_event_spec_issues")
    } - {first, second}
    after = _checked_at(pipeline)
    assert after.pop(refused) == second, "its read failed: the stored time is kept"
    assert set(after.values()) == {fourth}


def test_a_first_load_without_the_check_leaves_compatibility_checked_at_null_quietly(
    sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline], all_logs: list[str]
) -> None:
    pipeline = make_pipeline()
    pipeline.run([{"run_id": "r1"}], table_name="other_table")  # the dataset, without the specs
    load_specs(pipeline, sandbox, check_compatibility=False)
    assert set(_checked_at(pipeline).values()) == {None}
    assert not [line for line in all_logs if "could not read back" in line]


def _spec_reads(sandbox: SnowplowSandbox, since: int) -> list[tuple[str, dict[str, str]]]:
    return [
        (r.path.rsplit("/", 1)[1], r.query)
        for r in sandbox.event_spec_requests[since:]
        if not r.path.endswith("/event-specs/v1")
    ]


@pytest.mark.parametrize("check", [True, False], ids=["check", "no-check"])
def test_requests_of_a_first_and_a_no_change_load(
    sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline], check: bool
) -> None:
    pipeline = make_pipeline()
    live = {view.spec["id"] for view in sandbox.event_spec_catalogue()}
    load_specs(pipeline, sandbox, check_compatibility=check)
    first = _spec_reads(sandbox, 0)
    assert sorted(spec_id for spec_id, _ in first) == sorted(live), "one call per spec"
    assert all(params == {"withHistory": "true"} for _, params in first)
    before = len(sandbox.event_spec_requests)

    load_specs(pipeline, sandbox, check_compatibility=check)

    requests = sandbox.event_spec_requests[before:]
    lists = [r for r in requests if r.path.endswith("/event-specs/v1")]
    assert [r.query for r in lists] == [{"withLatestHistory": "true"}]
    reads = _spec_reads(sandbox, before)
    assert len(requests) == 1 + (len(live) if check else 0)
    assert sorted(spec_id for spec_id, _ in reads) == (sorted(live) if check else [])
    assert all(params == {} for _, params in reads), "no history asked for unchanged specs"


def test_after_the_changes_history_is_asked_only_for_the_changed_spec(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_specs(pipeline, sandbox)
    clock.shift(HOURS_TO_CHANGES)
    before = len(sandbox.event_spec_requests)
    changed = {
        view.spec["id"]: view.spec["name"]
        for view in sandbox.event_spec_catalogue()
        if view.spec["name"] == "Add to cart"
    }
    load_specs(pipeline, sandbox)
    reads = _spec_reads(sandbox, before)
    assert Counter(spec_id for spec_id, _ in reads).most_common(1)[0][1] == 1
    assert {spec_id for spec_id, params in reads if params} == set(changed)


def test_a_spec_refused_with_an_error_is_reported_and_the_rest_commits(
    sandbox: SnowplowSandbox,
    make_pipeline: Callable[..., Pipeline],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    views = sandbox.event_spec_catalogue()
    refused = next(view for view in views if view.spec["name"] == "Checkout")
    body = {
        "data": [],
        "includes": [],
        "errors": [{"type": "Error", "code": "Forbidden", "title": "spec locked by an admin"}],
    }
    sandbox.inject(
        f"*/event-specs/v1/{refused.spec['id']}", Fault.status_code(422, body=json.dumps(body))
    )
    settings = sandbox.source_settings()

    summary = load("snowplow", lambda: snowplow_event_specs_source(**settings), pipeline)
    print_summaries([summary])

    assert not summary.ok
    assert summary.error is None
    (message,) = summary.item_errors
    assert refused.spec["id"] in message
    assert "Checkout" in message
    assert "HTTP 422" in message
    assert "spec locked by an admin" in message
    out = capsys.readouterr().out
    assert "snowplow: loaded" in out
    assert "ERROR:" in out
    assert "Checkout" in out
    (specs,) = query(pipeline, "select count(*) from snowplow_event_specs")
    assert specs == (len(views),)
    refused_id = refused.spec["id"]
    refused_issues = query(
        pipeline,
        f"select count(*) from snowplow_event_spec_issues where event_spec_id = '{refused_id}'",
    )
    assert refused_issues == [(0,)]
    (others,) = query(
        pipeline, "select count(distinct event_spec_id) from snowplow_event_spec_issues"
    )
    assert others[0] >= 3

    # Its history was not read: the next load asks for it again, and then has it all.
    before = len(sandbox.event_spec_requests)
    load_specs(pipeline, sandbox)
    assert (refused.spec["id"], {"withHistory": "true"}) in _spec_reads(sandbox, before)
    assert summarize("snowplow", pipeline).ok
    assert _history_truth([refused]) <= _stored_history(pipeline)


def test_a_list_call_that_keeps_failing_fails_the_load_and_commits_nothing(
    sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline], waits: list[float]
) -> None:
    pipeline = make_pipeline()
    sandbox.inject("*/event-specs/v1", Fault.status_code(503), times=None)
    with pytest.raises(PipelineStepFailed, match="event-specs/v1"):
        load_specs(pipeline, sandbox)
    assert pipeline.list_completed_load_packages() == []
    assert "sources" not in pipeline.state, "no state advanced"


def test_with_the_check_off_no_issues_are_loaded(
    sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_specs(pipeline, sandbox, check_compatibility=False)
    assert table_exists(pipeline, "snowplow_event_specs")
    assert not table_exists(pipeline, "snowplow_event_spec_issues")


def test_filters_go_to_the_list_call(
    sandbox: SnowplowSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_specs(pipeline, sandbox, event_spec_filters={"status": "published"})
    (listing,) = [r for r in sandbox.event_spec_requests if r.path.endswith("/event-specs/v1")]
    assert listing.query == {"withLatestHistory": "true", "status": "published"}
    statuses = query(pipeline, "select distinct status from snowplow_event_specs")
    assert statuses == [("published",)]


@pytest.mark.parametrize(
    "filters", [{"dataStructureId": "x"}, {"status": "archived"}], ids=["unknown", "status"]
)
def test_invalid_filters_are_a_configuration_error(filters: dict[str, str]) -> None:
    with pytest.raises(SourceConfigError, match="event_spec_filters"):
        snowplow_event_specs_source(
            organization_id="org", api_key="key", event_spec_filters=filters
        )


def test_loads_only_read(
    sandbox: SnowplowSandbox, clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_specs(pipeline, sandbox)
    clock.shift(HOURS_TO_CHANGES)
    load_specs(pipeline, sandbox)
    assert {r.method for r in sandbox.requests} == {"GET"}


@pytest.mark.parametrize(
    ("setting", "names"), [(None, ["snowplow", "snowplow_event_specs"]), ("false", ["snowplow"])]
)
def test_snowplow_load_includes_event_specs_unless_switched_off(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, names: list[str]
) -> None:
    monkeypatch.setenv("SOURCES__SNOWPLOW__ORGANIZATION_ID", "org")
    monkeypatch.setenv("SOURCES__SNOWPLOW__API_KEY", "key")
    if setting is not None:
        monkeypatch.setenv("SOURCES__SNOWPLOW__EVENT_SPECS", setting)
    assert [source.name for source in snowplow_sources()] == names


def test_settings_come_from_the_snowplow_section_of_the_environment(
    sandbox: SnowplowSandbox,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in sandbox.source_settings().items():
        monkeypatch.setenv(f"SOURCES__SNOWPLOW__{key.upper()}", str(value))
    monkeypatch.setenv("SOURCES__SNOWPLOW__EVENT_SPEC_FILTERS", '{"status": "draft"}')
    monkeypatch.setenv("SOURCES__SNOWPLOW__CHECK_COMPATIBILITY", "false")
    pipeline = make_pipeline()
    pipeline.run(snowplow_event_specs_source())
    pipeline.run(snowplow_event_specs_source())
    lists = [r for r in sandbox.event_spec_requests if r.path.endswith("/event-specs/v1")]
    assert [r.query for r in lists] == [{"withLatestHistory": "true", "status": "draft"}] * 2
    drafts = [v for v in sandbox.event_spec_catalogue() if v.spec["status"] == "draft"]
    assert len(sandbox.event_spec_requests) == 2 + len(drafts), "no check: history reads only"


def test_single_spec_reads_run_in_parallel_within_the_worker_bound(
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXTRACT__WORKERS", "3")
    with SnowplowSandbox(latency_seconds=0.2) as sandbox:
        live = len(sandbox.event_spec_catalogue())
        assert live > 3
        load_specs(make_pipeline(), sandbox)
    assert 1 < sandbox.peak_in_flight <= 3


@pytest.mark.parametrize(
    ("status", "name", "deleted"),
    [("draft", "Add to cart", False), ("published", "Promo banner", True)],
    ids=["left-the-filter", "deleted"],
)
def test_with_filters_a_spec_gone_from_the_list_is_asked_for_before_it_is_marked(
    sandbox: SnowplowSandbox,
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    status: str,
    name: str,
    deleted: bool,
) -> None:
    pipeline = make_pipeline()
    (spec_id,) = [v.spec["id"] for v in sandbox.event_spec_catalogue() if v.spec["name"] == name]
    options: dict[str, Any] = {"event_spec_filters": {"status": status}}
    load_specs(pipeline, sandbox, check_compatibility=False, **options)
    clock.shift(HOURS_TO_CHANGES)
    before = len(sandbox.event_spec_requests)
    load_specs(pipeline, sandbox, check_compatibility=False, **options)

    assert (spec_id, {}) in _spec_reads(sandbox, before), "one read without history confirms"
    rows = query(pipeline, f"select is_deleted from snowplow_event_specs where id = '{spec_id}'")
    assert rows == [(deleted,)]
