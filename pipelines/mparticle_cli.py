"""`jobpulse mparticle ...`: the explicit mParticle operations (never run by a load)."""

from __future__ import annotations

import argparse
from typing import Any

from jobpulse.pipelines.pipeline import explain
from jobpulse.sources.mparticle.check import make_client
from jobpulse.sources.mparticle.trigger import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    Outcome,
    trigger,
)


def add_mparticle_commands(commands: Any) -> None:
    """Register `mparticle trigger` on the CLI's sub-command parsers."""
    mparticle = commands.add_parser("mparticle", help="mParticle Warehouse Sync operations")
    actions = mparticle.add_subparsers(title="operations", required=True, metavar="OPERATION")
    trigger_cmd = actions.add_parser(
        "trigger",
        help="start a run of a pipeline (POST pipelines/{id})",
        description="Exit codes: 0 triggered (with --wait: succeeded), 1 the run failed, "
        "2 timed out waiting, 3 not triggered (already in progress, unknown pipeline, error).",
    )
    trigger_cmd.add_argument("pipeline_id", metavar="PIPELINE_ID")
    trigger_cmd.add_argument("--wait", action="store_true", help="wait until the run is terminal")
    trigger_cmd.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"with --wait: give up after this many seconds (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    trigger_cmd.add_argument(
        "--poll-interval",
        type=_positive_seconds,
        default=DEFAULT_POLL_SECONDS,
        help=f"with --wait: seconds between status requests (default {DEFAULT_POLL_SECONDS:g})",
    )
    trigger_cmd.set_defaults(command=_trigger)


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _trigger(args: argparse.Namespace) -> int:
    try:
        client = make_client()
    except Exception as exc:
        print(f"mparticle: FAILED: {explain(exc)}")
        return int(Outcome.NOT_TRIGGERED)
    result = trigger(
        client,
        args.pipeline_id,
        wait=args.wait,
        timeout=args.timeout,
        poll_seconds=args.poll_interval,
    )
    print(result.message)
    return int(result.outcome)
