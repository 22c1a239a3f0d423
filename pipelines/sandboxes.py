"""Run the vendor emulators on loopback and point jobpulse at them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager

from jobpulse.pipelines.registry import SOURCES


@contextmanager
def running_sandboxes(names: Sequence[str], port: int = 0) -> Iterator[dict[str, str]]:
    """Start the named sandboxes; yield the settings (environment form) that point at them.

    With `port` 0 each sandbox takes a free port; otherwise they take `port`, `port + 1`, ...
    """
    settings: dict[str, str] = {}
    with ExitStack() as stack:
        for offset, name in enumerate(names):
            vendor = SOURCES[name]
            sandbox = vendor.make_sandbox(port + offset if port else 0)
            sandbox.start()
            stack.callback(sandbox.stop)
            settings.update(vendor.sandbox_settings(sandbox))
        yield settings


@contextmanager
def environment(settings: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables (where dlt reads settings) for the duration of the block."""
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
