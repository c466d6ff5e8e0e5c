"""The demo page (examples/demo.ini) in a real browser: every call turns out as the page expects."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator

import plaster
import pytest
from servers import EXAMPLES, ThreadedServer, examples_importable

pytestmark = pytest.mark.browser

# Per call of the page, in order: whether the browser lets the page read the answer.
FROM_THE_APP_ORIGIN = [True, True, True, True, True, True, True, True, False, False, True, True]
FROM_ANOTHER_ORIGIN = [True, True, False, False, False, False, False, True, False, False, True, True]
FORM_POST, SECOND_PUT, DELETE, LIST_AGAIN, PATCH = 1, 5, 6, 7, 8

# Keeps every text the progress line shows, for the test to read after the run.
RECORD_PROGRESS = """
window.progressSeen = [];
new MutationObserver(() => {
  const progress = document.getElementById("progress");
  if (progress && progress.textContent !== window.progressSeen.at(-1)) window.progressSeen.push(progress.textContent);
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


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


def rows_of(tab: Any) -> list[dict[str, Any]]:
    """The table once the page's run is done: each row's verdict and the text of its cells."""
    tab.wait_for_selector("body[data-done=true]", timeout=20_000)
    return tab.eval_on_selector_all(  # type: ignore[no-any-return]
        "#calls tr",
        """rows => rows.map(row => ({
            readable: row.dataset.readable === "true",
            surprise: row.classList.contains("surprise"),
            browser: row.cells[2].textContent,
            server: row.cells[3].textContent,
            why: row.cells[4].textContent,
        }))""",
    )


@pytest.fixture
def tab(browser_context: Any) -> Iterator[Any]:
    tab = browser_context.new_page()
    tab.add_init_script(RECORD_PROGRESS)
    try:
        yield tab
    finally:
        tab.close()


def test_demo_page_from_the_app_origin_gets_every_call_it_expects(tab, demo):
    page_port, _ = demo
    tab.goto(f"http://localhost:{page_port}/")
    rows = rows_of(tab)
    assert [row["readable"] for row in rows] == FROM_THE_APP_ORIGIN
    assert not any(row["surprise"] for row in rows)
    assert "The browser sent the cookie." in rows[3]["why"]
    assert "OPTIONS" not in rows[SECOND_PUT]["server"]  # the preflight answer cached (maxage)
    assert "wsgicors: " in rows[PATCH]["why"] and "'PATCH'" in rows[PATCH]["why"]  # the middleware's reason
    # The updates and the delete changed what the API holds; the form POST added an item.
    assert "The API holds: teapot (1), kettle (2)." in rows[0]["why"]
    assert '"teapot 3"' in rows[SECOND_PUT]["browser"] and '"kettle"' in rows[DELETE]["browser"]
    assert "The API holds: teapot 3 (1), mug (3)." in rows[LIST_AGAIN]["why"]

    assert "running 3 of 12…" in tab.evaluate("window.progressSeen")
    assert tab.text_content("#progress") == "done: 12 calls, each as this page expects."
    legend = tab.text_content("#legend")
    assert "allowed" in legend and "refused" in legend and "surprise" in legend
    config = tab.text_content("#config")
    assert "%(" not in config
    assert f"app_origin = http://localhost:{page_port}" in config

    tab.click("#run")  # the page resets the items first: the same table again
    rows = rows_of(tab)
    assert [row["readable"] for row in rows] == FROM_THE_APP_ORIGIN
    assert not any(row["surprise"] for row in rows)
    assert "The API holds: teapot 3 (1), mug (3)." in rows[LIST_AGAIN]["why"]


def test_demo_page_from_another_origin_gets_only_what_the_public_policy_allows(tab, demo):
    page_port, _ = demo
    tab.goto(f"http://127.0.0.1:{page_port}/")
    rows = rows_of(tab)
    assert [row["readable"] for row in rows] == FROM_ANOTHER_ORIGIN
    assert not any(row["surprise"] for row in rows)
    # methods = GET governs preflights only: a form POST needs none, so it ran and is readable.
    assert "POST /api/items" in rows[FORM_POST]["server"] and "OPTIONS" not in rows[FORM_POST]["server"]
    assert "201 Created" in rows[FORM_POST]["browser"]
    assert "The API holds: teapot (1), kettle (2), mug (3)." in rows[LIST_AGAIN]["why"]
    assert "methods = GET, which governs preflighted requests only" in tab.text_content("#where")


def test_the_api_port_serves_no_page_that_would_call_its_own_origin(tab, demo):
    page_port, api_port = demo
    tab.goto(f"http://localhost:{api_port}/")
    assert tab.locator("#calls").count() == 0
    text = tab.text_content("body")
    assert f"http://localhost:{page_port}/" in text and "another origin" in text
