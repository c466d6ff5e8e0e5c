"""Real servers for the tests: waitress in a thread, server commands in a subprocess.

Everything listens on loopback only, every wait is bounded, and every process is
stopped by its PID. Also the small WSGI app that the served pipelines wrap.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from waitress.server import create_server

HOST = "127.0.0.1"
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
#: The console scripts (pserve, gunicorn) installed beside the interpreter running the tests.
BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "examples"


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Return once ``host:port`` accepts a connection; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 1):
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
    raise TimeoutError(f"nothing accepts connections on {host}:{port} after {timeout} s")


@contextlib.contextmanager
def examples_importable() -> Iterator[None]:
    """``examples/`` on ``sys.path`` (what ``PYTHONPATH=examples`` gives pserve), for
    ``call:cors_demo:...``; the demo's changes to the ``wsgicors`` logger undone after."""
    logger = logging.getLogger("wsgicors")
    handlers, level = list(logger.handlers), logger.level
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))
        logger.handlers[:] = handlers
        logger.setLevel(level)


class ThreadedServer:
    """waitress serving ``app`` from a background thread; a context manager.

    :param settings: waitress adjustments; by default ``host=127.0.0.1, port=0``
        (the kernel picks a free port; ``port`` and ``url`` tell which).
    """

    def __init__(self, app: Callable[..., Any], **settings: Any) -> None:
        if "listen" not in settings:
            settings.setdefault("host", HOST)
            settings.setdefault("port", 0)
        settings.setdefault("threads", 2)
        self.server: Any = create_server(app, **settings)
        if not hasattr(self.server, "effective_host"):  # a MultiSocketServer
            self.server.close()
            raise ValueError(f"ThreadedServer serves one listening socket, not {settings}")
        self.host: str = self.server.effective_host
        self.port: int = self.server.effective_port
        self.url = f"http://{self.host}:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"waitress-{self.port}", daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        try:
            wait_for_port(self.host, self.port)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop serving, close every socket, and join the threads (bounded)."""
        self._stopping.set()
        if self._thread.is_alive():
            # Wake the poll loop now; OSError: the loop saw the flag first and closed the trigger.
            with contextlib.suppress(OSError):
                self.server.trigger.pull_trigger()
            self._thread.join(timeout=10)
            if self._thread.is_alive():  # pragma: no cover - a stuck server is a test failure
                raise RuntimeError(f"waitress on port {self.port} did not stop")
        else:
            self._close()

    def _serve(self) -> None:
        # waitress's own run() loops until its socket map is empty; this loop also
        # checks for stop(), and all closing happens in this thread (asyncore is not
        # thread-safe).
        try:
            while not self._stopping.is_set():
                self.server.asyncore.loop(timeout=0.5, map=self.server._map, count=1)
        finally:
            self._close()

    def _close(self) -> None:
        for dispatcher in list(self.server._map.values()):  # the listener, the trigger, open channels
            if isinstance(dispatcher, self.server.channel_class):
                dispatcher.handle_close()  # also closes its output buffers
            else:
                dispatcher.close()
        self.server.trigger.close()
        self.server.task_dispatcher.shutdown(timeout=5)


class ServerProcess:
    """A server command in a subprocess, its port read from its own log; a context manager.

    :param args: the command; it must listen on loopback and log its address.
    :param ready: a regex whose group ``port`` finds the port in the command's output.
    :param env: extra environment variables.
    """

    def __init__(
        self, args: Sequence[str], ready: str, env: Optional[Mapping[str, str]] = None, timeout: float = 20.0
    ) -> None:
        self.args = [str(arg) for arg in args]
        self.ready = re.compile(ready)
        self.env = {**os.environ, **(env or {})}
        self.timeout = timeout
        self.port = 0
        self.url = ""
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def output(self) -> str:
        """Everything the command printed so far (stdout and stderr)."""
        self._output.seek(0)
        return self._output.read().decode("utf-8", "replace")

    def start(self) -> None:
        # Output goes to a file, not a pipe: nothing to drain, so no deadlock.
        self.process = subprocess.Popen(
            self.args,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=self.env,
        )
        try:
            self.port = self._wait_for_ready()
            self.url = f"http://{HOST}:{self.port}"
            wait_for_port(HOST, self.port, timeout=self.timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_for_ready(self) -> int:
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        for _ in range(int(self.timeout / 0.05) + 1):
            match = self.ready.search(self.output)
            if match:
                return int(match["port"])
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.args} exited with {self.process.returncode}:\n{self.output}")
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise TimeoutError(f"{self.args} did not log {self.ready.pattern!r} in {self.timeout} s:\n{self.output}")

    def stop(self) -> None:
        """SIGTERM the process by its PID, then SIGKILL if it is still there after 10 s."""
        process = self.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - only for a hung server
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self._output.close()


def request(
    url: str,
    method: str = "GET",
    path: str = "/",
    headers: Optional[Mapping[str, str]] = None,
    body: Optional[bytes] = None,
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    """One request with a plain HTTP client on a new connection: ``(status, reason, headers, body)``."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.reason, response.getheaders(), response.read()
    finally:
        connection.close()


# -- the app the served pipelines wrap -------------------------------------------------


class ApiApp:
    """A small JSON API for real servers.

    Routes: ``/status/<code>`` answers that status; ``/stream`` streams chunks (it waits
    for ``release`` between them, bounded); ``/slow`` takes ``slow_seconds``;
    ``/rendezvous?n=N&dir=D`` waits (bounded) until N requests are inside the app at once;
    ``/fail`` raises; ``/set-cookie`` sets ``session=abc123``; anything else echoes the
    request as JSON. Every answer carries ``X-Request-Id: 42``; ``calls`` counts the calls.
    """

    def __init__(self, slow_seconds: float = 0.5) -> None:
        self.slow_seconds = slow_seconds
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        path = environ.get("PATH_INFO", "")
        text = [("Content-Type", "text/plain; charset=utf-8"), ("X-Request-Id", "42")]
        if path.startswith("/status/"):
            status = f"{path[8:]} {http.client.responses.get(int(path[8:]), 'Unknown')}"
            start_response(status, text)
            return [f"status {path[8:]}".encode()]
        if path == "/stream":
            start_response("200 OK", text)
            return self._stream()
        if path == "/fail":
            raise RuntimeError("the app failed")
        if path == "/slow":
            time.sleep(self.slow_seconds)
        met = self._rendezvous(environ.get("QUERY_STRING", "")) if path == "/rendezvous" else None
        headers = [("Content-Type", "application/json"), ("X-Request-Id", "42")]
        if path == "/set-cookie":
            headers.append(("Set-Cookie", "session=abc123; Path=/"))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        answer = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("SCRIPT_NAME", "") + path,
            "query": environ.get("QUERY_STRING", ""),
            "body": environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else "",
            "content_type": environ.get("CONTENT_TYPE", ""),
            "x_token": environ.get("HTTP_X_TOKEN"),
            "cookie": environ.get("HTTP_COOKIE"),
            "pid": os.getpid(),
            "met": met,
        }
        body = json.dumps(answer).encode()
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _rendezvous(query: str, timeout: float = 5.0) -> bool:
        # Each waiting request leaves a file named by its process and thread in `dir`.
        # With sync workers (one request at a time each), N requests met means N
        # workers served at the same time.
        params = urllib.parse.parse_qs(query)
        count, where = int(params["n"][0]), Path(params["dir"][0])
        (where / f"{os.getpid()}-{threading.get_ident()}").touch()
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.02) + 1):
            if len(list(where.iterdir())) >= count:
                return True
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        return False

    def _stream(self) -> Iterable[bytes]:
        yield b"chunk 1;"
        self.release.wait(timeout=5)
        yield b"chunk 2;"
        yield b"chunk 3"


def make_api_app(global_conf: Mapping[str, str], **settings: str) -> ApiApp:
    """PasteDeploy app factory for the deployment inis: ``use = call:servers:make_api_app``."""
    return ApiApp(slow_seconds=float(settings.get("slow_seconds", "0.5")))


def raw_exchange(server: ThreadedServer, request_lines: list[str]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send a hand-written HTTP/1.1 request (``Connection: close``); the status line, headers and body."""
    head = "\r\n".join([*request_lines, f"Host: {server.host}:{server.port}", "Connection: close", "", ""])
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head.encode("ascii"))
        received = b""
        for _ in range(1000):  # until the server closes the connection
            data = sock.recv(65536)
            if not data:
                break
            received += data
    raw_head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = [(name, value.strip()) for name, _, value in (line.partition(":") for line in header_lines)]
    return status_line, headers, body
