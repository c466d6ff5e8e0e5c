"""The wsgicors demo: a page on one origin calling a CORS-protected API on another.

examples/demo.ini wires these PasteDeploy factories into a pipeline served by waitress:

- ``urlmap``: a composite that sends each path prefix to its own app (like Paste's urlmap);
- ``page_app``: the demo page, and ``/_demo/log``, what the server saw, for the page; on
  the API's port, only a line pointing to the page's;
- ``recorder``: a filter that records each API exchange: the request, the CORS headers
  of the answer, and the reason wsgicors logged for a refusal;
- ``api_app``: a small JSON API that keeps its items in memory; it knows nothing about CORS.

Run it from the repository root with ``PYTHONPATH=examples pserve examples/demo.ini``.
"""

from __future__ import annotations

import collections
import configparser
import itertools
import json
import logging
import re
import secrets
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

App = Callable[[dict, Callable[..., Any]], Iterable[bytes]]

PAGE = Path(__file__).with_name("demo_page.html")

# -- the API ----------------------------------------------------------------------------

_request_ids = itertools.count(1)


def _answer(
    start_response: Callable[..., Any], status: str, body: bytes, content_type: str, *extra: tuple[str, str]
) -> list[bytes]:
    start_response(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("X-Request-Id", str(next(_request_ids))),
            *extra,
        ],
    )
    return [body]


def _json(start_response: Callable[..., Any], status: str, data: object, *extra: tuple[str, str]) -> list[bytes]:
    return _answer(start_response, status, json.dumps(data).encode(), "application/json", *extra)


def _body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


class DemoApi:
    """A small JSON API that knows nothing about CORS; it keeps its items in memory.

    ``GET /items``; ``POST /items`` adds one (a form: ``name=...``); ``GET``, ``PUT`` (JSON:
    ``{"name": ...}``) and ``DELETE`` ``/items/<id>``; ``POST /reset`` brings back the two
    starting items; ``/stream``; ``POST /login`` sets a cookie; ``/whoami`` shows it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # waitress serves requests from several threads
        self._items: dict[str, str] = {}
        self._ids = itertools.count()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._items = {"1": "teapot", "2": "kettle"}
            self._ids = itertools.count(3)

    def items(self) -> list[dict[str, str]]:
        with self._lock:
            return [{"id": item_id, "name": name} for item_id, name in self._items.items()]

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/items" and method in ("GET", "HEAD"):
            return _json(start_response, "200 OK", self.items())
        if path == "/items" and method == "POST":
            name = urllib.parse.parse_qs(_body(environ).decode("utf-8", "replace")).get("name", [""])[0]
            if not name:
                return _json(start_response, "400 Bad Request", {"error": "send a form with name=..."})
            with self._lock:
                item_id = str(next(self._ids))
                self._items[item_id] = name
            return _json(start_response, "201 Created", {"id": item_id, "name": name})
        if path.startswith("/items/"):
            status, data = self._item(method, path[len("/items/") :], _body(environ))
            return _json(start_response, status, data)
        if path == "/reset" and method == "POST":
            self.reset()
            return _json(start_response, "200 OK", self.items())
        if path == "/stream":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return _stream()
        if path == "/login" and method == "POST":
            cookie = f"demo_session={secrets.token_hex(8)}; Path=/; HttpOnly; SameSite=Lax"
            return _json(start_response, "200 OK", {"logged_in": True}, ("Set-Cookie", cookie))
        if path == "/whoami":
            return _json(start_response, "200 OK", {"cookie": environ.get("HTTP_COOKIE")})
        return _json(start_response, "404 Not Found", {"error": f"no route {method} {path}"})

    def _item(self, method: str, item_id: str, body: bytes) -> tuple[str, object]:
        """The status and JSON answer of ``method`` on ``/items/<item_id>``."""
        if method not in ("GET", "HEAD", "PUT", "DELETE"):
            return "405 Method Not Allowed", {"error": f"{method} is not supported on an item"}
        name = _name(body) if method == "PUT" else None
        if method == "PUT" and name is None:
            return "400 Bad Request", {"error": 'send JSON: {"name": "..."}'}
        with self._lock:
            if item_id not in self._items:
                return "404 Not Found", {"error": f"no item {item_id!r}"}
            if name is not None:
                self._items[item_id] = name
            item = {"id": item_id, "name": self._items[item_id]}
            if method == "DELETE":
                del self._items[item_id]
                return "200 OK", {"deleted": item}
        return "200 OK", item


def _name(body: bytes) -> Optional[str]:
    """The non-empty ``name`` string of a JSON object, or None."""
    try:
        name = json.loads(body).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name else None


def _stream() -> Iterable[bytes]:
    for number in range(1, 4):
        yield f"line {number} of 3\n".encode()
        if number < 3:
            time.sleep(0.2)


def api_app(global_conf: Mapping[str, str], **settings: str) -> App:
    """PasteDeploy app factory: ``use = call:cors_demo:api_app``; a new API, with its own items."""
    return DemoApi()


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
    api = api_url.rstrip("/")
    ini = global_conf.get("__file__")
    shown = _section(Path(ini), "filter:cors", global_conf) if ini else ""
    config = json.dumps({"api": api, "page": page_url, "other": other_page_url, "filter": shown})
    config = config.replace("</", "<\\/")  # keep the JSON inside its <script>
    html = PAGE.read_text(encoding="utf-8").replace("/*DEMO_CONFIG*/{}", config).encode()
    api_port = str(urllib.parse.urlsplit(api).port)
    pointer = (
        f"This is the port of the wsgicors demo's API ({api}/items).\n"
        f"The demo page is at {page_url} : it calls this API from another origin.\n"
    ).encode()
    print(
        "\nwsgicors demo: open the page, it calls the API on another origin\n"
        f"  page, from an allowed origin:        {page_url}\n"
        f"  the same page from an unlisted one:  {other_page_url}\n"
        f"  the API, behind the CORS filter:     {api}/items\n"
        "  (Ctrl-C stops the server)\n",
        file=sys.stderr,
        flush=True,
    )

    def page(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("SERVER_PORT") == api_port:
            # Served from the API's origin, the page's calls would all be same-origin.
            status = "200 OK" if path in ("", "/") else "404 Not Found"
            return _answer(start_response, status, pointer, "text/plain; charset=utf-8")
        if path in ("", "/"):
            return _answer(start_response, "200 OK", html, "text/html; charset=utf-8", ("Cache-Control", "no-store"))
        if path == "/_demo/log":
            after = environ.get("QUERY_STRING", "").partition("after=")[2].partition("&")[0]
            return _json(
                start_response, "200 OK", log_after(int(after) if after.isdigit() else 0), ("Cache-Control", "no-store")
            )
        return _json(start_response, "404 Not Found", {"error": f"no page {path}"})

    return page


def _section(ini: Path, name: str, global_conf: Mapping[str, str]) -> str:
    """Section ``[name]`` of ``ini`` as written, comments kept, with each ``%(key)s``
    replaced by its value, interpolated as PasteDeploy does."""
    parser = configparser.ConfigParser(defaults=global_conf)
    parser.read(ini, encoding="utf-8")
    lines: list[str] = []
    inside = False
    for line in ini.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            inside = line.strip() == f"[{name}]"
        if inside:
            lines.append(line)
    return re.sub(
        r"%\(([^)]*)\)s|%%",
        lambda match: parser.get(name, match[1], fallback=match[0]) if match[1] else "%",
        "\n".join(lines).strip(),
    )


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
