"""Whole loads from the Alation sandbox into DuckDB: ids, names and discovery; the clock moves."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.alation.sandbox import AlationSandbox
from tests.alation.conftest import (
    asked,
    load_alation,
    query,
    stored_errors,
    stored_jobs,
    truth_errors,
    truth_jobs,
)


@pytest.mark.parametrize("flow", ["api_token", "refresh_token"])
def test_a_load_holds_every_job_the_sandbox_knows_by_name_by_id_and_by_discovery(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline], flow: str
) -> None:
    pipeline = make_pipeline()

    load_alation(pipeline, alation_sandbox, flow=flow, job_ids=[3])

    assert stored_jobs(pipeline) == truth_jobs(alation_sandbox)
    assert stored_errors(pipeline) == truth_errors(alation_sandbox)
    ids = {ref for (ref, *_) in stored_jobs(pipeline) if ref.startswith("id:")}
    assert ids == {"id:1", "id:2", "id:3", "id:4", "id:5", "id:6", "id:9", "id:10"}, (
        "discovery crossed the gap at 7 and 8"
    )
    assert alation_sandbox.violations == []
    assert alation_sandbox.peak_in_flight == 1


def test_non_ascii_errors_land_intact(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()

    load_alation(pipeline, alation_sandbox)

    errors = dict(((ref, position), error) for ref, position, error in stored_errors(pipeline))
    assert errors[("id:4", 1)] == "Ligne 7. Clé : 5.données.clients — objet introuvable"
    assert errors[("id:5", 0)] == "行 9: 列 «prix» が見つかりません"


def test_parsed_columns_of_the_documented_examples(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, alation_sandbox)

    rows = query(
        pipeline,
        "select job_ref, job_type, job_key, duration_seconds, updated_objects, number_received,"
        " error_count, new_events_ingested, events_skipped from alation_jobs"
        " where job_ref in ('id:1', 'MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-"
        "4ea1dc02-1c9f-41db-be6f-3f7cb1849da3') order by job_ref",
    )

    assert rows == [
        (
            "MetadataExtraction#1_2017-10-05-19-36-45-431906-00-00-4ea1dc02-1c9f-41db-be6f-"
            "3f7cb1849da3",
            "MetadataExtraction",
            "MetadataExtraction#1",
            2.0,
            1,
            2,
            1,
            None,
            None,
        ),
        ("id:1", None, None, 0.585993, None, None, None, 0, 1),
    ]


def test_malformed_answers_are_loaded_raw_with_null_parsed_columns(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, alation_sandbox)

    rows = dict(
        (ref, rest)
        for ref, *rest in query(
            pipeline,
            "select job_ref, msg, result, finished_at, updated_objects, new_events_ingested"
            " from alation_jobs where job_ref in ('id:6', 'id:10')",
        )
    )

    answer_6, answer_10 = (alation_sandbox.answer(job_id=n) or {} for n in (6, 10))
    assert rows["id:6"][:2] == [answer_6["msg"], answer_6["result"]]  # result: a Python repr
    assert rows["id:6"][2] is not None, "its msg is fine"
    assert rows["id:6"][3:] == [None, None]
    assert rows["id:10"][:2] == ["Job done, see the logs.", answer_10["result"]]
    assert rows["id:10"][2] is None
    assert rows["id:10"][3] == json.loads(answer_10["result"])["updated_objects"], (
        "its result is fine"
    )


def test_running_jobs_end_and_new_jobs_appear_on_later_loads(
    alation_sandbox: AlationSandbox,
    make_pipeline: Callable[..., Pipeline],
    clock: time_machine.Traveller,
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, alation_sandbox)
    first = dict(query(pipeline, "select job_ref, status from alation_jobs"))
    assert first["id:9"] == "running"
    assert "id:11" not in first

    clock.shift(3600)  # id 9 and the named metadata job end; id 11 and a named job appear
    load_alation(pipeline, alation_sandbox)

    assert stored_jobs(pipeline) == truth_jobs(alation_sandbox)
    statuses = query(pipeline, "select job_ref, status from alation_jobs")
    assert len(statuses) == len({ref for ref, _ in statuses}), "no job stored twice"
    assert all(status != "running" for _, status in statuses), "no job stuck running"
    assert dict(statuses)["id:11"] == "successful"


def test_a_reload_asks_only_for_running_and_missing_jobs_and_ids_past_the_highest(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, alation_sandbox)
    before = stored_jobs(pipeline)
    since = len(alation_sandbox.requests)

    load_alation(pipeline, alation_sandbox)

    names = alation_sandbox.job_names()
    running_name, future_name = names[2], names[4]
    assert asked(alation_sandbox, since) == [
        running_name,  # configured names first, in order: the unfinished ones only
        future_name,
        "id:9",  # the running id
        *(f"id:{n}" for n in range(11, 21)),  # ten misses past id 10
    ]
    assert stored_jobs(pipeline) == before


@pytest.mark.parametrize(
    ("misses", "found"),
    [(2, {1, 2, 3, 4, 5, 6}), (3, {1, 2, 3, 4, 5, 6, 9, 10})],
    ids=["gap-of-2-stops-2-misses", "gap-of-2-crossed-with-3"],
)
def test_discovery_stops_at_a_gap_of_max_misses_and_crosses_a_smaller_one(
    alation_sandbox: AlationSandbox,
    make_pipeline: Callable[..., Pipeline],
    misses: int,
    found: set[int],
) -> None:
    pipeline = make_pipeline()

    load_alation(pipeline, alation_sandbox, discover_max_misses=misses, job_names=[])

    assert set(query(pipeline, "select job_id from alation_jobs")) == {(n,) for n in found}


def test_an_unknown_job_answered_400_is_tolerated_like_404(
    clock: time_machine.Traveller, make_pipeline: Callable[..., Pipeline]
) -> None:
    with AlationSandbox(unknown_status=400, requests_per_second=50) as sandbox:
        pipeline = make_pipeline()
        load_alation(pipeline, sandbox)

        assert stored_jobs(pipeline) == truth_jobs(sandbox)
        assert any(r.status == 400 for r in sandbox.requests)


def test_an_expired_minted_token_is_minted_again_once(
    alation_sandbox: AlationSandbox, make_pipeline: Callable[..., Pipeline]
) -> None:
    pipeline = make_pipeline()
    load_alation(pipeline, alation_sandbox, flow="refresh_token")
    alation_sandbox.expire_tokens()

    load_alation(pipeline, alation_sandbox, flow="refresh_token")

    assert len(alation_sandbox.issued_tokens) == 2


def test_the_default_rate_is_kept_with_many_extract_workers(
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXTRACT__WORKERS", "8")
    with AlationSandbox() as sandbox:  # enforces the default, 10 a second
        load_alation(make_pipeline(), sandbox, requests_per_second=10)

        assert len(sandbox.requests) > 10
        assert sandbox.violations == []
        assert sandbox.peak_in_flight == 1
