"""``CORS.explain``: the middleware's exact answer to a browser's request, and the browser's view."""

from __future__ import annotations

import pytest
from support import RecordingApp
from webtest import TestApp

from wsgicors import CORS
from wsgicors.fetch import cors_check, needs_preflight, preflight_check, unsafe_header_names

SITE = "https://site.example"
TWO = {
    "policy": "partner, subdom",
    "partner_origin": "https://partner.example",
    "partner_methods": "GET",
    "subdom_origin": "https://*.example.com",
    "subdom_methods": "GET, PUT",
    "subdom_headers": "X-Token",
    "subdom_credentials": "true",
}


def middleware(settings=None, **kw):
    return CORS(RecordingApp(), settings, **kw)


def test_a_simple_get_needs_no_preflight_and_is_readable():
    explanation = middleware(origin=SITE).explain(SITE)
    assert explanation.preflight is None
    assert explanation.actual.headers == (
        ("Content-Type", "text/plain"),
        ("Access-Control-Allow-Origin", SITE),
        ("Vary", "Origin"),
    )
    assert (explanation.readable, explanation.blocked) == (True, None)


def test_the_application_is_not_called():
    app = RecordingApp()
    CORS(app, origin=SITE).explain(SITE, "PUT")
    assert app.calls == 0


def test_the_steps_show_skipped_policies_and_the_selected_one():
    explanation = middleware(TWO).explain("https://api.example.com")
    assert [(step.policy.name, step.selected, step.reason) for step in explanation.steps] == [
        ("partner", False, "origin not allowed"),
        ("subdom", True, "selected"),
    ]


def test_under_verbmatch_the_steps_show_policies_skipped_for_the_method():
    settings = {**TWO, "partner_origin": "https://*.example.com", "matchstrategy": "verbmatch"}
    explanation = middleware(settings).explain("https://api.example.com", "PUT")
    assert [(step.policy.name, step.reason) for step in explanation.steps] == [
        ("partner", "method 'PUT' not allowed"),
        ("subdom", "selected"),
    ]


def test_a_preflight_is_sent_as_a_browser_sends_it():
    explanation = middleware(origin=SITE, methods="PUT", headers="*").explain(
        SITE, "PUT", ["X-B", "x-a: 1", "Accept: text/html"]
    )
    assert explanation.headers == (("X-B", ""), ("x-a", "1"), ("Accept", "text/html"))
    assert explanation.preflight.decision.allowed
    # Access-Control-Request-Headers: x-a,x-b (the unsafe names, lowercase, sorted), reflected parsed.
    assert ("Access-Control-Allow-Headers", "x-a, x-b") in explanation.preflight.headers


@pytest.mark.parametrize(
    ("header", "preflighted"),
    [
        pytest.param("Content-Type: application/x-www-form-urlencoded", False, id="form-content-type"),
        pytest.param("Content-Type: text/plain; charset=utf-8", False, id="text-content-type-with-parameter"),
        pytest.param("Content-Type: application/json", True, id="json-content-type"),
        pytest.param("Content-Type", True, id="content-type-without-value"),
        pytest.param("Range: bytes=0-99", False, id="simple-range"),
        pytest.param("Range: bytes=0-99,200-", True, id="multiple-ranges"),
        pytest.param("Accept-Language: en-GB, de;q=0.5", False, id="accept-language"),
        pytest.param("Accept: " + "a" * 129, True, id="value-over-128-bytes"),
    ],
)
def test_header_values_are_judged_by_the_fetch_safelist(header, preflighted):
    explanation = middleware(origin=SITE, headers="Content-Type, Range, Accept").explain(SITE, "POST", [header])
    assert (explanation.preflight is not None) is preflighted
    assert explanation.readable


def test_preflight_can_be_forced_for_a_simple_request():
    explanation = middleware(origin=SITE).explain(SITE, preflight=True)
    assert explanation.preflight.decision.allowed
    assert explanation.preflight.headers == (
        ("Content-Type", "text/plain"),
        ("Content-Length", "0"),
        ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        ("Access-Control-Allow-Origin", SITE),
        ("Access-Control-Allow-Methods", "GET, HEAD, POST"),
    )


def test_a_refused_preflight_blocks_with_the_reason_and_detail():
    explanation = middleware(TWO).explain("https://api.example.com", "PUT", ["X-Other"])
    assert explanation.preflight.decision.reason == "request headers not allowed"
    assert explanation.preflight.decision.detail == "request headers 'x-other' are not allowed"
    assert explanation.blocked == (
        "Response to preflight request doesn't pass access control check: "
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    )


def test_star_answers_block_credentialed_requests():
    explanation = middleware(origin="*").explain(SITE, credentials=True)
    assert explanation.blocked == (
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
        "wildcard '*' when the request's credentials mode is 'include'."
    )


def test_a_policy_without_credentials_blocks_credentialed_requests():
    explanation = middleware(origin=SITE).explain(SITE, credentials=True)
    assert explanation.blocked == (
        "The value of the 'Access-Control-Allow-Credentials' header in the response is '' "
        "which must be 'true' when the request's credentials mode is 'include'."
    )


def test_a_credentialed_policy_lets_credentialed_requests_read():
    assert middleware(TWO).explain("https://api.example.com", "PUT", ["X-Token"], credentials=True).readable


@pytest.mark.parametrize(
    ("method", "headers", "settings"),
    [
        pytest.param("GET", [], {"origin": SITE}, id="simple-allowed"),
        pytest.param("GET", [], {"origin": "https://other.example"}, id="simple-refused"),
        pytest.param("DELETE", ["X-Token"], TWO, id="preflighted-refused"),
        pytest.param("PUT", ["X-Token"], {"origin": "*", "methods": "*", "headers": "*"}, id="preflighted-public"),
    ],
)
def test_explained_answers_are_exactly_what_requests_get(method, headers, settings):
    origin = SITE if "origin" in settings else "https://api.example.com"
    explanation = middleware(settings).explain(origin, method, headers, preflight=True)
    app = TestApp(CORS(RecordingApp(), settings))
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = ",".join(unsafe_header_names((h, "") for h in headers))
    preflight = app.options("/", headers=request_headers)
    actual = app.request("/", method=method, headers={"Origin": origin})
    assert list(explanation.preflight.headers) == preflight.headerlist
    assert [h for h in explanation.actual.headers if h[0] != "Content-Type"] == [
        h for h in actual.headerlist if h[0] not in ("Content-Type", "Content-Length")
    ]


class TestBrowserModel:
    """The Fetch Standard's checks, as ``explain`` applies them."""

    @pytest.mark.parametrize(
        ("method", "headers", "needed"),
        [
            pytest.param("GET", [], False, id="get"),
            pytest.param(
                "POST",
                [("Accept", "*/*"), ("Accept-Language", "en"), ("Content-Language", "de-DE")],
                False,
                id="safelisted-headers",
            ),
            pytest.param("POST", [("Content-Type", "text/plain")], False, id="form-content-type"),
            pytest.param("POST", [("Content-Type", "application/json")], True, id="json-content-type"),
            pytest.param("POST", [("Accept", 'x"y')], True, id="unsafe-byte-in-accept"),
            pytest.param(
                "GET", [("Accept", "a" * 100), ("Accept-Language", "b" * 100)] * 6, True, id="over-1024-bytes"
            ),
            pytest.param("PUT", [], True, id="put"),
            pytest.param("patch", [], True, id="lowercase-patch"),
        ],
    )
    def test_a_preflight_is_needed_for_unsafe_methods_and_headers(self, method, headers, needed):
        assert needs_preflight(method, headers) is needed

    def test_the_unsafe_names_are_lowercase_sorted_and_judged_by_value(self):
        headers = [("X-B", "1"), ("Content-Type", "application/json"), ("Accept", "*/*"), ("x-a", "")]
        assert unsafe_header_names(headers) == ["content-type", "x-a", "x-b"]

    def test_an_allow_origin_for_another_origin_blocks(self):
        assert cors_check({"access-control-allow-origin": "https://x.example"}, SITE, False) == (
            "The 'Access-Control-Allow-Origin' header has a value 'https://x.example' that is not equal "
            "to the supplied origin."
        )

    def test_a_preflight_answer_without_ok_status_blocks(self):
        refusal = preflight_check(500, {"access-control-allow-origin": "*"}, SITE, "PUT", [], False)
        assert refusal.endswith("It does not have HTTP ok status.")

    @pytest.mark.parametrize(
        ("allow_methods", "method", "credentials", "allowed"),
        [
            pytest.param("GET, PUT", "PUT", False, True, id="listed"),
            pytest.param("GET", "PUT", False, False, id="not-listed"),
            pytest.param("GET", "POST", False, True, id="safelisted"),
            pytest.param("*", "PUT", False, True, id="star"),
            pytest.param("*", "PUT", True, False, id="star-with-credentials"),
            pytest.param("PATCH", "patch", False, False, id="case-sensitive"),
        ],
    )
    def test_methods_are_checked_as_browsers_do(self, allow_methods, method, credentials, allowed):
        headers = {
            "access-control-allow-origin": SITE,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": allow_methods,
        }
        refusal = preflight_check(200, headers, SITE, method, [], credentials)
        assert (refusal is None) is allowed
        if not allowed:
            assert refusal == f"Method {method} is not allowed by Access-Control-Allow-Methods in preflight response."

    @pytest.mark.parametrize(
        ("allow_headers", "header", "credentials", "allowed"),
        [
            pytest.param("X-Token", "x-token", False, True, id="listed-any-case"),
            pytest.param("X-Token", "x-other", False, False, id="not-listed"),
            pytest.param("*", "x-other", False, True, id="star"),
            pytest.param("*", "authorization", False, False, id="star-never-covers-authorization"),
            pytest.param("*", "x-other", True, False, id="star-with-credentials"),
        ],
    )
    def test_request_headers_are_checked_as_browsers_do(self, allow_headers, header, credentials, allowed):
        headers = {
            "access-control-allow-origin": SITE,
            "access-control-allow-credentials": "true",
            "access-control-allow-headers": allow_headers,
        }
        refusal = preflight_check(200, headers, SITE, "GET", [(header, "1")], credentials)
        assert (refusal is None) is allowed
        if not allowed:
            assert refusal == (
                f"Request header field {header} is not allowed by Access-Control-Allow-Headers in preflight response."
            )
