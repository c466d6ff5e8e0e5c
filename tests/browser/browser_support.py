"""What the browser tests share besides fixtures: the API server and the harness page."""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, NamedTuple, Optional

from servers import ApiApp, ThreadedServer

from wsgicors import CORS


class Origins(NamedTuple):
    page: str
    same_site_page: str
    other: str


class Site:
    """A browser tab showing the harness page on one origin."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.page.goto(f"{origin}/harness.html")

    def visit(self, url: str) -> None:
        """Open ``url`` in this tab (a top-level navigation), then come back to the harness."""
        self.page.goto(url)
        self.page.goto(f"{self.origin}/harness.html")

    def fetch(self, url: str, **init: Any) -> dict[str, Any]:
        """``fetch(url, init)`` in the page: ``readable``, ``status``, ``headers`` it could read, ``body``."""
        return self.page.evaluate("([url, init]) => probe(url, init)", [url, init])  # type: ignore[no-any-return]

    def fetch_from_sandbox(self, url: str, **init: Any) -> dict[str, Any]:
        """The same, from a sandboxed iframe in the page (``Origin: null``)."""
        return self.page.evaluate(  # type: ignore[no-any-return]
            "([url, init]) => probeFromSandbox(url, init)", [url, init]
        )


class Recorder:
    """WSGI middleware outside CORS(...): records what each request carried and got back."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        entry: dict[str, Any] = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "origin": environ.get("HTTP_ORIGIN"),
            "request_method": environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
            "request_headers": environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            "cookie": environ.get("HTTP_COOKIE"),
            "status": None,
            "cors": None,
        }
        with self._lock:
            self.entries.append(entry)

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Filled in before the answer leaves: once the browser has it, the entry is complete.
            entry["status"] = int(status.split()[0])
            entry["cors"] = {name: value for name, value in headers if name.startswith("Access-Control-")}
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)


class ApiServer:
    """Several CORS configurations of one ApiApp, each under ``/<name>``, on ``http://localhost:PORT``."""

    def __init__(self, configurations: dict[str, dict[str, Any]]) -> None:
        self.app = ApiApp()
        mounted = {name: CORS(self.app, settings) for name, settings in configurations.items()}
        self.recorder = Recorder(_mount(mounted))
        self.server = ThreadedServer(self.recorder, host="127.0.0.1", threads=4)
        # The API's origin is localhost, the pages' are 127.0.0.x: different sites.
        self.origin = f"http://localhost:{self.server.port}"


def _mount(apps: dict[str, Callable[..., Any]]) -> Callable[..., Any]:
    """Dispatches ``/<name>/rest`` to ``apps[name]``, which sees ``/rest``."""

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        name, _, rest = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        app = apps.get(name)
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such configuration"]
        environ = dict(environ, SCRIPT_NAME=f"/{name}", PATH_INFO=f"/{rest}")
        return app(environ, start_response)

    return dispatch


class Api:
    """The module's API as one test sees it: URLs tagged with a marker unique to the test,
    so it meets no preflight cached for another test and sees only its own requests."""

    def __init__(self, server: ApiServer, marker: str) -> None:
        self.server = server
        self.origin = server.origin
        self.app = server.app
        self.marker = marker

    def url(self, configuration: str, path: str = "/items") -> str:
        return f"{self.origin}/{configuration}{path}?t={self.marker}"

    def seen(self) -> list[dict[str, Any]]:
        """What the API received for this test's URLs, in order."""
        tag = f"t={self.marker}"
        return [entry for entry in list(self.server.recorder.entries) if tag in entry["query"].split("&")]

    def methods_seen(self) -> list[str]:
        return [entry["method"] for entry in self.seen()]


def only(entries: list[dict[str, Any]], method: Optional[str] = None) -> dict[str, Any]:
    """The one entry (with ``method``): fails when there are none or several."""
    matching = [entry for entry in entries if method is None or entry["method"] == method]
    assert len(matching) == 1, matching
    return matching[0]
