"""Parsing the timestamps and durations vendors send, with pendulum; everything comes out in UTC."""

from __future__ import annotations

import datetime
import re

import pendulum

# Epoch numbers above this are milliseconds: as seconds they would lie past the year 5000.
_EPOCH_MILLIS_THRESHOLD = 100_000_000_000
# `PT1H2M3.5S`, the durations vendors send, read directly: pendulum.parse took about 40 us each,
# paid for every run and step (bench/README.md). Anything else goes to pendulum.
_SIMPLE_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")


def utc_now() -> pendulum.DateTime:
    return pendulum.now("UTC")


def parse_timestamp(value: object) -> pendulum.DateTime | None:
    """Parse an ISO-8601 string or an epoch number (seconds or milliseconds) into a UTC datetime.

    Empty values give None; a value that is not a timestamp raises ValueError naming it.
    Naive timestamps are taken as UTC, which is what every vendor here documents.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLIS_THRESHOLD else value
        try:
            return pendulum.from_timestamp(seconds, tz="UTC")
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    if isinstance(value, str):
        fast = _from_iso_format(value)
        if fast is not None:
            return fast
        try:
            parsed = pendulum.parse(value, tz="UTC")
        except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
        if isinstance(parsed, pendulum.DateTime):
            return parsed.in_timezone("UTC")
    raise ValueError(f"not a timestamp: {value!r}")


def _from_iso_format(value: str) -> pendulum.DateTime | None:
    """The common ISO-8601 forms, by the standard library's parser: a third of pendulum.parse's
    cost, which was paid for every run and step (bench/README.md). None: let pendulum try."""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return _as_utc_datetime(parsed)


def plus_seconds(moment: pendulum.DateTime, seconds: float) -> pendulum.DateTime:
    """`moment` + `seconds`, in UTC: an end time from a start and a duration, for every finished
    run and step. The standard library's arithmetic, at a twentieth of pendulum's `+`."""
    return _as_utc_datetime(datetime.datetime.__add__(moment, datetime.timedelta(seconds=seconds)))


def _as_utc_datetime(moment: datetime.datetime) -> pendulum.DateTime:
    """An aware datetime as a pendulum UTC DateTime, built field by field: `pendulum.instance`
    goes through pendulum's timezone conversion, ten times the cost (4.8 us against 0.5)."""
    utc = moment.astimezone(datetime.UTC)
    return pendulum.DateTime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond,
        tzinfo=pendulum.UTC,
    )  # fmt: skip


def parse_duration_seconds(value: object) -> float | None:
    """Seconds in an ISO-8601 duration (`PT1M30.5S`) or a plain number of seconds; None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        fast = _SIMPLE_DURATION.fullmatch(value)
        if fast is not None and any(fast.groups()):
            hours, minutes, seconds = (float(part or 0) for part in fast.groups())
            return hours * 3600 + minutes * 60 + seconds
        try:
            parsed = pendulum.parse(value)
        except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
            raise ValueError(f"not a duration: {value!r}") from exc
        if isinstance(parsed, pendulum.Duration):
            return float(parsed.total_seconds())
    raise ValueError(f"not a duration: {value!r}")


def iso_z(moment: pendulum.DateTime) -> str:
    """Format as `2020-12-02T03:40:00Z`: UTC, whole seconds, the form APIs document most often."""
    return moment.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
