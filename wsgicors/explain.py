"""What a configuration answers to one cross-origin request, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional
from wsgiref.util import setup_testing_defaults

from .answers import Answers
from .fetch import RequestHeader, cors_check, needs_preflight, preflight_check, unsafe_header_names
from .headers import Header
from .origins import FILE, NULL
from .paths import ROOT, request_path
from .policy import DECISION_KEY, Decision, Step

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


@dataclass(frozen=True)
class Exchange:
    """The middleware's exact answer to one request, and its decision."""

    status: str
    headers: tuple[Header, ...]
    decision: Decision


@dataclass(frozen=True)
class Explanation:
    """What :meth:`wsgicors.CORS.explain` found.

    :param origin: the origin explained (corrected, as ``corrections`` say).
    :param headers: the request headers the script sets, as ``(name, value)``.
    :param steps: the policies tried, in order, up to the selected one.
    :param preflight: the answer to the preflight, if a browser sends one.
    :param actual: the headers added to the application's answer (here ``200 OK``).
    :param blocked: why a browser would not let the page read the answer, or ``None``.
    :param corrections: how the origin given was changed into one a browser sends.
    :param warnings: the configuration's warnings.
    """

    origin: str
    method: str
    path: str
    headers: tuple[RequestHeader, ...]
    credentials: bool
    steps: tuple[Step, ...]
    preflight: Optional[Exchange]
    actual: Exchange
    blocked: Optional[str]
    corrections: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def readable(self) -> bool:
        """Whether a browser lets the page read the answer."""
        return self.blocked is None


def explain(
    answers: Answers,
    middleware_for: Callable[[Answers], WSGIApplication],
    origin: str,
    method: str,
    header_lines: Iterable[str],
    preflight: bool,
    credentials: bool,
    path: str = ROOT,
) -> Explanation:
    """What ``answers`` give a browser's request, found by running the middleware that
    ``middleware_for`` builds around :func:`stand_in_app`.

    The policy is selected once, recording its steps, and the middleware answers every
    exchange with that decision: a callable deciding origins is asked once, so the steps
    shown cannot differ from the answers shown.

    :param origin: the page's origin; one a browser would not send is corrected first.
    :param header_lines: the request headers the script sets: ``"Name"`` or ``"Name: value"``.
    :param path: the request's path below where the middleware is mounted (``PATH_INFO``).
    :raises ValueError: for an origin without a scheme, or a path not starting with ``/``.
    """
    origin, corrections = correct_origin(origin)
    path = request_path({"PATH_INFO": path})
    if not path.startswith("/"):
        raise ValueError(f"path {path!r} does not start with '/': write {'/' + path!r}")
    steps: list[Step] = []
    decided = answers.decide(origin, method, path, steps)
    probe = middleware_for(replace(answers, exact={origin: decided}, unlisted=None, recent={}, recent_preflights={}))
    headers = tuple(_request_header(line) for line in header_lines)
    preflighted = preflight or needs_preflight(method, headers)
    preflight_exchange = None
    blocked = None
    if preflighted:
        requested = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
        names = unsafe_header_names(headers)
        if names:
            requested["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = ",".join(names)
        preflight_exchange = _exchange(probe, "OPTIONS", origin, path, requested)
        blocked = preflight_check(
            int(preflight_exchange.status[:3]),
            _by_name(preflight_exchange.headers),
            origin,
            method,
            headers,
            credentials,
        )
    actual = _exchange(probe, method, origin, path, {})
    if blocked is None:
        blocked = cors_check(_by_name(actual.headers), origin, credentials)
    return Explanation(
        origin=origin,
        method=method,
        path=path,
        headers=headers,
        credentials=credentials,
        steps=tuple(steps),
        preflight=preflight_exchange,
        actual=actual,
        blocked=blocked,
        corrections=corrections,
        warnings=tuple(str(warning) for warning in answers.config.warnings),
    )


def correct_origin(text: str) -> tuple[str, tuple[str, ...]]:
    """The origin a browser sends for a page at ``text``, and what was changed to get it.

    Users paste from the address bar: ``http://Localhost:6543/`` becomes
    ``http://localhost:6543``, since a browser serializes an origin as lowercase
    ``scheme://host[:port]`` without the default port
    (https://html.spec.whatwg.org/#ascii-serialisation-of-an-origin).

    :raises ValueError: for a value without a scheme, which cannot be guessed.
    """
    origin = text.strip()
    if origin in (NULL, FILE):
        return origin, ()
    if "://" not in origin:
        raise ValueError(f"origin {text!r} has no scheme: write it as a browser sends it, such as 'http://{origin}'")
    corrections = []
    scheme, _, rest = origin.partition("://")
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if host != rest:
        corrections.append(f"dropped the path {rest[len(host) :]!r}: an origin has none")
    lowered = f"{scheme}://{host}".lower()
    if lowered != f"{scheme}://{host}":
        corrections.append("lowercased it: browsers send origins in lowercase")
    origin = lowered
    default_port = {"http": ":80", "https": ":443"}.get(scheme.lower())
    if default_port is not None and origin.endswith(default_port):
        origin = origin[: -len(default_port)]
        corrections.append(f"dropped the default port {default_port}: browsers never send it")
    return origin, tuple(corrections)


def _request_header(header: str) -> RequestHeader:
    name, _, value = header.partition(":")
    return name.strip(), value.strip()


def _exchange(middleware: WSGIApplication, method: str, origin: str, path: str, extra: dict[str, str]) -> Exchange:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "HTTP_ORIGIN": origin, "PATH_INFO": path, **extra}
    setup_testing_defaults(environ)
    answers: list[tuple[str, list[Header]]] = []

    def start_response(status: str, headers: list[Header], exc_info: Any = None) -> Any:
        answers.append((status, headers))

    middleware(environ, start_response)
    status, headers = answers[-1]
    return Exchange(status, tuple(headers), environ[DECISION_KEY])


def stand_in_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The application ``explain`` puts behind the middleware: ``200 OK``, empty text."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return []


def _by_name(headers: Iterable[Header]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}
