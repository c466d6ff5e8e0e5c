"""The CORS WSGI middleware and its PasteDeploy filter factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Tuple

from .config import compile_settings
from .explain import explain
from .headers import VARY_ORIGIN, WATCHED_NAMES, HeaderList, add_cors_headers
from .policy import (
    NO_POLICY,
    NOT_CORS,
    ORIGIN_AND_METHOD_NOT_ALLOWED,
    ORIGIN_NOT_ALLOWED,
    Decision,
    Headers,
    Policy,
    Refusal,
    select_policy,
)

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgicors")

#: The environ key under which each request's :class:`~wsgicors.policy.Decision` is left.
DECISION_KEY = "wsgicors.decision"
DEBUG_HEADER = "X-CORS-Decision"
# A preflight answer depends on these request headers.
_PREFLIGHT_VARY = ("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
_PRIVATE_NETWORK_VARY = "Access-Control-Request-Private-Network"
_NOT_CORS = Decision(False, None, NOT_CORS)

#: What the app's answer to an actual request gets: the headers to add (ending with
#: ``Vary: Origin`` where the answer depends on the origin), the decision, and whether
#: the names of the app's own headers are to be exposed.
Answer = Tuple[Headers, Decision, bool]


class CORS:
    """WSGI middleware that answers CORS preflight requests and adds CORS headers to
    the application's responses.

    :param application: the WSGI application to wrap.
    :param cfg: settings as a mapping (as PasteDeploy passes them).
    :param kw: settings as keywords; they win over ``cfg``.
    :raises wsgicors.ConfigurationError: for invalid settings.
    """

    def __init__(self, application: WSGIApplication, cfg: Optional[Mapping[str, Any]] = None, **kw: Any) -> None:
        self.application = application
        self.config = config = compile_settings({**(cfg or {}), **kw})
        for warning in config.warnings:
            log.warning("%s", warning)
        vary: tuple[str, ...] = _PREFLIGHT_VARY
        if any(policy.private_network for policy in config.policies):
            vary += (_PRIVATE_NETWORK_VARY,)
        self._preflight_headers = (("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", ", ".join(vary)))
        refusal = ORIGIN_AND_METHOD_NOT_ALLOWED if config.verbmatch else ORIGIN_NOT_ALLOWED
        self._refused_decision = Decision(False, None, refusal if config.policies else NO_POLICY)
        # Nothing configured, or a first policy answering `*` to everyone: the headers added
        # never depend on the request, so every request gets the same answer and no Vary.
        first = config.policies[0] if config.policies else None
        self._vary = not (first is None or (first.public and (not config.verbmatch or first.methods is None)))
        self._endings = {policy.name: self._ending(policy.decision) for policy in config.policies}
        self._refused: Answer = (self._ending(self._refused_decision), self._refused_decision, False)
        self._same_for_all: Optional[Answer] = None
        if first is None:
            self._same_for_all = self._refused
            self._no_origin: Answer = ((), _NOT_CORS, False)
        elif not self._vary:
            self._same_for_all = self._allowed(first, "*")
            self._no_origin = (first.actual_headers("*"), first.decision, False)
        else:
            self._no_origin = ((VARY_ORIGIN,), _NOT_CORS, False)
        # Exact origins are answered by a dict lookup: under firstmatch the answer depends
        # on the origin alone, so it is computed here, once.
        self._exact: dict[str, Answer] = {}
        # The policies an origin not in _exact is matched against: none, under firstmatch
        # with exact origins only.
        self._scanned = config.policies
        if not config.verbmatch and all(policy.origins.exact_only and not policy.public for policy in config.policies):
            self._scanned = ()
        if self._vary and not config.verbmatch:
            for origin in {origin for policy in config.policies for origin in policy.origins.exact}:
                policy = next(policy for policy in config.policies if policy.allows_origin(origin))
                self._exact[origin] = self._allowed(policy, origin)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            extra, environ[DECISION_KEY], expose = self._no_origin
        elif environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("200 OK", self._preflight(environ, origin))
            return []
        else:
            answer = self._exact.get(origin) or self._answer(origin, environ["REQUEST_METHOD"])
            extra, environ[DECISION_KEY], expose = answer
            if expose:
                return self.application(environ, _exposing(start_response, extra))
        if not extra:
            return self.application(environ, start_response)

        def cors_start_response(status: str, headers: HeaderList, exc_info: OptExcInfo | None = None) -> Any:
            for name, _ in headers:
                if name.lower() in WATCHED_NAMES:
                    return start_response(status, add_cors_headers(headers, extra), exc_info)
            return start_response(status, [*headers, *extra], exc_info)

        return self.application(environ, cors_start_response)

    def _answer(self, origin: str, method: str) -> Answer:
        if self._same_for_all is not None:
            return self._same_for_all
        policy = select_policy(self._scanned, self.config.verbmatch, origin, method)
        if policy is None:
            log.debug("CORS request refused: no policy allows origin %r with method %r", origin, method)
            return self._refused
        return self._allowed(policy, origin)

    def _allowed(self, policy: Policy, origin: str) -> Answer:
        headers = (*policy.actual_headers(origin), *self._endings[policy.name])
        return headers, policy.decision, policy.exposes_response_header_names

    def _ending(self, decision: Decision) -> Headers:
        """The headers every answer with ``decision`` ends with: X-CORS-Decision, Vary."""
        debug = ((DEBUG_HEADER, decision.header_value),) if self.config.debug_header else ()
        return (*debug, VARY_ORIGIN) if self._vary else debug

    #: ``explain(origin, method="GET", headers=(), preflight=False, credentials=False)``:
    #: what this middleware answers a browser's request, and whether the page may read it.
    explain = explain

    def _preflight(self, environ: WSGIEnvironment, origin: str) -> HeaderList:
        method = environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        exact = self._exact.get(origin)
        if exact is None:
            policy = select_policy(self._scanned, self.config.verbmatch, origin, method)
        else:
            policy = exact[1].policy
        if policy is None:
            log.debug("CORS preflight refused: no policy allows origin %r with method %r", origin, method)
            return self._preflight_answer(environ, (), self._refused_decision)
        cors = policy.preflight_headers(
            origin,
            method,
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true",
        )
        if isinstance(cors, Refusal):
            log.debug("CORS preflight from origin %r refused: %s", origin, cors.detail)
            return self._preflight_answer(environ, (), Decision(False, policy, cors.reason, cors.detail))
        return self._preflight_answer(environ, cors, policy.decision)

    def _preflight_answer(self, environ: WSGIEnvironment, cors: Headers, decision: Decision) -> HeaderList:
        environ[DECISION_KEY] = decision
        if self.config.debug_header:
            cors += ((DEBUG_HEADER, decision.header_value),)
        return [*self._preflight_headers, *cors]


def _exposing(start_response: StartResponse, extra: Headers) -> StartResponse:
    def cors_start_response(status: str, headers: HeaderList, exc_info: OptExcInfo | None = None) -> Any:
        return start_response(status, add_cors_headers(headers, extra, expose_names=True), exc_info)

    return cors_start_response


def make_middleware(app: WSGIApplication, global_conf: Mapping[str, Any], **settings: Any) -> CORS:
    """PasteDeploy ``filter_app_factory``: ``use = egg:wsgicors#middleware``.

    Only the filter section's own keys configure CORS; ``global_conf`` (``[DEFAULT]``,
    ``here``, ``__file__``) is not read.
    """
    return CORS(app, settings)
