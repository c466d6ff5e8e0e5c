"""``origin=<callable>``: origins decided at run time by the application's own check.

The check sees only origins exactly as browsers serialize them, at most once per request,
and decides every time (nothing is remembered); only ``True`` allows. A check that raises
or returns anything but a bool refuses for its policy (fails closed), the request is still
answered, and at most one ERROR line per ten seconds is logged about it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from support import RecordingApp, call, cors_headers, make_environ, preflight_environ, values

import wsgicors
from wsgicors import CORS, ConfigurationError
from wsgicors.origins import split_origin

ACME = "https://acme.example"
GLOBEX = "https://globex.example:8443"
TENANTS = frozenset({ACME, GLOBEX})
STRANGER = "https://stranger.example"
SITE = "https://site.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
README = (Path(__file__).resolve().parent.parent / "README.rst").read_text(encoding="utf-8")


def recording(allowed: Any = TENANTS) -> tuple[Callable[[str], bool], list[str]]:
    """A check allowing the origins in ``allowed`` (a set, read at each call), and the
    list of origins it was called with, in order."""
    calls: list[str] = []

    def is_allowed(origin: str) -> bool:
        calls.append(origin)  # one list operation: safe from any thread
        return origin in allowed

    return is_allowed, calls


def tenant_check(origin: str) -> bool:
    """A check at module level, so that its qualified name is short."""
    return origin in TENANTS


class Everything:
    """A set holding every origin."""

    def __contains__(self, item: object) -> bool:
        return True


EVERYTHING = Everything()


class LookupFailed(Exception):
    pass


def failing_check(origin: str) -> bool:
    raise LookupFailed("database is locked")


def other_failing_check(origin: str) -> bool:
    raise LookupFailed("connection refused")


def qualified(check: Callable[..., Any]) -> str:
    return f"{check.__module__}.{check.__qualname__}"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wsgicors" and r.levelname == "ERROR"]


# -- allowed and refused ---------------------------------------------------------------------


def test_an_origin_the_check_allows_is_reflected_with_the_policys_headers():
    check, calls = recording()
    app = RecordingApp()
    cors = CORS(app, origin=check, credentials=True, expose_headers="X-Total")
    response = call(cors, make_environ("GET", GLOBEX))
    assert response.status == "200 OK"
    assert response.body == b"body"
    assert cors_headers(response.headers) == {
        "Access-Control-Allow-Origin": GLOBEX,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Total",
    }
    assert values(response.headers, "Vary") == ["Origin"]
    assert values(response.headers, "Content-Type") == ["text/plain"]
    decision = app.environs[-1]["wsgicors.decision"]
    assert (decision.allowed, decision.reason) == (True, "allowed")
    assert calls == [GLOBEX]


def test_an_origin_the_check_refuses_gets_no_cors_headers_and_the_app_still_answers():
    check, calls = recording()
    app = RecordingApp()
    cors = CORS(app, origin=check, credentials=True, expose_headers="X-Total")
    response = call(cors, make_environ("GET", STRANGER))
    assert (response.status, response.body) == ("200 OK", b"body")
    assert cors_headers(response.headers) == {}
    assert values(response.headers, "Vary") == ["Origin"]
    decision = app.environs[-1]["wsgicors.decision"]
    assert (decision.allowed, decision.reason) == (False, "origin not allowed")
    assert (app.calls, calls) == (1, [STRANGER])


def test_every_response_varies_on_origin_even_one_to_a_request_without_origin(make_app):
    check, calls = recording()
    client = make_app(app=RecordingApp(vary="Accept-Encoding"), origin=check)
    for response in (client.actual(None), client.actual(ACME), client.actual(STRANGER)):
        assert response.headers.getall("Vary") == ["Accept-Encoding, Origin"]
    assert calls == [ACME, STRANGER]


def test_a_preflight_from_an_allowed_origin_gets_the_policys_answer(make_app):
    check, calls = recording()
    client = make_app(origin=check, credentials=True, methods="GET, PUT", headers="X-Token", maxage=600)
    response = client.preflight(ACME, "PUT", "x-token")
    assert (response.status, response.body) == ("200 OK", b"")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": ACME,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Headers": "X-Token",
        "Access-Control-Max-Age": "600",
    }
    assert response.headers.getall("Vary") == [PREFLIGHT_VARY]
    assert (client.app.calls, calls) == (0, [ACME])


def test_a_preflight_from_a_refused_origin_gets_no_cors_headers(make_app):
    check, calls = recording()
    client = make_app(origin=check, credentials=True, methods="GET, PUT", headers="X-Token", maxage=600)
    response = client.preflight(STRANGER, "PUT", "x-token")
    assert (response.status, response.body) == ("200 OK", b"")
    assert cors_headers(response) == {}
    assert response.headers.getall("Vary") == [PREFLIGHT_VARY]
    assert (client.app.calls, calls) == (0, [STRANGER])


def test_a_check_with_credentials_is_no_risky_setting(caplog):
    CORS(RecordingApp(), origin=tenant_check, credentials=True, expose_headers="*")
    assert caplog.records == []


def test_a_public_policy_before_the_check_answers_everyone_with_star_and_never_asks(make_app):
    check, calls = recording()
    client = make_app(policy="public, tenants", public_origin="*", tenants_origin=check, tenants_credentials=True)
    for origin in (None, ACME, STRANGER):
        response = client.actual(origin)
        assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}
        assert "Vary" not in response.headers
    assert calls == []


def test_a_list_mixing_a_check_with_origins_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as raised:
        CORS(RecordingApp(), origin=[tenant_check, SITE])
    assert (raised.value.policy, raised.value.key) == (None, "origin")


def test_the_type_of_a_check_is_exported():
    assert "OriginCheck" in wsgicors.__all__
    assert wsgicors.OriginCheck is not None


# -- which requests ask the check, and how often ------------------------------------------------


def test_an_origin_listed_in_a_policy_before_the_check_is_answered_without_asking_it(make_app):
    check, calls = recording()
    client = make_app(policy="site, tenants", site_origin=SITE, site_methods="GET, PUT", tenants_origin=check)
    assert cors_headers(client.actual(SITE)) == {"Access-Control-Allow-Origin": SITE}
    assert cors_headers(client.preflight(SITE, "PUT")) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, PUT",
    }
    assert calls == []
    assert cors_headers(client.actual(ACME)) == {"Access-Control-Allow-Origin": ACME}
    assert calls == [ACME]


def test_an_origin_listed_in_a_policy_after_the_check_is_decided_per_request(make_app):
    check, calls = recording(allowed=set())
    client = make_app(policy="tenants, site", tenants_origin=check, site_origin=SITE, site_credentials=True)
    response = client.actual(SITE)
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
    }
    assert client.app.environs[-1]["wsgicors.decision"].reason == "policy 'site'"
    assert calls == [SITE]


ONE_CALL = [
    pytest.param(make_environ("GET", ACME), id="GET, allowed"),
    pytest.param(make_environ("DELETE", STRANGER), id="DELETE, refused"),
    pytest.param(make_environ("OPTIONS", ACME), id="OPTIONS that is no preflight"),
    pytest.param(preflight_environ(ACME, "PUT", "x-token"), id="preflight, allowed"),
    pytest.param(preflight_environ(ACME, "PATCH"), id="preflight, method refused"),
    pytest.param(preflight_environ(ACME, "PUT", "x-other"), id="preflight, header refused"),
    pytest.param(preflight_environ(STRANGER, "PUT"), id="preflight, origin refused"),
    pytest.param(
        {**preflight_environ(ACME, "GET"), "HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK": "true"},
        id="preflight, private network",
    ),
]


@pytest.mark.parametrize("environ", ONE_CALL)
def test_each_request_asks_the_check_exactly_once(environ):
    check, calls = recording()
    cors = CORS(RecordingApp(), origin=check, methods="GET, PUT", headers="X-Token")
    call(cors, dict(environ))
    assert calls == [environ["HTTP_ORIGIN"]]


def test_a_later_policys_check_is_asked_only_when_the_earlier_ones_refused(make_app):
    first, first_calls = recording(allowed={ACME})
    second, second_calls = recording(allowed={ACME, GLOBEX})
    client = make_app(policy="first, second", first_origin=first, second_origin=second, second_credentials=True)
    assert cors_headers(client.actual(ACME)) == {"Access-Control-Allow-Origin": ACME}
    assert (first_calls, second_calls) == ([ACME], [])
    assert cors_headers(client.actual(GLOBEX)) == {
        "Access-Control-Allow-Origin": GLOBEX,
        "Access-Control-Allow-Credentials": "true",
    }
    assert (first_calls, second_calls) == ([ACME, GLOBEX], [GLOBEX])
    assert cors_headers(client.preflight(STRANGER, "GET")) == {}
    assert (first_calls, second_calls) == ([ACME, GLOBEX, STRANGER], [GLOBEX, STRANGER])


def test_under_verbmatch_each_policys_check_is_asked_at_most_once(make_app):
    writers, writer_calls = recording()
    readers, reader_calls = recording()
    client = make_app(
        policy="writers, readers",
        writers_origin=writers,
        writers_methods="PUT",
        readers_origin=readers,
        readers_methods="GET",
        matchstrategy="verbmatch",
    )
    assert cors_headers(client.preflight(ACME, "PUT")) == {
        "Access-Control-Allow-Origin": ACME,
        "Access-Control-Allow-Methods": "PUT",
    }
    assert (writer_calls, reader_calls) == ([ACME], [])
    assert cors_headers(client.actual(ACME, "GET")) == {"Access-Control-Allow-Origin": ACME}
    assert client.app.environs[-1]["wsgicors.decision"].reason == "policy 'readers'"
    # The method rules 'writers' out before its check would be asked.
    assert (writer_calls, reader_calls) == ([ACME], [ACME])


def test_nothing_is_remembered_each_request_asks_again(make_app):
    tenants: set[str] = set()
    check, calls = recording(allowed=tenants)
    client = make_app(origin=check, methods="GET, PUT")
    assert cors_headers(client.actual(ACME)) == {}
    tenants.add(ACME)  # a tenant signs up
    assert cors_headers(client.actual(ACME)) == {"Access-Control-Allow-Origin": ACME}
    assert cors_headers(client.preflight(ACME, "PUT")) == {
        "Access-Control-Allow-Origin": ACME,
        "Access-Control-Allow-Methods": "GET, PUT",
    }
    tenants.discard(ACME)  # and leaves
    assert cors_headers(client.preflight(ACME, "PUT")) == {}
    assert cors_headers(client.actual(ACME)) == {}
    assert calls == [ACME] * 5


# -- what the check returns --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "allowed", "logged"),
    [
        pytest.param(True, True, False, id="True allows"),
        pytest.param(False, False, False, id="False refuses quietly"),
        pytest.param(None, False, True, id="None, a forgotten return"),
        pytest.param(1, False, True, id="1, equal to True but not True"),
        pytest.param("yes", False, True, id="a truthy string"),
        pytest.param(ACME, False, True, id="the row found"),
        pytest.param(0, False, True, id="0"),
    ],
)
def test_only_true_allows_and_anything_but_a_bool_is_logged_as_a_bug(caplog, returned, allowed, logged):
    def answers(origin: str) -> Any:
        return returned

    cors = CORS(RecordingApp(), origin=answers, credentials=True)
    response = call(cors, make_environ("GET", ACME))
    expected = {"Access-Control-Allow-Origin": ACME, "Access-Control-Allow-Credentials": "true"}
    assert cors_headers(response.headers) == (expected if allowed else {})
    assert values(response.headers, "Vary") == ["Origin"]
    message = f"origin check {qualified(answers)} returned {returned!r} for origin {ACME!r}; only True allows"
    assert errors(caplog) == ([message] if logged else [])
    assert [r for r in caplog.records if r.levelno < logging.ERROR] == []


# -- a check that raises -----------------------------------------------------------------------


def test_a_check_that_raises_refuses_and_the_request_is_answered_normally(make_app, caplog):
    client = make_app(origin=failing_check, credentials=True)
    response = client.actual(ACME, "POST")
    assert (response.status, response.body) == ("200 OK", b"body")
    assert cors_headers(response) == {}
    assert response.headers.getall("Vary") == ["Origin"]
    decision = client.app.environs[-1]["wsgicors.decision"]
    assert (decision.allowed, decision.reason) == (False, "origin not allowed")
    assert client.app.calls == 1
    preflight = client.preflight(ACME, "PUT")
    assert (preflight.status, preflight.body) == ("200 OK", b"")
    assert cors_headers(preflight) == {}
    assert preflight.headers.getall("Vary") == [PREFLIGHT_VARY]


def test_a_check_that_raises_is_logged_at_error_with_its_traceback_and_the_origin_in_repr(caplog):
    call(CORS(RecordingApp(), origin=failing_check), make_environ("GET", ACME))
    (record,) = caplog.records
    assert (record.name, record.levelname) == ("wsgicors", "ERROR")
    assert record.getMessage() == f"origin check {qualified(failing_check)} raised for origin 'https://acme.example'"
    assert record.exc_info is not None and record.exc_info[0] is LookupFailed
    assert "Traceback (most recent call last)" in caplog.text
    assert "LookupFailed: database is locked" in caplog.text


def test_a_check_that_raises_is_its_policy_refusing_and_a_later_policy_listing_the_origin_allows_it(caplog):
    cors = CORS(RecordingApp(), policy="tenants, site", tenants_origin=failing_check, site_origin=SITE)
    assert cors_headers(call(cors, make_environ("GET", SITE)).headers) == {"Access-Control-Allow-Origin": SITE}
    assert cors_headers(call(cors, make_environ("GET", ACME)).headers) == {}
    assert len(errors(caplog)) == 1


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_keyboard_interrupt_and_system_exit_from_the_check_propagate(caplog, exception):
    def interrupted(origin: str) -> bool:
        raise exception

    app = RecordingApp()
    cors = CORS(app, origin=interrupted)
    with pytest.raises(exception):
        call(cors, make_environ("GET", ACME))
    with pytest.raises(exception):
        call(cors, preflight_environ(ACME, "PUT"))
    assert app.calls == 0
    assert caplog.records == []


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``clock[0]`` is what ``wsgicors.callback._now`` returns: set it to move time."""
    now = [1_000.0]
    monkeypatch.setattr("wsgicors.callback._now", lambda: now[0])
    return now


def test_a_failing_check_logs_at_most_one_line_every_ten_seconds(caplog, clock):
    app = RecordingApp()
    cors = CORS(app, origin=failing_check)
    line = f"origin check {qualified(failing_check)} raised for origin {ACME!r}"
    for second in (0, 2, 4, 6, 8):  # five failures in ten seconds, say a database outage
        clock[0] = 1_000.0 + second
        assert cors_headers(call(cors, make_environ("GET", ACME)).headers) == {}
    assert errors(caplog) == [line]
    clock[0] = 1_011.0
    call(cors, make_environ("GET", ACME))
    assert errors(caplog) == [line, f"{line} (4 similar lines suppressed)"]
    clock[0] = 1_022.0
    call(cors, make_environ("GET", ACME))
    assert errors(caplog) == [line, f"{line} (4 similar lines suppressed)", line]
    # Every request was answered all along.
    assert app.calls == 7
    assert all(record.exc_info is not None for record in caplog.records)


def test_each_check_has_its_own_rate_limit(caplog, clock):
    cors = CORS(RecordingApp(), policy="a, b", a_origin=failing_check, b_origin=other_failing_check)
    for second in range(5):
        clock[0] = 1_000.0 + second
        call(cors, make_environ("GET", ACME))
    assert errors(caplog) == [
        f"origin check {qualified(failing_check)} raised for origin {ACME!r}",
        f"origin check {qualified(other_failing_check)} raised for origin {ACME!r}",
    ]


def test_a_check_returning_a_non_bool_logs_at_most_one_line_every_ten_seconds(caplog, clock):
    def forgets_to_return(origin: str) -> Any:
        return None

    cors = CORS(RecordingApp(), origin=forgets_to_return)
    for second in range(5):
        clock[0] = 1_000.0 + second
        call(cors, make_environ("GET", STRANGER))
    assert len(errors(caplog)) == 1


# -- threads ---------------------------------------------------------------------------------

THREADS = 4
REQUESTS_PER_THREAD = 4


def test_a_slow_check_is_asked_from_several_threads_at_once_and_each_gets_its_own_answer():
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def slow_check(origin: str) -> bool:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.05)  # a slow database
        with lock:
            running[0] -= 1
        return origin in TENANTS

    cors = CORS(RecordingApp(), origin=slow_check, credentials=True)
    barrier = threading.Barrier(THREADS, timeout=10)
    results: list[tuple[str, dict[str, str], list[str]]] = []

    def client(thread: int) -> None:
        barrier.wait()
        for number in range(REQUESTS_PER_THREAD):
            origin = (ACME, STRANGER, GLOBEX)[(thread + number) % 3]
            response = call(cors, make_environ("GET", origin))
            results.append((origin, cors_headers(response.headers), values(response.headers, "Vary")))

    threads = [threading.Thread(target=client, args=(thread,)) for thread in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == THREADS * REQUESTS_PER_THREAD
    for origin, headers, vary in results:
        allowed = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
        assert (headers, vary) == (allowed if origin in TENANTS else {}, ["Origin"])
    # The middleware holds no lock around the check: a slow one does not queue every request.
    assert running[1] > 1


# -- values that must never reach the check ----------------------------------------------------

NEVER_ASKED = [
    pytest.param("null", id="null"),
    pytest.param("file://", id="file"),
    pytest.param("", id="empty"),
    pytest.param(" ", id="space"),
    pytest.param(f" {ACME}", id="leading space"),
    pytest.param(f"{ACME} ", id="trailing space"),
    pytest.param(f"{ACME}/", id="trailing slash"),
    pytest.param(f"{ACME}/path", id="path"),
    pytest.param(f"{ACME}?q", id="query"),
    pytest.param(f"{ACME}#f", id="fragment"),
    pytest.param("https://Acme.example", id="uppercase host"),
    pytest.param("HTTPS://acme.example", id="uppercase scheme"),
    pytest.param(f"{ACME}:443", id="default port https"),
    pytest.param("http://acme.example:80", id="default port http"),
    pytest.param(f"{ACME}:0", id="port zero"),
    pytest.param(f"{ACME}:65536", id="port out of range"),
    pytest.param(f"{ACME}:", id="empty port"),
    pytest.param("https://user@acme.example", id="user name"),
    pytest.param("acme.example", id="no scheme"),
    pytest.param("//acme.example", id="scheme-relative"),
    pytest.param("https://", id="no host"),
    pytest.param("https://acme..example", id="empty label"),
    pytest.param("https://" + "a" * 64 + ".example", id="label over 63"),
    pytest.param("https://" + ".".join(["a" * 60] * 5), id="host over 253"),
    pytest.param("https://" + "a" * 600, id="over 512"),
    pytest.param("https://evil.net/" + "a" * 1_000_000, id="1 MB"),
    pytest.param(f"{ACME} {GLOBEX}", id="two origins"),
    pytest.param(f"{ACME}, {GLOBEX}", id="two origins, comma"),
    pytest.param("https://bücher.example".encode().decode("latin-1"), id="non-ASCII host as the server hands it"),
    pytest.param(f"{ACME}\r\nX-Injected: 1", id="CRLF"),
    pytest.param(f"{ACME}\x00", id="NUL"),
    pytest.param("https://[::1", id="unclosed IPv6"),
]


@pytest.mark.parametrize("origin", NEVER_ASKED)
def test_a_value_no_browser_sends_as_an_origin_never_reaches_the_check(origin):
    assert split_origin(origin) is None  # the table holds only values the syntax refuses
    check, calls = recording(allowed=EVERYTHING)
    cors = CORS(RecordingApp(), origin=check, credentials=True, methods="*", headers="*")
    for environ, vary in (
        (make_environ("GET", origin), "Origin"),
        (preflight_environ(origin, "PUT", "x-token"), PREFLIGHT_VARY),
    ):
        response = call(cors, environ)
        assert (response.status, cors_headers(response.headers), values(response.headers, "Vary")) == (
            "200 OK",
            {},
            [vary],
        )
        assert environ["wsgicors.decision"].allowed is False
    assert calls == []


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("https://acme.example.evil", id="look-alike"),
        pytest.param("http://localhost:8080", id="localhost with port"),
        pytest.param("http://[::1]:8080", id="IPv6"),
        pytest.param("https://xn--bcher-kva.example", id="IDNA"),
        pytest.param("chrome-extension://abcdefghijklmnop", id="other scheme"),
    ],
)
def test_every_origin_a_browser_may_send_reaches_the_check_as_sent(origin):
    check, calls = recording(allowed=EVERYTHING)
    response = call(CORS(RecordingApp(), origin=check), make_environ("GET", origin))
    assert cors_headers(response.headers) == {"Access-Control-Allow-Origin": origin}
    assert calls == [origin]


# -- seeing and explaining it ------------------------------------------------------------------


def test_the_config_repr_shows_the_check_by_its_qualified_name():
    cors = CORS(RecordingApp(), policy="site, tenants", site_origin=SITE, tenants_origin=tenant_check)
    text = repr(cors.config)
    assert f"OriginMatcher(decided at run time by {qualified(tenant_check)})" in text
    assert SITE in text
    assert cors_headers(call(cors, make_environ("GET", ACME)).headers) == {"Access-Control-Allow-Origin": ACME}


def test_explain_asks_the_check_as_a_request_would():
    tenants = {ACME}
    check, calls = recording(allowed=tenants)
    cors = CORS(RecordingApp(), origin=check, credentials=True, methods="GET, PUT")
    explanation = cors.explain(ACME, "PUT", credentials=True)
    assert explanation.readable
    assert explanation.preflight is not None
    assert ("Access-Control-Allow-Origin", ACME) in explanation.preflight.headers
    assert ("Access-Control-Allow-Origin", ACME) in explanation.actual.headers
    assert [(step.selected, step.reason) for step in explanation.steps] == [(True, "selected")]
    assert calls == [ACME]  # one selection answers the preflight and the request
    tenants.clear()
    refused = cors.explain(ACME, "PUT", credentials=True)
    assert not refused.readable
    assert [(step.selected, step.reason) for step in refused.steps] == [(False, "origin not allowed")]


@pytest.mark.parametrize(("method", "exchanges"), [pytest.param("GET", 1, id="GET"), pytest.param("PUT", 2, id="PUT")])
def test_explain_asks_the_check_once_however_many_exchanges_it_simulates(method, exchanges):
    # One selection gives the steps shown and every exchange: a flaky lookup cannot make
    # the steps say "selected" beside a refused answer.
    check, calls = recording()
    explanation = CORS(RecordingApp(), origin=check, methods="GET, PUT").explain(ACME, method)
    assert (explanation.preflight is not None) == (exchanges == 2)
    assert calls == [ACME]


def test_explain_asks_the_check_with_the_origin_a_browser_would_send():
    check, calls = recording()
    explanation = CORS(RecordingApp(), origin=check).explain("https://ACME.example/")
    assert explanation.origin == ACME
    assert explanation.readable
    assert set(calls) == {ACME}


# -- the README's examples ---------------------------------------------------------------------


def readme_block(name: str) -> str:
    """The text of README.rst's code block named ``name``, dedented."""
    found = re.findall(
        rf"^\.\. code:: python\n    :name: {re.escape(name)}\n\n((?:    .*\n|\n)+)", README, flags=re.MULTILINE
    )
    assert len(found) == 1, f"README.rst has {len(found)} code blocks named {name!r}"
    return re.sub(r"^    ", "", found[0], flags=re.MULTILINE)


def test_the_readme_sqlite_example_allows_the_tenants_in_the_database(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with contextlib.closing(sqlite3.connect("tenants.sqlite3")) as db, db:
        db.execute("CREATE TABLE tenant_origins (origin TEXT PRIMARY KEY)")
        db.execute("INSERT INTO tenant_origins VALUES (?)", (ACME,))
    app = RecordingApp()
    namespace: dict[str, Any] = {"__name__": "myapp", "app": app}
    exec(compile(readme_block("runtime-origins-sqlite"), "README.rst:runtime-origins-sqlite", "exec"), namespace)
    application = namespace["application"]
    allowed = call(application, make_environ("GET", ACME))
    assert cors_headers(allowed.headers) == {
        "Access-Control-Allow-Origin": ACME,
        "Access-Control-Allow-Credentials": "true",
    }
    assert cors_headers(call(application, make_environ("GET", STRANGER)).headers) == {}
    # A tenant added to the database is allowed from its next request on.
    with contextlib.closing(sqlite3.connect("tenants.sqlite3")) as db, db:
        db.execute("INSERT INTO tenant_origins VALUES (?)", (GLOBEX,))
    assert cors_headers(call(application, preflight_environ(GLOBEX, "PUT", "content-type")).headers) == {
        "Access-Control-Allow-Origin": GLOBEX,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": "Content-Type, Authorization",
    }
    # The database gone: refused, the app still answers, and the error is logged.
    Path("tenants.sqlite3").unlink()
    outage = call(application, make_environ("GET", ACME))
    assert (outage.status, cors_headers(outage.headers)) == ("200 OK", {})
    assert errors(caplog) == [f"origin check myapp.tenant_origin_allowed raised for origin {ACME!r}"]
    assert "sqlite3.OperationalError" in caplog.text
    assert app.calls == 3


def test_the_readme_cache_example_remembers_answers_until_cleared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.closing(sqlite3.connect("tenants.sqlite3")) as db, db:
        db.execute("CREATE TABLE tenant_origins (origin TEXT PRIMARY KEY)")
        db.execute("INSERT INTO tenant_origins VALUES (?)", (ACME,))
    namespace: dict[str, Any] = {"app": RecordingApp()}
    exec(compile(readme_block("runtime-origins-sqlite"), "README.rst:runtime-origins-sqlite", "exec"), namespace)
    exec(compile(readme_block("runtime-origins-cache"), "README.rst:runtime-origins-cache", "exec"), namespace)
    cached = namespace["cached_tenant_origin_allowed"]
    assert cached.cache_info().maxsize == 1024
    application = CORS(RecordingApp(), origin=cached)
    assert cors_headers(call(application, make_environ("GET", ACME)).headers) == {"Access-Control-Allow-Origin": ACME}
    with contextlib.closing(sqlite3.connect("tenants.sqlite3")) as db, db:
        db.execute("DELETE FROM tenant_origins")
    # Still allowed: the answer is cached...
    assert cors_headers(call(application, make_environ("GET", ACME)).headers) == {"Access-Control-Allow-Origin": ACME}
    # ... until the cache is cleared.
    cached.cache_clear()
    assert cors_headers(call(application, make_environ("GET", ACME)).headers) == {}
