"""The CORS WSGI middleware and its PasteDeploy filter factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional

from .answers import WATCHED_LENGTHS, WATCHED_NAMES, Answers, compile_answers
from .config import Config, compile_settings
from .explain import Explanation, explain, stand_in_app
from .headers import HeaderList
from .paths import ROOT
from .policy import DECISION_KEY

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("wsgicors")


class CORS:
    """WSGI middleware that answers CORS preflight requests and adds CORS headers to
    the application's responses.

    :param application: the WSGI application to wrap.
    :param cfg: settings as a mapping (as PasteDeploy passes them).
    :param kw: settings as keywords; they win over ``cfg``. ``origin`` may be a function
        deciding at run time (:data:`wsgicors.OriginCheck`), called from many threads at once.
    :raises wsgicors.ConfigurationError: for invalid settings.
    """

    def __init__(self, application: WSGIApplication, cfg: Optional[Mapping[str, Any]] = None, **kw: Any) -> None:
        self.application = application
        #: Everything a request reads, in one immutable object.
        self.answers = _prepare({**(cfg or {}), **kw})

    def reconfigure(self, cfg: Optional[Mapping[str, Any]] = None, **kw: Any) -> None:
        """Validate and compile new settings as the constructor does, then put them in force.

        The answer table is swapped in one assignment: a request in progress finishes
        with the table it started with, later ones see the new one, and none sees a mix.
        Under a server with several processes, each has its own middleware to reconfigure.
        Nothing given means what ``CORS(app)`` means: CORS denied to everyone.

        :raises wsgicors.ConfigurationError: for invalid settings; the configuration in
            force stays.
        """
        self.answers = _prepare({**(cfg or {}), **kw})

    @classmethod
    def from_answers(cls, application: WSGIApplication, answers: Answers) -> CORS:
        """A middleware around ``application`` giving the answers already prepared in ``answers``."""
        middleware = cls.__new__(cls)
        middleware.application = application
        middleware.answers = answers
        return middleware

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.answers.config

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answers = self.answers  # read once: a request is answered by one table throughout
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            # Not a CORS request: https://fetch.spec.whatwg.org/#cors-request
            answer = answers.no_origin
        elif environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            # A CORS-preflight request, answered here: https://fetch.spec.whatwg.org/#cors-preflight-request
            answers.answer_preflight(environ, origin, start_response)
            return []
        else:
            # A CORS request; its response gets the CORS headers: https://fetch.spec.whatwg.org/#http-responses
            # Answers ready without a decision are looked up here, sparing them a call: listed
            # exactly, the same for every unlisted origin, or remembered for this origin
            # (under verbmatch or with paths the memo's keys are tuples, and this misses).
            ready = answers.exact.get(origin, answers.unlisted) or answers.recent.get(origin)
            answer = answers.recall(origin, environ["REQUEST_METHOD"], environ) if ready is None else ready
        environ[DECISION_KEY] = answer.decision

        def cors_start_response(
            status: str, headers: HeaderList, exc_info: Optional[OptExcInfo] = None
        ) -> Callable[[bytes], object]:
            # Usually an append; headers the app set itself need the careful merge.
            for name, _ in headers:
                if len(name) in WATCHED_LENGTHS and name.lower() in WATCHED_NAMES:
                    return start_response(status, answer.added_to(headers), exc_info)
            if answer.expose_names:
                return start_response(status, answer.added_to(headers), exc_info)
            return start_response(status, headers + answer.appended, exc_info)

        return self.application(environ, cors_start_response)

    def explain(
        self,
        origin: str,
        method: str = "GET",
        headers: Iterable[str] = (),
        preflight: bool = False,
        credentials: bool = False,
        path: str = ROOT,
    ) -> Explanation:
        """What this middleware answers a browser's request, and whether the page may read it.

        The application is not called: a stand-in answers ``200 OK``.

        :param headers: the request headers the page's script sets: ``"X-Token"``, or with
            a value, ``"Content-Type: application/x-www-form-urlencoded"``.
        :raises ValueError: for an origin without a scheme (others are corrected), or a
            path not starting with ``/``.
        :param preflight: send a preflight even if the method and headers need none.
        :param credentials: the page fetches with ``credentials: "include"``.
        :param path: the request's path below where the middleware is mounted (``PATH_INFO``).
        """

        def probe(answers: Answers) -> CORS:
            return CORS.from_answers(stand_in_app, answers)

        return explain(self.answers, probe, origin, method, headers, preflight, credentials, path)


def _prepare(settings: Mapping[str, Any]) -> Answers:
    config = compile_settings(settings)
    for warning in config.warnings:
        log.warning("%s", warning)
    # Refusals are logged only if DEBUG is on now: logging them costs every refused
    # request a decision.
    return compile_answers(config, log_refusals=log.isEnabledFor(logging.DEBUG))


def make_middleware(app: WSGIApplication, global_conf: Mapping[str, Any], **settings: Any) -> CORS:
    """PasteDeploy ``filter_app_factory``: ``use = egg:wsgicors#middleware``.

    Only the filter section's own keys configure CORS; ``global_conf`` (``[DEFAULT]``,
    ``here``, ``__file__``) is not read.
    """
    return CORS(app, settings)
