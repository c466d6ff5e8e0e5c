"""Each request's decision: left in the environ, and shown in X-CORS-Decision on request."""

from __future__ import annotations

import pytest
from support import cors_headers

SITE = "https://site.example"


@pytest.mark.parametrize(
    ("settings", "origin", "allowed", "policy", "reason"),
    [
        pytest.param({"policy": "p", "p_origin": SITE}, SITE, True, "p", "policy 'p'", id="named-policy"),
        pytest.param({"origin": SITE}, SITE, True, None, "allowed", id="unnamed-policy"),
        pytest.param({"origin": SITE}, "https://other.example", False, None, "origin not allowed", id="refused"),
        pytest.param({"origin": SITE}, None, False, None, "not a CORS request (no Origin)", id="no-origin"),
        pytest.param({}, SITE, False, None, "no policy configured", id="nothing-configured"),
        pytest.param({"origin": "*"}, None, True, None, "allowed", id="public"),
        pytest.param(
            {"policy": "p", "p_origin": SITE, "p_methods": "PUT", "matchstrategy": "verbmatch"},
            SITE,
            False,
            None,
            "no policy allows this origin with this method",
            id="verbmatch-refused",
        ),
    ],
)
def test_the_app_sees_the_decision_in_the_environ(make_app, settings, origin, allowed, policy, reason):
    client = make_app(settings)
    client.actual(origin)
    decision = client.app.environs[-1]["wsgicors.decision"]
    assert (decision.allowed, decision.policy and decision.policy.name, decision.reason) == (allowed, policy, reason)


def test_the_decision_names_the_policy_object_that_answered(make_app):
    client = make_app(policy="a, b", a_origin="https://a.example", b_origin=SITE)
    client.actual(SITE)
    assert client.app.environs[-1]["wsgicors.decision"].policy is client.cors.config.policies[1]


@pytest.mark.parametrize(
    ("settings", "method", "request_headers", "decision"),
    [
        pytest.param({"origin": SITE}, "GET", None, "allowed", id="allowed"),
        pytest.param({"origin": "https://a.example"}, "GET", None, "refused; origin not allowed", id="origin"),
        pytest.param({"origin": SITE}, "PUT", None, "refused; method not allowed", id="method"),
        pytest.param({"origin": SITE}, "GET", "x-a", "refused; request headers not allowed", id="headers"),
        pytest.param(
            {"origin": SITE}, "G\tET", None, "refused; malformed Access-Control-Request-Method", id="bad-method"
        ),
        pytest.param(
            {"origin": SITE, "headers": "*"},
            "GET",
            "x-a;",
            "refused; malformed Access-Control-Request-Headers",
            id="bad-headers",
        ),
    ],
)
def test_debug_header_explains_each_preflight(make_app, settings, method, request_headers, decision):
    response = make_app(settings, debug_header="true").preflight(SITE, method, request_headers)
    assert response.headers["X-CORS-Decision"] == decision


def test_debug_header_names_the_policy_on_actual_responses(make_app):
    client = make_app(policy="p", p_origin="*", debug_header="on")
    response = client.actual(SITE)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}
    assert response.headers["X-CORS-Decision"] == "allowed; policy 'p'"


def test_debug_header_shows_refusals_when_nothing_is_configured(make_app):
    response = make_app(debug_header=True).actual(SITE)
    assert response.headers["X-CORS-Decision"] == "refused; no policy configured"


def test_debug_header_never_carries_request_values(make_app):
    response = make_app(origin=SITE, debug_header=True).actual("https://evil.example\r\nX-Injected: 1")
    assert response.headers["X-CORS-Decision"] == "refused; origin not allowed"


def test_no_debug_header_by_default(make_app):
    client = make_app(origin=SITE)
    assert "X-CORS-Decision" not in client.actual(SITE).headers
    assert "X-CORS-Decision" not in client.preflight(SITE, "GET").headers


def test_a_request_without_origin_gets_no_debug_header(make_app):
    assert "X-CORS-Decision" not in make_app(origin=SITE, debug_header=True).actual(None).headers
