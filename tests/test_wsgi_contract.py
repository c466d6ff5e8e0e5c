"""The WSGI contract (PEP 3333) under stress: validated on both sides, close(), exc_info, write(),
streamed bodies, exceptions passed through."""

from __future__ import annotations

import io
import sys
from typing import Any, Iterator, Optional
from wsgiref.util import FileWrapper
from wsgiref.validate import validator

import pytest
from support import HeaderList, RecordingApp, call, cors_headers, make_environ, preflight_environ, values

from wsgicors import CORS

ALLOWED = "https://a.example.com"
REFUSED = "https://evil.net"
TEXT = [("Content-Type", "text/plain")]

SETTINGS = [
    pytest.param({"origin": "https://example.com https://a.example.com"}, id="exact"),
    pytest.param({"origin": "https://*.example.com", "credentials": True, "expose_headers": "*"}, id="pattern"),
    pytest.param({"origin": "*"}, id="public"),
    pytest.param(
        {"origin": "*", "credentials": True, "methods": "*", "headers": "*", "maxage": 60}, id="star-credentials"
    ),
    pytest.param({"origin": "copy", "expose_headers": "X-Total"}, id="copy"),
    pytest.param({}, id="no-policy"),
    pytest.param(
        {"policy": "a,deny", "a_origin": ALLOWED, "a_methods": "GET, PUT", "matchstrategy": "verbmatch"},
        id="named-verbmatch",
    ),
]

NOT_PREFLIGHTS = [
    pytest.param(lambda: make_environ("GET"), id="get-without-origin"),
    pytest.param(lambda: make_environ("GET", ALLOWED), id="get-allowed"),
    pytest.param(lambda: make_environ("GET", REFUSED), id="get-refused"),
    pytest.param(lambda: make_environ("HEAD", ALLOWED), id="head-allowed"),
    pytest.param(lambda: make_environ("POST", ALLOWED), id="post-allowed"),
    pytest.param(lambda: make_environ("PUT", ALLOWED), id="put-allowed"),
    pytest.param(lambda: make_environ("DELETE", REFUSED), id="delete-refused"),
    pytest.param(lambda: make_environ("PATCH", "null"), id="patch-null"),
    pytest.param(lambda: make_environ("GET", ALLOWED + "\r\nX-Injected: 1"), id="get-crlf-origin"),
    pytest.param(lambda: make_environ("OPTIONS"), id="options-without-origin"),
    pytest.param(lambda: make_environ("OPTIONS", ALLOWED), id="options-without-request-method"),
]
REQUESTS = [
    *NOT_PREFLIGHTS,
    pytest.param(lambda: preflight_environ(ALLOWED, "PUT"), id="preflight-allowed"),
    pytest.param(lambda: preflight_environ(REFUSED, "PUT"), id="preflight-refused"),
    pytest.param(lambda: preflight_environ(ALLOWED, "PUT", "x-token, content-type"), id="preflight-headers"),
    pytest.param(lambda: preflight_environ(ALLOWED, "PUT\n", "x-token\r\n"), id="preflight-crlf"),
    pytest.param(lambda: preflight_environ(ALLOWED, "PUT", "," * 100_000), id="preflight-comma-bomb"),
]


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


APPS = [
    pytest.param(list_app, id="list"),
    pytest.param(app_with_its_own_cors, id="own-cors"),
    pytest.param(writing_app, id="write"),
    pytest.param(generator_app, id="generator"),
    pytest.param(failing_then_recovering_app, id="exc-info"),
    pytest.param(file_app, id="file-wrapper"),
]


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("environ_of", REQUESTS)
@pytest.mark.parametrize("settings", SETTINGS)
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
