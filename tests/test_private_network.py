"""Private Network Access preflights: answered only when a policy opts in."""

from __future__ import annotations

import logging

import pytest
from support import cors_headers

SITE = "https://site.example"


def pna_preflight(client, origin=SITE):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true",
    }
    return client.request("OPTIONS", headers)


def test_an_opted_in_policy_allows_private_network_access(make_app):
    response = pna_preflight(make_app(origin=SITE, private_network="true"))
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Private-Network": "true",
    }


@pytest.mark.parametrize(
    ("settings", "reason", "debug"),
    [
        pytest.param(
            {"origin": SITE, "maxage": 60},
            "private network access not granted",
            "allowed; private network access not granted",
            id="unnamed-policy",
        ),
        pytest.param(
            {"policy": "x", "x_origin": SITE, "x_maxage": 60},
            "policy 'x'; private network access not granted",
            "allowed; policy 'x'; private network access not granted",
            id="named-policy",
        ),
    ],
)
def test_without_opt_in_a_private_network_preflight_gets_the_ordinary_answer_without_the_grant(
    make_app, caplog, settings, reason, debug
):
    # As rs/cors and django-cors-headers do: the browser then fails only its private-network check.
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    client = make_app(settings, debug_header=True)
    response = pna_preflight(client)
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Max-Age": "60",
    }
    assert response.headers["X-CORS-Decision"] == debug
    decision = response.request.environ["wsgicors.decision"]
    assert (decision.allowed, decision.reason) == (True, reason)
    assert "private network access was not granted" in decision.detail
    assert [r.getMessage() for r in caplog.records] == [
        f"CORS preflight from origin {SITE!r}: private network access was not granted: "
        "the policy does not set private_network"
    ]


def test_a_refused_origin_gets_no_private_network_header(make_app):
    response = pna_preflight(make_app(origin=SITE, private_network=True), origin="https://other.example")
    assert cors_headers(response) == {}


def test_an_ordinary_preflight_gets_no_private_network_header(make_app):
    response = make_app(origin=SITE, private_network=True).preflight(SITE, "GET")
    assert "Access-Control-Allow-Private-Network" not in response.headers


def test_preflights_vary_on_the_private_network_request_header_when_enabled(make_app):
    client = make_app(policy="a, b", a_origin="https://a.example", b_origin=SITE, b_private_network="yes")
    assert client.preflight(SITE, "GET").headers["Vary"] == (
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
    )


def test_preflights_do_not_vary_on_it_when_no_policy_enables_it(make_app):
    assert make_app(origin=SITE).preflight(SITE, "GET").headers["Vary"] == (
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    )


def test_private_network_is_never_sent_on_actual_responses(make_app):
    response = make_app(origin=SITE, private_network=True).actual(SITE)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": SITE}
