"""`schemathesis run <document> --checks all` on both doors of a freshly started stack (issue 14).

    .venv/bin/python -m bench.fuzz.stack [--examples 35] [--seed N] [--doors v2,api] [--roles admin,viewer]

Starts the stack as the README's run command does, on free ports (tests/hardening/stack_fuzzing.py),
runs the served document (/api/v2) and the same document with its paths moved (/api) with every
check, as admin and as viewer, and prints cases and failures per door, role and check, the
operations that only ever answered 401/403, and the failures issue 14's request-side work removes
(tests/hardening/fuzz_contract.py REQUEST_SIDE) apart. Runs in a network namespace of its own
when `unshare` can make one, so URLs the fuzzer invents reach nothing but loopback. Exit 1 on any
failure.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from src.deploy.nginx import find_nginx  # noqa: E402  # after the sys.path line above
from tests.hardening.stack_fuzzing import (  # noqa: E402  # after the sys.path line above
    PREFIXES,
    RunFigures,
    ServedStack,
    bring_loopback_up,
    only_refused,
    run_schemathesis,
)

NETNS_MARK = "FUZZ_IN_NETNS"


def reexec_in_network_namespace(seed: int) -> None:
    """Run this command again inside a network namespace holding only loopback (when possible)."""
    if os.environ.get(NETNS_MARK) or shutil.which("unshare") is None:
        return
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    if subprocess.run(["unshare", *flags, "true"], capture_output=True).returncode != 0:
        print("unshare cannot make a network namespace here: fuzzed URLs are refused by the URL guard only")
        return
    argv = [sys.executable, "-m", "bench.fuzz.stack", *sys.argv[1:], "--seed", str(seed)]
    os.execvpe("unshare", ["unshare", *flags, *argv], {**os.environ, NETNS_MARK: "1"})


def print_run(run: RunFigures) -> None:
    print(f"{run.door:3} {run.role:6} cases {run.cases:6}  check failures {sum(run.failures.values()):5}  "
          f"errors {len(run.errors)}  exit {run.exit_code}  {run.seconds:5.0f} s", flush=True)
    for name in sorted(run.checks):
        print(f"    {name:30} run {run.checks[name]:7}  failed {run.failures[name]:5}")
    for (operation, check), title in sorted(run.other_failures().items()):
        print(f"    FAIL {operation} [{check}] {title}")
    for (operation, check), title in sorted(run.request_side().items()):
        print(f"    FAIL (request side) {operation} [{check}] {title}")
    for error in run.errors:
        print(f"    ERROR {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=45, help="--max-examples (45: >10,000 cases a door)")
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    # 1: with 2, hypothesis's lambda descriptions race in CPython 3.11's ast (a schemathesis
    # "Runtime Error: AST constructor recursion depth mismatch" on an operation or two per run).
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--doors", default="v2,api")
    parser.add_argument("--roles", default="admin,viewer")
    parser.add_argument("--keep", help="keep documents, reports and logs in this folder")
    args = parser.parse_args()
    reexec_in_network_namespace(args.seed)
    if os.environ.get(NETNS_MARK):
        bring_loopback_up()

    folder = Path(args.keep or tempfile.mkdtemp(prefix="fuzz-stack-"))
    folder.mkdir(parents=True, exist_ok=True)
    stack = ServedStack(folder, find_nginx())
    print(f"seed {args.seed}, --max-examples {args.examples}, stack on {stack.base}, files in {folder}", flush=True)
    failures = request_side = 0
    try:
        stack.start()
        stack.documents(folder)
        for door in args.doors.split(","):
            runs = [run_schemathesis(stack, folder, door, role, examples=args.examples, seed=args.seed,
                                     workers=args.workers) for role in args.roles.split(",")]
            for run in runs:
                print_run(run)
                failures += len(run.other_failures()) + len(run.errors) + (run.exit_code not in (0, 1))
                request_side += len(run.request_side())
            refused = only_refused(runs)
            failures += len(refused)
            print(f"{door:3} ({PREFIXES[door]}) total: cases {sum(run.cases for run in runs)}, "
                  f"failures {sum(len(run.failed) + len(run.errors) for run in runs)} "
                  f"(request side {sum(len(run.request_side()) for run in runs)}), "
                  f"operations answering only 401/403: {refused or 'none'}", flush=True)
    finally:
        stack.stop()
    print(f"total: failures {failures + request_side} ({request_side} request side)")
    return 1 if failures + request_side else 0


if __name__ == "__main__":
    sys.exit(main())
