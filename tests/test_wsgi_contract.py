"""The WSGI contract (PEP 3333) under stress: validated on both sides, close(), exc_info, write(),
streamed bodies, exceptions passed through."""

from __future__ import annotations

import io
import sys
from typing import Any, Iterator, Optional
from wsgiref.util import FileWrapper
from wsgiref.validate import validator

import pytest
from support import TEXT, HeaderList, RecordingApp, call, cors_headers, make_environ, preflight_environ, values

from wsgicors import CORS

ALLOWED = "https://a.example.com"
REFUSED = "https://evil.net"
EXACT = {"origin": "https://example.com https://a.example.com"}
PATTERN = {"origin": "https://*.example.com", "credentials": True, "expose_headers": "*"}
PUBLIC = {"origin": "*"}
COPY_CREDENTIALS = {"origin": "copy", "credentials": True, "methods": "*", "headers": "*", "maxage": 60}
COPY = {"origin": "copy", "expose_headers": "X-Total"}
NO_POLICY: dict[str, Any] = {}
VERBMATCH = {"policy": "a,deny", "a_origin": ALLOWED, "a_methods": "GET, PUT", "matchstrategy": "verbmatch"}


def get_without_origin() -> dict[str, Any]:
    return make_environ("GET")


def get_allowed() -> dict[str, Any]:
    return make_environ("GET", ALLOWED)


def get_refused() -> dict[str, Any]:
    return make_environ("GET", REFUSED)


def get_crlf_origin() -> dict[str, Any]:
    return make_environ("GET", ALLOWED + "\r\nX-Injected: 1")


def preflight_headers() -> dict[str, Any]:
    return preflight_environ(ALLOWED, "PUT", "x-token, content-type")


def preflight_crlf() -> dict[str, Any]:
    return preflight_environ(ALLOWED, "PUT\n", "x-token\r\n")


def preflight_comma_bomb() -> dict[str, Any]:
    return preflight_environ(ALLOWED, "PUT", "," * 100_000)


def list_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [*TEXT, ("Vary", "Accept-Encoding")])
    return [b"list ", b"body"]


def app_with_its_own_cors(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [*TEXT, ("Access-Control-Allow-Origin", "https://own.example"), ("Vary", "*")])
    return [b"own"]


def writing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    write = start_response("200 OK", list(TEXT))
    write(b"written ")
    return [b"returned"]


def generator_app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", list(TEXT))
    yield b"streamed "
    yield b""
    yield b"body"


def failing_then_recovering_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", list(TEXT))
    try:
        raise LookupError("not found after all")
    except LookupError:
        start_response("404 Not Found", list(TEXT), sys.exc_info())
    return [b"error page"]


def file_app(environ: dict[str, Any], start_response: Any) -> Any:
    start_response("200 OK", list(TEXT))
    return environ["wsgi.file_wrapper"](io.BytesIO(b"file body"), 4)


NOT_PREFLIGHTS = [
    pytest.param(get_without_origin, id="get-without-origin"),
    pytest.param(get_allowed, id="get-allowed"),
    pytest.param(get_refused, id="get-refused"),
    pytest.param(lambda: make_environ("HEAD", ALLOWED), id="head-allowed"),
    pytest.param(lambda: make_environ("POST", ALLOWED), id="post-allowed"),
    pytest.param(lambda: make_environ("PUT", ALLOWED), id="put-allowed"),
    pytest.param(lambda: make_environ("DELETE", REFUSED), id="delete-refused"),
    pytest.param(lambda: make_environ("PATCH", "null"), id="patch-null"),
    pytest.param(get_crlf_origin, id="get-crlf-origin"),
    pytest.param(lambda: make_environ("OPTIONS"), id="options-without-origin"),
    pytest.param(lambda: make_environ("OPTIONS", ALLOWED), id="options-without-request-method"),
]

# (settings, request, app): each row walks one path through the middleware, and the
# validators check both sides of it. A preflight never reaches the app, so its rows use one.
VALIDATED = [
    # Preflights: answered by the middleware alone.
    pytest.param(EXACT, lambda: preflight_environ(ALLOWED, "PUT"), list_app, id="preflight-method-refused-exact"),
    pytest.param(EXACT, lambda: preflight_environ(ALLOWED, "GET"), list_app, id="preflight-allowed-by-lookup"),
    pytest.param(EXACT, lambda: preflight_environ(REFUSED, "GET"), list_app, id="preflight-origin-refused"),
    pytest.param(PATTERN, preflight_headers, list_app, id="preflight-method-refused-by-pattern"),
    pytest.param(VERBMATCH, preflight_headers, list_app, id="preflight-headers-refused"),
    pytest.param(COPY_CREDENTIALS, preflight_headers, list_app, id="preflight-reflects-method-and-headers"),
    pytest.param(COPY_CREDENTIALS, preflight_crlf, list_app, id="preflight-crlf-never-reflected"),
    pytest.param(COPY_CREDENTIALS, preflight_comma_bomb, list_app, id="preflight-comma-bomb-reflecting"),
    pytest.param(PUBLIC, preflight_comma_bomb, list_app, id="preflight-comma-bomb-public"),
    pytest.param(COPY, lambda: preflight_environ(ALLOWED, "GET"), list_app, id="preflight-copy"),
    pytest.param(NO_POLICY, lambda: preflight_environ(ALLOWED, "PUT"), list_app, id="preflight-no-policy"),
    pytest.param(VERBMATCH, lambda: preflight_environ(ALLOWED, "PUT"), list_app, id="preflight-verbmatch-allowed"),
    pytest.param(VERBMATCH, lambda: preflight_environ(ALLOWED, "POST"), list_app, id="preflight-verbmatch-to-deny"),
    # Requests that are not preflights, with an app that sets its own Vary (merged).
    pytest.param(EXACT, get_without_origin, list_app, id="no-origin-gets-vary-only"),
    pytest.param(PUBLIC, get_without_origin, list_app, id="no-origin-public-answer"),
    pytest.param(NO_POLICY, get_without_origin, list_app, id="no-origin-no-policy-passes-through"),
    pytest.param(EXACT, get_refused, list_app, id="refused-gets-vary-only"),
    pytest.param(PATTERN, get_refused, list_app, id="refused-after-walking-the-pattern-tails"),
    pytest.param(PUBLIC, get_refused, list_app, id="public-answers-everyone-alike"),
    pytest.param(COPY_CREDENTIALS, get_allowed, list_app, id="copy-with-credentials-reflects"),
    pytest.param(COPY_CREDENTIALS, get_crlf_origin, list_app, id="crlf-origin-never-reflected-with-credentials"),
    pytest.param(COPY, get_crlf_origin, list_app, id="crlf-origin-never-reflected-by-copy"),
    pytest.param(PATTERN, get_crlf_origin, list_app, id="crlf-origin-never-matches-a-pattern"),
    pytest.param(COPY, lambda: make_environ("PATCH", "null"), list_app, id="null-never-reflected-by-copy"),
    pytest.param(EXACT, lambda: make_environ("HEAD", ALLOWED), list_app, id="head"),
    pytest.param(EXACT, lambda: make_environ("OPTIONS"), list_app, id="options-without-origin"),
    pytest.param(EXACT, lambda: make_environ("OPTIONS", ALLOWED), list_app, id="options-without-request-method"),
    pytest.param(VERBMATCH, lambda: make_environ("PUT", ALLOWED), list_app, id="verbmatch-allowed"),
    pytest.param(VERBMATCH, lambda: make_environ("POST", ALLOWED), list_app, id="verbmatch-method-refused"),
    pytest.param(VERBMATCH, lambda: make_environ("DELETE", REFUSED), list_app, id="verbmatch-origin-refused"),
    # Each kind of app, through the paths that rewrite start_response.
    pytest.param(EXACT, get_allowed, app_with_its_own_cors, id="own-cors-headers-win"),
    pytest.param(PATTERN, get_allowed, app_with_its_own_cors, id="own-cors-headers-exposing"),
    pytest.param(EXACT, get_allowed, writing_app, id="write-allowed"),
    pytest.param(PATTERN, get_allowed, writing_app, id="write-exposing"),
    pytest.param(NO_POLICY, get_allowed, writing_app, id="write-no-policy"),
    pytest.param(EXACT, get_allowed, generator_app, id="generator-allowed"),
    pytest.param(PATTERN, get_allowed, generator_app, id="generator-exposing"),
    pytest.param(PUBLIC, get_without_origin, generator_app, id="generator-public"),
    pytest.param(EXACT, get_allowed, failing_then_recovering_app, id="exc-info-allowed"),
    pytest.param(PATTERN, get_allowed, failing_then_recovering_app, id="exc-info-exposing"),
    pytest.param(EXACT, get_refused, failing_then_recovering_app, id="exc-info-refused"),
    pytest.param(NO_POLICY, get_allowed, failing_then_recovering_app, id="exc-info-no-policy"),
    pytest.param(EXACT, get_allowed, file_app, id="file-wrapper-allowed"),
    pytest.param(PATTERN, get_allowed, file_app, id="file-wrapper-exposing"),
    pytest.param(NO_POLICY, get_without_origin, file_app, id="file-wrapper-no-policy"),
]


@pytest.mark.parametrize(("settings", "environ_of", "app"), VALIDATED)
def test_wsgiref_validate_passes_on_both_sides_of_the_middleware(settings, environ_of, app):
    environ = environ_of()
    environ["wsgi.file_wrapper"] = FileWrapper
    # The inner validator checks what the middleware hands the app, the outer one what it
    # hands the server; either raises AssertionError, or fails the test from __del__ when
    # an iterable is never closed.
    response = call(validator(CORS(validator(app), **settings)), environ)
    assert response.status[:3] in ("200", "404")


class Body:
    """An app iterable that counts ``close()`` calls and can fail part-way."""

    def __init__(self, error: Optional[BaseException] = None) -> None:
        self.error = error
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b"first"
        if self.error is not None:
            raise self.error
        yield b"second"

    def close(self) -> None:
        self.closed += 1


def body_app(body: Body) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", list(TEXT))
        return body

    return app


ORIGINS = [
    pytest.param(None, id="no-origin"),
    pytest.param(ALLOWED, id="allowed"),
    pytest.param(REFUSED, id="refused"),
]
CLOSING_SETTINGS = [
    pytest.param({"origin": ALLOWED}, id="exact"),
    pytest.param({"origin": "*"}, id="public"),
    pytest.param({}, id="no-policy"),
]


@pytest.mark.parametrize("settings", CLOSING_SETTINGS)
@pytest.mark.parametrize("origin", ORIGINS)
def test_the_app_iterable_is_closed_exactly_once(origin, settings):
    body = Body()
    response = call(CORS(body_app(body), **settings), make_environ("GET", origin))
    assert response.body == b"firstsecond"
    assert body.closed == 1


@pytest.mark.parametrize("settings", CLOSING_SETTINGS)
@pytest.mark.parametrize("origin", ORIGINS)
def test_the_app_iterable_is_closed_exactly_once_when_iterating_it_raises(origin, settings):
    error = RuntimeError("the database went away mid-body")
    body = Body(error)
    with pytest.raises(RuntimeError) as raised:
        call(CORS(body_app(body), **settings), make_environ("GET", origin))
    assert raised.value is error
    assert body.closed == 1


@pytest.mark.parametrize("environ_of", NOT_PREFLIGHTS)
def test_an_exception_raised_by_the_app_propagates_unchanged(environ_of):
    error = KeyError("no such user")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise error

    with pytest.raises(KeyError) as raised:
        call(CORS(app, origin=ALLOWED), environ_of())
    assert raised.value is error
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


class Server:
    """A PEP 3333 server's ``start_response``: replaces unsent headers on ``exc_info``,
    re-raises once headers are sent."""

    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.headers: HeaderList = []
        self.exc_info: Any = None
        self.sent = False
        self.body: list[bytes] = []

    def start_response(self, status: str, headers: HeaderList, exc_info: Any = None) -> Any:
        if exc_info is not None:
            self.exc_info = exc_info
            if self.sent:
                raise exc_info[1].with_traceback(exc_info[2])
        assert self.status is None or exc_info is not None, "start_response called twice without exc_info"
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        self.sent = True
        self.body.append(data)

    def run(self, app: Any, environ: dict[str, Any]) -> None:
        result = app(environ, self.start_response)
        try:
            for chunk in result:
                self.write(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()


def test_an_error_response_given_with_exc_info_gets_the_cors_headers():
    server = Server()
    server.run(CORS(failing_then_recovering_app, origin=ALLOWED, credentials=True), make_environ("GET", ALLOWED))
    assert server.status == "404 Not Found"
    assert cors_headers(server.headers) == {
        "Access-Control-Allow-Origin": ALLOWED,
        "Access-Control-Allow-Credentials": "true",
    }
    assert values(server.headers, "Vary") == ["Origin"]
    assert b"".join(server.body) == b"error page"


def test_exc_info_reaches_the_server_unchanged():
    server = Server()
    server.run(CORS(failing_then_recovering_app, origin=ALLOWED), make_environ("GET", REFUSED))
    kind, error, traceback = server.exc_info
    assert kind is LookupError
    assert isinstance(error, LookupError)
    assert traceback is error.__traceback__


def test_exc_info_after_the_headers_are_sent_re_raises_the_apps_error():
    error = LookupError("too late for a clean error page")

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", list(TEXT))
        write(b"half a page")
        try:
            raise error
        except LookupError:
            start_response("500 Internal Server Error", list(TEXT), sys.exc_info())
        return [b"never sent"]  # pragma: no cover - start_response raised

    with pytest.raises(LookupError) as raised:
        Server().run(CORS(app, origin=ALLOWED), make_environ("GET", ALLOWED))
    assert raised.value is error


def test_the_write_callable_reaches_the_server():
    server = Server()
    server.run(CORS(writing_app, origin=ALLOWED), make_environ("GET", ALLOWED))
    assert server.body == [b"written ", b"returned"]
    assert cors_headers(server.headers) == {"Access-Control-Allow-Origin": ALLOWED}


def test_a_generator_body_is_streamed_not_buffered():
    produced: list[int] = []
    started: list[HeaderList] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", list(TEXT))
        for number in range(3):
            produced.append(number)
            yield b"chunk %d" % number

    result = CORS(app, origin=ALLOWED)(make_environ("GET", ALLOWED), lambda s, h, e=None: started.append(h))
    assert (produced, started) == ([], [])
    assert next(iter(result)) == b"chunk 0"
    assert produced == [0]
    assert cors_headers(started[0]) == {"Access-Control-Allow-Origin": ALLOWED}
    result.close()


def test_closing_a_streamed_body_early_closes_the_apps_generator():
    finished: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", list(TEXT))
        try:
            yield b"first"
            yield b"never"  # pragma: no cover - closed before
        finally:
            finished.append("closed")

    result = CORS(app, origin=ALLOWED)(make_environ("GET", ALLOWED), lambda s, h, e=None: None)
    assert next(iter(result)) == b"first"
    result.close()
    assert finished == ["closed"]


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_file_wrapper_body_is_handed_to_the_server_as_it_is(origin):
    environ = make_environ("GET", origin)
    environ["wsgi.file_wrapper"] = FileWrapper
    returned: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        returned.append(file_app(environ, start_response))
        return returned[0]

    result = CORS(app, origin=ALLOWED)(environ, lambda s, h, e=None: None)
    assert result is returned[0]
    result.close()


@pytest.mark.parametrize(
    "environ_of",
    [
        pytest.param(lambda: preflight_environ(ALLOWED, "PUT"), id="allowed"),
        pytest.param(lambda: preflight_environ(REFUSED, "PUT"), id="refused"),
    ],
)
def test_a_preflight_answer_is_a_complete_response_without_the_app(environ_of):
    app = RecordingApp()
    response = call(validator(CORS(app, origin=ALLOWED, methods="PUT")), environ_of())
    assert (response.status, response.body, app.calls) == ("200 OK", b"", 0)
    assert values(response.headers, "Content-Length") == ["0"]
