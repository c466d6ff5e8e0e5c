"""The demo (examples/demo.ini) without a browser: its extra, its two ports, its API's storage."""

from __future__ import annotations

import configparser
import importlib
import os
import re
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterator

import plaster
import pytest
from servers import BIN, EXAMPLES, ROOT, ServerProcess, examples_importable
from webtest import TestApp

PAGE, API = "http://localhost:6543/", "http://localhost:6544/api"


def requirement_names(extra: str) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = parser["options.extras_require"][extra].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_the_demo_extra_brings_the_runner_and_no_test_tools():
    requirements = requirement_names("demo")
    names = {re.split(r"[<>=!~ ]", requirement)[0].lower() for requirement in requirements}
    assert {"pyramid", "waitress", "pastedeploy"} <= names
    assert not names & {"playwright", "pytest", "webtest", "hypothesis", "coverage"}
    # pkg_resources, which pserve imports, warns at import from setuptools 80.9 on.
    assert "setuptools<80.9" in requirements


def test_the_readme_runs_the_demo_from_the_demo_extra():
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    command = (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[demo]" && '
        "PYTHONPATH=examples .venv/bin/pserve examples/demo.ini"
    )
    assert f"\n    {command}\n" in readme


def _setuptools_warns() -> bool:
    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (80, 9)


@pytest.mark.server
def test_pserve_starts_the_demo_without_a_warning(tmp_path: Path):
    text = (EXAMPLES / "demo.ini").read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^listen = .*$", "listen = 127.0.0.1:0 127.0.0.1:0", text)  # free ports
    assert count == 1
    ini = tmp_path / "demo.ini"
    ini.write_text(text, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(EXAMPLES), os.environ.get("PYTHONPATH")]))}
    with ServerProcess([BIN / "pserve", ini], ready=r"Serving on http://127\.0\.0\.1:(?P<port>\d+)", env=env) as demo:
        output = demo.output
    assert "wsgicors demo: open the page" in output
    warnings = re.findall(r"(?m)^.*\w+Warning: .*$", output)
    if _setuptools_warns():  # the test extra allows it; the demo extra pins setuptools below
        warnings = [line for line in warnings if "pkg_resources is deprecated as an API" not in line]
    assert warnings == []


@pytest.fixture
def demo() -> Iterator[Any]:
    """examples/demo.ini loaded as pserve would, and the ``cors_demo`` module."""
    with examples_importable():
        app = plaster.get_loader(str(EXAMPLES / "demo.ini"), protocols=["wsgi"]).get_wsgi_app()
        yield app, importlib.import_module("cors_demo")


def on_port(app: Any, port: int) -> TestApp:
    return TestApp(app, extra_environ={"SERVER_PORT": str(port), "HTTP_HOST": f"localhost:{port}"})


def test_the_page_port_serves_the_page_with_the_configuration_in_force(demo):
    app, _ = demo
    page = on_port(app, 6543).get("/")
    assert page.content_type == "text/html"
    assert "app_origin = http://localhost:6543" in page.text
    assert "%(" not in page.text


def test_the_api_port_serves_no_page_only_a_pointer_to_it(demo):
    app, _ = demo
    api_port = on_port(app, 6544)
    answer = api_port.get("/")
    assert answer.content_type == "text/plain"
    assert PAGE in answer.text and f"{API}/items" in answer.text
    assert "<html" not in answer.text
    api_port.get("/_demo/log", status=404)
    assert api_port.get("/api/items").json == [{"id": "1", "name": "teapot"}, {"id": "2", "name": "kettle"}]


def test_the_api_stores_what_post_put_and_delete_do_until_reset(demo):
    app, _ = demo
    api = on_port(app, 6544)
    added = api.post("/api/items", {"name": "mug"}, status=201).json
    assert added == {"id": "3", "name": "mug"}
    assert api.put_json("/api/items/1", {"name": "teapot 2"}).json == {"id": "1", "name": "teapot 2"}
    assert api.delete("/api/items/2").json == {"deleted": {"id": "2", "name": "kettle"}}
    assert api.get("/api/items").json == [{"id": "1", "name": "teapot 2"}, added]
    api.get("/api/items/2", status=404)
    api.put("/api/items/1", "not json", status=400)
    api.post("/api/items", {"title": "no name"}, status=400)
    api.request("/api/items/1", method="PATCH", status=405)
    assert api.post("/api/reset").json == [{"id": "1", "name": "teapot"}, {"id": "2", "name": "kettle"}]


def test_the_api_adds_items_from_many_threads_without_losing_one(demo):
    _, cors_demo = demo
    api = cors_demo.DemoApi()
    start = threading.Barrier(8)

    def add_some() -> None:
        client = TestApp(api)
        start.wait(timeout=10)
        for number in range(25):
            client.post("/items", {"name": f"item {number}"}, status=201)

    threads = [threading.Thread(target=add_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(int(item["id"]) for item in api.items()) == list(range(1, 8 * 25 + 3))
