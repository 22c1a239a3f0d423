"""Planning the time windows of the runs listing, within the API's documented limits.

The listing takes `from`/`to` and refuses windows over 96 hours or starting more than a week
ago; it also trims a window's result to the latest 10,000. Planning is pure (no I/O) so that
its guarantees can be checked as properties: windows are contiguous, cover the range, never
exceed 96 hours and never start before the retention floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pendulum

from jobpulse.sources.shared.gaps import Gap
from jobpulse.sources.snowplow.settings import (
    MAX_WINDOW,
    MIN_SPLIT_WINDOW,
    RETENTION,
    RETENTION_MARGIN,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """A closed time span `[start, end]` of run start times, in whole seconds."""

    start: pendulum.DateTime
    end: pendulum.DateTime

    @property
    def length(self) -> pendulum.Duration:
        return self.end - self.start

    def halves(self) -> tuple[Window, Window]:
        middle = self.start.add(seconds=int(self.length.total_seconds()) // 2)
        return Window(self.start, middle), Window(middle, self.end)


@dataclass(frozen=True)
class WindowPlan:
    windows: tuple[Window, ...]
    gap: Gap | None


def retention_floor(now: pendulum.DateTime) -> pendulum.DateTime:
    """The earliest instant jobpulse asks for: a week ago, plus a safety margin."""
    return whole_seconds(now - RETENTION + RETENTION_MARGIN)


def whole_seconds(moment: pendulum.DateTime) -> pendulum.DateTime:
    return moment.in_timezone("UTC").replace(microsecond=0)


def plan_windows(
    *,
    listed_through: pendulum.DateTime | None,
    now: pendulum.DateTime,
    window_length: pendulum.Duration,
    overlap: pendulum.Duration,
) -> WindowPlan:
    """Windows that list every run started since `listed_through - overlap` (or since the
    retention floor on a first load) up to `now`.

    A `listed_through` older than the retention floor means runs were lost to the vendor's
    retention before jobpulse could list them: the plan starts at the floor and reports the gap.
    """
    if not MIN_SPLIT_WINDOW <= window_length <= MAX_WINDOW:
        raise ValueError(
            f"window length must be between {MIN_SPLIT_WINDOW.in_words()} and "
            f"{MAX_WINDOW.in_words()}, got {window_length.in_words()}"
        )
    now = whole_seconds(now)
    floor = retention_floor(now)
    gap = None
    if listed_through is None:
        start = floor
    else:
        start = max(whole_seconds(listed_through - overlap), floor)
        if listed_through < floor:
            gap = Gap(
                whole_seconds(listed_through),
                floor,
                "no load for longer than the API's 7-day retention; runs in this span are gone",
            )
    return WindowPlan(_contiguous(start, now, window_length), gap)


def _contiguous(
    start: pendulum.DateTime, end: pendulum.DateTime, length: pendulum.Duration
) -> tuple[Window, ...]:
    windows = []
    while start < end:
        stop = min(start + length, end)
        windows.append(Window(start, stop))
        start = stop
    return tuple(windows)


def list_untrimmed(
    window: Window,
    list_window: Callable[[Window], Sequence[T]],
    cap: int,
    on_trimmed: Callable[[Window], None],
) -> Iterator[Sequence[T]]:
    """Yield the listing of `window`, halving any window whose result reaches `cap`.

    The API keeps only the latest items of a window that reaches the cap, silently dropping the
    earliest; halving until each part stays under the cap loses nothing. A window too short to
    halve again is yielded as it is and reported through `on_trimmed`.
    """
    items = list_window(window)
    if len(items) < cap:
        yield items
    elif window.length < MIN_SPLIT_WINDOW * 2:
        on_trimmed(window)
        yield items
    else:
        for half in window.halves():
            yield from list_untrimmed(half, list_window, cap, on_trimmed)


def clamp_to_floor(window: Window, floor: pendulum.DateTime) -> Window | None:
    """The part of `window` at or after `floor` (None if nothing is left).

    A long load can outlive the retention margin; its remaining windows are cut, not sent.
    """
    if window.end <= floor:
        return None
    return Window(max(window.start, floor), window.end)


def check_window(window: Window, now: pendulum.DateTime) -> None:
    """Raise ValueError for a window the API would reject, so that it is never sent."""
    if window.start >= window.end:
        raise ValueError(f"empty window {window.start} .. {window.end}")
    if window.length > MAX_WINDOW:
        raise ValueError(f"window {window.start} .. {window.end} is longer than 96 hours")
    if window.start < now - RETENTION:
        raise ValueError(f"window {window.start} .. {window.end} starts more than 7 days ago")
