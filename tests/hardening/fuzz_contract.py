"""What the schemathesis stack run (tests/proxy/test_fuzz_stack.py, bench/fuzz/stack.py) is told.

SEMANTIC_400: operations where the contract answers 400 to input the document's schema accepts,
for a reason a JSON schema cannot state; only there does positive_data_acceptance also accept
400. REQUEST_SIDE_PENDING: the operations whose request-side checks' failures are still reported
apart (their request model does not yet state its rule); every other failure fails.
"""

from __future__ import annotations

# (method, path under the prefix) -> why schema-valid input may still be a 400.
SEMANTIC_400: dict[tuple[str, str], str] = {
    ("DELETE", "/auth/users/{user_id}"): "an admin cannot delete their own account (who, not what)",
    ("POST", "/jobs"): "the cron expression must be a valid 5-field cron, pic_team must name an existing "
                       "team, the end date must be in the future, a target URL must be an allowed address",
    ("PUT", "/jobs/{job_id}"): "same rules as POST /jobs, against the stored job",
    ("POST", "/jobs/{job_id}/execute"): "the target URL must be an allowed address (URL guard)",
    ("POST", "/jobs/test-run"): "the target URL must be an allowed address (URL guard)",
    ("POST", "/cron/test-run"): "the target URL must be an allowed address (URL guard)",
    ("POST", "/cron/next-runs"): "the expression must be a valid 5-field cron",
    ("POST", "/jobs/cron-preview"): "the expression must be a valid 5-field cron",
    ("POST", "/jobs/bulk-upload"): "each CSV row must be a valid job (same rules as POST /jobs)",
    ("PUT", "/settings/slack"): "the webhook must be an allowed https address (URL guard)",
    **{(method, path): "the date range's effective `from` must be earlier than its `to` (1.7)"
       for method, path in (
           ("GET", "/executions"),
           ("GET", "/executions/statistics"),
           ("GET", "/stats/executions"),
           ("GET", "/jobs/{job_id}/executions"),
           ("GET", "/notifications"),
           ("GET", "/notifications/unread-count"),
           ("DELETE", "/notifications/read"),
           ("DELETE", "/notifications/delete-read"),
       )},
}

# The checks that judge the request side of the document: documented input refused
# (positive_data_acceptance), undocumented input accepted (negative_data_rejection). Their
# failures were issue 14's move of request parsing to Pydantic models in the route signatures
# (free-string dates refused as "Invalid date", `{}` bodies, booleans coerced, both-nullable
# "one of" fields), reported apart while it was under way. Only the operations below are still
# reported apart; empty it when their models are done, and every failure of every check fails.
REQUEST_SIDE_PENDING: frozenset[tuple[str, str]] = frozenset()
REQUEST_SIDE_CHECKS = frozenset({"positive_data_acceptance", "negative_data_rejection"})

PHASES = "examples,coverage,fuzzing,stateful"
# negative_data_rejection's statuses: schemathesis's defaults and the size refusals.
NEGATIVE_DATA_REJECTED = ("400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429",
                          "431", "5xx")


def schemathesis_toml(prefix: str) -> str:
    """The config file for one door: generation settings and the SEMANTIC_400 operations."""
    lines = [
        "[generation]",
        # The contract refuses a NUL byte in any text (PostgreSQL cannot store it), documented
        # once in docs/API_CONTRACT.md rather than as a pattern on every string; the in-process
        # harness (tests/hardening/fuzzing.py) still sends NULs for not_a_server_error.
        "allow-x00 = false",
        'codec = "utf-8"',
        "",
        # A request refused for its size (body, request line, headers) is rejected too: the
        # stack answers 413/414/431 in the envelope (contract 1.3) before any schema is read.
        "[checks.negative_data_rejection]",
        "expected-statuses = [" + ", ".join(f'"{status}"' for status in NEGATIVE_DATA_REJECTED) + "]",
        "",
    ]
    for (method, path), why in SEMANTIC_400.items():
        lines += [
            f"# {why}",
            "[[operations]]",
            f'include-path = "{prefix}{path}"',
            f'include-method = "{method}"',
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", '
            '"429", "5xx"]',
            "",
        ]
    return "\n".join(lines)


def is_request_side(operation: str, check: str, prefix: str) -> bool:
    """Whether a failure of `check` on `operation` ("POST /api/v2/auth/logout") is reported apart."""
    method, _, path = operation.partition(" ")
    return check in REQUEST_SIDE_CHECKS and (method, path.removeprefix(prefix)) in REQUEST_SIDE_PENDING
