"""examples/paths.ini: CORS for /api only, /admin left without, served by a real waitress.

The CORS filter sits in front of a composite that mounts the demo API under /api and an
admin app under /admin, so the middleware sees the whole path, as the server delivered it.
"""

from __future__ import annotations

import io
import json
from typing import Iterator, Optional

import plaster
import pytest
from servers import EXAMPLES, ThreadedServer, examples_importable, raw_exchange, request
from support import cors_headers, values

from wsgicors import CORS
from wsgicors.cli import main

pytestmark = pytest.mark.server

PATHS_INI = EXAMPLES / "paths.ini"
APP = "https://app.example.com"
PARTNER = "https://shop.partner.example"
EVIL = "https://evil.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
APP_ACTUAL = {"Access-Control-Allow-Origin": APP, "Access-Control-Allow-Credentials": "true"}


@pytest.fixture(scope="module")
def served() -> Iterator[ThreadedServer]:
    """examples/paths.ini as pserve serves it, on a port the kernel picks."""
    with examples_importable():
        loader = plaster.get_loader(str(PATHS_INI), protocols=["wsgi"])
        app = loader.get_wsgi_app()
        settings = loader.get_settings("server:main")
        assert settings.pop("use") == "egg:waitress#main"
        assert settings.pop("listen") == "127.0.0.1:6545"
        with ThreadedServer(app, listen="127.0.0.1:0", **settings) as server:
            yield server


def preflight(
    server: ThreadedServer, path: str, origin: str, method: str, request_headers: Optional[str] = None
) -> list[tuple[str, str]]:
    """The headers of the answer to a preflight, which must be an empty 200 from the middleware."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    status, _, answer, body = request(server.url, "OPTIONS", path, headers)
    assert (status, body) == (200, b"")
    return answer


def raw_get(server: ThreadedServer, target: str, origin: str) -> tuple[str, list[tuple[str, str]]]:
    """A GET with the request target written as given (no client-side normalisation)."""
    status_line, headers, _ = raw_exchange(server, [f"GET {target} HTTP/1.1", f"Origin: {origin}"])
    return status_line, headers


class TestTheApiIsCovered:
    def test_the_app_reads_the_items_with_cookies(self, served):
        status, _, headers, body = request(served.url, "GET", "/api/items", {"Origin": APP})
        assert status == 200
        assert cors_headers(headers) == APP_ACTUAL
        assert values(headers, "Vary") == ["Origin"]
        assert [item["name"] for item in json.loads(body)] == ["teapot", "kettle"]

    def test_the_app_s_preflight_to_write_an_item_gets_every_header_of_its_policy(self, served):
        answer = preflight(served, "/api/items/1", APP, "PUT", "content-type")
        assert cors_headers(answer) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        assert values(answer, "Vary") == [PREFLIGHT_VARY]

    def test_the_api_prefix_itself_is_covered(self, served):
        status, _, headers, _ = request(served.url, "GET", "/api", {"Origin": APP})
        assert status == 404  # the demo API has no page there; its 404 is readable all the same
        assert cors_headers(headers) == APP_ACTUAL

    def test_a_partner_reads_the_items(self, served):
        status, _, headers, _ = request(served.url, "GET", "/api/items/1", {"Origin": PARTNER})
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": PARTNER}
        assert values(headers, "Vary") == ["Origin"]

    def test_a_partner_may_not_write_an_item(self, served):
        answer = preflight(served, "/api/items/1", PARTNER, "PUT", "content-type")
        assert cors_headers(answer) == {}

    def test_a_partner_reads_nothing_else_of_the_api(self, served):
        status, _, headers, _ = request(served.url, "GET", "/api/whoami", {"Origin": PARTNER})
        assert status == 200  # the app answered; the browser keeps the answer from the partner's page
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]

    def test_an_unlisted_site_reads_nothing(self, served):
        _, _, headers, _ = request(served.url, "GET", "/api/items", {"Origin": EVIL})
        assert cors_headers(headers) == {}


class TestAdminIsLeftWithoutCors:
    @pytest.mark.parametrize("origin", [APP, PARTNER, EVIL])
    def test_admin_answers_carry_no_cors_headers_for_any_site(self, served, origin):
        status, _, headers, body = request(served.url, "GET", "/admin/items", {"Origin": origin})
        assert status == 200  # the admin app still answers: CORS only decides who may read it
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]
        assert [item["name"] for item in json.loads(body)] == ["teapot", "kettle"]

    def test_a_preflight_to_admin_is_refused_by_the_middleware_alone(self, served):
        # The admin app would answer OPTIONS on an item with 405: the empty 200 is the middleware's.
        answer = preflight(served, "/admin/items/1", APP, "DELETE")
        assert values(answer, "Content-Type") == ["text/plain"]
        assert values(answer, "Content-Length") == ["0"]
        assert values(answer, "Vary") == [PREFLIGHT_VARY]
        assert cors_headers(answer) == {}

    def test_a_request_without_origin_gets_no_cors_headers(self, served):
        _, _, headers, _ = request(served.url, "GET", "/admin/items")
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/api/../admin/items", id="dot-dot-into-admin"),
        pytest.param("/api%2F..%2Fadmin/items", id="encoded-dot-dot-waitress-decodes"),
        pytest.param("/api/./items", id="dot-segment"),
        pytest.param("/api//items", id="empty-segment"),
        pytest.param("/API/items", id="uppercase"),
        pytest.param("/apix/items", id="segment-boundary"),
        pytest.param("/admin/../api/items", id="dot-dot-out-of-admin"),
    ],
)
def test_a_path_the_server_did_not_normalise_borrows_no_policy(served, target):
    # waitress percent-decodes PATH_INFO and leaves dot and empty segments as they are.
    status_line, headers = raw_get(served, target, APP)
    assert status_line.startswith("HTTP/1.1 ")
    assert cors_headers(headers) == {}
    assert values(headers, "Vary") == ["Origin"]


def test_the_example_passes_check_strict_without_warnings():
    out = io.StringIO()
    assert main(["check", "--strict", str(PATHS_INI)], out=out) == 0, out.getvalue()
    assert out.getvalue().splitlines()[-1] == "OK: no errors, 0 warnings"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        pytest.param("/admin/items", "actual     refused (no policy covers this path)", id="admin"),
        pytest.param("/api/items", "actual     allowed (policy 'app')", id="api"),
    ],
)
def test_explain_answers_for_the_example_by_path(path, reason):
    out = io.StringIO()
    assert main(["explain", str(PATHS_INI), "--origin", APP, "--path", path], out=out) == 0
    assert reason in out.getvalue().splitlines()


def test_with_a_broad_partners_policy_check_warns_that_admin_pages_fall_through(tmp_path):
    # What the example's comment warns about: a pattern for the partners' origins answers
    # requests to the app's paths from every partner subdomain.
    text = PATHS_INI.read_text(encoding="utf-8")
    broad = text.replace(
        "partners_origin =\n    https://partner.example\n    https://shop.partner.example",
        "partners_origin = https://*.partner.example",
    )
    assert broad != text
    ini = tmp_path / "broad.ini"
    ini.write_text(broad, encoding="utf-8")
    out = io.StringIO()
    assert main(["check", "--strict", str(ini)], out=out) == 1
    (warning,) = [line for line in out.getvalue().splitlines() if line.startswith("warning: ")]
    assert warning.startswith("warning: policy 'app': app_paths")
    assert "falls through" in warning and "'partners'" in warning


def test_the_example_s_filter_is_the_middleware():
    with examples_importable():
        loader = plaster.get_loader(str(PATHS_INI), protocols=["wsgi"])
        assert isinstance(loader.get_wsgi_app(), CORS)
