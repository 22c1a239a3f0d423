"""The Snowplow sandbox honours the vendor's documented contract with a deterministic history."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any
from urllib.parse import quote

import pendulum
import pytest
import requests
import time_machine

from jobpulse.sources.shared.sandbox import Fault, SandboxClock
from jobpulse.sources.snowplow.sandbox import (
    DEFAULT_API_KEY,
    DEFAULT_API_KEY_ID,
    DEFAULT_JOBS,
    DEFAULT_ORGANIZATION_ID,
    JobSpec,
    SnowplowSandbox,
    StepSpec,
)

# A Monday, 2 minutes after the hourly web model started: that run is still RUNNING. The
# quarter second keeps whole-second state changes away from the instant while a test runs.
NOW = pendulum.datetime(2024, 3, 4, 12, 7, 0, 250_000)
FAILING_JOB = next(job for job in DEFAULT_JOBS if job.failure_rate == 1.0)
TERMINAL_STATES = {"SUCCEEDED", "SUCCEEDED_NO_OP", "FAILED", "SKIPPED"}
LAST_HOUR = {"from": "PT-1H", "to": "PT0S"}
LAST_96_HOURS = {"from": "PT-96H", "to": "PT0S"}


@pytest.fixture
def clock_start() -> pendulum.DateTime:
    return NOW


@pytest.fixture
def sandbox(snowplow_sandbox: SnowplowSandbox) -> SnowplowSandbox:
    return snowplow_sandbox


@pytest.fixture
def auth(sandbox: SnowplowSandbox) -> dict[str, str]:
    return bearer(sandbox)


def get(
    sandbox: SnowplowSandbox,
    path: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
) -> requests.Response:
    url = f"{sandbox.base_url}/api/msc/v1/organizations/{organization_id}{path}"
    return requests.get(url, headers=headers, params=params, timeout=5)


def bearer(sandbox: SnowplowSandbox) -> dict[str, str]:
    response = get(sandbox, "/credentials/v2/token", headers={"X-API-Key": DEFAULT_API_KEY})
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def iso(moment: pendulum.DateTime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(iso_duration: str) -> float:
    parsed = pendulum.parse(iso_duration)
    assert isinstance(parsed, pendulum.Duration)
    return float(parsed.total_seconds())


def instant(text: str) -> pendulum.DateTime:
    parsed = pendulum.parse(text)
    assert isinstance(parsed, pendulum.DateTime)
    return parsed


def dependents_of(name: str, steps: list[dict[str, Any]]) -> set[str]:
    """Steps depending on ``name`` directly or transitively; steps come in DAG order."""
    found: set[str] = set()
    for step in steps:
        if ({name} | found) & set(step["dependencies"]):
            found.add(step["name"])
    return found


def last_failed_run(sandbox: SnowplowSandbox) -> dict[str, Any]:
    runs = sandbox.runs_started_between(NOW.subtract(days=1), NOW)
    return [run for run in runs if run["jobId"] == FAILING_JOB.job_id][-1]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/credentials/v2/token", {"X-API-Key": DEFAULT_API_KEY}),
        (
            "/credentials/v3/token",
            {"X-API-Key-ID": DEFAULT_API_KEY_ID, "X-API-Key": DEFAULT_API_KEY},
        ),
    ],
    ids=["v2", "v3"],
)
def test_token_exchange_issues_a_working_access_token(
    sandbox: SnowplowSandbox, path: str, headers: dict[str, str]
) -> None:
    response = get(sandbox, path, headers=headers)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    token = response.json()["accessToken"]
    runs = get(sandbox, "/jobs/v1/runs", {"Authorization": f"Bearer {token}"}, LAST_HOUR)
    assert runs.status_code == 200


@pytest.mark.parametrize(
    ("path", "headers", "organization_id", "status"),
    [
        ("/credentials/v2/token", {"X-API-Key": "wrong"}, DEFAULT_ORGANIZATION_ID, 401),
        ("/credentials/v2/token", {}, DEFAULT_ORGANIZATION_ID, 401),
        ("/credentials/v2/token", {"X-API-Key": DEFAULT_API_KEY}, "unknown-org", 404),
        (
            "/credentials/v3/token",
            {"X-API-Key-ID": "wrong", "X-API-Key": DEFAULT_API_KEY},
            DEFAULT_ORGANIZATION_ID,
            403,
        ),
        (
            "/credentials/v3/token",
            {"X-API-Key-ID": DEFAULT_API_KEY_ID, "X-API-Key": "wrong"},
            DEFAULT_ORGANIZATION_ID,
            403,
        ),
        ("/credentials/v3/token", {"X-API-Key": DEFAULT_API_KEY}, DEFAULT_ORGANIZATION_ID, 403),
        (
            "/credentials/v3/token",
            {"X-API-Key-ID": DEFAULT_API_KEY_ID, "X-API-Key": DEFAULT_API_KEY},
            "unknown-org",
            404,
        ),
    ],
    ids=[
        "v2-wrong-key",
        "v2-missing-key",
        "v2-unknown-org",
        "v3-wrong-key-id",
        "v3-wrong-key",
        "v3-missing-key-id",
        "v3-unknown-org",
    ],
)
def test_token_exchange_rejects_bad_credentials_with_the_documented_status(
    sandbox: SnowplowSandbox,
    path: str,
    headers: dict[str, str],
    organization_id: str,
    status: int,
) -> None:
    response = get(sandbox, path, headers=headers, organization_id=organization_id)

    assert response.status_code == status
    assert response.json()["message"]


@pytest.mark.parametrize("token", ["missing", "unknown", "expired"])
def test_jobs_endpoints_reject_a_missing_unknown_or_expired_token_with_401(
    sandbox: SnowplowSandbox, auth: dict[str, str], token: str
) -> None:
    headers = {
        "missing": {},
        "unknown": {"Authorization": "Bearer not-a-token"},
        "expired": auth,
    }[token]
    if token == "expired":
        sandbox.expire_tokens()

    response = get(sandbox, "/jobs/v1/runs", headers, LAST_HOUR)

    assert response.status_code == 401
    assert response.json()["message"]


@pytest.mark.parametrize(
    "window",
    [
        {"from": iso(NOW.subtract(hours=97)), "to": iso(NOW)},
        {"from": iso(NOW.subtract(days=7, hours=1)), "to": iso(NOW.subtract(days=6))},
        {"from": "PT-1H", "to": iso(NOW)},
        {"from": iso(NOW), "to": iso(NOW.subtract(hours=1))},
        {"from": "yesterday", "to": "today"},
        {"from": "PT-1H"},
    ],
    ids=[
        "longer-than-96h",
        "older-than-7-days",
        "mixed-types",
        "from-after-to",
        "unparsable",
        "missing-to",
    ],
)
def test_runs_window_breaking_a_documented_rule_is_rejected_with_400(
    sandbox: SnowplowSandbox, auth: dict[str, str], window: dict[str, str]
) -> None:
    response = get(sandbox, "/jobs/v1/runs", auth, window)

    assert response.status_code == 400
    assert response.json()["message"]


def test_duration_window_lists_the_runs_started_in_it_oldest_first(
    sandbox: SnowplowSandbox, auth: dict[str, str]
) -> None:
    response = get(sandbox, "/jobs/v1/runs", auth, LAST_96_HOURS)

    assert response.status_code == 200
    runs = response.json()
    truth = sandbox.runs_started_between(NOW.subtract(hours=96), NOW)
    # A run in progress reports the time elapsed so far, which ticks between the two reads.
    assert [{**run, "duration": None} for run in runs] == [{**r, "duration": None} for r in truth]
    assert [run["startTime"] for run in runs] == sorted(run["startTime"] for run in runs)
    assert {run["jobId"] for run in runs} == {job.job_id for job in DEFAULT_JOBS}


def test_window_over_the_runs_cap_keeps_only_the_latest_runs(clock: time_machine.Traveller) -> None:
    start, end = NOW.subtract(hours=24), NOW
    with SnowplowSandbox(runs_cap=3) as sandbox:
        window = {"from": iso(start), "to": iso(end)}

        response = get(sandbox, "/jobs/v1/runs", bearer(sandbox), window)

        assert response.json() == sandbox.runs_started_between(start, end)[-3:]


@pytest.mark.parametrize("end_times", [False, True], ids=["documented-shape", "end-times"])
def test_running_run_becomes_terminal_once_time_passes_its_end(
    clock: time_machine.Traveller, end_times: bool
) -> None:
    with SnowplowSandbox(end_times=end_times) as sandbox:
        running = [
            run
            for run in sandbox.runs_started_between(NOW.subtract(hours=6), NOW)
            if run["state"] == "RUNNING"
        ]
        assert running, "NOW must fall inside a run"
        path = f"/jobs/v1/runs/{running[0]['runId']}"
        auth = bearer(sandbox)

        before = get(sandbox, path, auth).json()
        clock.shift(pendulum.duration(hours=6))
        after = get(sandbox, path, auth).json()

    assert {s["state"] for s in before["steps"]} <= TERMINAL_STATES | {"RUNNING", "WAITING"}
    assert "RUNNING" in {step["state"] for step in before["steps"]}
    assert after["state"] in TERMINAL_STATES
    assert {step["state"] for step in after["steps"]} <= TERMINAL_STATES
    elapsed = (NOW - instant(before["startTime"])).total_seconds()
    assert abs(seconds(before["duration"]) - elapsed) <= 2, "in progress: the time so far"
    if end_times:
        assert before["endTime"] is None
        assert after["endTime"] == max(s["endTime"] for s in after["steps"] if s["endTime"])
        run_end = instant(after["startTime"]) + pendulum.duration(
            seconds=seconds(after["duration"])
        )
        assert run_end == instant(after["endTime"])
    else:
        assert "endTime" not in after
        assert all("startTime" not in step and "endTime" not in step for step in after["steps"])


def test_runs_and_steps_carry_the_documented_fields_and_states(
    sandbox: SnowplowSandbox, auth: dict[str, str]
) -> None:
    runs = get(sandbox, "/jobs/v1/runs", auth, LAST_96_HOURS).json()
    run_fields = {"runId", "jobId", "jobName", "environment", "state", "startTime", "duration"}
    assert all(set(run) == run_fields | {"failureReason"} for run in runs)
    assert {run["state"] for run in runs} == {"SUCCEEDED", "FAILED", "RUNNING", "SKIPPED"}
    steps = [step for run in runs[-40:] for step in sandbox.steps_of(run["runId"])]
    assert all(set(step) == {"name", "state", "dependencies", "duration"} for step in steps)
    assert {"SUCCEEDED", "SUCCEEDED_NO_OP", "FAILED", "SKIPPED"} <= {s["state"] for s in steps}


def test_a_run_waits_before_it_runs(clock: time_machine.Traveller) -> None:
    web = DEFAULT_JOBS[0]
    scheduled = NOW.replace(minute=5, second=0, microsecond=0)  # the hourly web model's start
    clock.move_to(scheduled.add(seconds=1))
    with SnowplowSandbox(jobs=[web]) as sandbox:
        (run,) = sandbox.runs_started_between(scheduled, scheduled)
        assert run["state"] == "WAITING"
        assert {step["state"] for step in sandbox.steps_of(run["runId"])} == {"WAITING"}


def test_a_skipped_run_skips_every_step_and_is_terminal_at_once(
    sandbox: SnowplowSandbox,
) -> None:
    runs = sandbox.runs_started_between(NOW.subtract(days=7), NOW)
    skipped = [run for run in runs if run["state"] == "SKIPPED"]
    assert skipped, "the web model skips some runs"
    for run in skipped:
        assert (run["duration"], run["failureReason"]) == ("PT0S", None)
        assert {step["state"] for step in sandbox.steps_of(run["runId"])} == {"SKIPPED"}


def test_a_failed_run_names_its_failed_step_and_error_in_failure_reason(
    sandbox: SnowplowSandbox, auth: dict[str, str]
) -> None:
    run = last_failed_run(sandbox)
    step = quote(str(FAILING_JOB.failing_step), safe="")
    detail = get(sandbox, f"/jobs/v1/runs/{run['runId']}/steps/{step}", auth).json()
    error = detail["stderr"].splitlines()[-1].split(" ", 1)[1]
    assert run["failureReason"] == f"Step '{FAILING_JOB.failing_step}' failed: {error}"


def test_step_detail_accepts_a_percent_encoded_name_containing_a_slash(
    sandbox: SnowplowSandbox, auth: dict[str, str]
) -> None:
    run_id = last_failed_run(sandbox)["runId"]
    name = "base / events this run"

    response = get(sandbox, f"/jobs/v1/runs/{run_id}/steps/{quote(name, safe='')}", auth)

    assert response.status_code == 200
    detail = response.json()
    assert detail["name"] == name
    assert detail["state"] == "SUCCEEDED"
    assert 1024 < len(detail["stdout"]) < 4096
    assert detail["stderr"] == ""
    assert sandbox.requests[-1].path.endswith(f"/steps/{name}")


def test_failed_step_stderr_exceeds_64_kib_and_ends_with_the_database_error(
    sandbox: SnowplowSandbox, auth: dict[str, str]
) -> None:
    run_id = last_failed_run(sandbox)["runId"]
    step = quote(str(FAILING_JOB.failing_step), safe="")

    detail = get(sandbox, f"/jobs/v1/runs/{run_id}/steps/{step}", auth).json()

    assert detail["state"] == "FAILED"
    assert len(detail["stderr"].encode()) > 64 * 1024
    assert "Database Error in model" in detail["stderr"].splitlines()[-1]


@pytest.mark.parametrize(
    ("status", "headers"),
    [(503, {}), (429, {"Retry-After": "0"})],
    ids=["unavailable", "rate-limited"],
)
def test_injected_fault_answers_the_given_number_of_requests_then_normal_service_resumes(
    sandbox: SnowplowSandbox, auth: dict[str, str], status: int, headers: dict[str, str]
) -> None:
    sandbox.inject("*/jobs/v1/runs*", Fault.status_code(status, headers=headers), times=2)

    responses = [get(sandbox, "/jobs/v1/runs", auth, LAST_HOUR) for _ in range(3)]

    assert [response.status_code for response in responses] == [status, status, 200]
    assert all(responses[0].headers.get(name) == value for name, value in headers.items())
    assert responses[0].json()["message"]
    assert [request.status for request in sandbox.requests[-3:]] == [status, status, 200]


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/v1/nothing",
        "/jobs/v1/runs/0123456789abcdef0123456789abcdef",
        "/jobs/v1/runs/{run_id}/steps/nope",
    ],
    ids=["unknown-path", "unknown-run", "unknown-step"],
)
def test_unknown_resources_are_json_404s(
    sandbox: SnowplowSandbox, auth: dict[str, str], path: str
) -> None:
    run_id = last_failed_run(sandbox)["runId"]

    response = get(sandbox, path.format(run_id=run_id), auth)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["message"]


def test_runs_older_than_7_days_are_no_longer_served(
    sandbox: SnowplowSandbox, auth: dict[str, str], clock: time_machine.Traveller
) -> None:
    run_id = last_failed_run(sandbox)["runId"]
    assert get(sandbox, f"/jobs/v1/runs/{run_id}", auth).status_code == 200

    clock.shift(pendulum.duration(days=8))

    assert get(sandbox, f"/jobs/v1/runs/{run_id}", auth).status_code == 404


def test_wrap_lists_wraps_runs_and_steps_in_objects(clock: time_machine.Traveller) -> None:
    with SnowplowSandbox(wrap_lists=True) as sandbox:
        auth = bearer(sandbox)

        runs = get(sandbox, "/jobs/v1/runs", auth, LAST_HOUR).json()
        run_id = runs["runs"][0]["runId"]
        steps = get(sandbox, f"/jobs/v1/runs/{run_id}/steps", auth).json()

        assert steps == {"steps": sandbox.steps_of(run_id)}


def test_same_seed_at_the_same_instant_serves_identical_history() -> None:
    # One frozen instant for both: on a ticking clock a running step's elapsed duration moves
    # between the two sandboxes' answers.
    instant = SandboxClock(frozen_at=NOW)
    with (
        SnowplowSandbox(seed=0, clock=instant) as sandbox,
        SnowplowSandbox(seed=0, clock=instant) as twin,
    ):
        runs = get(sandbox, "/jobs/v1/runs", bearer(sandbox), LAST_96_HOURS).json()
        twin_runs = get(twin, "/jobs/v1/runs", bearer(twin), LAST_96_HOURS).json()

        assert runs
        assert runs == twin_runs
        assert [sandbox.steps_of(run["runId"]) for run in runs] == [
            twin.steps_of(run["runId"]) for run in runs
        ]


def test_history_does_not_depend_on_the_process_hash_seed() -> None:
    """Guards against ``hash()``, which is salted per process, creeping into the history."""
    script = textwrap.dedent(
        f"""
        import json, pendulum, time_machine
        from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
        now = pendulum.parse({NOW.isoformat()!r})
        with time_machine.travel(now, tick=False):
            sandbox = SnowplowSandbox()
            runs = sandbox.runs_started_between(now.subtract(hours=96), now)
            print(json.dumps([[run, sandbox.steps_of(run["runId"])] for run in runs]))
        """
    )
    env = os.environ | {"PYTHONHASHSEED": "12345"}

    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout

    with time_machine.travel(NOW, tick=False):
        sandbox = SnowplowSandbox()
        runs = sandbox.runs_started_between(NOW.subtract(hours=96), NOW)
        assert json.loads(output) == [[run, sandbox.steps_of(run["runId"])] for run in runs]


def test_a_different_seed_gives_a_different_history(clock: time_machine.Traveller) -> None:
    start, end = NOW.subtract(hours=96), NOW
    with SnowplowSandbox(seed=0) as one, SnowplowSandbox(seed=1) as other:
        assert one.runs_started_between(start, end) != other.runs_started_between(start, end)


def test_default_jobs_are_healthy_flaky_always_failing_and_slowing_down(
    sandbox: SnowplowSandbox,
) -> None:
    runs = sandbox.runs_started_between(NOW.subtract(days=7), NOW.subtract(hours=6))
    healthy, flaky, failing, slowing = (
        [run for run in runs if run["jobId"] == job.job_id] for job in DEFAULT_JOBS
    )

    def failure_share(job_runs: list[dict[str, Any]]) -> float:
        return sum(1 for run in job_runs if run["state"] == "FAILED") / len(job_runs)

    def mean_minutes(job_runs: list[dict[str, Any]]) -> float:
        durations = [seconds(run["duration"]) for run in job_runs]
        return sum(durations) / len(durations) / 60

    assert failure_share(healthy) == 0
    assert 0.15 < failure_share(flaky) < 0.45
    assert failure_share(failing) == 1
    assert mean_minutes(slowing[-8:]) > 1.2 * mean_minutes(slowing[:8])


def test_latency_delays_every_response(sandbox: SnowplowSandbox) -> None:
    sandbox.latency_seconds = 0.2
    started = time.monotonic()

    get(sandbox, "/credentials/v2/token", {"X-API-Key": DEFAULT_API_KEY})

    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"steps": (StepSpec("b", ("a",), 1), StepSpec("a", (), 1))}, "not listed before it"),
        ({"failing_step": "missing"}, "unknown failing_step"),
        ({"every": pendulum.duration(seconds=0)}, "`every` must be"),
        ({"offset": pendulum.duration(hours=2)}, "`offset` must be"),
        ({"failure_rate": 1.5}, "`failure_rate` and `skip_rate` are in"),
    ],
    ids=[
        "dependency-listed-later",
        "unknown-failing-step",
        "zero-interval",
        "offset-beyond-interval",
        "rate-above-one",
    ],
)
def test_job_spec_rejects_an_inconsistent_definition(
    changes: dict[str, Any], complaint: str
) -> None:
    valid = JobSpec(
        job_id="job",
        job_name="Job",
        environment="prod",
        every=pendulum.duration(hours=1),
        offset=pendulum.duration(minutes=5),
        steps=(StepSpec("a", (), 1),),
        failure_rate=0.0,
    )

    with pytest.raises(ValueError, match=complaint):
        dataclasses.replace(valid, **changes)


def test_stop_also_closes_kept_alive_connections(clock: time_machine.Traveller) -> None:
    session = requests.Session()
    with SnowplowSandbox() as sandbox:
        url = f"{sandbox.base_url}/api/msc/v1/organizations/{DEFAULT_ORGANIZATION_ID}/jobs/v1/runs"
        assert session.get(url, timeout=5).status_code == 401

    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=5)


def test_other_methods_are_refused_and_the_connection_stays_usable(
    sandbox: SnowplowSandbox,
) -> None:
    session = requests.Session()
    url = f"{sandbox.base_url}/api/msc/v1/organizations/{DEFAULT_ORGANIZATION_ID}"
    token_url = f"{url}/credentials/v2/token"

    refused = session.post(token_url, data="x" * 1000, timeout=5)
    accepted = session.get(token_url, headers={"X-API-Key": DEFAULT_API_KEY}, timeout=5)

    assert refused.status_code == 405
    assert accepted.status_code == 200
