"""Test helpers: a recording echo app, a WebTest stack with CORS request helpers."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

from webtest import TestApp


class EchoApp:
    """A WSGI app that answers ``200 OK`` with ``body`` and records each call."""

    def __init__(self, headers: Optional[List[Tuple[str, str]]] = None, status: str = "200 OK") -> None:
        self.headers = headers if headers is not None else [("Content-Type", "text/plain")]
        self.status = status
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        start_response(self.status, list(self.headers))
        return [b"body"]


class Stack(TestApp):  # type: ignore[misc]
    """WebTest app with helpers for CORS requests; ``echo`` is the wrapped app."""

    echo: EchoApp

    def preflight(self, origin: str, method: str, request_headers: Optional[str] = None, **kw: Any) -> Any:
        headers = {"Origin": origin, "Access-Control-Request-Method": method}
        if request_headers is not None:
            headers["Access-Control-Request-Headers"] = request_headers
        return self.options("/", headers=headers, **kw)

    def actual(self, origin: Optional[str], method: str = "GET", **kw: Any) -> Any:
        headers = {} if origin is None else {"Origin": origin}
        return self.request("/", method=method, headers=headers, **kw)


def cors_headers(response: Any) -> dict[str, str]:
    """The response's ``Access-Control-*`` headers, by name."""
    return {name: value for name, value in response.headerlist if name.startswith("Access-Control-")}


def echo_app_factory(global_conf: dict[str, str], **settings: str) -> EchoApp:
    """PasteDeploy ``paste.app_factory`` for the test inis (``use = call:support:echo_app_factory``)."""
    return EchoApp()
