"""``CORS.reconfigure()``: a new configuration, checked as the constructor checks it, swapped
in at once. A request is answered by one configuration throughout, the one in force when it
came; a refused configuration changes nothing."""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from support import HeaderList, RecordingApp, call, cors_headers, make_environ, preflight_environ, run_threads, values

from wsgicors import CORS, ConfigurationError
from wsgicors.config import Config

SITE = "https://site.example"
PARTNER = "https://partner.example"
TENANT = "https://tenant.example"
STRANGER = "https://stranger.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def answer(cors: CORS, environ: dict[str, Any]) -> tuple[str, dict[str, str], list[str], bytes]:
    """What a browser reads of a response: status, CORS headers, ``Vary``, body."""
    response = call(cors, environ)
    return response.status, cors_headers(response.headers), values(response.headers, "Vary"), response.body


# -- a configuration swapped in ------------------------------------------------------------------


def test_reconfigure_swaps_in_the_new_configuration():
    app = RecordingApp()
    cors = CORS(app, origin=SITE)
    config, answers = cors.config, cors.answers
    assert cors.reconfigure(origin=PARTNER, credentials=True, methods="GET, PUT") is None
    assert cors.config is not config and cors.answers is not answers
    assert isinstance(cors.config, Config)
    assert answer(cors, make_environ("GET", PARTNER)) == (
        "200 OK",
        {"Access-Control-Allow-Origin": PARTNER, "Access-Control-Allow-Credentials": "true"},
        ["Origin"],
        b"body",
    )
    assert answer(cors, preflight_environ(PARTNER, "PUT")) == (
        "200 OK",
        {
            "Access-Control-Allow-Origin": PARTNER,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "GET, PUT",
        },
        [PREFLIGHT_VARY],
        b"",
    )
    assert answer(cors, make_environ("GET", SITE)) == ("200 OK", {}, ["Origin"], b"body")
    assert cors.application is app


def test_reconfigure_replaces_the_whole_configuration_and_keys_left_out_take_their_defaults():
    cors = CORS(RecordingApp(), origin=SITE, credentials=True, expose_headers="X-Total", maxage=600)
    cors.reconfigure(origin=SITE)
    assert answer(cors, make_environ("GET", SITE))[1] == {"Access-Control-Allow-Origin": SITE}
    assert answer(cors, preflight_environ(SITE, "GET"))[1] == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
    }


def test_reconfigure_takes_a_mapping_and_keywords_and_keywords_win():
    cors = CORS(RecordingApp(), origin=SITE)
    cors.reconfigure(
        {"policy": "partners", "partners_origin": SITE, "partners_credentials": "true"}, partners_origin=PARTNER
    )
    assert answer(cors, make_environ("GET", PARTNER))[1] == {
        "Access-Control-Allow-Origin": PARTNER,
        "Access-Control-Allow-Credentials": "true",
    }
    assert answer(cors, make_environ("GET", SITE))[1] == {}


def test_the_new_configuration_is_the_one_a_fresh_middleware_would_have():
    settings = {"policy": "site, subdomains", "site_origin": SITE, "subdomains_origin": "https://*.example.com"}
    cors = CORS(RecordingApp(), origin=PARTNER)
    cors.reconfigure(settings)
    fresh = CORS(RecordingApp(), settings)
    assert cors.config == fresh.config
    assert repr(cors.config) == repr(fresh.config)
    assert "https://*.example.com" in repr(cors.config) and PARTNER not in repr(cors.config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cors.config.debug_header = True  # type: ignore[misc]


def test_reconfigure_can_switch_between_a_check_and_listed_origins():
    calls: list[str] = []

    def tenant_only(origin: str) -> bool:
        calls.append(origin)
        return origin == TENANT

    cors = CORS(RecordingApp(), origin=SITE)
    cors.reconfigure(origin=tenant_only)
    assert answer(cors, make_environ("GET", TENANT))[1] == {"Access-Control-Allow-Origin": TENANT}
    assert answer(cors, make_environ("GET", SITE))[1] == {}
    cors.reconfigure(origin=SITE)
    assert answer(cors, make_environ("GET", TENANT))[1] == {}
    assert answer(cors, make_environ("GET", SITE))[1] == {"Access-Control-Allow-Origin": SITE}
    assert calls == [TENANT, SITE]


def test_reconfigure_with_nothing_denies_everything_as_a_middleware_built_with_nothing_does():
    cors = CORS(RecordingApp(), origin="*", methods="*", headers="*")
    cors.reconfigure()
    nothing = CORS(RecordingApp())
    assert cors.config == nothing.config
    assert cors.config.policies == ()
    for environ in (
        lambda: make_environ("GET"),
        lambda: make_environ("GET", SITE),
        lambda: preflight_environ(SITE, "PUT", "x-token"),
    ):
        got = answer(cors, environ())
        assert got == answer(nothing, environ())
        assert got[1] == {}
    assert answer(cors, make_environ("GET", SITE))[2] == []
    assert answer(cors, preflight_environ(SITE, "GET"))[:2] == ("200 OK", {})


# -- a configuration refused -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "policy", "key", "message"),
    [
        pytest.param(
            {"origin": "*", "credentials": True},
            None,
            "origin",
            "origin='*' is refused with credentials=true",
            id="star with credentials",
        ),
        pytest.param(
            {"policy": "free", "free_orign": "*"},
            "free",
            "free_orign",
            "did you mean 'free_origin'?",
            id="misspelled key",
        ),
        pytest.param(
            {"policy": "free", "free_origin": SITE, "free_maxage": "ten"},
            "free",
            "free_maxage",
            "policy 'free': free_maxage='ten' is not a non-negative integer",
            id="bad value",
        ),
        pytest.param({"origin": "https://site.example/"}, None, "origin", "with a path", id="trailing slash"),
        pytest.param({"methods": "GET"}, None, "origin", "origin is required", id="no origin"),
    ],
)
def test_a_refused_configuration_raises_and_the_old_one_stays_in_force(caplog, settings, policy, key, message):
    cors = CORS(RecordingApp(), origin=SITE, credentials=True, methods="GET, PUT")
    config, answers = cors.config, cors.answers
    environs = (
        lambda: make_environ("GET", SITE),
        lambda: make_environ("GET", STRANGER),
        lambda: make_environ("GET"),
        lambda: preflight_environ(SITE, "PUT"),
    )
    before = [answer(cors, environ()) for environ in environs]
    with pytest.raises(ConfigurationError, match=re.escape(message)) as raised:
        cors.reconfigure(settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)
    assert cors.config is config and cors.answers is answers
    assert [answer(cors, environ()) for environ in environs] == before
    # What was refused logs nothing: its warnings would describe a configuration not in force.
    assert caplog.records == []


def test_a_refused_configuration_is_refused_with_every_problem_as_at_construction():
    cors = CORS(RecordingApp(), origin=SITE)
    settings = {"policy": "a, b", "a_origin": "https://a.example/", "b_maxage": "-1"}
    with pytest.raises(ConfigurationError) as at_construction:
        CORS(RecordingApp(), settings)
    with pytest.raises(ConfigurationError) as at_reconfigure:
        cors.reconfigure(settings)
    assert str(at_reconfigure.value) == str(at_construction.value)
    assert at_reconfigure.value.problems == at_construction.value.problems
    assert len(at_reconfigure.value.problems) == 3


# -- warnings ----------------------------------------------------------------------------------


def test_the_new_configurations_warnings_are_logged_as_at_construction(caplog):
    cors = CORS(RecordingApp(), origin=SITE)
    assert caplog.records == []
    cors.reconfigure(origin="copy", credentials=True)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "wsgicors",
            "WARNING",
            "origin='copy' with credentials=true lets every site make credentialed requests and read the answers",
        )
    ]
    caplog.clear()
    cors.reconfigure(origin=SITE)
    assert caplog.records == []


# -- requests in flight --------------------------------------------------------------------------


def test_a_request_in_flight_is_answered_by_the_configuration_it_came_under():
    entered, release = threading.Event(), threading.Event()

    def slow_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_X_SLOW"):
            entered.set()
            assert release.wait(timeout=10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    cors = CORS(slow_app, origin=SITE, credentials=True)
    slow = {**make_environ("GET", SITE), "HTTP_X_SLOW": "1"}
    results: list[tuple[str, dict[str, str], list[str], bytes]] = []
    thread = threading.Thread(target=lambda: results.append(answer(cors, slow)))
    thread.start()
    assert entered.wait(timeout=10)
    cors.reconfigure(origin=PARTNER)
    # Requests that come now get the new configuration...
    assert answer(cors, make_environ("GET", SITE)) == ("200 OK", {}, ["Origin"], b"done")
    release.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    # ... and the one in flight is finished with the old one, decision included.
    assert results == [
        (
            "200 OK",
            {"Access-Control-Allow-Origin": SITE, "Access-Control-Allow-Credentials": "true"},
            ["Origin"],
            b"done",
        )
    ]
    assert (slow["wsgicors.decision"].allowed, slow["wsgicors.decision"].policy.credentials) == (True, True)


def test_an_app_that_reconfigures_while_answering_gets_its_own_request_answered_by_the_old_configuration():
    cors: CORS

    def reconfiguring_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        cors.reconfigure(origin=PARTNER, expose_headers="X-Total")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"reconfigured"]

    cors = CORS(reconfiguring_app, origin=SITE, credentials=True)
    assert answer(cors, make_environ("GET", SITE))[1] == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
    }
    assert answer(cors, make_environ("GET", PARTNER))[1] == {
        "Access-Control-Allow-Origin": PARTNER,
        "Access-Control-Expose-Headers": "X-Total",
    }


# -- reconfigured under load ---------------------------------------------------------------------

THREADS = 8
SWAPS = 1_000
# The two sides keep pace, so that neither can starve the other of the interpreter: after
# each swap the reconfigurer waits for this many requests to be answered, and a client
# runs at most this many requests ahead of the swaps. Waits are bounded (in seconds).
REQUESTS_PER_SWAP = THREADS
AHEAD_PER_SWAP = 2
PACE_TIMEOUT = 10


def is_tenant(origin: str) -> bool:
    return origin == TENANT


# Two configurations that answer each request below differently, in headers that could cross:
# different origins, credentials, methods, exposed headers, max ages; listed, by pattern,
# and by a check.
CONFIG_A = {
    "policy": "site, subdomains",
    "site_origin": SITE,
    "site_methods": "GET, PUT",
    "site_headers": "X-Token",
    "site_maxage": "600",
    "subdomains_origin": "https://*.example.com",
    "subdomains_credentials": "true",
    "subdomains_expose_headers": "X-Total",
}
CONFIG_B = {
    "policy": "partner, tenants",
    "partner_origin": f"{PARTNER} {SITE}",
    "partner_credentials": "true",
    "partner_methods": "GET, DELETE",
    "partner_expose_headers": "X-Count",
    "partner_maxage": "60",
    "tenants_origin": is_tenant,
    "debug_header": "true",
}
REQUESTS = {
    "GET listed in both": lambda: make_environ("GET", SITE),
    "POST by A's pattern": lambda: make_environ("POST", "https://a.example.com"),
    "GET by B's check": lambda: make_environ("GET", TENANT),
    "GET listed in B": lambda: make_environ("GET", PARTNER),
    "GET refused by both": lambda: make_environ("GET", STRANGER),
    "GET without Origin": lambda: make_environ("GET"),
    "preflight PUT, A allows": lambda: preflight_environ(SITE, "PUT", "x-token"),
    "preflight DELETE, B allows": lambda: preflight_environ(SITE, "DELETE"),
    "preflight by B's check": lambda: preflight_environ(TENANT, "GET"),
    "preflight refused by both": lambda: preflight_environ(STRANGER, "PUT"),
}
Seen = tuple[str, tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]


class MarkerApp:
    """Answers with the request's own marker, in a header and the body."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Marker", environ["HTTP_X_MARKER"])])
        return [environ["HTTP_X_MARKER"].encode()]


def seen(status: str, headers: HeaderList) -> Seen:
    """What a configuration decides in an answer: status, CORS headers, ``Vary``, ``X-CORS-Decision``."""
    return (
        status,
        tuple(sorted(cors_headers(headers).items())),
        tuple(values(headers, "Vary")),
        tuple(values(headers, "X-CORS-Decision")),
    )


def expected_answers(settings: dict[str, Any]) -> dict[str, Seen]:
    cors = CORS(MarkerApp(), settings)
    answers = {}
    for kind, environ_of in REQUESTS.items():
        environ = {**environ_of(), "HTTP_X_MARKER": "expected"}
        response = call(cors, environ)
        answers[kind] = seen(response.status, response.headers)
    return answers


def test_the_two_configurations_answer_every_request_but_one_without_origin_differently():
    a, b = expected_answers(CONFIG_A), expected_answers(CONFIG_B)
    assert [kind for kind in REQUESTS if a[kind] == b[kind]] == ["GET without Origin"]
    # Spot checks of what the load test below holds each response to.
    assert a["GET listed in both"] == ("200 OK", (("Access-Control-Allow-Origin", SITE),), ("Origin",), ())
    assert b["GET listed in both"] == (
        "200 OK",
        (
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Origin", SITE),
            ("Access-Control-Expose-Headers", "X-Count"),
        ),
        ("Origin",),
        ("allowed; policy 'partner'",),
    )
    assert b["GET by B's check"] == (
        "200 OK",
        (("Access-Control-Allow-Origin", TENANT),),
        ("Origin",),
        ("allowed; policy 'tenants'",),
    )
    assert a["GET by B's check"] == ("200 OK", (), ("Origin",), ())


def test_threads_see_one_whole_configuration_or_the_other_while_it_is_swapped_a_thousand_times():
    expected = {"A": expected_answers(CONFIG_A), "B": expected_answers(CONFIG_B)}
    kinds = list(REQUESTS)
    cors = CORS(MarkerApp(), CONFIG_A)
    barrier = threading.Barrier(THREADS + 1, timeout=30)
    pace = threading.Condition()
    swapped = threading.Event()
    swaps_done = [0]
    progress = [0] * THREADS  # requests answered, by thread
    # Per request: its kind, what it got, the configurations whose answer that is, and
    # whether the app's part (marker header and body) is its own.
    results: list[tuple[str, Seen, tuple[str, ...], bool]] = []
    counts: list[int] = []

    def may_go_on(number: int) -> bool:
        return swapped.is_set() or number < (swaps_done[0] + 1) * AHEAD_PER_SWAP

    def client(thread: int) -> None:
        barrier.wait()
        answered = 0
        for number in range((SWAPS + 1) * AHEAD_PER_SWAP):
            if not may_go_on(number):
                with pace:
                    pace.wait_for(functools.partial(may_go_on, number), timeout=PACE_TIMEOUT)
            marker = f"t{thread}n{number}"
            kind = kinds[(thread + number) % len(kinds)]
            environ = {**REQUESTS[kind](), "HTTP_X_MARKER": marker}
            started: list[tuple[str, HeaderList]] = []
            body = b"".join(cors(environ, lambda status, headers, e=None, into=started: into.append((status, headers))))
            ((status, headers),) = started
            got = seen(status, headers)
            preflight = environ["REQUEST_METHOD"] == "OPTIONS"
            which = tuple(name for name in ("A", "B") if expected[name][kind] == got)
            markers = ([], b"") if preflight else ([marker], marker.encode())
            results.append((kind, got, which, (values(headers, "X-Marker"), body) == markers))
            with pace:
                answered = progress[thread] = number + 1
                pace.notify_all()
        counts.append(answered)

    def reconfigurer() -> None:
        barrier.wait()
        for swap in range(SWAPS):
            cors.reconfigure(CONFIG_B if swap % 2 == 0 else CONFIG_A)
            with pace:
                swaps_done[0] = swap + 1
                target = sum(progress) + REQUESTS_PER_SWAP
                pace.notify_all()
                pace.wait_for(lambda target=target: sum(progress) >= target, timeout=PACE_TIMEOUT)
        with pace:
            swapped.set()
            pace.notify_all()

    threads = run_threads([*(functools.partial(client, thread) for thread in range(THREADS)), reconfigurer])
    assert not any(thread.is_alive() for thread in threads)
    assert swapped.is_set()
    assert [result for result in results if not (result[2] and result[3])][:3] == []
    assert len(counts) == THREADS
    assert len(results) == sum(counts)
    # Both configurations were really in force while the clients ran, swap after swap.
    assert len(results) >= SWAPS * REQUESTS_PER_SWAP
    by_configuration = collections.Counter(which for _, _, which, _ in results)
    assert by_configuration[("A",)] > SWAPS and by_configuration[("B",)] > SWAPS
    # The last swap (an odd one) put A back.
    assert cors.config == CORS(MarkerApp(), CONFIG_A).config


# -- the README's example ----------------------------------------------------------------------

README = (Path(__file__).resolve().parent.parent / "README.rst").read_text(encoding="utf-8")


def readme_block(name: str) -> str:
    """The text of README.rst's code block named ``name``, dedented."""
    found = re.findall(
        rf"^\.\. code:: python\n    :name: {re.escape(name)}\n\n((?:    .*\n|\n)+)", README, flags=re.MULTILINE
    )
    assert len(found) == 1, f"README.rst has {len(found)} code blocks named {name!r}"
    return re.sub(r"^    ", "", found[0], flags=re.MULTILINE)


def test_the_readme_reload_example_swaps_valid_origins_and_keeps_the_old_ones_on_error(caplog):
    origins = [SITE]
    namespace: dict[str, Any] = {"__name__": "myapp", "app": RecordingApp(), "load_origins": lambda: list(origins)}
    exec(compile(readme_block("runtime-reconfigure"), "README.rst:runtime-reconfigure", "exec"), namespace)
    application, reload_cors = namespace["application"], namespace["reload_cors"]
    allowed = {"Access-Control-Allow-Origin": SITE, "Access-Control-Allow-Credentials": "true"}
    assert answer(application, make_environ("GET", SITE))[1] == allowed
    origins[:] = [PARTNER]
    reload_cors()
    assert answer(application, make_environ("GET", SITE))[1] == {}
    assert answer(application, make_environ("GET", PARTNER))[1] == {**allowed, "Access-Control-Allow-Origin": PARTNER}
    origins[:] = ["https://typo.example/"]
    reload_cors()
    assert answer(application, make_environ("GET", PARTNER))[1] == {**allowed, "Access-Control-Allow-Origin": PARTNER}
    ((name, level, message),) = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert (name, level, message) == ("myapp", "ERROR", "new CORS settings refused; the ones in force stay")
    assert "with a path, query or fragment" in caplog.text
