"""Named policies: listed order, ``deny``, and the two match strategies."""

from __future__ import annotations

from support import cors_headers

PARTNER = "https://partner.example"
SUB = "https://api.example.com"

TWO_POLICIES = {
    "policy": "partner, subdom",
    "partner_origin": PARTNER,
    "partner_methods": "GET",
    "partner_credentials": "true",
    "subdom_origin": "https://*.example.com https://partner.example",
    "subdom_methods": "GET, PUT, DELETE",
}


def test_the_first_listed_policy_that_allows_the_origin_answers(make_app):
    client = make_app(TWO_POLICIES)
    assert cors_headers(client.actual(PARTNER)) == {
        "Access-Control-Allow-Origin": PARTNER,
        "Access-Control-Allow-Credentials": "true",
    }
    assert cors_headers(client.actual(SUB)) == {"Access-Control-Allow-Origin": SUB}


def test_firstmatch_does_not_fall_through_to_a_later_policy_for_the_method(make_app):
    response = make_app(TWO_POLICIES).preflight(PARTNER, "PUT")
    assert cors_headers(response) == {}


def test_verbmatch_selects_the_first_policy_allowing_origin_and_requested_method(make_app):
    response = make_app({**TWO_POLICIES, "matchstrategy": "verbmatch"}).preflight(PARTNER, "PUT")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": PARTNER,
        "Access-Control-Allow-Methods": "GET, PUT, DELETE",
    }


def test_verbmatch_selects_by_the_request_method_for_actual_requests(make_app):
    client = make_app({**TWO_POLICIES, "matchstrategy": "verbmatch"})
    assert cors_headers(client.actual(PARTNER, "DELETE")) == {"Access-Control-Allow-Origin": PARTNER}
    assert cors_headers(client.actual(PARTNER, "GET"))["Access-Control-Allow-Credentials"] == "true"


def test_verbmatch_refuses_when_no_policy_allows_the_method(make_app):
    client = make_app({**TWO_POLICIES, "matchstrategy": "verbmatch"})
    assert cors_headers(client.preflight(PARTNER, "PATCH")) == {}
    assert cors_headers(client.actual(PARTNER, "PATCH")) == {}


def test_verbmatch_treats_star_methods_as_allowing_every_method(make_app):
    client = make_app(policy="a", a_origin="*", a_methods="*", matchstrategy="verbmatch")
    assert cors_headers(client.actual(None, "DELETE")) == {"Access-Control-Allow-Origin": "*"}
    assert "Vary" not in client.actual(None, "DELETE").headers


def test_verbmatch_with_a_star_origin_and_a_method_list_still_varies(make_app):
    client = make_app(
        policy="a, b",
        a_origin="*",
        a_methods="GET",
        b_origin=PARTNER,
        b_methods="PUT",
        matchstrategy="verbmatch",
    )
    response = client.actual(PARTNER, "PUT")
    assert cors_headers(response) == {"Access-Control-Allow-Origin": PARTNER}
    assert response.headers["Vary"] == "Origin"


def test_deny_stops_the_search_for_a_policy(make_app):
    client = make_app(policy="partner, deny, all", partner_origin=PARTNER, all_origin="*")
    assert cors_headers(client.actual(PARTNER)) == {"Access-Control-Allow-Origin": PARTNER}
    assert cors_headers(client.actual(SUB)) == {}
    assert cors_headers(client.preflight(SUB, "GET")) == {}


def test_a_star_policy_listed_first_answers_every_origin(make_app):
    client = make_app(policy="open, partner", open_origin="*", partner_origin=PARTNER, partner_credentials="true")
    response = client.actual(PARTNER)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}
    assert "Vary" not in response.headers


def test_a_star_policy_after_a_specific_one_needs_vary(make_app):
    client = make_app(policy="partner, open", partner_origin=PARTNER, partner_credentials="true", open_origin="*")
    response = client.actual("https://anyone.example")
    assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}
    assert response.headers["Vary"] == "Origin"
