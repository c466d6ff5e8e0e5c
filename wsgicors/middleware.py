"""The CORS WSGI middleware and its PasteDeploy filter factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from .config import compile_settings
from .explain import Explanation, explain
from .headers import HeaderList, add_cors_headers
from .policy import (
    NO_POLICY,
    NOT_CORS,
    ORIGIN_AND_METHOD_NOT_ALLOWED,
    ORIGIN_NOT_ALLOWED,
    Decision,
    Headers,
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
        self._refused = Decision(False, None, ORIGIN_AND_METHOD_NOT_ALLOWED if config.verbmatch else ORIGIN_NOT_ALLOWED)
        if not config.policies:
            self._refused = Decision(False, None, NO_POLICY)
        vary: tuple[str, ...] = _PREFLIGHT_VARY
        if any(policy.private_network for policy in config.policies):
            vary += (_PRIVATE_NETWORK_VARY,)
        self._preflight_headers = (("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", ", ".join(vary)))
        # Nothing configured, or a first policy answering `*` to everyone: the headers added
        # to the app's responses never depend on the request, so no Vary, nothing to decide.
        self._constant: Optional[tuple[Headers, Decision]] = None
        first = config.policies[0] if config.policies else None
        if first is None:
            self._constant = ((), self._refused)
        elif first.public and (not config.verbmatch or first.methods is None):
            self._constant = (first.actual_headers("*"), first.decision)
        if config.debug_header:
            self._constant = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        method = environ["REQUEST_METHOD"]
        if origin is not None and method == "OPTIONS":
            requested_method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            if requested_method is not None:
                start_response("200 OK", self._preflight(environ, origin, requested_method))
                return []
        if self._constant is not None:
            cors, environ[DECISION_KEY] = self._constant
            if not cors:
                return self.application(environ, start_response)
            return self.application(environ, _adding(start_response, cors, False, False))
        if origin is None:
            cors, decision = (), _NOT_CORS
        else:
            policy = select_policy(self.config.policies, self.config.verbmatch, origin, method)
            if policy is None:
                log.debug("CORS request refused: no policy allows origin %r with method %r", origin, method)
                cors, decision = (), self._refused
            else:
                cors, decision = policy.actual_headers(origin), policy.decision
            if self.config.debug_header:
                cors += ((DEBUG_HEADER, decision.header_value),)
        environ[DECISION_KEY] = decision
        expose_names = decision.policy is not None and decision.policy.exposes_response_header_names
        return self.application(environ, _adding(start_response, cors, True, expose_names))

    def explain(
        self,
        origin: str,
        method: str = "GET",
        headers: Iterable[str] = (),
        preflight: bool = False,
        credentials: bool = False,
    ) -> Explanation:
        """What this middleware answers a browser's request, and whether the page may read it.

        The application is not called: a stand-in answers ``200 OK``.

        :param origin: the page's origin.
        :param method: the request's method.
        :param headers: the names of the request headers the script sets.
        :param preflight: send a preflight even if the method and headers need none.
        :param credentials: the page fetches with ``credentials: "include"``.
        """
        return explain(self, origin, method, headers, preflight, credentials)

    def _preflight(self, environ: WSGIEnvironment, origin: str, method: str) -> HeaderList:
        policy = select_policy(self.config.policies, self.config.verbmatch, origin, method)
        if policy is None:
            log.debug("CORS preflight refused: no policy allows origin %r with method %r", origin, method)
            return self._answer(environ, (), self._refused)
        cors = policy.preflight_headers(
            origin,
            method,
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK") == "true",
        )
        if isinstance(cors, Refusal):
            log.debug("CORS preflight from origin %r refused: %s", origin, cors.detail)
            return self._answer(environ, (), Decision(False, policy, cors.reason, cors.detail))
        return self._answer(environ, cors, policy.decision)

    def _answer(self, environ: WSGIEnvironment, cors: Headers, decision: Decision) -> HeaderList:
        environ[DECISION_KEY] = decision
        if self.config.debug_header:
            cors += ((DEBUG_HEADER, decision.header_value),)
        return [*self._preflight_headers, *cors]


def _adding(start_response: StartResponse, cors: Headers, vary_origin: bool, expose_names: bool) -> StartResponse:
    def cors_start_response(status: str, headers: HeaderList, exc_info: OptExcInfo | None = None) -> Any:
        return start_response(status, add_cors_headers(headers, cors, vary_origin, expose_names), exc_info)

    return cors_start_response


def make_middleware(app: WSGIApplication, global_conf: Mapping[str, Any], **settings: Any) -> CORS:
    """PasteDeploy ``filter_app_factory``: ``use = egg:wsgicors#middleware``.

    Only the filter section's own keys configure CORS; ``global_conf`` (``[DEFAULT]``,
    ``here``, ``__file__``) is not read.
    """
    return CORS(app, settings)
