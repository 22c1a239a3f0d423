"""Vendor timestamps and durations parse to UTC datetimes and seconds, or fail loudly."""

from __future__ import annotations

import pendulum
import pytest

from jobpulse.sources.shared.timeutil import (
    iso_z,
    parse_duration_seconds,
    parse_timestamp,
    plus_seconds,
    utc_now,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-04T12:07:00Z", pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        ("2024-03-04T12:07:00.250Z", pendulum.datetime(2024, 3, 4, 12, 7, 0, 250_000)),
        ("2024-03-04T14:07:00+02:00", pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        ("2024-03-04T07:07:00-05:00", pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        ("2024-03-04T12:07:00", pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        ("2024-03-04 12:07:00", pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        (1709554020, pendulum.datetime(2024, 3, 4, 12, 7, 0)),
        (1709554020.5, pendulum.datetime(2024, 3, 4, 12, 7, 0, 500_000)),
        (1709554020250, pendulum.datetime(2024, 3, 4, 12, 7, 0, 250_000)),
        (0, pendulum.datetime(1970, 1, 1)),
    ],
    ids=[
        "z",
        "z-fraction",
        "plus-offset",
        "minus-offset",
        "naive-t",
        "naive-space",
        "epoch-seconds",
        "epoch-seconds-float",
        "epoch-millis",
        "epoch-zero",
    ],
)
def test_parse_timestamp_returns_the_instant_in_utc(
    value: object, expected: pendulum.DateTime
) -> None:
    parsed = parse_timestamp(value)

    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == pendulum.duration(0)
    assert parsed.timezone_name == "UTC"


def test_parse_timestamp_takes_a_naive_timestamp_as_utc_not_local_time() -> None:
    pendulum.set_local_timezone(pendulum.timezone("Asia/Tokyo"))
    try:
        parsed = parse_timestamp("2024-03-04T12:07:00")
    finally:
        pendulum.set_local_timezone()

    assert parsed == pendulum.datetime(2024, 3, 4, 12, 7, 0, tz="UTC")


@pytest.mark.parametrize("value", [None, ""])
def test_parse_timestamp_of_an_empty_value_is_none(value: object) -> None:
    assert parse_timestamp(value) is None


@pytest.mark.parametrize(
    "value",
    ["garbage", "2024-13-01", "PT1M", "1709554020", True, False, [2024], {"at": 1}],
    ids=["garbage", "bad-month", "duration", "epoch-as-string", "true", "false", "list", "dict"],
)
def test_parse_timestamp_rejects_what_is_not_a_timestamp_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp(value)


@pytest.mark.parametrize("value", [float("inf"), 10**20], ids=["inf", "huge"])
def test_parse_timestamp_rejects_an_out_of_range_epoch_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT1M", 60.0),
        ("PT1M30.5S", 90.5),
        ("PT0S", 0.0),
        ("PT2H", 7200.0),
        ("P1DT1H", 90000.0),
        ("PT1H2M3.25S", 3723.25),
        ("PT10M", 600.0),
        (90, 90.0),
        (1.25, 1.25),
        (0, 0.0),
    ],
)
def test_parse_duration_seconds_returns_seconds_as_float(value: object, expected: float) -> None:
    parsed = parse_duration_seconds(value)

    assert parsed == expected
    assert isinstance(parsed, float)


@pytest.mark.parametrize("value", [None, ""])
def test_parse_duration_seconds_of_an_empty_value_is_none(value: object) -> None:
    assert parse_duration_seconds(value) is None


@pytest.mark.parametrize(
    "value",
    ["garbage", "1m30s", "2024-03-04T12:07:00Z", True, [60]],
    ids=["garbage", "not-iso", "timestamp", "bool", "list"],
)
def test_parse_duration_seconds_rejects_what_is_not_a_duration_with_value_error(
    value: object,
) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_seconds(value)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (pendulum.datetime(2020, 12, 2, 3, 40, 0), "2020-12-02T03:40:00Z"),
        (pendulum.datetime(2020, 12, 2, 3, 40, 0, 999_999), "2020-12-02T03:40:00Z"),
        (pendulum.datetime(2020, 12, 2, 4, 40, 0, tz="Europe/Berlin"), "2020-12-02T03:40:00Z"),
        (pendulum.datetime(2020, 12, 1, 22, 40, 0, tz="America/New_York"), "2020-12-02T03:40:00Z"),
    ],
    ids=["utc", "microseconds-dropped", "berlin", "new-york-crosses-midnight"],
)
def test_iso_z_formats_whole_seconds_in_utc(moment: pendulum.DateTime, expected: str) -> None:
    assert iso_z(moment) == expected


def test_iso_z_round_trips_through_parse_timestamp() -> None:
    moment = pendulum.datetime(2024, 3, 4, 12, 7, 0)

    assert parse_timestamp(iso_z(moment)) == moment


def test_utc_now_is_aware_and_in_utc() -> None:
    now = utc_now()

    assert now.timezone_name == "UTC"
    assert abs((pendulum.now("UTC") - now).total_seconds()) < 5


def test_plus_seconds_gives_the_utc_instant_that_many_seconds_later() -> None:
    start = parse_timestamp("2026-03-29T00:59:59.75+01:00")
    assert start is not None
    ended = plus_seconds(start, 3600.5)
    assert ended == start + pendulum.duration(seconds=3600.5)
    assert isinstance(ended, pendulum.DateTime)
    assert ended.isoformat() == "2026-03-29T01:00:00.250000+00:00"
