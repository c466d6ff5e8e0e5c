"""Headless Chromium (Debian's, driven by Playwright) calling APIs wrapped by CORS(...).

The sites, all on loopback, each its own origin:

- ``origins.page``: ``http://127.0.0.1:A``, the page that calls the API (the wanted site);
- ``origins.same_site_page``: ``http://localhost:A``, the same page on the API's site,
  for cookies (see tests/browser/test_browser_credentials.py);
- ``origins.other``: ``http://127.0.0.2:C``, the unwanted site;
- the API, ``http://localhost:B``: one waitress per test module serving the module's
  ``configurations(origins)``, each ``CORS(ApiApp(), **settings)`` under its own path.

Each test module defines ``configurations``. The browser runs the probe in
assets/harness.html and returns what the script could read; the API records what it
received and answered, so tests can count preflights (tests/browser/browser_support.py).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest
from browser_support import Api, ApiServer, Origins, Site
from servers import ThreadedServer

CHROMIUM = "/usr/bin/chromium"
# No flag here relaxes CORS or any other web security check.
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASSETS = Path(__file__).resolve().parent / "assets"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chromium for the session, with a fresh profile; a skip (a failure under CI=true) without it."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed"
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if missing:
        if _in_ci():
            pytest.fail(f"{missing}; with CI=true the browser tests must run", pytrace=False)
        pytest.skip(f"browser tests need Debian's Chromium and Playwright: {missing}")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield context
        finally:
            context.close()


def _pages_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Serves the files in assets/, with no CORS at all."""
    name = environ.get("PATH_INFO", "").lstrip("/")
    path = ASSETS / name
    if not name or "/" in name or not path.is_file():
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    body = path.read_bytes()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


@pytest.fixture(scope="session")
def page_servers() -> Iterator[tuple[ThreadedServer, ThreadedServer]]:
    with ThreadedServer(_pages_app, host="127.0.0.1") as wanted, ThreadedServer(_pages_app, host="127.0.0.2") as other:
        yield wanted, other


@pytest.fixture(scope="session")
def origins(page_servers: tuple[ThreadedServer, ThreadedServer]) -> Origins:
    wanted, other = page_servers
    return Origins(
        page=f"http://127.0.0.1:{wanted.port}",
        same_site_page=f"http://localhost:{wanted.port}",
        other=f"http://127.0.0.2:{other.port}",
    )


@pytest.fixture(scope="session")
def page(browser_context: Any, origins: Origins) -> Site:
    return Site(browser_context.new_page(), origins.page)


@pytest.fixture(scope="session")
def same_site_page(browser_context: Any, origins: Origins) -> Site:
    return Site(browser_context.new_page(), origins.same_site_page)


@pytest.fixture(scope="session")
def other_page(browser_context: Any, origins: Origins) -> Site:
    return Site(browser_context.new_page(), origins.other)


@pytest.fixture(scope="module")
def api_server(request: pytest.FixtureRequest, origins: Origins) -> Iterator[ApiServer]:
    """The module's ``configurations(origins)``, served."""
    server = ApiServer(request.module.configurations(origins))
    with server.server:
        yield server


_markers = itertools.count(1)


@pytest.fixture
def api(api_server: ApiServer, request: pytest.FixtureRequest) -> Api:
    return Api(api_server, f"{next(_markers)}-{request.node.name}".replace("[", "-").replace("]", ""))
