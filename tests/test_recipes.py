"""The README's framework recipes, each run as written with the real framework and server.

Each recipe is a named code block of README.rst: ``:name: recipe-...``, or, for the
Usage section's Pyramid example, the ``.. _recipe-pyramid:`` target before it. Its
text is taken from there and saved as the file the README names, then served:
Pyramid by ``pserve``, the plain application by gunicorn (both subprocesses), Flask,
Django and the authentication order by waitress in a thread; all on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, Optional

import pytest
from servers import BIN, TESTS, ServerProcess, ThreadedServer, request
from support import cors_headers, values

from wsgicors import CORS

pytestmark = pytest.mark.server

README = (TESTS.parent / "README.rst").read_text()
WAITRESS_READY = r"Serving on http://127\.0\.0\.1:(?P<port>\d+)"
GUNICORN_READY = r"Listening at: http://127\.0\.0\.1:(?P<port>\d+)"

APP = "https://app.example.com"
ADMIN = "https://admin.example.com"
UNLISTED = "https://evil.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
#: What the recipes' shared policy adds to every answer to a listed origin.
ALLOWED = {"Access-Control-Allow-Origin": APP, "Access-Control-Allow-Credentials": "true"}
#: Headers the servers add themselves.
SERVER_HEADERS = {"date", "server", "connection"}


def readme_block(name: str) -> str:
    """The text of README.rst's code block named ``name``, dedented."""
    label = re.escape(name)
    found = re.findall(
        rf"^(?:\.\. _{label}:\n\n\.\. code:: \w+\n|\.\. code:: \w+\n    :name: {label}\n)\n((?:    .*\n|\n)+)",
        README,
        flags=re.MULTILINE,
    )
    assert len(found) == 1, f"README.rst has {len(found)} code blocks named {name!r}"
    return re.sub(r"^    ", "", found[0], flags=re.MULTILINE).strip() + "\n"


def import_recipe(name: str, path: Path, module_name: str, patch: pytest.MonkeyPatch) -> ModuleType:
    """README block ``name`` saved as ``path`` and imported from there as ``module_name``."""
    path.write_text(readme_block(name))
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    patch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    return module


def python_path(directory: Path) -> dict[str, str]:
    """``PYTHONPATH`` for a subprocess: ``directory``, then the inherited one (the worktree)."""
    inherited = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(directory), *([inherited] if inherited else [])])}


def served_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Every header of an answer but those the server adds, by name; duplicates are an error."""
    found: dict[str, str] = {}
    for name, value in headers:
        if name.lower() not in SERVER_HEADERS:
            assert name not in found, f"{name} sent twice"
            found[name] = value
    return found


def preflight(url: str, origin: str, method: str, request_headers: str, path: str = "/items") -> Any:
    return request(
        url,
        "OPTIONS",
        path,
        {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": request_headers},
    )


def test_every_recipe_of_the_readme_is_run_here():
    named = re.findall(r"^(?:    :name: |\.\. _)(recipe-[\w-]+):?$", README, flags=re.MULTILINE)
    used = re.findall(r"\"(recipe-[\w-]+)\"", Path(__file__).read_text())
    assert sorted(named) == sorted(set(used))


# -- Pyramid: the Usage section's example, with the README's ini, served by pserve -------


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("pyramid")
    (directory / "myproject.py").write_text(readme_block("recipe-pyramid"))
    ini = readme_block("recipe-pyramid-ini")
    assert "\nport = 6543\n" in ini
    (directory / "myproject.ini").write_text(ini.replace("\nport = 6543\n", "\nport = 0\n"))
    command = [BIN / "pserve", directory / "myproject.ini"]
    with ServerProcess(command, ready=WAITRESS_READY, env=python_path(directory)) as server:
        yield server


class TestPyramid:
    def test_a_put_preflight_is_answered_by_wsgicors_with_the_seed_policy(self, pyramid):
        status, _, headers, body = preflight(pyramid.url, APP, "PUT", "content-type")
        assert (status, body) == (200, b"")
        assert served_headers(headers) == {
            "Content-Type": "text/plain",
            "Content-Length": "0",
            "Vary": PREFLIGHT_VARY,
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Max-Age": "180",
            "Access-Control-Allow-Methods": "PUT",
            "Access-Control-Allow-Headers": "content-type",
        }

    def test_the_view_answers_with_a_star_and_no_vary(self, pyramid):
        status, _, headers, body = request(pyramid.url, "GET", "/items", {"Origin": APP})
        assert (status, json.loads(body)) == (200, {"items": ["a", "b"]})
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}
        assert values(headers, "Vary") == []

    def test_pyramid_s_own_404_page_gets_the_star_too(self, pyramid):
        status, _, headers, body = request(pyramid.url, "GET", "/missing", {"Origin": APP})
        assert status == 404
        assert b"404 Not Found" in body
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}
        assert values(headers, "Vary") == []

    @pytest.mark.parametrize(
        "origin",
        [
            pytest.param(UNLISTED, id="any-site"),
            pytest.param("null", id="null"),
            pytest.param(None, id="no-origin"),
        ],
    )
    def test_the_public_policy_refuses_no_origin(self, pyramid, origin):
        status, _, headers, _ = request(pyramid.url, "GET", "/items", {} if origin is None else {"Origin": origin})
        assert status == 200
        assert cors_headers(headers) == {"Access-Control-Allow-Origin": "*"}
        assert values(headers, "Vary") == []


# -- Flask, Django and a plain WSGI application under gunicorn: one policy ---------------


@dataclass
class Recipe:
    url: str
    #: The ``Vary`` of the answer to ``GET /items``: the app's own with ``Origin`` merged.
    vary: str
    #: How many requests the framework has seen, where the test can count them.
    calls: Optional[Callable[[], int]] = None
    module: Optional[ModuleType] = None


def failing_view() -> str:
    raise RuntimeError("the view failed")


@pytest.fixture(scope="module")
def flask_recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    import flask

    with pytest.MonkeyPatch.context() as patch:
        module = import_recipe("recipe-flask", tmp_path_factory.mktemp("flask") / "myapp.py", "myapp", patch)
        app = module.app
        app.add_url_rule("/fail", "fail", failing_view)  # for Flask's own 500 page
        calls: list[object] = []

        def count(sender: object, **extra: object) -> None:
            calls.append(sender)

        flask.request_started.connect(count, app)
        try:
            with ThreadedServer(app) as server:
                yield Recipe(server.url, "Origin", lambda: len(calls), module)
        finally:
            flask.request_started.disconnect(count, app)


@pytest.fixture(scope="module")
def django_recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    from django.core.signals import request_started

    calls: list[object] = []

    def count(sender: object, **extra: object) -> None:
        calls.append(sender)

    with pytest.MonkeyPatch.context() as patch:
        # tests/recipes/myproject: the settings and urls the recipe's wsgi.py goes with.
        patch.syspath_prepend(str(TESTS / "recipes"))
        # Unset, so that the recipe's own setdefault names the settings; restored after.
        patch.setenv("DJANGO_SETTINGS_MODULE", "")
        patch.delenv("DJANGO_SETTINGS_MODULE")
        wsgi = tmp_path_factory.mktemp("django") / "wsgi.py"
        module = import_recipe("recipe-django", wsgi, "myproject.wsgi", patch)
        assert os.environ["DJANGO_SETTINGS_MODULE"] == "myproject.settings"
        request_started.connect(count, dispatch_uid="test_recipes")
        try:
            with ThreadedServer(module.application) as server:
                yield Recipe(server.url, "Cookie, Origin", lambda: len(calls), module)
        finally:
            request_started.disconnect(dispatch_uid="test_recipes")
            for name in [name for name in sys.modules if name.split(".")[0] == "myproject"]:
                del sys.modules[name]


@pytest.fixture(scope="module")
def gunicorn_recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    from gunicorn.config import Config

    directory = tmp_path_factory.mktemp("gunicorn")
    code = readme_block("recipe-gunicorn")
    (directory / "api.py").write_text(code)
    # The command in the recipe's first line, on a port the kernel picks.
    found = re.match(r"# api\.py; serve it with: \.venv/bin/gunicorn (.+)\n", code)
    assert found is not None
    assert "--bind 127.0.0.1:8000 " in found[1]
    command = [BIN / "gunicorn", *found[1].replace("127.0.0.1:8000", "127.0.0.1:0").split()]
    if "control_socket_disable" in Config().settings:  # gunicorn >= 25.1 opens one in $HOME
        command.insert(1, "--no-control-socket")
    with ServerProcess(command, ready=GUNICORN_READY, env=python_path(directory)) as server:
        # The app runs in gunicorn's worker: a preflight's answer shows it was not called.
        yield Recipe(server.url, "Origin")


@pytest.fixture(params=["flask_recipe", "django_recipe", "gunicorn_recipe"], ids=["flask", "django", "gunicorn"])
def recipe(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["flask_recipe", "django_recipe"], ids=["flask", "django"])
def framework(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("origin", [pytest.param(APP, id="app"), pytest.param(ADMIN, id="admin")])
def test_a_put_preflight_from_a_listed_origin_gets_every_header_of_the_policy(recipe, origin):
    status, _, headers, body = preflight(recipe.url, origin, "PUT", "content-type,authorization")
    assert (status, body) == (200, b"")
    assert served_headers(headers) == {
        "Content-Type": "text/plain",
        "Content-Length": "0",
        "Vary": PREFLIGHT_VARY,
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": "Content-Type, Authorization",
        "Access-Control-Max-Age": "600",
    }


def test_the_framework_never_sees_a_preflight(framework):
    before = framework.calls()
    status, _, _, _ = preflight(framework.url, APP, "DELETE", "authorization")
    assert status == 200
    assert framework.calls() == before
    request(framework.url, "GET", "/items", {"Origin": APP})
    assert framework.calls() == before + 1


def test_a_delete_preflight_from_an_unlisted_origin_gets_no_cors_headers(recipe):
    status, _, headers, body = preflight(recipe.url, UNLISTED, "DELETE", "authorization")
    assert (status, body) == (200, b"")
    assert served_headers(headers) == {"Content-Type": "text/plain", "Content-Length": "0", "Vary": PREFLIGHT_VARY}


def test_a_request_from_a_listed_origin_gets_the_app_s_answer_with_the_cors_headers(recipe):
    status, _, headers, body = request(recipe.url, "GET", "/items", {"Origin": APP})
    assert (status, json.loads(body)) == (200, {"items": ["a", "b"]})
    assert cors_headers(headers) == ALLOWED
    assert values(headers, "Vary") == [recipe.vary]


def test_a_request_from_an_unlisted_origin_gets_the_answer_without_cors_headers(recipe):
    status, _, headers, body = request(recipe.url, "GET", "/items", {"Origin": UNLISTED})
    assert (status, json.loads(body)) == (200, {"items": ["a", "b"]})
    assert cors_headers(headers) == {}
    assert values(headers, "Vary") == [recipe.vary]


def test_the_framework_s_own_404_page_gets_the_cors_headers(recipe):
    status, _, headers, body = request(recipe.url, "GET", "/missing", {"Origin": APP})
    assert status == 404
    assert b"Not Found" in body
    assert cors_headers(headers) == ALLOWED
    assert values(headers, "Vary") == ["Origin"]


def test_the_framework_s_own_500_page_gets_the_cors_headers(framework):
    status, _, headers, _ = request(framework.url, "GET", "/fail", {"Origin": APP})
    assert status == 500
    assert cors_headers(headers) == ALLOWED
    assert values(headers, "Vary") == ["Origin"]


def test_django_s_own_vary_cookie_and_origin_are_one_header(django_recipe):
    _, _, headers, _ = request(django_recipe.url, "GET", "/items", {"Origin": APP, "Cookie": "sessionid=abc"})
    assert values(headers, "Vary") == ["Cookie, Origin"]


def test_the_flask_recipe_leaves_app_a_flask_object(flask_recipe):
    import flask

    assert isinstance(flask_recipe.module.app, flask.Flask)
    assert isinstance(flask_recipe.module.app.wsgi_app, CORS)


# -- Authentication goes inside wsgicors ------------------------------------------------

SESSION_COOKIE = "session=alice-token"


def login_required(app: Callable[..., Any]) -> Callable[..., Any]:
    """Authentication middleware: ``401`` to every request without the session cookie."""

    def check(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        session = SimpleCookie(environ.get("HTTP_COOKIE", "")).get("session")
        if session is None or f"session={session.value}" != SESSION_COOKIE:
            body = json.dumps({"error": "login required"}).encode()
            start_response(
                "401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        environ["REMOTE_USER"] = "alice"
        return app(environ, start_response)

    return check


def items_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = json.dumps({"user": environ["REMOTE_USER"], "items": ["a", "b"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def serve_auth_recipe(name: str) -> ThreadedServer:
    namespace: dict[str, Any] = {"login_required": login_required, "app": items_app}
    exec(compile(readme_block(name), f"README.rst:{name}", "exec"), namespace)
    return ThreadedServer(namespace["application"])


@pytest.fixture(scope="module")
def auth_inside() -> Iterator[ThreadedServer]:
    with serve_auth_recipe("recipe-auth") as server:
        yield server


@pytest.fixture(scope="module")
def auth_outside() -> Iterator[ThreadedServer]:
    with serve_auth_recipe("recipe-auth-wrong") as server:
        yield server


@pytest.mark.parametrize(
    ("server", "status", "cors"),
    [
        pytest.param("auth_outside", 401, {}, id="login_required-outside-fails"),
        pytest.param(
            "auth_inside",
            200,
            {
                **ALLOWED,
                "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
                "Access-Control-Allow-Headers": "Content-Type",
            },
            id="login_required-inside-works",
        ),
    ],
)
def test_a_preflight_passes_only_with_login_required_inside_wsgicors(request, server, status, cors):
    url = request.getfixturevalue(server).url
    answer_status, _, headers, _ = preflight(url, APP, "PUT", "content-type")
    assert answer_status == status
    assert cors_headers(headers) == cors


def test_inside_an_authenticated_request_gets_its_data_with_the_cors_headers(auth_inside):
    status, _, headers, body = request(auth_inside.url, "GET", "/items", {"Origin": APP, "Cookie": SESSION_COOKIE})
    assert (status, json.loads(body)) == (200, {"user": "alice", "items": ["a", "b"]})
    assert cors_headers(headers) == ALLOWED
    assert values(headers, "Vary") == ["Origin"]


def test_inside_an_unauthenticated_request_gets_a_401_the_page_can_read(auth_inside):
    status, _, headers, body = request(auth_inside.url, "GET", "/items", {"Origin": APP})
    assert (status, json.loads(body)) == (401, {"error": "login required"})
    assert cors_headers(headers) == ALLOWED
    assert values(headers, "Vary") == ["Origin"]
