"""The filter in the deployments users have: a PasteDeploy ini pipeline served by waitress
(in-process, the way pserve does), by ``pserve`` itself, by gunicorn sync workers; the demo."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import plaster
import pytest
from paste.deploy import loadapp
from servers import (
    BIN,
    EXAMPLES,
    TESTS,
    ServerProcess,
    ThreadedServer,
    examples_importable,
    request,
)
from support import cors_headers, values
from webtest import TestApp

pytestmark = pytest.mark.server

FIRSTMATCH = TESTS / "ini" / "deploy_firstmatch.ini"
VERBMATCH = TESTS / "ini" / "deploy_verbmatch.ini"
WAITRESS_READY = r"Serving on http://127\.0\.0\.1:(?P<port>\d+)"

APP = "https://app.example.com"
PARTNERS_CORS = {"Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "X-Request-Id"}


def python_path(*directories: Path) -> dict[str, str]:
    """``PYTHONPATH`` for a subprocess, so that PasteDeploy finds ``call:`` modules there."""
    inherited = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([*map(str, directories), *([inherited] if inherited else [])])}


def served_like_pserve(ini: Path, **server_settings: str) -> ThreadedServer:
    """What pserve does, with waitress's loop in a thread: the app and [server:main] from ``ini``."""
    loader = plaster.get_loader(str(ini), protocols=["wsgi"])
    app = loader.get_wsgi_app()
    settings = {**loader.get_settings("server:main"), **server_settings}
    assert settings.pop("use") == "egg:waitress#main"
    return ThreadedServer(app, **settings)


def pserve(ini: Path) -> ServerProcess:
    return ServerProcess([BIN / "pserve", ini], ready=WAITRESS_READY, env=python_path(TESTS))


def preflight(
    server: Any, origin: str, method: str, request_headers: Optional[str] = None, path: str = "/items"
) -> dict[str, str]:
    """The CORS headers of the answer to a preflight, which must be an empty 200."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    status, _, answer, body = request(server.url, "OPTIONS", path, headers)
    assert (status, body) == (200, b"")
    return cors_headers(answer)


def wait_for_output(server: ServerProcess, pattern: str, timeout: float = 5.0) -> str:
    """The first line of the server's output matching ``pattern``, waiting for it (bounded)."""
    compiled = re.compile(pattern)
    for _ in range(int(timeout / 0.05)):
        found = next((line for line in server.output.splitlines() if compiled.search(line)), None)
        if found is not None:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no line matches {pattern!r} in:\n{server.output}")


# -- tests/ini/deploy_firstmatch.ini: named policies, a multi-line origin, deny ---------


@pytest.fixture(scope="module")
def firstmatch_in_process() -> Iterator[ThreadedServer]:
    with served_like_pserve(FIRSTMATCH) as server:
        yield server


@pytest.fixture(scope="module")
def firstmatch_pserve() -> Iterator[ServerProcess]:
    with pserve(FIRSTMATCH) as server:
        yield server


@pytest.fixture(params=["firstmatch_in_process", "firstmatch_pserve"])
def firstmatch(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


class TestFirstmatchPipeline:
    def test_partner_preflight_gets_every_header_of_the_partners_policy(self, firstmatch):
        assert preflight(firstmatch, APP, "PUT", "content-type,x-token") == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
            "Access-Control-Allow-Headers": "Content-Type, X-Token",
            "Access-Control-Max-Age": "600",
        }

    @pytest.mark.parametrize(
        "origin",
        [
            pytest.param(APP, id="first-line"),
            pytest.param("https://admin.example.com:8443", id="line-with-port"),
            pytest.param("https://eu.partners.example.net", id="pattern-line"),
        ],
    )
    def test_every_line_of_the_multiline_origin_is_allowed(self, firstmatch, origin):
        status, _, headers, body = request(firstmatch.url, "GET", "/items", {"Origin": origin})
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": origin, **PARTNERS_CORS}
        assert values(headers, "Vary") == ["Origin"]
        assert json.loads(body)["path"] == "/items"

    def test_listed_host_on_an_unlisted_port_is_refused(self, firstmatch):
        _, _, headers, _ = request(firstmatch.url, "GET", "/items", {"Origin": "https://admin.example.com"})
        assert cors_headers(headers) == {}

    def test_second_policy_answers_origins_the_first_does_not_list(self, firstmatch):
        origin = "https://shop.example.org"
        _, _, headers, _ = request(firstmatch.url, "GET", "/items", {"Origin": origin})
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": origin}
        assert preflight(firstmatch, origin, "GET") == {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET",
        }

    def test_second_policy_refuses_a_method_it_does_not_list(self, firstmatch):
        assert preflight(firstmatch, "https://shop.example.org", "PUT") == {}

    def test_policies_after_deny_are_never_used(self, firstmatch):
        # `legacy` (origin = *, methods = *) comes after `deny`.
        _, _, headers, _ = request(firstmatch.url, "GET", "/items", {"Origin": "https://evil.example"})
        assert cors_headers(headers) == {}
        assert values(headers, "Vary") == ["Origin"]
        assert preflight(firstmatch, "https://evil.example", "GET") == {}

    def test_app_error_status_keeps_cors_headers_through_the_pipeline(self, firstmatch):
        status, _, headers, body = request(firstmatch.url, "GET", "/status/500", {"Origin": APP})
        assert (status, body) == (500, b"status 500")
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": APP, **PARTNERS_CORS}


class TestPserve:
    def test_pserve_logs_why_a_preflight_was_refused_as_the_ini_configures(self, firstmatch_pserve):
        assert preflight(firstmatch_pserve, "https://refused.example", "DELETE") == {}
        line = wait_for_output(firstmatch_pserve, r"https://refused\.example")
        assert line.startswith("DEBUG [wsgicors] ")
        assert "refused" in line

    def test_pserve_warns_that_policies_after_deny_are_never_used(self, firstmatch_pserve):
        line = wait_for_output(firstmatch_pserve, r"'legacy'.*'deny'|'deny'.*'legacy'")
        assert line.startswith("WARNING [wsgicors] ")


# -- tests/ini/deploy_verbmatch.ini: policies chosen by origin and method ------------------


@pytest.fixture(scope="module")
def verbmatch_in_process() -> Iterator[ThreadedServer]:
    with served_like_pserve(VERBMATCH) as server:
        yield server


@pytest.fixture(scope="module")
def verbmatch_pserve() -> Iterator[ServerProcess]:
    with pserve(VERBMATCH) as server:
        yield server


@pytest.fixture(params=["verbmatch_in_process", "verbmatch_pserve"])
def verbmatch(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


class TestVerbmatchPipeline:
    def test_anyone_reads_under_the_readers_policy(self, verbmatch):
        _, _, headers, _ = request(verbmatch.url, "GET", "/items", {"Origin": "https://anyone.example"})
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}

    def test_the_app_writes_under_the_writers_policy(self, verbmatch):
        assert preflight(verbmatch, APP, "PUT", "content-type") == {
            "Access-Control-Allow-Origin": APP,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "PUT, DELETE",
            "Access-Control-Allow-Headers": "Content-Type",
        }
        status, _, headers, _ = request(verbmatch.url, "PUT", "/items/1", {"Origin": APP}, b"{}")
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": APP, "Access-Control-Allow-Credentials": "true"}

    def test_a_put_from_another_site_matches_no_policy(self, verbmatch):
        assert preflight(verbmatch, "https://anyone.example", "PUT") == {}


# -- gunicorn ---------------------------------------------------------------------------


def test_gunicorn_sync_workers_each_serve_the_pipeline(tmp_path):
    from gunicorn.config import Config

    workers = 3
    command = [
        BIN / "gunicorn",
        "--paste",
        FIRSTMATCH,
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--graceful-timeout",
        "5",
    ]
    if "control_socket_disable" in Config().settings:  # gunicorn >= 25.1 opens one in $HOME
        command.append("--no-control-socket")
    with ServerProcess(
        command, ready=r"Listening at: http://127\.0\.0\.1:(?P<port>\d+)", env=python_path(TESTS)
    ) as gunicorn:
        answers: list[Any] = [None] * workers

        def ask(index: int) -> None:
            # Each request waits in the app until all are in: one per sync worker at once.
            answers[index] = request(gunicorn.url, "GET", f"/rendezvous?n={workers}&dir={tmp_path}", {"Origin": APP})

        threads = [threading.Thread(target=ask, args=(index,)) for index in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
        assert not any(thread.is_alive() for thread in threads)
        assert preflight(gunicorn, APP, "DELETE")["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE"
        master = gunicorn.process.pid  # type: ignore[union-attr]

    pids = set()
    for status, _, headers, body in answers:
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": APP, **PARTNERS_CORS}
        answer = json.loads(body)
        assert answer["met"] is True
        pids.add(answer["pid"])
    assert len(pids) == workers
    assert master not in pids


# -- the demo and the other examples -----------------------------------------------------


@pytest.fixture
def examples_on_path() -> Iterator[None]:
    with examples_importable():
        yield


def test_demo_ini_serves_the_page_and_the_api_through_the_cors_filter(examples_on_path, capsys):
    loader = plaster.get_loader(str(EXAMPLES / "demo.ini"), protocols=["wsgi"])
    assert loader.get_settings("server:main")["listen"] == "127.0.0.1:6543 127.0.0.1:6544"
    page, api = "http://localhost:6543", "http://localhost:6544/api"
    with served_like_pserve(EXAMPLES / "demo.ini", listen="127.0.0.1:0") as demo:
        printed = capsys.readouterr().err
        assert f"{page}/" in printed and f"{api}/items" in printed

        status, _, headers, html = request(demo.url, "GET", "/")
        assert status == 200
        assert values(headers, "Content-Type") == ["text/html; charset=utf-8"]
        assert f'"api": "{api}"'.encode() in html

        assert preflight(demo, page, "PUT", "content-type,x-token", path="/api/items/1") == {
            "Access-Control-Allow-Origin": page,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
            "Access-Control-Allow-Headers": "Content-Type, X-Token",
            "Access-Control-Max-Age": "600",
        }
        status, _, headers, body = request(demo.url, "GET", "/api/items", {"Origin": "http://127.0.0.1:6543"})
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}
        assert [item["name"] for item in json.loads(body)] == ["teapot", "kettle"]

        assert preflight(demo, page, "PATCH", path="/api/items/1") == {}
        _, _, _, log = request(demo.url, "GET", "/_demo/log?after=0")
        refusal = json.loads(log)[-1]
        assert (refusal["method"], refusal["request_method"], refusal["cors"]) == ("OPTIONS", "PATCH", {})
        assert any("'PATCH'" in reason for reason in refusal["reasons"])


@pytest.mark.parametrize(
    "ini, origin, method, allowed",
    [
        pytest.param("simple.ini", "https://admin.example.com", "PUT", True, id="simple-listed"),
        pytest.param("simple.ini", "https://evil.example", "GET", False, id="simple-unlisted"),
        pytest.param("policies.ini", "https://eu.partner.example", "POST", True, id="policies-pattern"),
        pytest.param("policies.ini", "https://anyone.example", "GET", True, id="policies-public-get"),
        pytest.param("policies.ini", "https://anyone.example", "PUT", False, id="policies-deny"),
    ],
)
def test_example_ini_builds_a_working_cors_pipeline(examples_on_path, ini, origin, method, allowed):
    app = TestApp(loadapp(f"config:{EXAMPLES / ini}"))
    answer = app.options("/items", headers={"Origin": origin, "Access-Control-Request-Method": method})
    assert ("Access-Control-Allow-Origin" in answer.headers) is allowed
