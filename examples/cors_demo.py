"""The wsgicors demo: a page on one origin calling a CORS-protected API on another.

examples/demo.ini wires these PasteDeploy factories into a pipeline served by waitress:

- ``urlmap``: a composite that sends each path prefix to its own app (like Paste's urlmap);
- ``page_app``: the demo page, and ``/_demo/log``, what the server saw, for the page;
- ``recorder``: a filter that records each API exchange: the request, the CORS headers
  of the answer, and the reason wsgicors logged for a refusal;
- ``api_app``: a small JSON API; it knows nothing about CORS.

Run it from the repository root with ``PYTHONPATH=examples pserve examples/demo.ini``.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

App = Callable[[dict, Callable[..., Any]], Iterable[bytes]]

PAGE = Path(__file__).with_name("demo_page.html")

# -- the API ----------------------------------------------------------------------------

_ITEMS = {"1": {"id": "1", "name": "teapot"}, "2": {"id": "2", "name": "kettle"}}
_request_ids = itertools.count(1)


def _json(start_response: Callable[..., Any], status: str, data: object, *extra: tuple[str, str]) -> list[bytes]:
    body = json.dumps(data).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Request-Id", str(next(_request_ids))),
            *extra,
        ],
    )
    return [body]


def api(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/items``, ``/items/<id>``, ``/stream``, ``/login`` (sets a cookie), ``/whoami``."""
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    if path == "/items" and method in ("GET", "HEAD"):
        return _json(start_response, "200 OK", list(_ITEMS.values()))
    if path.startswith("/items/"):
        item = _ITEMS.get(path[len("/items/") :])
        if item is None:
            return _json(start_response, "404 Not Found", {"error": f"no item {path[7:]!r}"})
        length = int(environ.get("CONTENT_LENGTH") or 0)
        sent = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        return _json(start_response, "200 OK", {"method": method, "item": item, "received": sent})
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return _stream()
    if path == "/login" and method == "POST":
        cookie = f"demo_session={secrets.token_hex(8)}; Path=/; HttpOnly; SameSite=Lax"
        return _json(start_response, "200 OK", {"logged_in": True}, ("Set-Cookie", cookie))
    if path == "/whoami":
        return _json(start_response, "200 OK", {"cookie": environ.get("HTTP_COOKIE")})
    return _json(start_response, "404 Not Found", {"error": f"no route {method} {path}"})


def _stream() -> Iterable[bytes]:
    for number in range(1, 4):
        yield f"line {number} of 3\n".encode()
        if number < 3:
            time.sleep(0.2)


def api_app(global_conf: Mapping[str, str], **settings: str) -> App:
    """PasteDeploy app factory: ``use = call:cors_demo:api_app``."""
    return api


# -- what the server saw, for the page ---------------------------------------------------

_log: collections.deque[dict[str, Any]] = collections.deque(maxlen=500)
_log_ids = itertools.count(1)
_current = threading.local()


class _ReasonHandler(logging.Handler):
    """Adds wsgicors's log messages to the exchange being recorded in this thread."""

    def emit(self, record: logging.LogRecord) -> None:
        entry = getattr(_current, "entry", None)
        if entry is not None:
            entry["reasons"].append(record.getMessage())


_reason_handler = _ReasonHandler(logging.DEBUG)


def recorder(global_conf: Mapping[str, str], **settings: str) -> Callable[[App], App]:
    """PasteDeploy filter factory: ``use = call:cors_demo:recorder``, outside the CORS filter."""
    logger = logging.getLogger("wsgicors")
    if _reason_handler not in logger.handlers:
        logger.addHandler(_reason_handler)
    if not logger.isEnabledFor(logging.DEBUG):  # refusals are logged at DEBUG
        logger.setLevel(logging.DEBUG)
    return _Recorder


class _Recorder:
    """Records each exchange with the wrapped app in the log that ``/_demo/log`` shows."""

    def __init__(self, app: App) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING")
        entry: dict[str, Any] = {
            "id": next(_log_ids),
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") + (f"?{query}" if query else ""),
            "origin": environ.get("HTTP_ORIGIN"),
            "request_method": environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
            "request_headers": environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            "cookie": environ.get("HTTP_COOKIE") is not None,
            "status": None,
            "cors": {},
            "sets_cookie": False,
            "reasons": [],
        }

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            entry["status"] = status
            entry["cors"] = {name: value for name, value in headers if name.lower().startswith("access-control-")}
            entry["sets_cookie"] = any(name.lower() == "set-cookie" for name, _ in headers)
            return start_response(status, headers, exc_info)

        _current.entry = entry
        try:
            return self.app(environ, recording_start_response)
        finally:
            _current.entry = None
            _log.append(entry)


def log_after(last_id: int) -> list[dict[str, Any]]:
    """The recorded exchanges with an id above ``last_id``, oldest first."""
    return [entry for entry in list(_log) if entry["id"] > last_id]


# -- the page -----------------------------------------------------------------------------


def page_app(global_conf: Mapping[str, str], api_url: str, page_url: str, other_page_url: str, **settings: str) -> App:
    """PasteDeploy app factory: the demo page, which calls ``api_url``; prints the URLs to open."""
    ini = global_conf.get("__file__")
    shown = _section(Path(ini).read_text(encoding="utf-8"), "filter:cors") if ini else ""
    config = json.dumps({"api": api_url.rstrip("/"), "page": page_url, "other": other_page_url, "filter": shown})
    config = config.replace("</", "<\\/")  # keep the JSON inside its <script>
    html = PAGE.read_text(encoding="utf-8").replace("/*DEMO_CONFIG*/{}", config).encode()
    print(
        "\nwsgicors demo: open the page, it calls the API on another origin\n"
        f"  page, from an allowed origin:        {page_url}\n"
        f"  the same page from an unlisted one:  {other_page_url}\n"
        f"  the API, behind the CORS filter:     {api_url.rstrip('/')}/items\n"
        "  (Ctrl-C stops the server)\n",
        file=sys.stderr,
        flush=True,
    )

    def page(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in ("", "/"):
            start_response(
                "200 OK",
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(html))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [html]
        if path == "/_demo/log":
            after = environ.get("QUERY_STRING", "").partition("after=")[2].partition("&")[0]
            return _json(
                start_response, "200 OK", log_after(int(after) if after.isdigit() else 0), ("Cache-Control", "no-store")
            )
        return _json(start_response, "404 Not Found", {"error": f"no page {path}"})

    return page


def _section(ini_text: str, name: str) -> str:
    """The raw text of section ``[name]`` of an ini file, comments included."""
    lines: list[str] = []
    inside = False
    for line in ini_text.splitlines():
        if line.startswith("["):
            inside = line.strip() == f"[{name}]"
        if inside:
            lines.append(line)
    return "\n".join(lines).strip()


# -- the composite --------------------------------------------------------------------------


def urlmap(loader: Any, global_conf: Mapping[str, str], **mounts: str) -> App:
    """PasteDeploy composite factory: ``/prefix = app-name`` lines, longest prefix first."""
    apps = sorted(
        ((prefix.rstrip("/"), loader.get_app(name, global_conf=global_conf)) for prefix, name in mounts.items()),
        key=lambda mount: len(mount[0]),
        reverse=True,
    )

    def dispatch(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        for prefix, app in apps:
            if path == prefix or path.startswith(prefix + "/"):
                environ = dict(
                    environ, SCRIPT_NAME=environ.get("SCRIPT_NAME", "") + prefix, PATH_INFO=path[len(prefix) :]
                )
                return app(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": f"nothing mounted at {path}"})

    return dispatch
