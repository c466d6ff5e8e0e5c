"""CORS(...) served by a real waitress on 127.0.0.1, spoken to with a plain HTTP client."""

from __future__ import annotations

import http.client
import json
from typing import Iterator

import pytest
from servers import ApiApp, ThreadedServer, raw_exchange, request
from support import cors_headers, values

from wsgicors import CORS

pytestmark = pytest.mark.server

APP = "https://app.example.com"
PARTNER = "https://eu.partner.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def api() -> ApiApp:
    return ApiApp()


@pytest.fixture(scope="module")
def server(api: ApiApp) -> Iterator[ThreadedServer]:
    cors = CORS(
        api,
        origin=f"{APP} https://*.partner.example",
        methods="GET, PUT, DELETE",
        headers="Content-Type, X-Token",
        expose_headers="X-Request-Id",
        credentials=True,
        maxage=600,
    )
    with ThreadedServer(cors) as running:
        yield running


@pytest.fixture(scope="module")
def public_server(api: ApiApp) -> Iterator[ThreadedServer]:
    with ThreadedServer(CORS(api, origin="*")) as running:
        yield running


class TestPreflight:
    def test_allowed_preflight_gets_exact_cors_headers_and_an_empty_200(self, server, api):
        calls = api.calls
        status_line, headers, body = raw_exchange(
            server,
            [
                "OPTIONS /items/1 HTTP/1.1",
                f"Origin: {APP}",
                "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: content-type,x-token",
            ],
        )
        assert status_line == "HTTP/1.1 200 OK"
        assert cors_headers(headers) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, PUT, DELETE",
            "Access-Control-Allow-Headers": "Content-Type, X-Token",
            "Access-Control-Max-Age": "600",
        }
        assert values(headers, "Content-Length") == ["0"]
        assert values(headers, "Content-Type") == ["text/plain"]
        assert values(headers, "Vary") == ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
        assert body == b""
        assert api.calls == calls  # answered by the middleware alone

    def test_preflight_from_a_wildcard_matched_origin_reflects_that_origin(self, server):
        _, _, headers, _ = request(
            server.url,
            "OPTIONS",
            "/items",
            {
                "Origin": PARTNER,
                "Access-Control-Request-Method": "DELETE",
            },
        )
        assert cors_headers(headers)["Access-Control-Allow-Origin"] == PARTNER

    @pytest.mark.parametrize(
        "origin, method, request_headers",
        [
            pytest.param(EVIL, "PUT", None, id="unlisted-origin"),
            pytest.param(APP, "PATCH", None, id="unlisted-method"),
            pytest.param(APP, "PUT", "x-token, x-debug", id="unlisted-request-header"),
            pytest.param("null", "GET", None, id="null-origin"),
        ],
    )
    def test_refused_preflight_gets_a_200_without_any_cors_header(self, server, api, origin, method, request_headers):
        calls = api.calls
        preflight = {"Origin": origin, "Access-Control-Request-Method": method}
        if request_headers:
            preflight["Access-Control-Request-Headers"] = request_headers
        status, reason, headers, body = request(server.url, "OPTIONS", "/items", preflight)
        assert (status, reason, body) == (200, "OK", b"")
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
        assert api.calls == calls

    def test_preflight_and_the_actual_request_can_share_one_kept_alive_connection(self, server):
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            connection.request(
                "OPTIONS",
                "/items/1",
                headers={
                    "Origin": APP,
                    "Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            preflight = connection.getresponse()
            assert (preflight.status, preflight.read()) == (200, b"")
            first_socket = connection.sock
            connection.request(
                "PUT",
                "/items/1",
                body=b'{"name": "one"}',
                headers={
                    "Origin": APP,
                    "Content-Type": "application/json",
                },
            )
            actual = connection.getresponse()
            answer = json.loads(actual.read())
            assert connection.sock is first_socket  # no reconnect: Content-Length: 0 ended the preflight
        finally:
            connection.close()
        assert actual.status == 200
        assert actual.getheader("Access-Control-Allow-Origin") == APP
        assert (answer["method"], answer["body"]) == ("PUT", '{"name": "one"}')


class TestActualRequests:
    def test_allowed_get_gets_origin_credentials_and_exposed_headers(self, server):
        status, _, headers, body = request(server.url, "GET", "/items?page=2", {"Origin": APP})
        assert status == 200
        assert cors_headers(headers) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Request-Id",
        }
        assert values(headers, "Vary") == ["Origin"]
        assert values(headers, "X-Request-Id") == ["42"]
        assert json.loads(body)["query"] == "page=2"

    def test_get_from_an_unlisted_origin_reaches_the_app_but_gets_no_cors_headers(self, server, api):
        calls = api.calls
        status, _, headers, body = request(server.url, "GET", "/items", {"Origin": EVIL})
        assert status == 200
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]
        assert api.calls == calls + 1
        assert json.loads(body)["path"] == "/items"

    def test_request_without_origin_gets_only_vary_origin(self, server):
        _, _, headers, _ = request(server.url, "GET", "/items")
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]

    def test_put_with_a_json_body_reaches_the_app_intact(self, server):
        body = json.dumps({"name": "ünïcode", "tags": ["a", "b"]}).encode()
        status, _, headers, answer = request(
            server.url,
            "PUT",
            "/items/7",
            {
                "Origin": APP,
                "Content-Type": "application/json",
                "X-Token": "secret",
            },
            body,
        )
        assert status == 200
        assert cors_headers(headers)["Access-Control-Allow-Origin"] == APP
        echoed = json.loads(answer)
        assert (echoed["method"], echoed["content_type"], echoed["x_token"]) == ("PUT", "application/json", "secret")
        assert echoed["body"] == body.decode()

    def test_head_gets_cors_headers_and_no_body(self, server):
        status, _, headers, body = request(server.url, "HEAD", "/items", {"Origin": APP})
        assert (status, body) == (200, b"")
        assert cors_headers(headers)["Access-Control-Allow-Origin"] == APP

    def test_streamed_body_is_passed_on_chunk_by_chunk(self, server, api):
        api.release.clear()  # the app holds its second chunk until the first one arrived
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            connection.request("GET", "/stream", headers={"Origin": APP})
            response = connection.getresponse()
            first = response.read1()
            api.release.set()
            rest = response.read()
        finally:
            api.release.set()
            connection.close()
        assert first == b"chunk 1;"
        assert rest == b"chunk 2;chunk 3"
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert cors_headers(response.getheaders()) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Request-Id",
        }

    @pytest.mark.parametrize("code, reason", [(404, "Not Found"), (500, "Internal Server Error")])
    def test_app_error_status_keeps_its_body_and_gets_cors_headers(self, server, code, reason):
        status, got_reason, headers, body = request(server.url, "GET", f"/status/{code}", {"Origin": APP})
        assert (status, got_reason, body) == (code, reason, f"status {code}".encode())
        assert cors_headers(headers) == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Request-Id",
        }
        assert values(headers, "Vary") == ["Origin"]

    def test_unhandled_app_exception_gets_waitress_error_page_without_cors_headers(self, server):
        # The app raised before start_response, so waitress answers on its own, outside the
        # middleware: a browser sees a CORS failure, not the 500. Catch errors inside the app.
        status, _, headers, _ = request(server.url, "GET", "/fail", {"Origin": APP})
        assert status == 500
        assert cors_headers(headers) == {}


class TestPublicPolicy:
    def test_star_policy_answers_every_request_with_star_and_no_vary(self, public_server):
        for origin in (APP, EVIL, None):
            _, _, headers, _ = request(public_server.url, "GET", "/items", {"Origin": origin} if origin else {})
            assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}
            assert values(headers, "Vary") == []

    def test_star_policy_preflight_allows_the_default_methods_only(self, public_server):
        _, _, allowed, _ = request(
            public_server.url,
            "OPTIONS",
            "/items",
            {
                "Origin": EVIL,
                "Access-Control-Request-Method": "POST",
            },
        )
        _, _, refused, _ = request(
            public_server.url,
            "OPTIONS",
            "/items",
            {
                "Origin": EVIL,
                "Access-Control-Request-Method": "DELETE",
            },
        )
        assert cors_headers(allowed) == {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET, HEAD, POST",
        }
        assert cors_headers(refused) == {}
