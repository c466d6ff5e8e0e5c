"""Test support: one recording app, one ``cors_headers``, and the two ways to call the middleware.

``call`` runs the middleware directly as a WSGI callable: no WebTest, no lint, no sockets, so
that thousands of requests stay fast and nothing between the test and the middleware cleans up
what a hostile client sends. ``Client`` is the WebTest harness the ``make_app`` fixture builds.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from typing import Any, Callable, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union
from wsgiref.util import setup_testing_defaults

from webtest import TestApp, TestResponse

HeaderList = List[Tuple[str, str]]

# RFC 9110 section 5.5: field-value = *field-content, field-content = field-vchar
# [ 1*( SP / HTAB / field-vchar ) field-vchar ], field-vchar = VCHAR / obs-text.
FIELD_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")
# RFC 9110 section 5.6.2.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

TEXT: HeaderList = [("Content-Type", "text/plain")]


class RecordingApp:
    """A WSGI app answering ``status`` with ``headers`` (plus ``Vary: vary`` if given) and ``body``.

    ``environs`` holds the environ of each call, so ``calls`` counts them and the last one
    shows what the middleware left for the app (``wsgicors.decision``).
    """

    def __init__(
        self,
        headers: Optional[HeaderList] = None,
        status: str = "200 OK",
        body: Iterable[bytes] = (b"body",),
        vary: Optional[str] = None,
    ) -> None:
        self.headers = list(TEXT if headers is None else headers)
        if vary is not None:
            self.headers.append(("Vary", vary))
        self.status = status
        self.body = list(body)
        self.environs: list[dict[str, Any]] = []

    @property
    def calls(self) -> int:
        return len(self.environs)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environs.append(environ)
        start_response(self.status, list(self.headers))
        return list(self.body)


def echo_app_factory(global_conf: Mapping[str, str], **settings: str) -> RecordingApp:
    """PasteDeploy ``paste.app_factory`` for the test inis (``use = call:support:echo_app_factory``)."""
    return RecordingApp()


# -- direct WSGI calls ---------------------------------------------------------------------


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


# -- reading responses ------------------------------------------------------------------------


def cors_headers(headers: Union[Iterable[Tuple[str, str]], TestResponse]) -> dict[str, str]:
    """The ``Access-Control-*`` headers of a header list or a WebTest response, by name.

    Fails if one is sent twice, in any case.
    """
    pairs = headers.headerlist if isinstance(headers, TestResponse) else headers
    found = [(name, value) for name, value in pairs if name.lower().startswith("access-control-")]
    names = [name.lower() for name, _ in found]
    assert len(names) == len(set(names)), f"a CORS header is sent twice: {found!r}"
    return dict(found)


def values(headers: Iterable[Tuple[str, str]], name: str) -> list[str]:
    """Every value of the header ``name`` (case-insensitive), in order."""
    return [value for key, value in headers if key.lower() == name.lower()]


# -- the WebTest client ------------------------------------------------------------------------


class Client:
    """WebTest over ``cors``, the ``CORS`` instance, which wraps ``app``, a ``RecordingApp``."""

    def __init__(self, cors: Any, app: RecordingApp) -> None:
        self.cors = cors
        self.app = app
        self._web = TestApp(cors)

    def request(self, method: str = "GET", headers: Optional[Mapping[str, str]] = None, **kw: Any) -> TestResponse:
        """Any request to ``/``; ``kw`` goes to ``webtest.TestApp.request`` (``expect_errors=True``...)."""
        return self._web.request("/", method=method, headers=dict(headers or {}), **kw)

    def preflight(self, origin: str, method: str, request_headers: Optional[str] = None, **kw: Any) -> TestResponse:
        """``OPTIONS`` with ``Origin``, ``Access-Control-Request-Method`` and, if given, ``-Headers``."""
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        if request_headers is not None:
            headers["Access-Control-Request-Headers"] = request_headers
        return self.request("OPTIONS", headers, **kw)

    def actual(self, origin: Optional[str], method: str = "GET", **kw: Any) -> TestResponse:
        """A request that is not a preflight; ``origin=None`` sends no ``Origin``."""
        return self.request(method, {} if origin is None else {"Origin": origin}, **kw)


def run_threads(targets: Sequence[Callable[[], object]], timeout: float = 120) -> list[threading.Thread]:
    """Run each target in a thread of its own, all at once, switching threads as often as
    the interpreter allows; each is joined with ``timeout``. The threads, for ``is_alive()``."""
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=target) for target in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout)
    finally:
        sys.setswitchinterval(switch_interval)
    return threads


#: Seconds a child process of :func:`output_within_limit` may run: a hang detector, not a
#: speed limit (linear matching takes milliseconds where backtracking takes hours).
HANG_LIMIT = 10


def output_within_limit(script: str, *args: str, what: str) -> str:
    """The standard output of ``python -c script args``, run in a child process that is
    killed, failing the test, if it runs longer than :data:`HANG_LIMIT` seconds.

    :param what: what the script does, for the failure message.
    """
    try:
        child = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=HANG_LIMIT, check=True
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what} hangs (killed after {HANG_LIMIT} s)") from None
    return child.stdout
