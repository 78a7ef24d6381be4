"""The /api/v2 docs work offline and the OpenAPI document describes the whole contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from src.config import Settings
from src.fastapi_app.operation_docs import ALIASES, OPERATIONS
from tests.api.conftest import fastapi_http
from tests.parity.contract_table import contract_endpoints, normalize, table_rows, v2_only_rows

ORIGIN = "http://testserver"
PREFIX = "/api/v2"
CDN_HOSTS = ("jsdelivr", "unpkg", "googleapis", "gstatic", "cdnjs", "cloudflare", "fastly", "bootstrapcdn")
# Attribute references and quoted absolute paths / URLs inside inline scripts (`url: '/api/v2/...'`).
REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|["'](/[^"'\s]*|https?://[^"'\s]+)["']""")
ADDRESS = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture
def http(settings: Settings) -> Iterator[httpx.Client]:
    with fastapi_http(settings) as client:
        yield client


@pytest.fixture
def spec(http: httpx.Client) -> dict[str, Any]:
    response = http.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]  # JSON is untyped


def references(html: str, page: str) -> set[str]:
    found = {first or second for first, second in REFERENCE.findall(html)}
    return {urljoin(ORIGIN + page, url) for url in found}


@pytest.mark.parametrize("page", [f"{PREFIX}/docs", f"{PREFIX}/redoc"])
def test_docs_page_references_only_this_server(http: httpx.Client, page: str) -> None:
    response = http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    for host in CDN_HOSTS:
        assert host not in html.lower()
    assert [address for address in ADDRESS.findall(html) if not address.startswith(ORIGIN + "/")] == []
    urls = references(html, page)
    assert f"{ORIGIN}{PREFIX}/openapi.json" in urls
    assert any(url.endswith(".js") for url in urls)
    for url in urls:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == ORIGIN, url
        fetched = http.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert fetched.status_code == 200, url
        assert fetched.content, url
        assert fetched.headers["x-served-by"] == "fastapi"


def test_swagger_page_loads_its_script_stylesheet_and_oauth_redirect(http: httpx.Client) -> None:
    urls = references(http.get(f"{PREFIX}/docs").text, f"{PREFIX}/docs")
    paths = {urlsplit(url).path for url in urls}
    assert {f"{PREFIX}/docs-assets/swagger-ui-bundle.js", f"{PREFIX}/docs-assets/swagger-ui.css",
            f"{PREFIX}/docs/oauth2-redirect"} <= paths
    script = http.get(f"{PREFIX}/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    assert len(script.content) > 100_000


def test_redoc_page_loads_its_script_without_google_fonts(http: httpx.Client) -> None:
    html = http.get(f"{PREFIX}/redoc").text
    assert "fonts.googleapis" not in html
    script = http.get(f"{PREFIX}/docs-assets/redoc.standalone.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), normalize(path))
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "delete"}
    }


def test_contract_table_has_51_endpoints_and_13_prefixed_aliases() -> None:
    rows = table_rows()
    assert len(rows) == 51
    assert sum(len(aliases) for _m, _p, aliases, _u in rows) == 13
    assert [path for _m, path, _a, unprefixed in rows if unprefixed] == ["/health"]


def test_openapi_lists_every_contract_endpoint_and_alias(spec: dict[str, Any]) -> None:
    canonical = {(method, PREFIX + path) for method, path in contract_endpoints(include_aliases=False)}
    everything = {(method, PREFIX + path) for method, path in contract_endpoints(include_aliases=True)}
    assert len(canonical) == 51
    assert len(everything) == 51 + 13
    assert canonical - documented(spec) == set()
    assert everything - documented(spec) == set()
    # Nothing undocumented by the contract is published either; 12.1 lists the /api/v2-only ones.
    v2_only = {(method, PREFIX + normalize(path)) for method, path, _role in v2_only_rows()}
    assert v2_only and v2_only <= documented(spec)
    assert documented(spec) - everything - v2_only == set()


def test_unprefixed_health_alias_answers(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_declares_a_non_empty_success_model(spec: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(spec):
        success = [operation["responses"][code] for code in ("200", "201") if code in operation["responses"]]
        schemas = [item.get("content", {}).get("application/json", {}).get("schema") for item in success]
        if len(schemas) != 1 or not schemas[0] or not resolve(spec, schemas[0]).get("properties"):
            missing.append(name)
    assert missing == []


def test_every_error_response_uses_the_envelope_and_none_is_422(spec: dict[str, Any]) -> None:
    envelope = spec["components"]["schemas"]["ErrorBody"]
    assert envelope["required"] == ["error"]
    assert set(envelope["properties"]) == {"error", "message"}
    wrong = []
    for name, operation in operations(spec):
        errors = {code: item for code, item in operation["responses"].items() if code >= "400"}
        if name != f"GET {PREFIX}/health" and "401" not in errors and "400" not in errors:
            wrong.append(f"{name}: no error responses")
        for code, item in errors.items():
            schema = item.get("content", {}).get("application/json", {}).get("schema", {})
            if code == "422" or schema.get("$ref") != "#/components/schemas/ErrorBody":
                wrong.append(f"{name}: {code}")
    assert wrong == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_protected_operations_document_401_and_role_gated_ones_403(spec: dict[str, Any]) -> None:
    roles = {(method, normalize(path)): role for method, path, role in [*role_rows(), *v2_only_rows()]}
    wrong = []
    for name, operation in operations(spec):
        method, path = name.split(" ", 1)
        role = roles.get((method, normalize(path.removeprefix(PREFIX))))
        codes = set(operation["responses"])
        if role is None or role == "public":
            continue
        if "401" not in codes or (role in {"admin", "admin, user"} and "403" not in codes):
            wrong.append(name)
    assert wrong == []


def role_rows() -> list[tuple[str, str, str]]:
    from tests.parity.contract_table import CONTRACT, ROW

    rows = []
    for line in CONTRACT.read_text(encoding="utf-8").split("## 12. Endpoint summary table", 1)[1].splitlines():
        if ROW.match(line):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            paths = [cells[2].strip("`")] + re.findall(r"`(/[^`]+)`", cells[3])
            rows.extend((cells[1], path, cells[4]) for path in paths if "un-prefixed" not in cells[3])
    return rows


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    undocumented = [name for name, operation in operations(spec)
                    if not operation.get("summary") or len(operation.get("description", "")) < 40]
    assert undocumented == []


def test_the_description_table_names_no_operation_the_api_lacks(spec: dict[str, Any]) -> None:
    documented = {(method, PREFIX + path) for method, path in [*OPERATIONS, *ALIASES]}
    served = {tuple(name.split(" ", 1)) for name, _operation in operations(spec)}
    assert documented - served == set()


def test_every_tag_an_operation_uses_is_declared_with_a_description(spec: dict[str, Any]) -> None:
    declared = {tag["name"]: tag.get("description") for tag in spec["tags"]}
    used = {tag for _name, operation in operations(spec) for tag in operation.get("tags", [])}
    assert used <= set(declared)
    assert all(declared[tag] for tag in used)


def test_every_operation_documents_the_503_envelope_and_never_422(spec: dict[str, Any]) -> None:
    for name, operation in operations(spec):
        assert "422" not in operation["responses"], name
        assert "503" in operation["responses"], name


def test_secured_operations_take_a_bearer_jwt_or_the_password_form(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["passwordForm"]["flows"]["password"]["tokenUrl"] == f"{PREFIX}/auth/login/form"
    secured = [operation["security"] for _name, operation in operations(spec) if "security" in operation]
    assert secured and all(security == [{"bearerAuth": []}, {"passwordForm": []}] for security in secured)


def test_swagger_authorize_dialog_hides_the_client_id_and_secret(http: httpx.Client) -> None:
    html = http.get(f"{PREFIX}/docs").text
    assert 'label[for="client_id_password"]' in html and "display: none" in html


def test_every_operation_documents_the_400_every_route_can_answer(spec: dict[str, Any]) -> None:
    # URL text the database cannot store (a NUL in any query argument) is refused on every route.
    assert [name for name, operation in operations(spec) if "400" not in operation["responses"]] == []


def test_every_request_body_carries_an_example_its_schema_names(spec: dict[str, Any]) -> None:
    missing = []
    for name, operation in operations(spec):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "multipart/form-data":
                continue  # a CSV file: Swagger offers a file picker, not an example
            example = media.get("example")
            properties = resolve(spec, media["schema"]).get("properties", {})
            if not isinstance(example, dict) or not example or set(example) - set(properties):
                missing.append(f"{name} {media_type}")
    assert missing == []


def test_every_error_status_is_listed_in_order_after_the_success(spec: dict[str, Any]) -> None:
    for name, operation in operations(spec):
        codes = list(operation["responses"])
        assert codes == sorted(codes), name
