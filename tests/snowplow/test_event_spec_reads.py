"""Which single-spec calls a load plans, from the list call's answer and the stored state."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from jobpulse.sources.snowplow.event_spec_reads import (
    SPECS_KEY,
    DeletedSpecs,
    SpecWork,
    plan_reads,
)
from jobpulse.sources.snowplow.event_spec_records import Envelope

NOW = pendulum.datetime(2026, 3, 2, 12, 0, 0)
STORED_CHANGE = "2026-03-01T10:00:00+00:00"


def _listing(*changes: tuple[str, str | None]) -> Envelope:
    """Specs `id` with their latest change dated `date` (None: no change listed)."""
    specs = [{"id": spec_id, "name": spec_id.upper()} for spec_id, _ in changes]
    history = [
        {"eventSpecId": spec_id, "date": date, "version": 1, "type": "History"}
        for spec_id, date in changes
        if date is not None
    ]
    return Envelope(specs, history, [])


def _plan(
    listing: Envelope,
    state: dict[str, Any],
    *,
    check: bool,
    filters: dict[str, str] | None = None,
) -> tuple[dict[str, SpecWork], list[DeletedSpecs]]:
    items = list(plan_reads(listing, state, filters or {}, check, NOW, "list"))
    works = {item.spec_id: item for item in items if isinstance(item, SpecWork)}
    return works, [item for item in items if isinstance(item, DeletedSpecs)]


@pytest.mark.parametrize(
    ("listed_change", "stored", "needs_history"),
    [
        ("2026-03-01T10:00:00Z", None, True),  # never stored
        ("2026-03-01T10:00:00Z", "", True),  # listed before, history never stored
        ("2026-03-01T10:00:00Z", STORED_CHANGE, False),  # the stored change
        ("2026-03-01T11:00:00+01:00", STORED_CHANGE, False),  # the same instant
        ("2026-03-01T10:00:00.000001Z", STORED_CHANGE, True),  # newer by a microsecond
        ("2026-02-01T10:00:00Z", STORED_CHANGE, False),  # older: nothing newer to fetch
        (None, STORED_CHANGE, False),  # no change listed: nothing says it changed
    ],
)
@pytest.mark.parametrize("check", [True, False], ids=["check", "no-check"])
def test_history_is_fetched_only_when_the_latest_change_is_newer_than_stored(
    listed_change: str | None, stored: str | None, needs_history: bool, check: bool
) -> None:
    state: dict[str, Any] = {SPECS_KEY: {} if stored is None else {"a": stored}}
    works, _ = _plan(_listing(("a", listed_change)), state, check=check)
    work = works["a"]
    assert work.with_history is needs_history
    # One call for the spec when checking (carrying the history if needed), else only for it.
    assert work.fetch is (check or needs_history)


def test_specs_gone_from_the_list_are_deleted_and_forgotten() -> None:
    state: dict[str, Any] = {SPECS_KEY: {"a": STORED_CHANGE, "b": STORED_CHANGE}}
    _plan(_listing(("a", None), ("b", None)), state, check=False)
    works, deleted = _plan(_listing(("a", None)), state, check=False)
    assert list(works) == ["a"]
    assert deleted == [DeletedSpecs(("b",), NOW)]
    assert state[SPECS_KEY] == {"a": STORED_CHANGE}
    _, deleted_again = _plan(_listing(("a", None)), state, check=False)
    assert deleted_again == []


def test_a_filter_change_forgets_specs_outside_it_without_calling_them_deleted() -> None:
    state: dict[str, Any] = {}
    _plan(_listing(("a", None), ("b", None)), state, check=False)
    works, deleted = _plan(_listing(("a", None)), state, check=False, filters={"status": "draft"})
    assert list(works) == ["a"]
    assert deleted == []
    assert list(state[SPECS_KEY]) == ["a"]


def test_new_specs_are_remembered_with_no_stored_history_yet() -> None:
    state: dict[str, Any] = {}
    _plan(_listing(("a", "2026-03-01T10:00:00Z")), state, check=False)
    assert state[SPECS_KEY] == {"a": ""}


@pytest.mark.parametrize(("filters", "confirm"), [({}, False), ({"status": "draft"}, True)])
def test_specs_gone_from_a_filtered_list_are_confirmed_before_being_called_deleted(
    filters: dict[str, str], confirm: bool
) -> None:
    state: dict[str, Any] = {}
    _plan(_listing(("a", None), ("b", None)), state, check=False, filters=filters)
    _, deleted = _plan(_listing(("a", None)), state, check=False, filters=filters)
    assert deleted == [DeletedSpecs(("b",), NOW, confirm=confirm)]
