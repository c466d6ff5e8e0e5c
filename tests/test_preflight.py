"""Preflight requests: answered by the middleware, exact CORS headers or none."""

from __future__ import annotations

import logging

import pytest
from support import cors_headers

SITE = "https://site.example"
VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


def test_preflight_is_answered_without_calling_the_app(make_app):
    client = make_app(origin=SITE)
    client.preflight(SITE, "GET")
    assert client.app.calls == 0


def test_preflight_answer_is_200_ok_with_an_empty_body(make_app):
    response = make_app(origin=SITE).preflight(SITE, "GET")
    assert response.status == "200 OK"
    assert response.headers["Content-Length"] == "0"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.body == b""


def test_allowed_preflight_gets_exactly_the_configured_headers(make_app):
    client = make_app(origin=SITE, methods="GET, PUT", headers="X-Token", maxage=600)
    response = client.preflight(SITE, "PUT", "x-token")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Headers": "X-Token",
        "Access-Control-Max-Age": "600",
    }


def test_every_preflight_answer_varies_on_origin_and_the_request_headers(make_app):
    client = make_app(origin=SITE)
    allowed = client.preflight(SITE, "GET")
    refused = client.preflight("https://other.example", "GET")
    assert allowed.headers.getall("Vary") == [VARY]
    assert refused.headers.getall("Vary") == [VARY]


def test_preflight_from_disallowed_origin_gets_no_cors_headers(make_app):
    client = make_app(origin=SITE, methods="GET, PUT", headers="*", credentials=True, maxage=60)
    response = client.preflight("https://other.example", "PUT", "x-token")
    assert cors_headers(response) == {}
    assert response.status == "200 OK"


def test_preflight_for_a_method_not_allowed_gets_no_cors_headers(make_app):
    response = make_app(origin=SITE, methods="GET, PUT").preflight(SITE, "PATCH")
    assert cors_headers(response) == {}


def test_methods_are_compared_case_sensitively_as_browsers_do(make_app):
    client = make_app(origin=SITE, methods="PATCH")
    assert cors_headers(client.preflight(SITE, "patch")) == {}
    assert cors_headers(client.preflight(SITE, "PATCH"))["Access-Control-Allow-Methods"] == "PATCH"


def test_default_methods_are_the_cors_safelisted_ones(make_app):
    client = make_app(origin=SITE)
    assert cors_headers(client.preflight(SITE, "POST"))["Access-Control-Allow-Methods"] == "GET, HEAD, POST"
    assert cors_headers(client.preflight(SITE, "DELETE")) == {}


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_a_safelisted_method_is_allowed_by_a_policy_whose_methods_do_not_list_it(make_app, method):
    # Fetch never requires GET, HEAD or POST in Access-Control-Allow-Methods ("CORS-preflight
    # fetch", step 7): a GET with an Authorization header is preflighted, and must pass.
    client = make_app(origin=SITE, methods="PUT, DELETE", headers="Authorization")
    response = client.preflight(SITE, method, "authorization")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "PUT, DELETE",
        "Access-Control-Allow-Headers": "Authorization",
    }
    assert client.app.environs == []


def test_under_verbmatch_a_safelisted_method_still_selects_by_the_listed_methods(make_app):
    client = make_app(
        policy="writers",
        writers_origin=SITE,
        writers_methods="PUT, DELETE",
        matchstrategy="verbmatch",
        debug_header=True,
    )
    refused = client.preflight(SITE, "GET")
    assert cors_headers(refused) == {}
    assert refused.headers["X-CORS-Decision"] == "refused; no policy allows this origin with this method"
    assert cors_headers(client.preflight(SITE, "PUT")) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "PUT, DELETE",
    }


def test_wildcard_methods_reflect_the_requested_method(make_app):
    response = make_app(origin=SITE, methods="*").preflight(SITE, "PROPFIND")
    assert response.headers["Access-Control-Allow-Methods"] == "PROPFIND"


def test_wildcard_headers_reflect_the_requested_header_names(make_app):
    response = make_app(origin=SITE, headers="*").preflight(SITE, "GET", "Authorization,X-Token")
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, x-token"


def test_wildcard_headers_send_no_allow_headers_when_none_are_requested(make_app):
    response = make_app(origin=SITE, headers="*").preflight(SITE, "GET")
    assert "Access-Control-Allow-Headers" not in response.headers


def test_configured_headers_are_sent_even_when_none_are_requested(make_app):
    response = make_app(origin=SITE, headers="X-Token, X-Trace").preflight(SITE, "GET")
    assert response.headers["Access-Control-Allow-Headers"] == "X-Token, X-Trace"


def test_requested_headers_are_compared_case_insensitively(make_app):
    response = make_app(origin=SITE, headers="X-Token").preflight(SITE, "GET", "X-TOKEN")
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_a_requested_header_outside_the_list_refuses_the_preflight(make_app):
    response = make_app(origin=SITE, headers="X-Token").preflight(SITE, "GET", "x-token,x-admin")
    assert cors_headers(response) == {}


def test_a_requested_header_is_refused_when_no_headers_are_configured(make_app):
    response = make_app(origin=SITE).preflight(SITE, "POST", "content-type")
    assert cors_headers(response) == {}


def test_a_non_ascii_request_header_is_refused_even_if_it_lowercases_to_a_listed_one(make_app):
    # "\u212a" (KELVIN SIGN) lowercases to "k".
    response = make_app(origin=SITE, headers="k").preflight(SITE, "GET", "\u212a")
    assert cors_headers(response) == {}


# Access-Control-Request-Headers is read as Fetch reads a header list: split on commas,
# spaces and tabs trimmed, empty elements ignored. Servers join repeated header lines with
# commas, so "a, ,b" and ",,a,," hold the names a and b, or a.
EMPTY_ELEMENTS = [
    pytest.param(",,authorization,,", "authorization", id="leading-and-trailing-commas"),
    pytest.param("authorization,,x-token", "authorization, x-token", id="empty-element"),
    pytest.param("Authorization, ,X-Token", "authorization, x-token", id="blank-element"),
    # Two lines, "X-Token," and "Authorization", as wsgiref's server joins them: with ",".
    pytest.param("X-Token,,Authorization", "x-token, authorization", id="several-lines-joined"),
]


@pytest.mark.parametrize(("requested", "reflected"), EMPTY_ELEMENTS)
def test_empty_elements_in_the_request_headers_are_ignored_not_refused(make_app, requested, reflected):
    listed = make_app(origin=SITE, headers="Authorization, X-Token").preflight(SITE, "GET", requested)
    assert cors_headers(listed) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Headers": "Authorization, X-Token",
    }
    star = make_app(origin=SITE, headers="*").preflight(SITE, "GET", requested)
    assert cors_headers(star) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Allow-Headers": reflected,
    }


def test_empty_request_headers_value_counts_as_none_requested(make_app):
    response = make_app(origin=SITE).preflight(SITE, "GET", "")
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_credentials_add_allow_credentials(make_app):
    response = make_app(origin=SITE, credentials=True).preflight(SITE, "GET")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
    }


def test_any_origin_without_credentials_answers_star(make_app):
    response = make_app(origin="*").preflight(SITE, "GET")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_copy_with_credentials_reflects_the_origin_method_and_headers(make_app):
    client = make_app(origin="copy", methods="*", headers="*", credentials="true")
    response = client.preflight(SITE, "PUT", "x-token")
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "x-token",
    }


def test_copy_reflects_the_request_origin(make_app):
    response = make_app(origin="copy").preflight("http://127.0.0.1:8080", "GET")
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"


def test_max_age_zero_is_sent(make_app):
    response = make_app(origin=SITE, maxage="0").preflight(SITE, "GET")
    assert response.headers["Access-Control-Max-Age"] == "0"


def test_no_max_age_header_without_maxage(make_app):
    response = make_app(origin=SITE).preflight(SITE, "GET")
    assert "Access-Control-Max-Age" not in response.headers


def test_nothing_configured_refuses_every_preflight(make_app):
    client = make_app()
    response = client.preflight(SITE, "GET")
    assert cors_headers(response) == {}
    assert client.app.calls == 0


def test_options_without_request_method_reaches_the_app(make_app):
    client = make_app(origin=SITE)
    response = client.actual(SITE, "OPTIONS")
    assert client.app.calls == 1
    assert response.body == b"body"
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_options_without_origin_reaches_the_app(make_app):
    client = make_app(origin=SITE)
    client.request("OPTIONS", {"Access-Control-Request-Method": "GET"})
    assert client.app.calls == 1


@pytest.mark.parametrize(
    ("settings", "method", "request_headers", "message"),
    [
        pytest.param(
            {},
            "GET",
            None,
            "CORS refused: no policy allows origin 'https://site.example' with method 'GET'",
            id="origin",
        ),
        pytest.param(
            {"origin": SITE},
            "PUT",
            None,
            "CORS preflight from origin 'https://site.example' refused: method 'PUT' is not allowed",
            id="method",
        ),
        pytest.param(
            {"origin": SITE, "headers": "x-a"},
            "GET",
            "x-a,x-b",
            "CORS preflight from origin 'https://site.example' refused: request headers 'x-b' are not allowed",
            id="headers",
        ),
    ],
)
def test_a_refused_preflight_is_logged_at_debug_with_the_reason(
    make_app, caplog, settings, method, request_headers, message
):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    make_app(**settings).preflight(SITE, method, request_headers)
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [("DEBUG", message)]


def test_a_logged_refusal_escapes_line_breaks_in_the_origin(make_app, caplog):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    make_app(origin=SITE).preflight("https://x.example\nFAKE LOG LINE", "GET")
    assert "\n" not in caplog.records[0].getMessage()
    assert "\\nFAKE LOG LINE" in caplog.records[0].getMessage()
