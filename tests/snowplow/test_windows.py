"""Window planning for the Snowplow runs listing: within the API's limits, contiguous, complete."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobpulse.sources.snowplow.settings import (
    MAX_WINDOW,
    MIN_SPLIT_WINDOW,
    RETENTION,
    RETENTION_MARGIN,
)
from jobpulse.sources.snowplow.windows import (
    Window,
    WindowPlan,
    check_window,
    clamp_to_floor,
    list_untrimmed,
    plan_windows,
    retention_floor,
)

NOW = pendulum.datetime(2026, 3, 2, 12, 30, 0)
HOUR = 3600
DAY = 24 * HOUR
FAST = settings(max_examples=200, deadline=None)

# --- strategies -------------------------------------------------------------------------------

_EPOCH = pendulum.datetime(2020, 1, 1)
# Instants from 2020 to 2035 with microseconds (a clock is never on a whole second), in UTC or
# in zones with odd offsets: the plan must come out in whole UTC seconds either way.
instants = st.builds(
    lambda micros, zone: (_EPOCH + pendulum.duration(microseconds=micros)).in_timezone(zone),
    st.integers(0, 15 * 365 * DAY * 1_000_000),
    st.sampled_from(["UTC", "UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"]),
)
# Where the last load's cursor lies relative to "now", in microseconds: recent (inside the
# retention floor), older than the floor (even older than 7 days), or in the future (skew).
cursor_offsets = st.one_of(
    st.none(),
    st.integers(-(7 * DAY - HOUR) * 1_000_000, 0),
    st.integers(-30 * DAY * 1_000_000, -(7 * DAY - HOUR) * 1_000_000),
    st.integers(0, 3 * DAY * 1_000_000),
)
overlap_seconds = st.integers(0, 4 * HOUR)
# Planning costs microseconds per window, so a one-minute window over a whole week (ten thousand
# windows) is left to the boundary examples below; drawn plans stay under this many windows.
MAX_DRAWN_WINDOWS = 200


def truncated(moment: pendulum.DateTime) -> pendulum.DateTime:
    return moment.in_timezone("UTC").set(microsecond=0)


def seconds(window: Window) -> int:
    """The window's length in whole seconds (cheaper than pendulum's Interval)."""
    length = window.end.timestamp() - window.start.timestamp()
    assert length == int(length)
    return int(length)


@dataclass(frozen=True)
class Planned:
    now: pendulum.DateTime
    cursor: pendulum.DateTime | None
    window_length: pendulum.Duration
    overlap: pendulum.Duration

    @cached_property
    def plan(self) -> WindowPlan:
        return plan_windows(
            listed_through=self.cursor,
            now=self.now,
            window_length=self.window_length,
            overlap=self.overlap,
        )

    @property
    def expected_start(self) -> pendulum.DateTime:
        return expected_start(self.now, self.cursor, self.overlap)


def expected_start(
    now: pendulum.DateTime, cursor: pendulum.DateTime | None, overlap: pendulum.Duration
) -> pendulum.DateTime:
    """Where listing must start: the cursor minus the overlap, but never before the floor."""
    floor = retention_floor(now)
    if cursor is None:
        return floor
    return max(truncated(cursor - overlap), floor)


@st.composite
def plans(draw: st.DrawFn) -> Planned:
    now = draw(instants)
    offset = draw(cursor_offsets)
    cursor = None if offset is None else now + pendulum.duration(microseconds=offset)
    overlap = pendulum.duration(seconds=draw(overlap_seconds))
    span = truncated(now).int_timestamp - expected_start(now, cursor, overlap).int_timestamp
    shortest = max(60, -(-span // MAX_DRAWN_WINDOWS))
    window_length = pendulum.duration(seconds=draw(st.integers(shortest, 96 * HOUR)))
    return Planned(now, cursor, window_length, overlap)


def _case(offset: int | None, window: int, overlap: int, micros: int = 0) -> Planned:
    now = NOW + pendulum.duration(microseconds=micros)
    cursor = None if offset is None else NOW + pendulum.duration(microseconds=offset)
    return Planned(
        now, cursor, pendulum.duration(seconds=window), pendulum.duration(seconds=overlap)
    )


_FLOOR_OFFSET = -(7 * DAY - HOUR) * 1_000_000  # the cursor at retention_floor(NOW)
# Cases hypothesis may not draw: the shortest and longest windows over a whole week, a cursor
# exactly at, just before and just after the floor, a cursor at "now".
BOUNDARY_CASES = [
    _case(None, 60, 0, micros=999_999),
    _case(None, 96 * HOUR, 0),
    _case(_FLOOR_OFFSET, 96 * HOUR, 0),
    _case(_FLOOR_OFFSET - 1, 96 * HOUR, 0, micros=1),
    _case(_FLOOR_OFFSET + 1, HOUR, HOUR),
    _case(0, 60, 0, micros=500_000),
    _case(-HOUR * 1_000_000, 60, 4 * HOUR),
]


def with_boundaries(test: Callable[..., None]) -> Callable[..., None]:
    for case in BOUNDARY_CASES:
        test = example(case=case)(test)
    return test


# --- plan_windows -----------------------------------------------------------------------------


@FAST
@given(case=plans())
@with_boundaries
def test_planned_windows_never_exceed_96_hours_nor_the_window_length(case: Planned) -> None:
    limit = min(MAX_WINDOW.total_seconds(), case.window_length.total_seconds())
    for window in case.plan.windows:
        assert seconds(window) <= limit


@FAST
@given(case=plans())
@with_boundaries
def test_planned_windows_never_start_before_the_retention_floor(case: Planned) -> None:
    floor = retention_floor(case.now)
    week_ago = case.now - RETENTION
    assert floor >= week_ago
    for window in case.plan.windows:
        assert window.start >= floor
        assert window.start >= week_ago


@FAST
@given(case=plans())
@with_boundaries
def test_planned_windows_are_contiguous_non_empty_and_in_whole_utc_seconds(
    case: Planned,
) -> None:
    windows = case.plan.windows
    for previous, following in itertools.pairwise(windows):
        assert following.start == previous.end
    for window in windows:
        assert window.start < window.end
        for bound in (window.start, window.end):
            assert bound.microsecond == 0
            assert bound.timezone_name == "UTC"


@FAST
@given(case=plans())
@with_boundaries
def test_planned_windows_cover_exactly_from_the_expected_start_to_now_in_whole_seconds(
    case: Planned,
) -> None:
    start, end = case.expected_start, truncated(case.now)
    windows = case.plan.windows
    if start >= end:
        assert windows == ()
    else:
        assert windows[0].start == start
        assert windows[-1].end == end
        assert sum(seconds(w) for w in windows) == end.int_timestamp - start.int_timestamp


@FAST
@given(case=plans())
@with_boundaries
def test_a_gap_is_reported_iff_the_cursor_is_older_than_the_retention_floor(
    case: Planned,
) -> None:
    floor = retention_floor(case.now)
    gap = case.plan.gap
    if case.cursor is not None and case.cursor < floor:
        assert gap is not None
        assert gap.start == truncated(case.cursor)
        assert gap.end == floor
        assert gap.reason
        # The gap ends where listing resumes: nothing between the gap and the first window.
        assert not case.plan.windows or case.plan.windows[0].start == gap.end
    else:
        assert gap is None


@FAST
@given(case=plans())
@with_boundaries
def test_every_planned_window_passes_the_api_limits_check(case: Planned) -> None:
    for window in case.plan.windows:
        check_window(window, case.now)


@pytest.mark.parametrize(
    "length",
    [
        pendulum.duration(0),
        pendulum.duration(seconds=59),
        pendulum.duration(seconds=59, microseconds=999_999),
        pendulum.duration(hours=-1),
        pendulum.duration(hours=96, seconds=1),
        pendulum.duration(days=5),
    ],
    ids=["zero", "59s", "just-under-1min", "negative", "96h+1s", "5d"],
)
def test_window_lengths_outside_one_minute_to_96_hours_are_refused(
    length: pendulum.Duration,
) -> None:
    with pytest.raises(ValueError, match="window length"):
        plan_windows(
            listed_through=None, now=NOW, window_length=length, overlap=pendulum.duration()
        )


@pytest.mark.parametrize("length", [MIN_SPLIT_WINDOW, MAX_WINDOW], ids=["one-minute", "96-hours"])
def test_window_lengths_at_the_limits_are_accepted(length: pendulum.Duration) -> None:
    plan = plan_windows(
        listed_through=None, now=NOW, window_length=length, overlap=pendulum.duration()
    )

    assert plan.windows
    assert max(w.length for w in plan.windows) == length


def test_retention_floor_is_a_week_ago_plus_the_margin_in_whole_utc_seconds() -> None:
    now = pendulum.datetime(2026, 3, 2, 13, 30, 15, 750_000, tz="Europe/Paris")

    floor = retention_floor(now)

    assert floor == pendulum.datetime(2026, 2, 23, 13, 30, 15)  # 12:30:15.75 UTC - 7 d + 1 h
    assert floor == truncated(now - RETENTION + RETENTION_MARGIN)
    assert floor.timezone_name == "UTC"


# --- list_untrimmed ---------------------------------------------------------------------------


@dataclass
class FakeListing:
    """The runs listing over synthetic start times, trimmed to the latest `cap` like the API."""

    starts: Sequence[pendulum.DateTime]
    cap: int
    calls: list[tuple[Window, list[int]]] = field(default_factory=list)

    def __call__(self, window: Window) -> list[int]:
        inside = sorted(
            (i for i, start in enumerate(self.starts) if window.start <= start <= window.end),
            key=lambda i: self.starts[i],
        )
        listed = inside[-self.cap :]
        self.calls.append((window, listed))
        return listed

    def in_window(self, window: Window) -> set[int]:
        return {i for i, start in enumerate(self.starts) if window.start <= start <= window.end}


def run_untrimmed(
    window: Window, starts: Sequence[pendulum.DateTime], cap: int
) -> tuple[FakeListing, list[Sequence[int]], list[Window]]:
    listing = FakeListing(starts, cap)
    trimmed: list[Window] = []
    yielded = list(list_untrimmed(window, listing, cap, trimmed.append))
    return listing, yielded, trimmed


@st.composite
def listings(draw: st.DrawFn) -> tuple[Window, list[pendulum.DateTime], int]:
    length = draw(st.integers(60, 96 * HOUR))
    start = NOW - pendulum.duration(days=6)
    window = Window(start, start + pendulum.duration(seconds=length))
    # Runs anywhere in the window (microsecond precision), some in dense clusters.
    offsets = draw(st.lists(st.integers(0, length * 1_000_000), max_size=120))
    clusters = draw(st.lists(st.integers(0, length * 1_000_000), max_size=3))
    for centre in clusters:
        size = draw(st.integers(1, 30))
        offsets += [centre] * size
    starts = [start + pendulum.duration(microseconds=offset) for offset in offsets]
    cap = draw(st.integers(1, 25))
    return window, starts, cap


@FAST
@given(case=listings())
def test_list_untrimmed_loses_no_run_outside_the_windows_it_reports(
    case: tuple[Window, list[pendulum.DateTime], int],
) -> None:
    window, starts, cap = case
    listing, yielded, trimmed = run_untrimmed(window, starts, cap)

    seen = {item for items in yielded for item in items}
    reported = set().union(*(listing.in_window(w) for w in trimmed))
    assert seen | reported == set(range(len(starts)))
    if not trimmed:
        assert seen == set(range(len(starts)))


@FAST
@given(case=listings())
def test_list_untrimmed_halves_each_window_reaching_the_cap_until_below_it(
    case: tuple[Window, list[pendulum.DateTime], int],
) -> None:
    window, starts, cap = case
    listing, yielded, trimmed = run_untrimmed(window, starts, cap)

    calls = {id(items): w for w, items in listing.calls}
    for items in yielded:
        listed_window = calls[id(items)]
        assert len(items) < cap or listed_window in trimmed
    # A window is listed again in halves exactly when its listing reached the cap.
    requested = [w for w, _ in listing.calls]
    halved = [
        w for w, items in listing.calls if len(items) >= cap and w.length >= MIN_SPLIT_WINDOW * 2
    ]
    for w in halved:
        assert all(half in requested for half in w.halves())
    assert len(requested) == 1 + 2 * len(halved)
    for w, items in listing.calls:
        if len(items) < cap:
            assert w not in trimmed


@FAST
@given(case=listings())
def test_list_untrimmed_never_halves_below_one_minute(
    case: tuple[Window, list[pendulum.DateTime], int],
) -> None:
    window, starts, cap = case
    listing, _, trimmed = run_untrimmed(window, starts, cap)

    for listed_window, _ in listing.calls:
        assert listed_window.length >= MIN_SPLIT_WINDOW
    for reported in trimmed:
        assert MIN_SPLIT_WINDOW <= reported.length < MIN_SPLIT_WINDOW * 2
        assert len(listing.in_window(reported)) >= cap


def test_a_window_below_the_cap_is_listed_once_and_yielded_as_is() -> None:
    window = Window(NOW - pendulum.duration(hours=4), NOW)
    starts = [NOW - pendulum.duration(minutes=m) for m in (10, 70, 130)]

    listing, yielded, trimmed = run_untrimmed(window, starts, cap=4)

    assert [w for w, _ in listing.calls] == [window]
    assert yielded == [listing.calls[0][1]]
    assert trimmed == []


def test_a_window_whose_listing_equals_the_cap_is_halved() -> None:
    window = Window(NOW - pendulum.duration(hours=4), NOW)
    starts = [NOW - pendulum.duration(minutes=m) for m in (10, 70, 130, 190)]

    listing, yielded, trimmed = run_untrimmed(window, starts, cap=4)

    assert [w for w, _ in listing.calls][:3] == [window, *window.halves()]
    assert sorted(i for items in yielded for i in items) == [0, 1, 2, 3]
    assert trimmed == []


def test_more_than_cap_runs_within_two_minutes_are_yielded_as_listed_and_reported() -> None:
    window = Window(NOW - pendulum.duration(hours=2), NOW)
    burst = NOW - pendulum.duration(minutes=30)
    dense = [burst + pendulum.duration(seconds=s) for s in range(8)]  # 8 runs in 8 seconds
    sparse = [NOW - pendulum.duration(minutes=m) for m in (5, 90)]

    listing, yielded, trimmed = run_untrimmed(window, dense + sparse, cap=5)

    assert len(trimmed) == 1
    (reported,) = trimmed
    assert reported.length < MIN_SPLIT_WINDOW * 2
    assert reported.start <= burst
    assert burst + pendulum.duration(seconds=7) <= reported.end
    reported_items = next(items for w, items in listing.calls if w == reported)
    assert reported_items in yielded
    assert reported_items == [3, 4, 5, 6, 7]  # the API kept the latest five of the burst
    assert {8, 9} <= {i for items in yielded for i in items}


# --- check_window and clamp_to_floor -----------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (Window(NOW - pendulum.duration(hours=96, seconds=1), NOW), "longer than 96 hours"),
        (Window(NOW - pendulum.duration(days=10), NOW - pendulum.duration(days=9)), "7 days"),
        (
            Window(NOW - RETENTION - pendulum.duration(seconds=1), NOW - pendulum.duration(days=6)),
            "7 days",
        ),
        (Window(NOW, NOW), "empty"),
        (Window(NOW, NOW - pendulum.duration(hours=1)), "empty"),
    ],
    ids=["96h+1s", "older-than-a-week", "one-second-too-old", "empty", "inverted"],
)
def test_check_window_refuses_windows_the_api_would_reject(window: Window, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_window(window, NOW)


@pytest.mark.parametrize(
    "window",
    [
        Window(NOW - MAX_WINDOW, NOW),
        Window(NOW - RETENTION, NOW - RETENTION + MAX_WINDOW),
        Window(NOW - pendulum.duration(seconds=1), NOW),
    ],
    ids=["exactly-96h", "starting-exactly-a-week-ago", "one-second"],
)
def test_check_window_accepts_windows_at_the_documented_limits(window: Window) -> None:
    check_window(window, NOW)


FLOOR = NOW - pendulum.duration(days=6, hours=23)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (Window(FLOOR - pendulum.duration(hours=5), FLOOR - pendulum.duration(hours=1)), None),
        (Window(FLOOR - pendulum.duration(hours=5), FLOOR), None),
        (
            Window(FLOOR - pendulum.duration(hours=5), FLOOR + pendulum.duration(hours=1)),
            Window(FLOOR, FLOOR + pendulum.duration(hours=1)),
        ),
        (
            Window(FLOOR, FLOOR + pendulum.duration(hours=1)),
            Window(FLOOR, FLOOR + pendulum.duration(hours=1)),
        ),
        (
            Window(FLOOR + pendulum.duration(hours=2), FLOOR + pendulum.duration(hours=3)),
            Window(FLOOR + pendulum.duration(hours=2), FLOOR + pendulum.duration(hours=3)),
        ),
    ],
    ids=["before-floor", "ending-at-floor", "straddling", "starting-at-floor", "after-floor"],
)
def test_clamp_to_floor_keeps_only_the_part_at_or_after_the_floor(
    window: Window, expected: Window | None
) -> None:
    assert clamp_to_floor(window, FLOOR) == expected
