"""Helpers for the hostile-request, property, WSGI-contract, concurrency and config-abuse tests.

The middleware is called directly as a WSGI callable: no WebTest, no lint, no sockets, so
that thousands of requests stay fast and nothing between the test and the middleware
cleans up what a hostile client sends.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, NamedTuple, Optional, Tuple
from wsgiref.util import setup_testing_defaults

HeaderList = List[Tuple[str, str]]

# RFC 9110 section 5.5: field-value = *field-content, field-content = field-vchar
# [ 1*( SP / HTAB / field-vchar ) field-vchar ], field-vchar = VCHAR / obs-text.
FIELD_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")
# RFC 9110 section 5.6.2.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

BODY = (b"app ", b"body")
APP_HEADERS: HeaderList = [("Content-Type", "text/plain"), ("X-App", "kept")]


def make_environ(
    method: str = "GET",
    origin: Optional[str] = None,
    request_method: Optional[str] = None,
    request_headers: Optional[str] = None,
) -> dict[str, Any]:
    """A complete WSGI environ; ``None`` leaves a request header out."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "QUERY_STRING": ""}
    for key, value in (
        ("HTTP_ORIGIN", origin),
        ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", request_method),
        ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", request_headers),
    ):
        if value is not None:
            environ[key] = value
    setup_testing_defaults(environ)
    return environ


def preflight_environ(origin: str, method: str = "GET", request_headers: Optional[str] = None) -> dict[str, Any]:
    """A CORS preflight: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``."""
    return make_environ("OPTIONS", origin, method, request_headers)


class RecordingApp:
    """A WSGI app answering ``200 OK`` with ``headers`` and ``body``; counts its calls."""

    def __init__(self, headers: Optional[HeaderList] = None, body: Iterable[bytes] = BODY) -> None:
        self.headers = list(APP_HEADERS if headers is None else headers)
        self.body = list(body)
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("200 OK", list(self.headers))
        return list(self.body)


class Response(NamedTuple):
    """What a server would send: the last status and headers given, and the body."""

    status: str
    headers: HeaderList
    body: bytes


def call(app: Any, environ: dict[str, Any]) -> Response:
    """Run ``app`` as a server does: body from ``write()`` and the iterable, then ``close()``."""
    started: list[Tuple[str, HeaderList]] = []
    written: list[bytes] = []

    def start_response(status: str, headers: HeaderList, exc_info: Any = None) -> Any:
        started.append((status, headers))
        return written.append

    result = app(environ, start_response)
    try:
        chunks = list(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers = started[-1]
    return Response(status, headers, b"".join(written + chunks))


def cors_headers(headers: HeaderList) -> dict[str, str]:
    """The ``Access-Control-*`` headers by name; fails if one is sent twice."""
    found = [(name, value) for name, value in headers if name.lower().startswith("access-control-")]
    names = [name.lower() for name, _ in found]
    assert len(names) == len(set(names)), f"a CORS header is sent twice: {found!r}"
    return dict(found)


def values(headers: HeaderList, name: str) -> list[str]:
    """Every value of the header ``name`` (case-insensitive), in order."""
    return [value for key, value in headers if key.lower() == name.lower()]
