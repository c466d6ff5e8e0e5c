"""What a configuration answers to one cross-origin request, and why."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Optional
from wsgiref.util import setup_testing_defaults

from .fetch import cors_check, needs_preflight, preflight_check, unsafe_header_names
from .policy import Decision, Header, Policy

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .middleware import CORS


@dataclass(frozen=True)
class Step:
    """One policy tried in turn: ``selected``, or skipped with a ``reason``."""

    policy: Policy
    selected: bool
    reason: str


@dataclass(frozen=True)
class Exchange:
    """The middleware's exact answer to one request, and its decision."""

    status: str
    headers: tuple[Header, ...]
    decision: Decision


@dataclass(frozen=True)
class Explanation:
    """What :meth:`wsgicors.CORS.explain` found.

    :param steps: the policies tried, in order, up to the selected one.
    :param preflight: the answer to the preflight, if a browser sends one.
    :param actual: the headers added to the application's answer (here ``200 OK``).
    :param blocked: why a browser would not let the page read the answer, or ``None``.
    """

    origin: str
    method: str
    headers: tuple[str, ...]
    credentials: bool
    steps: tuple[Step, ...]
    preflight: Optional[Exchange]
    actual: Exchange
    blocked: Optional[str]

    @property
    def readable(self) -> bool:
        """Whether a browser lets the page read the answer."""
        return self.blocked is None


def explain(
    middleware: CORS,
    origin: str,
    method: str = "GET",
    headers: Iterable[str] = (),
    preflight: bool = False,
    credentials: bool = False,
) -> Explanation:
    """Run ``middleware`` on a browser's request, around a stand-in for its application.

    :param preflight: send a preflight even if the method and headers need none.
    :param credentials: the page fetches with ``credentials: "include"``.
    """
    headers = tuple(headers)
    probe = copy.copy(middleware)
    probe.application = stand_in_app
    preflighted = preflight or needs_preflight(method, headers)
    preflight_exchange = None
    blocked = None
    if preflighted:
        requested = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
        names = unsafe_header_names(headers)
        if names:
            requested["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = ",".join(names)
        preflight_exchange = _exchange(probe, "OPTIONS", origin, requested)
        blocked = preflight_check(
            int(preflight_exchange.status[:3]),
            _by_name(preflight_exchange.headers),
            origin,
            method,
            headers,
            credentials,
        )
    actual = _exchange(probe, method, origin, {})
    if blocked is None:
        blocked = cors_check(_by_name(actual.headers), origin, credentials)
    return Explanation(
        origin=origin,
        method=method,
        headers=headers,
        credentials=credentials,
        steps=_steps(middleware, origin, method),
        preflight=preflight_exchange,
        actual=actual,
        blocked=blocked,
    )


def _steps(middleware: CORS, origin: str, method: str) -> tuple[Step, ...]:
    steps = []
    for policy in middleware.config.policies:
        if not policy.allows_origin(origin):
            steps.append(Step(policy, False, "origin not allowed"))
        elif middleware.config.verbmatch and not policy.allows_method(method):
            steps.append(Step(policy, False, f"method {method!r} not allowed"))
        else:
            steps.append(Step(policy, True, "selected"))
            break
    return tuple(steps)


def _exchange(middleware: CORS, method: str, origin: str, extra: dict[str, str]) -> Exchange:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "HTTP_ORIGIN": origin, **extra}
    setup_testing_defaults(environ)
    answers: list[tuple[str, list[Header]]] = []

    def start_response(status: str, headers: list[Header], exc_info: Any = None) -> Any:
        answers.append((status, headers))

    middleware(environ, start_response)
    status, headers = answers[-1]
    return Exchange(status, tuple(headers), environ["wsgicors.decision"])


def stand_in_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The application ``explain`` puts behind the middleware: ``200 OK``, empty text."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return []


def _by_name(headers: Iterable[Header]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}
