"""The compiled answer table (``wsgicors.answers``) as pure data: built from a Config, read
without WSGI; its bounded memo; and the one policy selection that it and ``explain`` share."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import RecordingApp, call, make_environ, preflight_environ

import wsgicors.answers
import wsgicors.explain
from wsgicors import CORS
from wsgicors.answers import RECENT_ANSWERS, compile_answers
from wsgicors.config import compile_settings
from wsgicors.origins import MAX_ORIGIN_LENGTH
from wsgicors.policy import Step, select_policy

SITE = "https://site.example"
OTHER = "https://other.example"
PREFLIGHT_HEADERS = (
    ("Content-Type", "text/plain"),
    ("Content-Length", "0"),
    ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
)


def answers_for(**settings):
    return compile_answers(compile_settings(settings))


def test_each_origin_listed_exactly_has_its_answer_ready():
    answers = answers_for(
        policy="site, other",
        site_origin=SITE,
        site_methods="GET, PUT",
        site_maxage="60",
        other_origin=f"{OTHER} https://*.example.com",
        other_credentials="true",
        other_expose_headers="X-Total",
    )
    assert sorted(answers.exact) == [OTHER, SITE]
    site, other = answers.exact[SITE], answers.exact[OTHER]
    assert (site.decision.allowed, site.decision.reason, site.decision.policy.name) == (True, "policy 'site'", "site")
    assert site.cors == (("Access-Control-Allow-Origin", SITE),)
    assert site.appended == [("Access-Control-Allow-Origin", SITE), ("Vary", "Origin")]
    assert site.preflight == (
        *PREFLIGHT_HEADERS,
        ("Access-Control-Allow-Origin", SITE),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Max-Age", "60"),
    )
    assert (other.decision.reason, other.vary, other.expose_names) == ("policy 'other'", True, False)
    assert other.cors == (
        ("Access-Control-Allow-Origin", OTHER),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "X-Total"),
    )
    # Patterns are decided on demand, never listed.
    assert "https://*.example.com" not in answers.exact


def test_an_origin_listed_by_two_policies_gets_the_first_ones_answer():
    answers = answers_for(policy="a, b", a_origin=SITE, b_origin=f"{SITE} {OTHER}", b_credentials="true")
    assert answers.exact[SITE].decision.reason == "policy 'a'"
    assert answers.exact[OTHER].decision.reason == "policy 'b'"


def test_a_public_first_policy_answers_star_even_without_origin_and_nothing_varies():
    answers = answers_for(origin="*", expose_headers="X-Total", debug_header="true")
    assert answers.no_origin.cors == (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "X-Total"),
    )
    assert answers.no_origin.vary is False
    assert answers.no_origin.debug == ()  # no X-CORS-Decision without an Origin
    assert answers.style.vary is False
    assert answers.exact == {}


def test_without_a_public_first_policy_a_request_without_origin_gets_only_vary():
    answers = answers_for(origin=SITE)
    assert (answers.no_origin.decision.allowed, answers.no_origin.decision.reason) == (
        False,
        "not a CORS request (no Origin)",
    )
    assert (answers.no_origin.cors, answers.no_origin.appended) == ((), [("Vary", "Origin")])


def test_under_verbmatch_nothing_is_ready_by_origin_alone():
    answers = answers_for(policy="a", a_origin=SITE, a_methods="PUT", matchstrategy="verbmatch")
    assert answers.exact == {}
    assert answers.refused.decision.reason == "no policy allows this origin with this method"
    assert answers.lookup(SITE, "PUT").decision.allowed
    assert answers.lookup(SITE, "GET") is answers.refused
    # The memo is keyed by origin and method.
    assert set(answers.recent) == {(SITE, "PUT"), (SITE, "GET")}


def test_nothing_configured_refuses_everyone():
    answers = answers_for()
    assert answers.refused.decision.reason == "no policy configured"
    assert answers.lookup(SITE, "GET") is answers.refused
    assert (answers.no_origin.cors, answers.no_origin.vary) == ((), False)


def test_repeated_lookups_reuse_one_answer():
    answers = answers_for(origin="https://*.example.com")
    first = answers.lookup("https://a.example.com", "GET")
    assert answers.lookup("https://a.example.com", "POST") is first
    assert first.cors == (("Access-Control-Allow-Origin", "https://a.example.com"),)
    assert answers.lookup(SITE, "GET") is answers.lookup(SITE, "GET") is answers.refused
    assert list(answers.recent) == ["https://a.example.com", SITE]


def test_an_exactly_listed_origin_never_enters_the_memo():
    answers = answers_for(origin=SITE)
    assert answers.lookup(SITE, "GET") is answers.exact[SITE]
    assert answers.recent == {}


def test_distinct_origins_never_grow_the_memo_past_its_cap():
    answers = answers_for(origin="https://*.example.com")
    sizes = []
    for number in range(3 * RECENT_ANSWERS + 10):
        answers.lookup(f"https://{number}.example.com", "GET")
        sizes.append(len(answers.recent))
    assert max(sizes) == RECENT_ANSWERS
    # Emptied when full, then filled again.
    assert sizes[RECENT_ANSWERS] == 1
    assert len(answers.recent) == (3 * RECENT_ANSWERS + 10) % RECENT_ANSWERS


@pytest.mark.parametrize(
    ("settings", "unlisted"),
    [
        pytest.param({"origin": SITE}, "refused", id="exact-only: refused"),
        pytest.param({"origin": "*"}, "star", id="star"),
        pytest.param(
            {
                "policy": "partners, public",
                "partners_origin": SITE,
                "partners_credentials": "true",
                "public_origin": "*",
            },
            "star",
            id="listed, then star",
        ),
        pytest.param({"origin": f"{SITE} https://*.example.com"}, None, id="pattern: per origin"),
        pytest.param({"origin": "copy"}, None, id="copy: per origin"),
        pytest.param({"policy": "p", "p_origin": SITE, "matchstrategy": "verbmatch"}, None, id="verbmatch"),
    ],
)
def test_every_unlisted_origin_shares_one_answer_when_it_cannot_depend_on_the_origin(settings, unlisted):
    answers = answers_for(**settings)
    if unlisted == "refused":
        assert answers.unlisted is answers.refused
    elif unlisted == "star":
        assert answers.unlisted.cors == (("Access-Control-Allow-Origin", "*"),)
        assert answers.lookup("https://unlisted.example", "GET") is answers.unlisted
    else:
        assert answers.unlisted is None
    # Such a lookup is never remembered: there is nothing to decide.
    assert answers.recent == {} or unlisted is None


def test_refusals_are_decided_per_origin_when_they_are_to_be_logged():
    config = compile_settings({"origin": SITE})
    assert compile_answers(config, log_refusals=True).unlisted is None
    assert compile_answers(config, log_refusals=False).unlisted is not None


def test_a_repeated_preflight_reuses_its_answer_by_origin_and_requested_values():
    answers = answers_for(origin="https://*.example.com", methods="PUT", headers="X-Token")
    environ = preflight_environ("https://a.example.com", "PUT", "x-token")
    call(CORS.from_answers(RecordingApp(), answers), environ)
    request = ("https://a.example.com", "PUT", "x-token", False, ())
    assert list(answers.recent_preflights) == [request]
    kept = answers.recent_preflights[request]
    assert kept.decision.allowed and ("Access-Control-Allow-Headers", "X-Token") in kept.headers
    call(CORS.from_answers(RecordingApp(), answers), preflight_environ("https://a.example.com", "PUT", "x-token"))
    assert answers.recent_preflights[request] is kept
    # A preflight too long to be worth keeping is answered and forgotten.
    long_headers = ",".join(["x-token"] * 100)
    call(CORS.from_answers(RecordingApp(), answers), preflight_environ("https://a.example.com", "PUT", long_headers))
    assert len(answers.recent_preflights) == 1


REFUSED_PREFLIGHT = [
    ("Content-Type", "text/plain"),
    ("Content-Length", "0"),
    ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
]


@pytest.mark.parametrize(
    "origin, remembered",
    [
        # Refused by the lookup every unlisted origin gets: nothing is kept.
        pytest.param("https://app.example.com", {}, id="exact"),
        # Decided for this origin: the refusal is kept by origin, as a GET's would be.
        pytest.param("https://*.example.com", {"https://evil.example.net": "refused"}, id="pattern"),
    ],
)
def test_a_preflight_from_an_origin_no_policy_allows_is_answered_and_not_kept_by_its_values(origin, remembered):
    answers = answers_for(origin=origin, methods="PUT", headers="X-Token")
    app = RecordingApp()
    environ = preflight_environ("https://evil.example.net", "PUT", "x-token")
    response = call(CORS.from_answers(app, answers), environ)
    assert (response.status, response.headers, app.calls) == ("200 OK", REFUSED_PREFLIGHT, 0)
    assert not environ["wsgicors.decision"].allowed
    assert answers.recent_preflights == {}
    assert {key: "refused" for key, answer in answers.recent.items() if answer is answers.refused} == remembered
    assert len(answers.recent) == len(remembered)
    # An allowed origin's preflight is kept, by origin and requested values.
    call(CORS.from_answers(app, answers), preflight_environ("https://app.example.com", "PUT", "x-token"))
    assert list(answers.recent_preflights) == [("https://app.example.com", "PUT", "x-token", False, ())]


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("https://" + "a" * MAX_ORIGIN_LENGTH + ".example.com", id="allowed-shape"),
        pytest.param("https://evil.net/" + "a" * 1_000_000, id="1MB"),
    ],
)
def test_an_origin_too_long_to_be_one_is_refused_and_never_kept(origin):
    answers = answers_for(origin="https://*.example.com")
    assert answers.lookup(origin, "GET") is answers.refused
    assert answers.recent == {}


def test_under_verbmatch_a_long_method_is_answered_and_never_kept():
    answers = answers_for(origin="https://*.example.com", methods="*", matchstrategy="verbmatch")
    assert answers.lookup("https://a.example.com", "X" * 100_000).decision.allowed
    assert answers.recent == {}


def test_select_policy_records_each_step_it_takes():
    config = compile_settings(
        {
            "policy": "partner, readers, writers",
            "partner_origin": "https://partner.example",
            "readers_origin": "https://*.example.com",
            "readers_methods": "GET",
            "writers_origin": "https://*.example.com",
            "writers_methods": "PUT",
            "matchstrategy": "verbmatch",
        }
    )
    partner, readers, writers = config.policies
    steps: list[Step] = []
    assert select_policy(config.policies, True, "https://a.example.com", "PUT", "/", steps) is writers
    # Under verbmatch the method is checked before the origin.
    assert steps == [
        Step(partner, False, "method 'PUT' not allowed"),
        Step(readers, False, "method 'PUT' not allowed"),
        Step(writers, True, "selected"),
    ]
    steps = []
    assert select_policy(config.policies, True, "https://evil.net", "GET", "/", steps) is None
    assert [step.reason for step in steps] == ["origin not allowed", "origin not allowed", "method 'GET' not allowed"]


def test_explain_shows_the_steps_of_that_same_selection(monkeypatch):
    cors = CORS(RecordingApp(), policy="a, b", a_origin=SITE, b_origin="https://*.example.com")
    calls = []

    def spy(*args):
        calls.append(args[2:4])
        return select_policy(*args)

    monkeypatch.setattr(wsgicors.answers, "select_policy", spy)
    explanation = cors.explain("https://x.example.com", "PUT")
    assert ("https://x.example.com", "PUT") in calls
    steps: list[Step] = []
    select_policy(cors.config.policies, False, "https://x.example.com", "PUT", "/", steps)
    assert explanation.steps == tuple(steps)
    assert [(step.policy.name, step.selected, step.reason) for step in explanation.steps] == [
        ("a", False, "origin not allowed"),
        ("b", True, "selected"),
    ]


def test_explain_does_not_import_the_middleware():
    tree = ast.parse(Path(wsgicors.explain.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imported.add(f"wsgicors.{module}" if node.level else module)
            imported.update(f"wsgicors.{alias.name}" for alias in node.names if node.level and not module)
    assert "wsgicors.answers" in imported
    assert "wsgicors.middleware" not in imported


SETTINGS = {
    "policy": "site, subdomains",
    "site_origin": SITE,
    "site_methods": "GET, PUT",
    "site_headers": "X-Token",
    "subdomains_origin": "https://*.example.com",
    "subdomains_credentials": "true",
    "subdomains_expose_headers": "*",
    "debug_header": "true",
}
REQUESTS = [
    pytest.param(lambda: make_environ("GET", SITE), id="exact"),
    pytest.param(lambda: make_environ("POST", "https://a.example.com"), id="pattern"),
    pytest.param(lambda: make_environ("GET", OTHER), id="refused"),
    pytest.param(lambda: make_environ("GET"), id="no-origin"),
    pytest.param(lambda: preflight_environ(SITE, "PUT", "x-token"), id="preflight"),
    pytest.param(lambda: preflight_environ(SITE, "PATCH"), id="preflight-refused"),
    pytest.param(lambda: preflight_environ("https://a.example.com", "GET", "x-other"), id="preflight-headers"),
]


@pytest.mark.parametrize("environ", REQUESTS)
def test_a_middleware_from_the_same_answers_answers_identically(environ):
    app = RecordingApp([("Content-Type", "text/plain"), ("X-App", "1")])
    cors = CORS(app, SETTINGS)
    twin = CORS.from_answers(app, cors.answers)
    assert twin.answers is cors.answers and twin.config is cors.config
    first, second = environ(), environ()
    assert call(twin, second) == call(cors, first)
    assert second["wsgicors.decision"] == first["wsgicors.decision"]


def test_origins_listed_before_a_callable_policy_are_ready_and_nothing_is_remembered():
    asked = []

    def is_tenant(origin):
        asked.append(origin)
        return origin == "https://tenant.example"

    answers = answers_for(
        policy="fixed, tenants, late",
        fixed_origin=SITE,
        tenants_origin=is_tenant,
        late_origin=f"{OTHER} https://*.example.com",
    )
    # OTHER is listed after the callable, which must be asked first: decided per request.
    assert list(answers.exact) == [SITE]
    assert (answers.unlisted, answers.remembered_length) == (None, -1)
    assert answers.lookup(SITE, "GET") is answers.exact[SITE]
    assert answers.lookup(OTHER, "GET").decision.policy.name == "late"
    assert answers.lookup("https://tenant.example", "GET").decision.policy.name == "tenants"
    assert answers.lookup("https://tenant.example", "GET").decision.policy.name == "tenants"
    assert asked == [OTHER, "https://tenant.example", "https://tenant.example"]
    assert (answers.recent, answers.recent_preflights) == ({}, {})
