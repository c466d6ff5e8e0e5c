"""One middleware instance shared by threads, and a million distinct origins: every response
gets exactly its own request's headers, and what is kept per origin stays bounded."""

from __future__ import annotations

import functools
import gc
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable, Optional

import pytest
from support import HeaderList, cors_headers, make_environ, preflight_environ, run_threads, values

from wsgicors import CORS
from wsgicors.answers import RECENT_ANSWERS

THREADS = 8
REQUESTS_PER_THREAD = 2_000
TEXT = [("Content-Type", "text/plain")]
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

SETTINGS = {
    "policy": "site,subdomains",
    "site_origin": "https://example.com",
    "site_methods": "GET, PUT",
    "site_headers": "X-Token",
    "site_maxage": "600",
    "subdomains_origin": "https://*.example.com",
    "subdomains_credentials": "true",
    "subdomains_expose_headers": "X-Total",
}


class YieldingApp:
    """Answers with the request's own marker, after offering the GIL to other threads."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.calls += 1
        time.sleep(0)  # a thread switch between the middleware's decision and its headers
        start_response("200 OK", [*TEXT, ("X-Marker", environ["HTTP_X_MARKER"])])
        return [environ["HTTP_X_MARKER"].encode()]


def allowed_exact(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    return make_environ("GET", "https://example.com"), {"Access-Control-Allow-Origin": "https://example.com"}, "Origin"


def allowed_by_pattern(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    origin = f"https://{marker}.example.com"
    expected = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Total",
    }
    return make_environ("POST", origin), expected, "Origin"


def refused(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    return make_environ("GET", f"https://{marker}.example.com.evil.net"), {}, "Origin"


def without_origin(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    return make_environ("GET"), {}, "Origin"


def allowed_preflight(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    expected = {
        "Access-Control-Allow-Origin": "https://example.com",
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Headers": "X-Token",
        "Access-Control-Max-Age": "600",
    }
    return preflight_environ("https://example.com", "PUT", "x-token"), expected, None


def allowed_preflight_by_pattern(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    origin = f"https://{marker}.example.com"
    expected = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
    }
    return preflight_environ(origin, "POST"), expected, None


def refused_preflight(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    return preflight_environ(f"https://{marker}.evil.net", "PUT", "x-token"), {}, None


def preflight_for_a_refused_header(marker: str) -> tuple[dict[str, Any], dict[str, str], Optional[str]]:
    return preflight_environ("https://example.com", "PUT", f"x-{marker}"), {}, None


CASES = [
    allowed_exact,
    allowed_by_pattern,
    refused,
    without_origin,
    allowed_preflight,
    allowed_preflight_by_pattern,
    refused_preflight,
    preflight_for_a_refused_header,
]


def test_threads_sharing_one_instance_each_get_exactly_their_own_headers():
    app = YieldingApp()
    middleware = CORS(app, SETTINGS)
    barrier = threading.Barrier(THREADS)
    wrong: list[tuple[str, Any, Any]] = []
    app_calls_expected: list[int] = []

    def client(thread: int) -> None:
        calls = 0
        barrier.wait()
        for number in range(REQUESTS_PER_THREAD):
            marker = f"t{thread}n{number}"
            case = CASES[(thread + number) % len(CASES)]
            environ, expected, vary = case(marker)
            environ["HTTP_X_MARKER"] = marker
            started: list[tuple[str, HeaderList]] = []
            body = b"".join(
                middleware(environ, lambda status, headers, e=None, into=started: into.append((status, headers)))
            )
            ((status, headers),) = started
            preflight = vary is None
            calls += not preflight
            got = (status, cors_headers(headers), values(headers, "Vary"), values(headers, "X-Marker"), body)
            want = (
                "200 OK",
                expected,
                [PREFLIGHT_VARY if preflight else vary],
                [] if preflight else [marker],
                b"" if preflight else marker.encode(),
            )
            if got != want:
                wrong.append((case.__name__, got, want))
        app_calls_expected.append(calls)

    run_threads([functools.partial(client, thread) for thread in range(THREADS)])
    assert wrong[:3] == []
    assert len(app_calls_expected) == THREADS
    assert app.calls == sum(app_calls_expected)


def discard(status: str, headers: HeaderList, exc_info: Any = None) -> None:
    return None


def quiet_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", TEXT)
    return []


ORIGINS = 1_000_000
TRACED = 100_000
# Besides the memos, which may be full at one end of the measure and empty at the other, some
# bytes and blocks move for reasons of the interpreter's own (free lists, caches of fixed
# size); one retained origin per request would be tens of megabytes.
SLACK_BYTES = 64 * 1024
FIXED_BLOCKS = 200


def test_a_million_distinct_origins_leave_memory_within_a_fixed_bound():
    middleware = CORS(quiet_app, SETTINGS)
    actual, preflight = make_environ("GET"), preflight_environ("https://example.com", "PUT", "x-token")
    attributes = dict(vars(middleware))
    config = repr(middleware.config)

    def drive(start: int, stop: int) -> None:
        for number in range(start, stop):
            kind = number % 4
            environ = actual if kind < 2 else preflight
            # Allowed by the pattern (even numbers) or refused (odd), actual and preflight.
            environ["HTTP_ORIGIN"] = f"https://o{number}.example.com{'.evil.net' * (number % 2)}"
            middleware(environ, discard)

    fresh_middleware = CORS(quiet_app, SETTINGS)
    full_memos = traced_growth(lambda: fill_memos(fresh_middleware))
    drive(0, 1_000)
    gc.collect()
    blocks = sys.getallocatedblocks()
    drive(1_000, ORIGINS - TRACED)
    gc.collect()
    grown_blocks = sys.getallocatedblocks() - blocks
    grown_bytes = traced_growth(lambda: drive(ORIGINS - TRACED, ORIGINS))
    assert grown_blocks < FIXED_BLOCKS
    assert grown_bytes < full_memos + SLACK_BYTES
    assert vars(middleware) == attributes
    assert all(vars(middleware)[name] is value for name, value in attributes.items())
    assert repr(middleware.config) == config


def traced_growth(run: Callable[[], None]) -> int:
    """Bytes still allocated after ``run()`` that were not before it (tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def fill_memos(middleware: CORS) -> None:
    """Fill both memos of a new middleware to their cap, with allowed answers (the largest)."""
    for number in range(RECENT_ANSWERS):
        origin = f"https://o{number}.example.com"
        middleware(make_environ("GET", origin=origin), discard)
        middleware(preflight_environ(origin, "PUT", "x-token"), discard)
    assert len(middleware.answers.recent) == len(middleware.answers.recent_preflights) == RECENT_ANSWERS


def fresh(text: str) -> str:
    """A new string object equal to ``text``, so that its reference count is the test's own."""
    return "".join(list(text))


def test_threads_never_grow_the_memo_of_recent_answers_past_its_cap():
    middleware = CORS(quiet_app, SETTINGS)
    recent = middleware.answers.recent
    barrier = threading.Barrier(THREADS)
    largest: list[int] = []

    def client(thread: int) -> None:
        seen = 0
        barrier.wait()
        for number in range(3 * RECENT_ANSWERS):
            # Allowed by the pattern, refused, and preflights of both: all memoised.
            origin = f"https://t{thread}n{number}.example.com{'.evil.net' * (number % 2)}"
            method = "OPTIONS" if number % 4 > 1 else "GET"
            middleware(make_environ(method, origin, "PUT" if method == "OPTIONS" else None), discard)
            seen = max(seen, len(recent))
        largest.append(seen)

    run_threads([functools.partial(client, thread) for thread in range(THREADS)])
    assert len(largest) == THREADS
    # Emptied when full: at most the cap, and a few more when threads race past the check.
    assert max(largest) <= RECENT_ANSWERS + THREADS
    assert middleware.answers.recent is recent


ENVIRONS = [
    pytest.param("GET", "https://kept.example.com", id="allowed"),
    pytest.param("GET", "https://kept.example.com.evil.net", id="refused"),
    pytest.param("OPTIONS", "https://kept.example.com", id="preflight-allowed"),
    pytest.param("OPTIONS", "https://kept.example.com.evil.net", id="preflight-refused"),
]


@pytest.mark.parametrize(("method", "text"), ENVIRONS)
def test_a_requests_origin_is_kept_no_longer_than_until_the_memo_is_next_emptied(method, text):
    middleware = CORS(quiet_app, SETTINGS)
    origin = fresh(text)
    references = sys.getrefcount(origin)
    requested = "PUT" if method == "OPTIONS" else None
    environ = make_environ(method, origin, requested)
    middleware(environ, discard)
    del environ
    # The memos hold it for reuse (bounded, not zero)...
    kept = {request[0] for request in middleware.answers.recent_preflights} | set(middleware.answers.recent)
    assert origin in kept
    # ... until they are emptied, at the latest when RECENT_ANSWERS other requests have come.
    for number in range(RECENT_ANSWERS):
        middleware(make_environ(method, f"https://o{number}.example.com", requested), discard)
    gc.collect()
    kept = {request[0] for request in middleware.answers.recent_preflights} | set(middleware.answers.recent)
    assert origin not in kept
    assert sys.getrefcount(origin) == references
