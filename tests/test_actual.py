"""Actual (non-preflight) requests: the app answers, CORS headers and Vary are added."""

from __future__ import annotations

import logging

import pytest
from support import TEXT, RecordingApp, cors_headers
from webtest import TestApp

from wsgicors import CORS

SITE = "https://site.example"


def test_allowed_origin_gets_allow_origin_and_vary(make_app):
    response = make_app(origin=SITE).actual(SITE)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": SITE}
    assert response.headers.getall("Vary") == ["Origin"]


def test_the_app_is_called_once_and_its_answer_kept(make_app):
    client = make_app(origin=SITE, app=RecordingApp([*TEXT, ("X-App", "1")]))
    response = client.actual(SITE, "POST")
    assert client.app.calls == 1
    assert response.body == b"body"
    assert response.headers["X-App"] == "1"


def test_credentials_add_allow_credentials(make_app):
    response = make_app(origin=SITE, credentials="yes").actual(SITE)
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
    }


def test_expose_headers_are_sent_as_configured(make_app):
    response = make_app(origin=SITE, expose_headers="X-Total, X-Page").actual(SITE)
    assert response.headers["Access-Control-Expose-Headers"] == "X-Total, X-Page"


def test_expose_star_without_credentials_is_sent_as_star(make_app):
    response = make_app(origin=SITE, expose_headers="*").actual(SITE)
    assert response.headers["Access-Control-Expose-Headers"] == "*"


def test_expose_star_with_credentials_exposes_the_app_header_names(make_app):
    app = RecordingApp([*TEXT, ("X-Total", "3"), ("x-total", "4"), ("X-Page", "1")])
    response = make_app(origin=SITE, expose_headers="*", credentials=True, app=app).actual(SITE)
    assert response.headers["Access-Control-Expose-Headers"] == "Content-Type, X-Total, X-Page"


def test_expose_star_with_credentials_sends_nothing_to_expose_when_the_app_sets_no_header(make_app):
    response = make_app(origin=SITE, expose_headers="*", credentials=True, app=RecordingApp([])).actual(SITE)
    assert "Access-Control-Expose-Headers" not in response.headers


def test_preflight_only_headers_are_not_sent_on_actual_responses(make_app):
    response = make_app(origin=SITE, methods="GET", headers="X-Token", maxage=60).actual(SITE)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": SITE}


def test_refused_origin_gets_no_cors_headers_but_vary(make_app):
    client = make_app(origin=SITE, credentials=True, expose_headers="X-Total")
    response = client.actual("https://other.example")
    assert cors_headers(response) == {}
    assert response.headers.getall("Vary") == ["Origin"]
    assert client.app.calls == 1


def test_request_without_origin_gets_vary_origin_only(make_app):
    response = make_app(origin=SITE).actual(None)
    assert cors_headers(response) == {}
    assert response.headers.getall("Vary") == ["Origin"]


@pytest.mark.parametrize("origin", [SITE, None], ids=["with-origin", "without-origin"])
def test_any_origin_without_credentials_answers_star_to_every_request_without_vary(make_app, origin):
    response = make_app(origin="*", expose_headers="X-Total").actual(origin)
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "X-Total",
    }
    assert "Vary" not in response.headers


def test_copy_with_credentials_reflects_the_origin_and_varies(make_app):
    response = make_app(origin="copy", credentials=True).actual(SITE)
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Credentials": "true",
    }
    assert response.headers["Vary"] == "Origin"


def test_nothing_configured_leaves_responses_untouched(make_app):
    client = make_app()
    response = client.actual(SITE)
    assert response.headerlist == [("Content-Type", "text/plain"), ("Content-Length", "4")]


@pytest.mark.parametrize(
    ("app_vary", "merged"),
    [
        pytest.param("Accept-Encoding", "Accept-Encoding, Origin", id="appended"),
        pytest.param("accept-encoding, origin", "accept-encoding, origin", id="already-there"),
        pytest.param("*", "*", id="star-left-alone"),
        pytest.param("", "Origin", id="empty-value"),
    ],
)
def test_origin_is_merged_into_the_app_vary_header(make_app, app_vary, merged):
    app = RecordingApp(vary=app_vary)
    response = make_app(origin=SITE, app=app).actual(SITE)
    assert response.headers.getall("Vary") == [merged]


def test_vary_is_merged_whatever_the_case_of_the_app_header_name(make_app):
    app = RecordingApp([*TEXT, ("vary", "Cookie")])
    response = make_app(origin=SITE, app=app).actual("https://other.example")
    assert [(n, v) for n, v in response.headerlist if n.lower() == "vary"] == [("vary", "Cookie, Origin")]


def test_origin_in_a_second_app_vary_header_is_not_repeated(make_app):
    app = RecordingApp([*TEXT, ("Vary", "Cookie"), ("Vary", "Origin")])
    response = make_app(origin=SITE, app=app).actual(SITE)
    assert response.headers.getall("Vary") == ["Cookie", "Origin"]


# An app that set Access-Control-Allow-Origin answered CORS itself: none of ours is added.
# Any other CORS header name the app set is never sent a second time (browsers join two
# lines into "true, true" and refuse the answer); the rest of ours still is.
APP_CORS_HEADERS = [
    pytest.param(
        [("Access-Control-Allow-Origin", "https://app.example")],
        {"Access-Control-Allow-Origin": "https://app.example"},
        id="allow-origin-means-the-app-owns-cors",
    ),
    pytest.param(
        [("Access-Control-Allow-Credentials", "true")],
        {
            "Access-Control-Allow-Origin": SITE,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "X-Total",
        },
        id="allow-credentials-only",
    ),
    pytest.param(
        [("access-control-expose-headers", "X-App")],
        {
            "access-control-expose-headers": "X-App",
            "Access-Control-Allow-Origin": SITE,
            "Access-Control-Allow-Credentials": "true",
        },
        id="expose-headers-only-any-case",
    ),
]


@pytest.mark.parametrize(("app_headers", "sent"), APP_CORS_HEADERS)
def test_a_cors_header_the_app_set_is_never_sent_twice(make_app, app_headers, sent):
    app = RecordingApp([*TEXT, *app_headers])
    response = make_app(origin=SITE, credentials=True, expose_headers="X-Total", app=app).actual(SITE)
    assert cors_headers(response) == sent
    assert response.headers.getall("Vary") == ["Origin"]


def test_an_app_that_set_allow_origin_still_gets_vary_and_the_debug_header(make_app):
    app = RecordingApp([*TEXT, ("Access-Control-Allow-Origin", "https://app.example")])
    client = make_app(origin=SITE, credentials=True, debug_header=True, app=app)
    response = client.actual(SITE)
    assert response.headerlist == [
        ("Content-Type", "text/plain"),
        ("Access-Control-Allow-Origin", "https://app.example"),
        ("X-CORS-Decision", "allowed"),
        ("Vary", "Origin"),
        ("Content-Length", "4"),
    ]


def test_an_app_set_expose_headers_is_kept_alone_when_star_exposes_the_response_header_names(make_app):
    app = RecordingApp([*TEXT, ("Access-Control-Expose-Headers", "X-App")])
    response = make_app(origin=SITE, credentials=True, expose_headers="*", app=app).actual(SITE)
    assert response.headers.getall("Access-Control-Expose-Headers") == ["X-App"]


@pytest.mark.parametrize("status", ["404 Not Found", "500 Internal Server Error"])
def test_error_responses_get_cors_headers_too(make_app, status):
    client = make_app(origin=SITE, app=RecordingApp(status=status))
    response = client.actual(SITE, expect_errors=True)
    assert response.status == status
    assert cors_headers(response) == {"Access-Control-Allow-Origin": SITE}


def test_options_request_without_request_method_is_an_actual_request(make_app):
    response = make_app(origin=SITE).actual(SITE, "OPTIONS")
    assert cors_headers(response) == {"Access-Control-Allow-Origin": SITE}


def test_the_app_header_list_is_not_mutated(make_app):
    shared = [("Content-Type", "text/plain"), ("Vary", "Cookie")]

    def app(environ, start_response):
        start_response("200 OK", shared)
        return [b""]

    TestApp(CORS(app, origin=SITE)).get("/", headers={"Origin": SITE})
    assert shared == [("Content-Type", "text/plain"), ("Vary", "Cookie")]


def test_a_refused_request_is_logged_at_debug_once_when_decided(make_app, caplog):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    client = make_app(origin=SITE)
    client.actual("https://other.example", "DELETE")
    # The decision for this origin is remembered, and so not logged again.
    client.actual("https://other.example", "DELETE")
    client.actual("https://other.example", "GET")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "CORS refused: no policy allows origin 'https://other.example' with method 'DELETE'")
    ]


def test_refusals_are_not_logged_when_debug_was_off_as_the_middleware_was_built(make_app, caplog):
    caplog.set_level(logging.INFO, logger="wsgicors")
    client = make_app(origin=SITE)
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    response = client.actual("https://other.example")
    # Refused by a lookup, without a log call.
    assert "Access-Control-Allow-Origin" not in response.headers
    assert client.app.environs[-1]["wsgicors.decision"].reason == "origin not allowed"
    assert caplog.records == []


def test_a_logged_refusal_cuts_a_long_origin_to_100_characters_with_its_length(make_app, caplog):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    origin = "https://" + "a" * 300 + ".example"
    make_app(origin=SITE).actual(origin)
    assert [r.getMessage() for r in caplog.records] == [
        f"CORS refused: no policy allows origin {origin[:100]!r}... (316 chars) with method 'GET'"
    ]
