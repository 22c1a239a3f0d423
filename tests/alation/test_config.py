"""The job lists in every form a setting can take: TOML lists, JSON or plain text."""

from __future__ import annotations

from typing import Any

import pytest

from jobpulse.sources.alation.config import job_ids_setting, job_names_setting
from jobpulse.sources.shared.errors import SourceConfigError


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        (None, []),
        ([3, 1, 3], [3, 1]),
        (["3", " 4 "], [3, 4]),
        ("[12, 13]", [12, 13]),
        ("7", [7]),
        (7, [7]),
        ("12, 13,", [12, 13]),
        ("[]", []),
    ],
)
def test_job_ids_are_read_from_lists_json_and_text(value: Any, ids: list[int]) -> None:
    assert job_ids_setting(value) == ids


@pytest.mark.parametrize("value", ["[1, 'x']", "one", [1.5]])
def test_a_job_id_that_is_not_an_integer_is_a_config_error(value: Any) -> None:
    with pytest.raises(SourceConfigError, match="SOURCES__ALATION__JOB_IDS holds"):
        job_ids_setting(value)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (None, []),
        (["a#1_x", "a#1_x", " "], ["a#1_x"]),
        (
            '["MetadataExtraction#1_x", "bulk_api_job_y"]',
            ["MetadataExtraction#1_x", "bulk_api_job_y"],
        ),
        ("MetadataExtraction#1_x", ["MetadataExtraction#1_x"]),
        ("a#1_x, bulk_api_job_y", ["a#1_x", "bulk_api_job_y"]),
    ],
)
def test_job_names_are_read_from_lists_json_and_text(value: Any, names: list[str]) -> None:
    assert job_names_setting(value) == names
