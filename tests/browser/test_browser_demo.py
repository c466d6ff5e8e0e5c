"""The demo page (examples/demo.ini) in a real browser: every call turns out as the page expects."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator

import plaster
import pytest
from servers import EXAMPLES, ThreadedServer, examples_importable

pytestmark = pytest.mark.browser

# Per call of the page, in order: whether the browser lets the page read the answer.
FROM_THE_APP_ORIGIN = [True, True, True, True, True, True, False, False, True, True]
FROM_ANOTHER_ORIGIN = [True, False, False, False, False, False, False, False, True, True]


class _Later:
    """A WSGI app set after the server is up (the demo's ini needs the ports first)."""

    app: Callable[..., Iterable[bytes]]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """examples/demo.ini, with its two ports (6543, 6544) swapped for free ones."""
    later = _Later()
    with ThreadedServer(later) as page_server, ThreadedServer(later) as api_server, examples_importable():
        text = (EXAMPLES / "demo.ini").read_text(encoding="utf-8")
        for key, port in (("http_port", page_server.port), ("api_port", api_server.port)):
            text, count = re.subn(rf"(?m)^{key} = \d+$", f"{key} = {port}", text)
            assert count == 1, f"examples/demo.ini has no single '{key} = ...' line"
        ini = tmp_path_factory.mktemp("demo") / "demo.ini"
        ini.write_text(text, encoding="utf-8")
        later.app = plaster.get_loader(str(ini), protocols=["wsgi"]).get_wsgi_app()
        yield page_server.port, api_server.port


def run_the_demo_page(browser_context: Any, url: str) -> list[dict[str, Any]]:
    tab = browser_context.new_page()
    try:
        tab.goto(url)
        tab.wait_for_selector("body[data-done=true]", timeout=20_000)
        return tab.eval_on_selector_all(  # type: ignore[no-any-return]
            "#calls tr",
            """rows => rows.map(row => ({
                readable: row.dataset.readable === "true",
                surprise: row.classList.contains("surprise"),
                server: row.cells[3].textContent,
                why: row.cells[4].textContent,
            }))""",
        )
    finally:
        tab.close()


def test_demo_page_from_the_app_origin_gets_every_call_it_expects(browser_context, demo):
    page_port, _ = demo
    rows = run_the_demo_page(browser_context, f"http://localhost:{page_port}/")
    assert [row["readable"] for row in rows] == FROM_THE_APP_ORIGIN
    assert not any(row["surprise"] for row in rows)
    assert "The browser sent the cookie." in rows[2]["why"]
    assert "OPTIONS" not in rows[4]["server"]  # the second PUT: preflight answer cached (maxage)
    assert "wsgicors: " in rows[6]["why"] and "'PATCH'" in rows[6]["why"]  # the middleware's own reason


def test_demo_page_from_another_origin_gets_only_what_the_public_policy_allows(browser_context, demo):
    page_port, _ = demo
    rows = run_the_demo_page(browser_context, f"http://127.0.0.1:{page_port}/")
    assert [row["readable"] for row in rows] == FROM_ANOTHER_ORIGIN
    assert not any(row["surprise"] for row in rows)
