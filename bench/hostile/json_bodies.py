"""Class 1: JSON the parser or the database cannot take, on every JSON route of both doors.

Each route that takes a JSON body (from the v2 OpenAPI document; the legacy door serves the same
paths under /api) gets bodies nested 1,000 deep, lone surrogates and NUL in every string field.
A 5xx, or a 4xx outside the envelope, is a failure; so is a 201 for a body whose every string
holds a NUL (a row stored with a NUL: SQLite would, PostgreSQL cannot).
"""

from __future__ import annotations

import json
from typing import Any

from bench.hostile.report import ClassReport, describe, envelope_ok
from bench.hostile.stack import ADMIN, PREFIXES, HostileStack

MISSING_ID = "00000000-0000-0000-0000-000000000000"
DEPTH = 1000
FALLBACK_FIELDS = ("name", "username", "email", "password")


def _fields(document: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = document.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return list(schema.get("properties", {})) or list(FALLBACK_FIELDS)


def json_routes(document: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, v2 path with ids filled in, body field names) of every operation with a JSON body."""
    routes = []
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                filled = path
                while "{" in filled:
                    start, end = filled.index("{"), filled.index("}")
                    filled = filled[:start] + MISSING_ID + filled[end + 1:]
                routes.append((method.upper(), filled, _fields(document, operation)))
    return routes


def bodies(fields: list[str]) -> dict[str, bytes]:
    return {
        "nested objects": ('{"a":' * DEPTH + "1" + "}" * DEPTH).encode(),
        "nested arrays": ("[" * DEPTH + "]" * DEPTH).encode(),
        # json.dumps writes lone surrogates and NUL as \\ud800 / \\u0000 escapes, as a client would.
        "lone surrogate": json.dumps({name: "x\ud800y" for name in fields}).encode(),
        "NUL": json.dumps({name: "x\u0000y" for name in fields}).encode(),
    }


def probe(stack: HostileStack) -> ClassReport:
    report = ClassReport(1, "deep nesting / lone surrogate / NUL JSON, every JSON route")
    with stack.new_client() as client:
        document = client.get("/api/v2/openapi.json").json()
        routes = json_routes(document)
        for door, prefix in PREFIXES.items():
            for method, path, fields in routes:
                url = prefix + path.removeprefix("/api/v2")
                for label, body in bodies(fields).items():
                    # A logout that goes through revokes its token: it gets one of its own.
                    token = (stack.login(prefix, ADMIN["username"], ADMIN["password"]) if path.endswith("/logout")
                             else stack.tokens[door])
                    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                    response = client.request(method, url, content=body, headers=headers)
                    case = f"{door} {method} {url} [{label}]: {describe(response)}"
                    if response.status_code >= 500:
                        report.check(False, case)
                    elif response.status_code >= 400:
                        report.check(envelope_ok(response), case + " (not the envelope)")
                    else:
                        report.check(not (label == "NUL" and response.status_code == 201), case + " (stored a NUL)")
    report.figures.append(f"{len(routes)} JSON routes per door")
    return report
