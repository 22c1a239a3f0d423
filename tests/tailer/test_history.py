"""The paging and re-checking rules of one operation's load, against an in-memory API."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from jobpulse.sources.tailer.history import fetch_operation
from jobpulse.sources.tailer.identity import Operation

OPERATION = Operation("000099", "DEV", "workflow", "wf")
JOB = "workflow|wf"


def run(run_id: str, start: str, status: str = "SUCCESS", job_id: str = JOB) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "run_id": run_id,
        "start_execution_date": start,
        "status": status,
        "configuration_type": "workflow-listed",
    }


class FakeApi:
    """get_last_status and check_run_status over a fixed list of runs; calls are recorded."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.calls: list[tuple[str, Any]] = []

    def endpoint(self, path: str, action: str) -> str:
        return f"POST /{path} ({action})"

    def get_last_status(
        self, operation: Operation, *, limit: int, execution_date: str | None = None
    ) -> list[dict[str, Any]]:
        self.calls.append(("get_last_status", execution_date))
        runs = [
            r for r in self.runs
            if execution_date is None or r["start_execution_date"][:10] == execution_date
        ]  # fmt: skip
        return sorted(runs, key=lambda r: str(r["start_execution_date"]), reverse=True)[:limit]

    def check_run_status(self, operation: Operation, job_id: str, run_id: str) -> list[Any]:
        self.calls.append(("check_run_status", (job_id, run_id)))
        return [{**r, "configuration_type": "workflow"} for r in self.runs if r["run_id"] == run_id]


def fetch(api: FakeApi, state: dict[str, Any], limit: int = 2, floor: str = "2026-03-01") -> Any:
    return fetch_operation(
        api,  # type: ignore[arg-type]
        OPERATION,
        state,
        limit=limit,
        lookback_floor=pendulum.parse(floor).date(),  # type: ignore[union-attr]
    )


def test_an_answer_shorter_than_limit_holds_every_run_and_is_not_paged() -> None:
    api = FakeApi([run("a", "2026-03-05T10:00:00+00:00"), run("b", "2026-02-01T10:00:00+00:00")])
    fetched = fetch(api, {}, limit=3)
    assert api.calls == [("get_last_status", None)]
    assert {key[1] for key in fetched.runs} == {"a", "b"}, "older than the lookback: kept anyway"


def test_a_first_load_pages_back_to_the_lookback_day() -> None:
    api = FakeApi([run(f"r{day}", f"2026-03-0{day}T10:00:00+00:00") for day in range(1, 6)])
    state: dict[str, Any] = {}
    fetched = fetch(api, state, floor="2026-03-02")
    assert api.calls == [("get_last_status", None)] + [
        ("get_last_status", f"2026-03-0{day}") for day in (4, 3, 2)
    ]
    assert {key[1] for key in fetched.runs} == {"r2", "r3", "r4", "r5"}
    assert state["newest_start"] == "2026-03-05T10:00:00+00:00"


def test_a_later_load_pages_back_until_it_meets_the_stored_runs() -> None:
    api = FakeApi([run(f"r{day}", f"2026-03-0{day}T10:00:00+00:00") for day in range(1, 8)])
    state = {"newest_start": "2026-03-03T10:00:00+00:00", "open": []}
    fetched = fetch(api, state)
    days = [day for action, day in api.calls if day]
    assert days == ["2026-03-06", "2026-03-05", "2026-03-04", "2026-03-03"]
    assert {key[1] for key in fetched.runs} >= {"r4", "r5", "r6", "r7"}


def test_one_day_more_when_the_stored_run_is_not_on_its_own_day() -> None:
    api = FakeApi([run(f"r{day}", f"2026-03-0{day}T10:00:00+00:00") for day in (1, 2, 5, 6, 7)])
    state = {"newest_start": "2026-03-03T23:30:00+00:00", "open": []}  # not in any answer
    fetch(api, state)
    days = [day for action, day in api.calls if day]
    assert days == ["2026-03-06", "2026-03-05", "2026-03-04", "2026-03-03", "2026-03-02"]


@pytest.mark.parametrize("newest", ["2026-03-06T10:00:00+00:00", "2026-03-07T10:00:00+00:00"])
def test_no_paging_once_the_answer_reaches_the_stored_runs(newest: str) -> None:
    api = FakeApi([run(f"r{day}", f"2026-03-0{day}T10:00:00+00:00") for day in range(1, 8)])
    fetch(api, {"newest_start": newest, "open": []})
    assert api.calls == [("get_last_status", None)]


def test_open_runs_are_checked_with_their_own_job_id_and_keep_the_listed_type() -> None:
    api = FakeApi([run("old", "2026-02-01T10:00:00+00:00", "Checked", job_id="gbq|x")])
    open_run = {"job_id": "gbq|x", "run_id": "old", "configuration_type": "gbq-to-gbq"}
    state = {"newest_start": "2026-02-01T10:00:00+00:00", "open": [open_run]}
    fetched = fetch(api, state, limit=5)
    assert ("check_run_status", ("gbq|x", "old")) in api.calls
    checked = fetched.runs[("gbq|x", "old")]
    assert (checked["status"], checked["configuration_type"]) == ("Checked", "gbq-to-gbq")
    assert state["open"] == []


def test_runs_still_running_stay_open_and_a_vanished_run_is_dropped() -> None:
    api = FakeApi([run("live", "2026-03-05T10:00:00+00:00", "RUNNING")])
    gone = {"job_id": JOB, "run_id": "gone", "configuration_type": "workflow"}
    state = {"newest_start": "2026-03-05T10:00:00+00:00", "open": [gone]}
    fetch(api, state, limit=5)
    assert state["open"] == [
        {"job_id": JOB, "run_id": "live", "configuration_type": "workflow-listed"}
    ]


def test_an_api_that_answers_fewer_runs_than_asked_still_gets_paged() -> None:
    api = FakeApi([run(f"r{day}", f"2026-03-0{day}T10:00:00+00:00") for day in range(1, 8)])
    capped = api.get_last_status
    api.get_last_status = lambda operation, *, limit, execution_date=None: capped(  # type: ignore[method-assign]
        operation, limit=min(limit, 3), execution_date=execution_date
    )
    fetched = fetch(api, {"newest_start": "2026-03-02T10:00:00+00:00", "open": []}, limit=1000)
    assert {key[1] for key in fetched.runs} >= {"r3", "r4", "r5", "r6", "r7"}


def test_a_checked_run_keeps_its_stored_key_whatever_job_id_the_check_echoes() -> None:
    api = FakeApi([run("r1", "2026-03-05T10:00:00+00:00", "RUNNING")])
    state: dict[str, Any] = {}
    fetch(api, state, limit=5)
    api.runs = [run("r1", "2026-03-05T10:00:00+00:00", "SUCCESS", job_id="other|spelling")]
    api.get_last_status = lambda operation, **kwargs: []  # type: ignore[method-assign]

    fetched = fetch(api, state, limit=5)

    assert list(fetched.runs) == [(JOB, "r1")]
    assert fetched.runs[(JOB, "r1")]["status"] == "SUCCESS"
