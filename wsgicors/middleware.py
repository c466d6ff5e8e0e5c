"""The CORS WSGI middleware and its PasteDeploy filter factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from .config import compile_settings
from .headers import HeaderList, add_cors_headers
from .policy import Headers, select_policy

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgicors")

# A preflight response's CORS headers depend on these request headers.
_PREFLIGHT_HEADERS = (
    ("Content-Type", "text/plain"),
    ("Content-Length", "0"),
    ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
)


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
        self.config = compile_settings({**(cfg or {}), **kw})
        # With no policy, or a first one answering `*` to every request, the headers added
        # to the app's responses never depend on the request: no Vary, nothing to decide.
        self._constant_headers: Optional[Headers] = None
        if not self.config.policies:
            self._constant_headers = ()
        else:
            first = self.config.policies[0]
            if first.public and (not self.config.verbmatch or first.methods is None):
                self._constant_headers = first.actual_headers("*")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        method = environ["REQUEST_METHOD"]
        if origin is not None and method == "OPTIONS":
            requested_method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            if requested_method is not None:
                start_response("200 OK", self._preflight(environ, origin, requested_method))
                return []
        constant = self._constant_headers
        if constant is not None:
            if not constant:
                return self.application(environ, start_response)
            return self.application(environ, _adding(start_response, constant, False, False))
        cors: Headers = ()
        policy = None
        if origin is not None:
            policy = select_policy(self.config.policies, self.config.verbmatch, origin, method)
            if policy is None:
                log.debug("CORS request refused: no policy allows origin %r with method %r", origin, method)
            else:
                cors = policy.actual_headers(origin)
        expose_names = policy is not None and policy.exposes_response_header_names
        return self.application(environ, _adding(start_response, cors, True, expose_names))

    def _preflight(self, environ: WSGIEnvironment, origin: str, method: str) -> HeaderList:
        policy = select_policy(self.config.policies, self.config.verbmatch, origin, method)
        if policy is None:
            log.debug("CORS preflight refused: no policy allows origin %r with method %r", origin, method)
            return list(_PREFLIGHT_HEADERS)
        cors = policy.preflight_headers(origin, method, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
        if isinstance(cors, str):
            log.debug("CORS preflight from origin %r refused: %s", origin, cors)
            return list(_PREFLIGHT_HEADERS)
        return [*_PREFLIGHT_HEADERS, *cors]


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
