"""The answer table: everything the per-request path reads, prepared once from a Config."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Mapping, NamedTuple, Optional, Union

from .config import Config
from .headers import HeaderList, Headers, merge_vary, unique_names
from .origins import MAX_ORIGIN_LENGTH
from .policy import (
    DECISION_KEY,
    NO_POLICY,
    NOT_CORS,
    ORIGIN_AND_METHOD_NOT_ALLOWED,
    ORIGIN_NOT_ALLOWED,
    PRIVATE_NETWORK_NOT_GRANTED,
    Decision,
    Policy,
    Refusal,
    Step,
    select_policy,
    shown,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("wsgicors")

DEBUG_HEADER = "X-CORS-Decision"
PREFLIGHT_STATUS = f"{HTTPStatus.OK.value} {HTTPStatus.OK.phrase}"
# A preflight's answer depends on these request headers:
# https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches
_PREFLIGHT_VARY = ("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
_PRIVATE_NETWORK_VARY = "Access-Control-Request-Private-Network"
#: Answers decided for origins not listed exactly are kept for reuse, this many at most;
#: the memo is emptied when full, so that memory never grows with traffic.
RECENT_ANSWERS = 256
#: Names (lowercase) of the app's headers that make adding ours more than an append.
WATCHED_NAMES = frozenset(
    {"vary", "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers"}
)
_NOT_CORS = Decision(False, None, NOT_CORS)


class Answer(NamedTuple):
    """The answers for one origin (and, under ``verbmatch``, one method).

    :param decision: what was decided, for the environ.
    :param cors: the ``Access-Control-*`` headers an actual response gets.
    :param debug: ``X-CORS-Decision``, when ``debug_header`` is on.
    :param vary: merge ``Origin`` into the response's ``Vary``.
    :param expose_names: list the response's header names in ``Access-Control-Expose-Headers``.
    :param appended: everything added to a response that has none of :data:`WATCHED_NAMES`
        (and needs no names exposed): ``cors``, ``debug`` and ``Vary: Origin``.
    :param preflight_cors: the ``Access-Control-*`` headers of an allowed preflight.
    :param preflight: the whole header list of that preflight answer (of a refused one
        when the decision is a refusal).
    """

    decision: Decision
    cors: Headers
    debug: Headers
    vary: bool
    expose_names: bool
    appended: Headers
    preflight_cors: Headers
    preflight: Headers

    def added_to(self, app_headers: HeaderList) -> HeaderList:
        """A new list: the app's headers and ours, ``Origin`` merged into its ``Vary``.

        A header name the app set is never sent twice: browsers join two lines into one
        value (``true, true``) and reject it. An app that set ``Access-Control-Allow-Origin``
        answered CORS itself, so none of ours is added.
        """
        names = {name.lower() for name, _ in app_headers}
        cors: list[tuple[str, str]] = []
        if "access-control-allow-origin" not in names:
            cors = [header for header in self.cors if header[0].lower() not in names]
            if self.expose_names and "access-control-expose-headers" not in names:
                exposed = ", ".join(unique_names(name for name, _ in app_headers))
                if exposed:
                    cors.append(("Access-Control-Expose-Headers", exposed))
        headers = [*app_headers, *cors, *self.debug]
        return merge_vary(headers, "Origin") if self.vary else headers


@dataclass(frozen=True)
class AnswerStyle:
    """What every answer of a configuration shares.

    :param debug_header: add ``X-CORS-Decision``.
    :param vary: answers depend on ``Origin``: ``Vary: Origin`` on every response.
    :param preflight_headers: what every preflight answer starts with.
    """

    debug_header: bool
    vary: bool
    preflight_headers: Headers

    def debug(self, decision: Decision) -> Headers:
        """``X-CORS-Decision`` for ``decision``, if enabled."""
        return ((DEBUG_HEADER, decision.header_value),) if self.debug_header else ()

    def answer(self, decision: Decision, cors: Headers = (), preflight_cors: Headers = ()) -> Answer:
        """The answer carrying ``decision``, with these headers when it allows."""
        debug = self.debug(decision)
        policy = decision.policy
        expose_names = decision.allowed and policy is not None and policy.exposes_response_header_names
        appended = (*cors, *debug, ("Vary", "Origin")) if self.vary else (*cors, *debug)
        preflight = (*self.preflight_headers, *preflight_cors, *debug)
        return Answer(decision, cors, debug, self.vary, expose_names, appended, preflight_cors, preflight)

    def allowed(self, policy: Policy, origin: str) -> Answer:
        """The answer of ``policy``, which allows ``origin``."""
        return self.answer(policy.decision, policy.actual_headers(origin), policy.preflight_headers(origin))


@dataclass(frozen=True)
class Answers:
    """Every answer the middleware gives, prepared from ``config``.

    :param config: the configuration in force.
    :param style: what every answer shares.
    :param no_origin: the answer to a request without ``Origin``.
    :param refused: the answer to a request no policy allows.
    :param exact: under ``firstmatch``, the answer for each origin listed exactly.
    :param recent: a bounded memo of answers decided for other origins (see :meth:`lookup`).
    """

    config: Config
    style: AnswerStyle
    no_origin: Answer
    refused: Answer
    exact: Mapping[str, Answer]
    recent: dict[Union[str, tuple[str, str]], Answer] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, origin: str, method: str) -> Answer:
        """The answer for ``origin`` (and, under ``verbmatch``, ``method``): listed exactly,
        decided before, or decided now.

        Thread-safe: the memo is read and written by single dict operations, atomic in
        CPython. It is emptied when full, so at most :data:`RECENT_ANSWERS` answers (and a
        few more, under a race) are kept; an ``Origin`` too long to be one is never kept.
        """
        answer = self.exact.get(origin)
        if answer is not None:
            return answer
        key = (origin, method) if self.config.verbmatch else origin
        answer = self.recent.get(key)
        if answer is None:
            answer = self.decide(origin, method)
            if len(origin) <= MAX_ORIGIN_LENGTH:
                if len(self.recent) >= RECENT_ANSWERS:
                    self.recent.clear()
                self.recent[key] = answer
        return answer

    def decide(self, origin: str, method: str, steps: Optional[list[Step]] = None) -> Answer:
        """Select the policy for ``origin`` and ``method``, and build its answer; a
        refusal is logged at DEBUG.

        :param steps: if given, each policy tried is appended to it (for ``explain``).
        """
        policy = select_policy(self.config.policies, self.config.verbmatch, origin, method, steps)
        if policy is not None:
            return self.style.allowed(policy, origin)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("CORS refused: no policy allows origin %s with method %s", shown(origin), shown(method))
        return self.refused

    def answer_preflight(self, environ: WSGIEnvironment, origin: str, start_response: StartResponse) -> None:
        """Answer a preflight from ``origin``, and leave the decision in ``environ``."""
        method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        answer = self.lookup(origin, method)
        decision, headers = answer.decision, answer.preflight
        policy = decision.policy
        if policy is not None:
            private_network = environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
            extra = policy.check_preflight(method, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"), private_network)
            if isinstance(extra, Refusal):
                decision = Decision(False, policy, extra.reason, extra.detail)
                headers = (*self.style.preflight_headers, *self.style.debug(decision))
                log.debug("CORS preflight from origin %s refused: %s", shown(origin), extra.detail)
            elif private_network and not policy.private_network:
                decision = _private_network_not_granted(policy)
                headers = (*self.style.preflight_headers, *answer.preflight_cors, *extra, *self.style.debug(decision))
                log.debug("CORS preflight from origin %s: %s", shown(origin), decision.detail)
            elif extra:
                headers = (*headers, *extra)
        environ[DECISION_KEY] = decision
        start_response(PREFLIGHT_STATUS, list(headers))


def _private_network_not_granted(policy: Policy) -> Decision:
    # The ordinary answer goes out, without Access-Control-Allow-Private-Network: the
    # browser then fails only its private-network check (as rs/cors and django-cors-headers do).
    named = f"policy {policy.name!r}; " if policy.name is not None else ""
    detail = "private network access was not granted: the policy does not set private_network"
    return Decision(True, policy, f"{named}{PRIVATE_NETWORK_NOT_GRANTED}", detail)


def compile_answers(config: Config) -> Answers:
    """Prepare every answer ``config`` gives."""
    policies = config.policies
    first = policies[0] if policies else None
    # Nothing configured, or a first policy answering `*` to everyone: what is added never
    # depends on the request, so no response varies with Origin.
    same_for_all = first is None or (first.public and (not config.verbmatch or first.methods.any))
    preflight_vary: tuple[str, ...] = _PREFLIGHT_VARY
    if any(policy.private_network for policy in policies):
        preflight_vary += (_PRIVATE_NETWORK_VARY,)
    preflight_headers = (("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", ", ".join(preflight_vary)))
    style = AnswerStyle(config.debug_header, not same_for_all, preflight_headers)
    refusal = ORIGIN_AND_METHOD_NOT_ALLOWED if config.verbmatch else ORIGIN_NOT_ALLOWED
    refused = style.answer(Decision(False, None, refusal if policies else NO_POLICY))
    if first is not None and same_for_all:
        # Access-Control-Allow-Origin: * whether or not the request has an Origin.
        no_origin = AnswerStyle(False, False, ()).allowed(first, "*")
    else:
        # Not a CORS request (https://fetch.spec.whatwg.org/#cors-request), but its answer
        # must not be reused by a cache for one: it varies with Origin too.
        no_origin = AnswerStyle(False, style.vary, ()).answer(_NOT_CORS)
    exact = {}
    # Under firstmatch the answer for an origin depends on the origin alone.
    if not config.verbmatch:
        for origin in sorted({origin for policy in policies for origin in policy.origins.exact}):
            policy = select_policy(policies, False, origin, "GET")
            if policy is not None:  # always: the policy listing it allows it
                exact[origin] = style.allowed(policy, origin)
    return Answers(config, style, no_origin, refused, exact)
