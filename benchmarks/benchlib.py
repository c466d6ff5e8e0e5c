"""Shared pieces of the benchmarks: loading the implementations, the bare app, environs."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Optional

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("WSGICORS_BENCH_CACHE", HERE / ".cache"))

# wsgicors 0.7.0 as published on PyPI (sdist only); the hash pins exactly what we measure.
LEGACY_VERSION = "0.7.0"
LEGACY_SDIST = f"wsgicors-{LEGACY_VERSION}.tar.gz"
LEGACY_SHA256 = "ccab43d60f02971d548f24209939818bb85fddf9367d4668e0db787b071f3d99"


def legacy_module_path(cache: Path = CACHE) -> Path:
    """``wsgicors.py`` of 0.7.0, fetched once with ``pip download`` into ``cache``."""
    target = cache / f"wsgicors-{LEGACY_VERSION}.py"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / LEGACY_SDIST
    if not sdist.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(cache),
                f"wsgicors=={LEGACY_VERSION}",
            ],
            check=True,
        )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != LEGACY_SHA256:
        raise RuntimeError(f"{sdist} has sha256 {digest}, expected {LEGACY_SHA256}")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"wsgicors-{LEGACY_VERSION}/wsgicors.py")
        assert member is not None
        target.write_bytes(member.read())
    return target


def load_module(path: Path, name: str) -> ModuleType:
    """Import the module file (or the package directory) at ``path`` as ``name``."""
    path = Path(path)
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_implementations(
    legacy: Optional[str],
    current: Optional[str],
    candidate: Optional[str],
    floor: bool = False,
    no_memo: bool = False,
) -> dict[str, Any]:
    """The ``CORS`` classes to compare, by label.

    :param legacy: path of 0.7.0's ``wsgicors.py`` (``None``: leave 0.7.0 out).
    :param current: a ``wsgicors`` package directory (``None``: ``import wsgicors``).
    :param candidate: another ``wsgicors`` package directory to compare, e.g. a prototype.
    :param floor: add :class:`Floor` as ``floor``.
    :param no_memo: add the current package with its memo of recent answers bypassed, as
        ``no memo``: what a stream of distinct origins would cost without the memo.
    """
    impls: dict[str, Any] = {}
    if legacy:
        impls["0.7.0"] = load_module(Path(legacy), "wsgicors070").CORS
    if current:
        impls["1.1"] = load_module(Path(current), "wsgicors_current").CORS
    else:
        import wsgicors

        impls["1.1"] = wsgicors.CORS
    if candidate:
        impls["cand"] = load_module(Path(candidate), "wsgicors_candidate").CORS
    if no_memo:
        module = load_module(Path(current or Path(__file__).parent.parent / "wsgicors"), "wsgicors_no_memo")
        module.answers.Answers.recall = _recall_without_memo
        module.answers.REMEMBERED_LENGTH = -1  # nothing is kept, no preflight either
        impls["no memo"] = module.CORS
    if floor:
        impls["floor"] = Floor
    return impls


def _recall_without_memo(answers: Any, origin: str, method: str, environ: Any) -> Any:
    """``Answers.recall`` deciding every origin afresh (reading the path only when
    policies have ``paths``, as it does)."""
    return answers.decide(origin, method, (environ.get("PATH_INFO") or "/") if answers.paths else "/")


def package_dir(path: Optional[str]) -> Optional[str]:
    """Accept either a package directory or a project directory holding ``wsgicors/``."""
    if path is None:
        return None
    p = Path(path).resolve()
    if (p / "wsgicors" / "__init__.py").exists():
        p = p / "wsgicors"
    if not (p / "__init__.py").exists():
        raise SystemExit(f"{path}: not a wsgicors package directory")
    return str(p)


_FLOOR_PREFLIGHT = (("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", "Origin"))
_FLOOR_VARY = [("Vary", "Origin")]


class Floor:
    """Not CORS: the least a pure-Python middleware that answers preflights and merges
    ``Vary`` does per request: a call, the environ lookups that tell a preflight, then either
    a new header list for ``start_response``, or a wrapped ``start_response`` that scans the
    app's header names case-insensitively and adds a header. No origin is checked.
    Its added cost bounds what wsgicors can reach."""

    def __init__(self, application: Callable[..., Iterable[bytes]], **settings: Any) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        method = environ["REQUEST_METHOD"]
        if origin is not None and method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("200 OK", [*_FLOOR_PREFLIGHT, ("Access-Control-Allow-Origin", origin)])
            return []

        def floor_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            for name, _ in headers:
                if name.lower() == "vary":
                    return start_response(status, headers, exc_info)
            return start_response(status, headers + _FLOOR_VARY, exc_info)

        return self.application(environ, floor_start_response)


_BODY = [b"ok"]


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The floor: what any app does at least. A new header list per call, as real apps make."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return _BODY


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
    """A server's ``start_response`` that does nothing."""
    return _write


def _write(data: bytes) -> None:
    pass


# Headers a browser sends with a fetch(), besides Origin (Chromium's, trimmed).
BROWSER_HEADERS = (
    ("HOST", "api.example.com"),
    ("CONNECTION", "keep-alive"),
    ("SEC_CH_UA", '"Chromium";v="124", "Not-A.Brand";v="99"'),
    ("SEC_CH_UA_MOBILE", "?0"),
    ("USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"),
    ("SEC_CH_UA_PLATFORM", '"Linux"'),
    ("ACCEPT", "*/*"),
    ("SEC_FETCH_SITE", "cross-site"),
    ("SEC_FETCH_MODE", "cors"),
    ("SEC_FETCH_DEST", "empty"),
    ("REFERER", "https://app.example.com/"),
    ("ACCEPT_ENCODING", "gzip, deflate, br"),
    ("ACCEPT_LANGUAGE", "en-US,en;q=0.9"),
)


def environ(method: str = "GET", origin: Optional[str] = None, **headers: str) -> dict[str, Any]:
    """A request environ built as waitress builds it (same keys, same insertion order, so
    the dict has the same size and spare room); ``headers`` are CGI names such as
    ``HTTP_ACCESS_CONTROL_REQUEST_METHOD``.
    """
    env: dict[str, Any] = {
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_HOST": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "REQUEST_METHOD": method,
        "SERVER_PORT": "8080",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_SOFTWARE": "waitress",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/api/items",
        "REQUEST_URI": "/api/items",
        "QUERY_STRING": "",
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input": _INPUT,
        "wsgi.file_wrapper": None,
        "wsgi.input_terminated": True,
    }
    for name, value in BROWSER_HEADERS:
        env["HTTP_" + name] = value
    if origin is not None:
        env["HTTP_ORIGIN"] = origin
    env.update(headers)
    env["waitress.client_disconnected"] = _connected
    return env


_INPUT = io.BytesIO()


def _connected() -> bool:
    return False
