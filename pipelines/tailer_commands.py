"""`jobpulse tailer launch|status|reset-workflow|set-status`: Tailer actions, for schedulers.

Thin commands over the Tailer API's write actions and status checks, with the identity flags of
every request and the `_<ENVIRONMENT>` suffix rule of `jobpulse load`. Loads never call these.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import dlt
import pendulum
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue

from jobpulse.pipelines.pipeline import explain
from jobpulse.sources.tailer.client import TailerClient
from jobpulse.sources.tailer.identity import Operation, log_suffixes, operation_from
from jobpulse.sources.tailer.records import is_terminal, normalized_status
from jobpulse.sources.tailer.settings import DEFAULT_BASE_URL, MAX_LIMIT, SUCCESS_STATUS

# `launch --wait` polls every FIRST_POLL seconds, growing by POLL_GROWTH up to MAX_POLL.
FIRST_POLL_SECONDS = 5.0
POLL_GROWTH = 1.5
MAX_POLL_SECONDS = 60.0
DEFAULT_TIMEOUT_SECONDS = 6 * 3600
# Where launch --wait looks for the launched run's job_id: the latest runs of the operation.
_FIND_LIMIT = 50

EXIT_FAILED = 1
EXIT_TIMEOUT = 2


def add_tailer_parser(commands: Any) -> None:
    """Add `tailer` and its sub-commands to the `jobpulse` command parser."""
    tailer = commands.add_parser(
        "tailer", help="launch, check, reset or (de)activate Tailer data operations"
    )
    actions = tailer.add_subparsers(
        title="tailer commands", dest="tailer_action", required=True, metavar="ACTION"
    )

    launch = actions.add_parser("launch", help="launch a job; print its run id")
    _identity_flags(launch)
    launch.add_argument("--execution-date", type=_date, help="YYYY-MM-DD (optional)")
    launch.add_argument("--wait", action="store_true", help="wait until the run is terminal")
    launch.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds --wait waits before giving up with exit code 2 "
        f"(default {DEFAULT_TIMEOUT_SECONDS})",
    )  # fmt: skip
    launch.set_defaults(command=_launch)

    status = actions.add_parser("status", help="print the last runs, or one run, as JSON")
    _identity_flags(status)
    status.add_argument("--run-id", help="check this run (check_run_status)")
    status.add_argument("--job-id", help="the run's job_id (found from the last runs if absent)")
    status.add_argument("--execution-date", type=_date, help="only runs started that UTC day")
    status.add_argument("--status", dest="run_status", help="only runs with this status")
    status.add_argument("--limit", type=_limit, default=10, help="at most this many (1-1000)")
    status.set_defaults(command=_status)

    reset = actions.add_parser("reset-workflow", help="reset a workflow's triggered jobs")
    _identity_flags(reset)
    reset.set_defaults(command=_reset)

    set_status = actions.add_parser("set-status", help="activate, deactivate or archive")
    _identity_flags(set_status)
    set_status.add_argument("--activated", action=argparse.BooleanOptionalAction, required=True)
    set_status.add_argument("--archived", action=argparse.BooleanOptionalAction, required=True)
    set_status.set_defaults(command=_set_status)


def _identity_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", required=True)
    parser.add_argument("--environment", required=True, help="DEV, PROD, ...")
    parser.add_argument("--configuration-type", required=True, help="table-to-table, workflow, ...")
    parser.add_argument(
        "--configuration-id", required=True,
        help="as in your Tailer JSON file; table-to-table ids get _<ENVIRONMENT> added",
    )  # fmt: skip


def _date(text: str) -> str:
    try:
        return pendulum.from_format(text, "YYYY-MM-DD").to_date_string()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_LIMIT}, got {value}")
    return value


@with_config(sections=("sources", "tailer"))
def tailer_client(
    jwt: TSecretStrValue = dlt.secrets.value, base_url: str = DEFAULT_BASE_URL
) -> TailerClient:
    """A client from the same settings as the source: SOURCES__TAILER__JWT and __BASE_URL."""
    return TailerClient(base_url, jwt)


def _operation(args: argparse.Namespace) -> Operation:
    entry = {
        "account": args.account,
        "environment": args.environment,
        "configuration_type": args.configuration_type,
        "configuration_id": args.configuration_id,
    }
    operation = operation_from(entry, "the command line")
    log_suffixes([operation])
    return operation


def _run_action(args: argparse.Namespace, run: Callable[[TailerClient, Operation], int]) -> int:
    """Run a command's body with a client from the settings; errors explained on stderr."""
    try:
        return run(tailer_client(), _operation(args))
    except Exception as exc:
        print(f"tailer {args.tailer_action}: FAILED: {explain(exc)}", file=sys.stderr)
        return EXIT_FAILED


def _launch(args: argparse.Namespace) -> int:
    def run(client: TailerClient, operation: Operation) -> int:
        run_id = client.launch_job(operation, args.execution_date)
        print(run_id, flush=True)
        if not args.wait:
            return 0
        return wait_for_run(client, operation, run_id, timeout=args.timeout)

    return _run_action(args, run)


def wait_for_run(client: TailerClient, operation: Operation, run_id: str, *, timeout: float) -> int:
    """Poll until the run is terminal: 0 on SUCCESS, 1 otherwise, 2 when `timeout` passes."""
    deadline = time.monotonic() + timeout
    pause = FIRST_POLL_SECONDS
    job_id: str | None = None
    while True:
        run = None
        if job_id is None:
            job_id, run = _find_launched(client, operation, run_id)
        if job_id is not None:
            found = client.check_run_status(operation, job_id, run_id)
            run = next((r for r in found if r.get("run_id") == run_id), run)
        status = str(run.get("status")) if run else "not listed yet"
        if run is not None and is_terminal(run):
            print(f"run {run_id}: {status}", file=sys.stderr)
            return 0 if normalized_status(run) == SUCCESS_STATUS else EXIT_FAILED
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"run {run_id}: still {status} after {timeout:g} s; gave up", file=sys.stderr)
            return EXIT_TIMEOUT
        print(f"run {run_id}: {status}; next check in {min(pause, left):.0f} s", file=sys.stderr)
        time.sleep(min(pause, left))
        pause = min(pause * POLL_GROWTH, MAX_POLL_SECONDS)


def _find_launched(
    client: TailerClient, operation: Operation, run_id: str
) -> tuple[str | None, dict[str, Any] | None]:
    """The launched run's job_id (launch_job answers only the run id), from the last runs."""
    for run in client.get_last_status(operation, limit=_FIND_LIMIT):
        if run.get("run_id") == run_id and run.get("job_id"):
            return str(run["job_id"]), run
    return None, None


def _status(args: argparse.Namespace) -> int:
    def run(client: TailerClient, operation: Operation) -> int:
        if args.run_id:
            job_id = args.job_id or _find_launched(client, operation, args.run_id)[0]
            if job_id is None:
                print(f"run {args.run_id} not among the last runs; pass --job-id", file=sys.stderr)
                return EXIT_FAILED
            results = client.check_run_status(operation, job_id, args.run_id)
        else:
            results = client.get_last_status(
                operation,
                limit=args.limit,
                execution_date=args.execution_date,
                status=args.run_status,
            )
        print(json.dumps({"results": results}, indent=2))
        return 0

    return _run_action(args, run)


def _reset(args: argparse.Namespace) -> int:
    def run(client: TailerClient, operation: Operation) -> int:
        client.reset_workflow_status(operation)
        print(f"workflow {operation.api_configuration_id} reset")
        return 0

    return _run_action(args, run)


def _set_status(args: argparse.Namespace) -> int:
    def run(client: TailerClient, operation: Operation) -> int:
        client.set_configuration_status(operation, activated=args.activated, archived=args.archived)
        print(
            f"{operation.api_configuration_id}: activated={str(args.activated).lower()}, "
            f"archived={str(args.archived).lower()}"
        )
        return 0

    return _run_action(args, run)
