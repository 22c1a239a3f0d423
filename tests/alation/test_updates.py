"""Which jobs a load asks for: configured ids and names, running jobs, discovery; the state."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pytest

from jobpulse.sources.alation.client import AlationClient, NotFound
from jobpulse.sources.alation.records import JobRows
from jobpulse.sources.alation.tracking import JobTracker
from jobpulse.sources.alation.updates import job_updates

DONE = {"status": "successful", "msg": "Job finished in 1.0 seconds at 2024-01-01 00:00:01+00:00"}
RUNNING = {"status": "running", "msg": "", "result": ""}


class FakeAlation:
    """Answers from dicts; records what was asked, in order."""

    def __init__(
        self,
        ids: dict[int, dict[str, Any]] | None = None,
        names: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.ids = ids or {}
        self.names = names or {}
        self.asked: list[int | str] = []

    def get_job(self, *, job_id: int | None = None, name: str | None = None) -> Any:
        key: int | str = job_id if name is None else name  # type: ignore[assignment]
        self.asked.append(key)
        answer = self.ids.get(job_id) if name is None else self.names.get(name)  # type: ignore[arg-type]
        if answer is None:
            return NotFound(404)
        return answer


def load(
    fake: FakeAlation,
    state: dict[str, Any],
    *,
    ids: Iterable[int] = (),
    names: Iterable[str] = (),
    misses: int = 3,
) -> list[JobRows]:
    """One load's fetched rows; `state` is updated as dlt would commit it."""
    fake.asked.clear()
    tracker = JobTracker(state)
    client: AlationClient = fake  # type: ignore[assignment]
    rows = list(job_updates(client, tracker, list(ids), list(names), misses))
    tracker.save(list(ids), list(names))
    return rows


def refs(rows: list[JobRows]) -> list[str]:
    return [r.job["job_ref"] for r in rows]


def test_discovery_starts_at_1_and_crosses_a_gap_smaller_than_max_misses() -> None:
    fake = FakeAlation({1: DONE, 2: DONE, 3: DONE, 6: DONE})
    state: dict[str, Any] = {}

    rows = load(fake, state, misses=3)

    assert refs(rows) == ["id:1", "id:2", "id:3", "id:6"]
    assert fake.asked == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # three misses counted past 6
    assert state["high_water"] == 6


def test_a_gap_of_max_misses_ids_ends_discovery() -> None:
    fake = FakeAlation({1: DONE, 5: DONE})

    rows = load(fake, {}, misses=3)

    assert refs(rows) == ["id:1"]
    assert fake.asked == [1, 2, 3, 4]


def test_a_later_load_probes_only_past_the_high_water_mark_and_finds_new_ids() -> None:
    fake = FakeAlation({1: DONE, 2: DONE})
    state: dict[str, Any] = {}
    load(fake, state, misses=2)
    fake.ids[4] = DONE

    rows = load(fake, state, misses=2)

    assert refs(rows) == ["id:4"]
    assert fake.asked == [3, 4, 5, 6]
    assert state["high_water"] == 4


def test_a_running_job_is_fetched_on_each_load_until_it_ends_then_never_again() -> None:
    fake = FakeAlation({1: DONE, 2: RUNNING})
    state: dict[str, Any] = {}
    load(fake, state, misses=1)
    assert state["running_ids"] == [2]

    assert refs(load(fake, state, misses=1)) == ["id:2"]
    fake.ids[2] = DONE
    assert refs(load(fake, state, misses=1)) == ["id:2"]
    assert state["running_ids"] == []

    assert load(fake, state, misses=1) == []
    assert fake.asked == [3]


def test_misses_are_counted_past_the_highest_id_found_including_configured_ones() -> None:
    fake = FakeAlation({1: DONE, 12: DONE})

    rows = load(fake, {}, ids=[12], misses=2)

    assert sorted(refs(rows)) == ["id:1", "id:12"]
    assert fake.asked == [12, 1, *range(2, 12), 13, 14]  # 12 is not asked twice


def test_with_discovery_off_only_configured_jobs_are_asked_and_finished_ones_only_once() -> None:
    fake = FakeAlation({3: DONE, 5: DONE, 8: DONE})
    state: dict[str, Any] = {}
    assert refs(load(fake, state, ids=[5, 8], misses=0)) == ["id:5", "id:8"]

    assert load(fake, state, ids=[5, 8], misses=0) == []
    assert fake.asked == []
    assert refs(load(fake, state, ids=[3, 5, 8], misses=0)) == ["id:3"]


def test_a_configured_job_not_found_is_a_warning_and_asked_again_until_found(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeAlation({1: DONE})
    state: dict[str, Any] = {}
    with caplog.at_level(logging.WARNING):
        assert refs(load(fake, state, ids=[1, 2], names=["Lineage#1_x"], misses=0)) == ["id:1"]

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "Alation job id:2 (listed in SOURCES__ALATION__JOB_IDS) was not found" in w
        for w in warnings
    )
    assert any(
        "Alation job Lineage#1_x (listed in SOURCES__ALATION__JOB_NAMES)" in w for w in warnings
    )
    assert state["missing_ids"] == [2]

    fake.ids[2] = DONE
    fake.names["Lineage#1_x"] = DONE
    assert refs(load(fake, state, ids=[1, 2], names=["Lineage#1_x"], misses=0)) == [
        "Lineage#1_x",
        "id:2",
    ]
    assert state["missing_ids"] == []


def test_a_configured_id_in_a_discovery_gap_is_asked_again_after_discovery_passed_it() -> None:
    fake = FakeAlation({1: DONE, 3: DONE})
    state: dict[str, Any] = {}
    load(fake, state, ids=[2], misses=2)
    assert (state["high_water"], state["missing_ids"]) == (3, [2])
    fake.ids[2] = DONE

    assert refs(load(fake, state, ids=[2], misses=2)) == ["id:2"]


def test_names_are_asked_until_finished_and_running_names_until_they_end() -> None:
    fake = FakeAlation(names={"a#1_x": DONE, "b#1_y": RUNNING})
    state: dict[str, Any] = {}
    load(fake, state, names=["a#1_x", "b#1_y"], misses=0)
    assert state["running_names"] == ["b#1_y"]

    rows = load(fake, state, names=["a#1_x"], misses=0)  # b no longer listed, still polled

    assert refs(rows) == ["b#1_y"]
    fake.names["b#1_y"] = DONE
    load(fake, state, names=["a#1_x"], misses=0)
    assert load(fake, state, names=["a#1_x"], misses=0) == []
    assert state["running_names"] == []


def test_the_state_keeps_a_high_water_mark_not_every_finished_id() -> None:
    fake = FakeAlation({n: DONE for n in range(1, 201)} | {150: RUNNING})
    state: dict[str, Any] = {}

    load(fake, state, ids=[5, 7], misses=2)

    assert state == {
        "high_water": 200,
        "running_ids": [150],
        "missing_ids": [],
        "finished_ids": [],
        "running_names": [],
        "finished_names": [],
    }


def test_a_malformed_job_gives_one_warning_naming_it_and_is_still_loaded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = {"status": "failed", "msg": "Job exploded", "result": "{not json"}
    fake = FakeAlation({1: DONE, 2: broken})

    with caplog.at_level(logging.WARNING):
        rows = load(fake, {}, misses=1)

    assert refs(rows) == ["id:1", "id:2"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("Alation job id:2: raw msg and result kept")
    assert "msg is not" in warnings[0]
    assert "neither JSON" in warnings[0]
