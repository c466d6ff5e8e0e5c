"""The answer table: everything the per-request path reads, prepared once from a Config."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Hashable, Mapping, Optional

from .config import Config
from .headers import HeaderList, Headers, merge_vary, unique_names
from .origins import MAX_ORIGIN_LENGTH
from .paths import ROOT, PathMatcher, request_path
from .policy import (
    ANY,
    DECISION_KEY,
    NO_POLICY,
    NO_POLICY_FOR_PATH,
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
#: Answers decided for origins not listed exactly, and the answers to preflights from
#: origins a policy allows, are kept for reuse, this many of each at most; a memo is
#: emptied when full, so that memory never grows with traffic. Each step is one dict
#: operation, atomic in CPython: no lock.
RECENT_ANSWERS = 256
#: A request whose origin and method (and, for a preflight, requested headers) are longer
#: together is answered but not kept, so that no client can pin more than about
#: RECENT_ANSWERS times this many characters in a memo.
REMEMBERED_LENGTH = MAX_ORIGIN_LENGTH
#: Names (lowercase) of the app's headers that make adding ours more than an append.
WATCHED_NAMES = frozenset(
    {"vary", "access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers"}
)
#: Their lengths: most names are ruled out by length, without lowering and hashing them.
WATCHED_LENGTHS = frozenset(len(name) for name in WATCHED_NAMES)
_NOT_CORS = Decision(False, None, NOT_CORS)
# The environ of a request to the root path, with nothing else known.
_NO_ENVIRON: Mapping[str, Any] = MappingProxyType({})


class Answer:
    """The answers for one origin (and, under ``verbmatch``, one method).

    Never changed once made, by convention that mypy checks: the attributes are
    ``Final``. Slots rather than a frozen dataclass or a named tuple, because every
    request reads these attributes and an answer is made for each origin decided at run
    time: a slot is read in a third of the time a named tuple's field takes, and made in
    a fifth of a frozen dataclass's.

    :param decision: what was decided, for the environ.
    :param cors: the ``Access-Control-*`` headers an actual response gets.
    :param debug: ``X-CORS-Decision``, when ``debug_header`` is on.
    :param vary: merge ``Origin`` into the response's ``Vary``.
    :param expose_names: list the response's header names in ``Access-Control-Expose-Headers``.
    :param appended: everything added to a response that has none of :data:`WATCHED_NAMES`
        (and needs no names exposed): ``cors``, ``debug`` and ``Vary: Origin``. A list,
        never changed, so that the response's list is made by one concatenation.
    :param preflight_cors: the ``Access-Control-*`` headers of an allowed preflight.
    :param preflight: the whole header list of that preflight answer (of a refused one
        when the decision is a refusal).
    """

    __slots__ = ("appended", "cors", "debug", "decision", "expose_names", "preflight", "preflight_cors", "vary")

    def __init__(
        self,
        decision: Decision,
        cors: Headers,
        debug: Headers,
        vary: bool,
        expose_names: bool,
        appended: HeaderList,
        preflight_cors: Headers,
        preflight: Headers,
    ) -> None:
        self.decision: Final = decision
        self.cors: Final = cors
        self.debug: Final = debug
        self.vary: Final = vary
        self.expose_names: Final = expose_names
        self.appended: Final = appended
        self.preflight_cors: Final = preflight_cors
        self.preflight: Final = preflight

    def __repr__(self) -> str:
        return _slots_repr(self)

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


#: What a preflight asks: origin, method, requested headers, private network access, and
#: which path-restricted policies cover its path.
PreflightKey = tuple[str, str, Optional[str], bool, tuple[bool, ...]]


class PreflightAnswer:
    """The answer to one preflight: its decision and its whole header list (slots and
    ``Final`` attributes, as :class:`Answer`)."""

    __slots__ = ("decision", "headers")

    def __init__(self, decision: Decision, headers: Headers) -> None:
        self.decision: Final = decision
        self.headers: Final = headers

    def __repr__(self) -> str:
        return _slots_repr(self)


def _slots_repr(record: Answer | PreflightAnswer) -> str:
    fields = ", ".join(f"{name}={getattr(record, name)!r}" for name in type(record).__slots__)
    return f"{type(record).__name__}({fields})"


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
        appended = [*cors, *debug, ("Vary", "Origin")] if self.vary else [*cors, *debug]
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
    :param uncovered: the answer to a request to a path no policy covers.
    :param exact: under ``firstmatch`` and without ``paths``, the answer for each origin
        listed exactly in a policy before any whose origins a callable decides.
    :param unlisted: the answer for every other origin, when it does not depend on the
        origin (see :func:`unlisted_answer`); ``None`` sends them to :meth:`recall`.
    :param verbmatch: ``config.verbmatch``, read by every request that :meth:`recall` answers.
    :param remembered_length: the longest values kept in the memos (see
        :data:`REMEMBERED_LENGTH`); ``-1``, nothing kept, when a callable decides origins,
        which the application may answer differently from one request to the next.
    :param paths: the ``paths`` of the policies restricted to some paths, in order.
    :param recent: a bounded memo of answers decided for other origins (see :meth:`recall`).
    :param recent_preflights: a bounded memo of preflight answers (see :meth:`answer_preflight`).
    """

    config: Config
    style: AnswerStyle
    no_origin: Answer
    refused: Answer
    uncovered: Answer
    exact: Mapping[str, Answer]
    unlisted: Optional[Answer]
    verbmatch: bool
    remembered_length: int
    paths: tuple[PathMatcher, ...] = ()
    recent: dict[Hashable, Answer] = field(default_factory=dict, repr=False, compare=False)
    recent_preflights: dict[PreflightKey, PreflightAnswer] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, origin: str, method: str, environ: Mapping[str, Any] = _NO_ENVIRON) -> Answer:
        """The answer for ``origin`` (and, under ``verbmatch``, ``method``) to a request
        with this ``environ``: listed exactly, the same for every unlisted origin, decided
        before, or decided now. ``CORS.__call__`` does the same inline."""
        answer = self.exact.get(origin, self.unlisted) or self.recent.get(origin)
        return self.recall(origin, method, environ) if answer is None else answer

    def recall(self, origin: str, method: str, environ: Mapping[str, Any] = _NO_ENVIRON) -> Answer:
        """The answer for an ``origin`` neither listed exactly nor kept in the memo under
        the origin alone: kept under the origin with the method or the path's coverage,
        or decided now and kept.

        ``environ`` is read for the request's path only when policies are restricted to
        paths; the memo then keeps answers by which of them cover it.

        Thread-safe: the memo is read and written by single dict operations, atomic in
        CPython. It is emptied when full, so at most :data:`RECENT_ANSWERS` answers (and a
        few more, under a race) are kept, none for values longer than ``remembered_length``.
        """
        recent = self.recent
        key: Hashable = origin
        path = ROOT
        if self.verbmatch or self.paths:
            # Kept under a tuple, which the caller's lookup by origin missed.
            key = (origin, method) if self.verbmatch else origin
            if self.paths:
                path = request_path(environ)
                key = (key, self.coverage(path))
            answer = recent.get(key)
            if answer is not None:
                return answer
        answer = self.decide(origin, method, path)
        # Kept inline rather than by a helper: every origin decided passes here, and a
        # stream of distinct origins should cost what it would without the memo.
        if len(origin) + len(method) <= self.remembered_length:
            if len(recent) >= RECENT_ANSWERS:
                recent.clear()
            recent[key] = answer
        return answer

    def coverage(self, path: str) -> tuple[bool, ...]:
        """Which path-restricted policies cover ``path``: paths alike in this are answered alike."""
        return tuple([paths.covers(path) for paths in self.paths])

    def decide(self, origin: str, method: str, path: str = ROOT, steps: Optional[list[Step]] = None) -> Answer:
        """Select the policy for ``origin``, ``method`` and ``path``, and build its answer; a
        refusal is logged at DEBUG.

        :param steps: if given, each policy tried is appended to it (for ``explain``).
        """
        policies = self.config.policies
        policy = select_policy(policies, self.verbmatch, origin, method, path, steps)
        if policy is not None:
            return self.style.allowed(policy, origin)
        if self.paths and not any(policy.paths is None or policy.paths.covers(path) for policy in policies):
            if log.isEnabledFor(logging.DEBUG):
                log.debug("CORS refused: no policy covers path %s", shown(path))
            return self.uncovered
        if log.isEnabledFor(logging.DEBUG):
            log.debug("CORS refused: no policy allows origin %s with method %s", shown(origin), shown(method))
        return self.refused

    def answer_preflight(self, environ: WSGIEnvironment, origin: str, start_response: StartResponse) -> None:
        """Answer a preflight from ``origin``, and leave the decision in ``environ``.

        The answers to preflights from origins a policy allows are kept by the request's
        values, as :meth:`recall` keeps answers by origin (a request with longer values
        is answered without being kept). A preflight from an origin no policy allows is
        answered from the origin's answer (see :meth:`lookup`) and not kept by its values.
        """
        method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        request_headers = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        private_network = environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true"
        # Browsers send a preflight to the target URL: its path selects as the request's would.
        coverage = self.coverage(request_path(environ)) if self.paths else ()
        request = (origin, method, request_headers, private_network, coverage)
        preflight = self.recent_preflights.get(request)
        if preflight is None:
            answer = self.lookup(origin, method, environ)
            policy = answer.decision.policy
            if policy is None:
                # Refused by origin (or path), whatever else it asks.
                environ[DECISION_KEY] = answer.decision
                start_response(PREFLIGHT_STATUS, list(answer.preflight))
                return
            preflight = self.allowed_preflight(answer, policy, origin, method, request_headers, private_network)
            if len(origin) + len(method) + len(request_headers or "") <= self.remembered_length:
                recent = self.recent_preflights
                if len(recent) >= RECENT_ANSWERS:
                    recent.clear()
                recent[request] = preflight
        environ[DECISION_KEY] = preflight.decision
        start_response(PREFLIGHT_STATUS, list(preflight.headers))

    def allowed_preflight(
        self,
        answer: Answer,
        policy: Policy,
        origin: str,
        method: str,
        request_headers: Optional[str],
        private_network: bool,
    ) -> PreflightAnswer:
        """The answer to a preflight from an ``origin`` that ``policy`` allows (``answer`` is
        its answer): what the policy says of the method and headers asked for. A refusal is
        logged at DEBUG.

        :param method: the ``Access-Control-Request-Method`` value.
        :param request_headers: the ``Access-Control-Request-Headers`` value, if sent.
        :param private_network: ``Access-Control-Request-Private-Network: true`` was sent.
        """
        extra = policy.check_preflight(method, request_headers, private_network)
        if isinstance(extra, Refusal):
            decision = Decision(False, policy, extra.reason, extra.detail)
            log.debug("CORS preflight from origin %s refused: %s", shown(origin), extra.detail)
            return PreflightAnswer(decision, (*self.style.preflight_headers, *self.style.debug(decision)))
        if private_network and not policy.private_network:
            decision = _private_network_not_granted(policy)
            log.debug("CORS preflight from origin %s: %s", shown(origin), decision.detail)
            headers = (*self.style.preflight_headers, *answer.preflight_cors, *extra, *self.style.debug(decision))
            return PreflightAnswer(decision, headers)
        return PreflightAnswer(answer.decision, (*answer.preflight, *extra))


def _private_network_not_granted(policy: Policy) -> Decision:
    # The ordinary answer goes out, without Access-Control-Allow-Private-Network: the
    # browser then fails only its private-network check (as rs/cors and django-cors-headers do).
    named = f"policy {policy.name!r}; " if policy.name is not None else ""
    detail = "private network access was not granted: the policy does not set private_network"
    return Decision(True, policy, f"{named}{PRIVATE_NETWORK_NOT_GRANTED}", detail)


def compile_answers(config: Config, log_refusals: bool = False) -> Answers:
    """Prepare every answer ``config`` gives.

    :param log_refusals: decide every refusal per origin, where it is logged at DEBUG.
        Otherwise an origin that no policy can allow is refused by a lookup.
    """
    policies = config.policies
    first = policies[0] if policies else None
    # Nothing configured, or a first policy answering `*` to everyone: what is added never
    # depends on the request, so no response varies with Origin.
    same_for_all = first is None or (
        first.public and first.paths is None and (not config.verbmatch or first.methods.any)
    )
    preflight_vary: tuple[str, ...] = _PREFLIGHT_VARY
    if any(policy.private_network for policy in policies):
        preflight_vary += (_PRIVATE_NETWORK_VARY,)
    preflight_headers = (("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", ", ".join(preflight_vary)))
    style = AnswerStyle(config.debug_header, not same_for_all, preflight_headers)
    refusal = ORIGIN_AND_METHOD_NOT_ALLOWED if config.verbmatch else ORIGIN_NOT_ALLOWED
    refused = style.answer(Decision(False, None, refusal if policies else NO_POLICY))
    uncovered = style.answer(Decision(False, None, NO_POLICY_FOR_PATH))
    if first is not None and same_for_all:
        # Access-Control-Allow-Origin: * whether or not the request has an Origin.
        no_origin = AnswerStyle(False, False, ()).allowed(first, "*")
    else:
        # Not a CORS request (https://fetch.spec.whatwg.org/#cors-request), but its answer
        # must not be reused by a cache for one: it varies with Origin too.
        no_origin = AnswerStyle(False, style.vary, ()).answer(_NOT_CORS)
    # Policies after one whose origins a callable decides are reached only at run time.
    dynamic = [policy.origins.callback is not None for policy in policies]
    settled = policies[: dynamic.index(True)] if any(dynamic) else policies
    paths = tuple(policy.paths for policy in policies if policy.paths is not None)
    exact = {}
    # Under firstmatch, and without paths, the answer for an origin depends on the origin alone.
    if not config.verbmatch and not paths:
        for origin in sorted({origin for policy in settled for origin in policy.origins.exact}):
            policy = select_policy(settled, False, origin, "GET")
            if policy is not None:  # always: the policy listing it allows it
                exact[origin] = style.allowed(policy, origin)
    unlisted = None if paths else unlisted_answer(config, style, None if log_refusals else refused)
    remembered_length = -1 if any(dynamic) else REMEMBERED_LENGTH
    return Answers(
        config, style, no_origin, refused, uncovered, exact, unlisted, config.verbmatch, remembered_length, paths
    )


def unlisted_answer(config: Config, style: AnswerStyle, refused: Optional[Answer]) -> Optional[Answer]:
    """Under ``firstmatch``, the answer for every origin that no policy lists exactly, when
    it is the same for all of them: the first policy allowing more than its listed origins
    allows them all by ``*``, or there is none and they are ``refused``.

    ``None`` when the answer depends on the origin (or ``refused`` is ``None``).
    """
    if config.verbmatch:
        return None
    for policy in config.policies:
        if policy.public:
            return style.allowed(policy, ANY)
        if not policy.origins.exact_only:
            return None
    return refused
