"""Hostile requests: look-alike origins, malformed or huge CORS request headers, log forging.

Each must get a safe refusal: no CORS header granted, the app still served, no exception.
"""

from __future__ import annotations

import logging
import textwrap
import tracemalloc

import pytest
from support import (
    FIELD_VALUE,
    TOKEN,
    RecordingApp,
    call,
    cors_headers,
    make_environ,
    output_within_limit,
    preflight_environ,
)

from wsgicors import CORS

KB = 1_000
MB = 1_000_000

EXACT = {"origin": "https://example.com"}
SUBDOMAINS = {"origin": "https://*.example.com"}
# As permissive as the rest of a policy gets, so that a wrong "yes" cannot hide.
WIDE_OPEN = {"methods": "*", "headers": "*", "expose_headers": "X-Secret", "credentials": True, "maxage": 600}

# Look-alikes are tried against an exact origin (answered by a lookup) and a subdomain pattern
# (scanned, here under verbmatch), each as permissive as the rest of a policy gets.
LOOK_ALIKE_POLICIES = [
    pytest.param({**EXACT, **WIDE_OPEN}, id="exact-wide-open"),
    pytest.param({**SUBDOMAINS, **WIDE_OPEN, "matchstrategy": "verbmatch"}, id="subdomains-wide-open-verbmatch"),
]


def wire(text: str) -> str:
    """``text`` as a WSGI server hands it over: its UTF-8 bytes decoded as latin-1 (PEP 3333)."""
    return text.encode("utf-8").decode("latin-1")


# Refused by both "https://example.com" and "https://*.example.com".
LOOK_ALIKES = [
    pytest.param("https://example.com.evil.net", id="suffix-domain"),
    pytest.param("https://a.example.com.evil.net", id="subdomain-suffix-domain"),
    pytest.param("https://evilexample.com", id="prefix-glued"),
    pytest.param("https://evil-example.com", id="prefix-hyphen"),
    pytest.param("https://evil.com/.example.com", id="path-ends-like-subdomain"),
    pytest.param("https://evil.com?.example.com", id="query-ends-like-subdomain"),
    pytest.param("https://evil.com#.example.com", id="fragment-ends-like-subdomain"),
    pytest.param("https://evil.com\\.example.com", id="backslash-ends-like-subdomain"),
    pytest.param("http://example.com", id="http-instead-of-https"),
    pytest.param("http://a.example.com", id="subdomain-http-instead-of-https"),
    pytest.param("wss://a.example.com", id="other-scheme"),
    pytest.param("https:/example.com", id="one-slash"),
    pytest.param("//example.com", id="no-scheme"),
    pytest.param("example.com", id="bare-host"),
    pytest.param("https://example.com:8443", id="other-port"),
    pytest.param("https://a.example.com:8443", id="subdomain-other-port"),
    pytest.param("https://example.com:0", id="port-zero"),
    pytest.param("https://a.example.com:99999", id="port-out-of-range"),
    pytest.param("https://example.com:", id="empty-port"),
    pytest.param("https://example.com@evil.net", id="userinfo-host-is-evil"),
    pytest.param("https://a.example.com@evil.net", id="subdomain-userinfo-host-is-evil"),
    pytest.param("https://evil.net@a.example.com", id="userinfo-before-subdomain"),
    pytest.param("https://user:pass@example.com", id="userinfo-with-password"),
    pytest.param("https://example.com.", id="trailing-dot"),
    pytest.param("https://a.example.com.", id="subdomain-trailing-dot"),
    pytest.param("https://example.com/", id="trailing-slash"),
    pytest.param("https://a.example.com/", id="subdomain-trailing-slash"),
    pytest.param("https://example.com/path", id="path"),
    pytest.param("https://a.example.com/p?q=1#f", id="subdomain-path-query-fragment"),
    pytest.param("https://EXAMPLE.COM", id="uppercase-host"),
    pytest.param("HTTPS://example.com", id="uppercase-scheme"),
    pytest.param("https://A.example.com", id="uppercase-subdomain"),
    pytest.param("https://a.EXAMPLE.com", id="subdomain-uppercase-domain"),
    pytest.param("https://example%2Ecom", id="percent-encoded-dot"),
    pytest.param("https://%65xample.com", id="percent-encoded-letter"),
    pytest.param("https://a%2Eexample.com", id="subdomain-percent-encoded-dot"),
    pytest.param("https://ex\xe4mple.com", id="latin-1-host"),
    pytest.param(wire("https://ex\u0430mple.com"), id="utf-8-cyrillic-homograph"),
    pytest.param(wire("https://a.example\u3002com"), id="utf-8-ideographic-full-stop"),
    pytest.param("https://a.example\u3002com", id="non-latin-1-str"),
    pytest.param("https://a.example.com\xa0", id="trailing-no-break-space"),
    pytest.param("https://xn--exmple-cua.com", id="punycode-other-domain"),
    pytest.param("https://xn--80ak6aa92e.com", id="punycode-homograph"),
    pytest.param(" https://example.com", id="leading-space"),
    pytest.param("https://example.com ", id="trailing-space"),
    pytest.param("https://a.example.com\t", id="subdomain-trailing-tab"),
    pytest.param("https://exa mple.com", id="inner-space"),
    pytest.param("https://example.com https://evil.net", id="two-origins-allowed-first"),
    pytest.param("https://evil.net https://a.example.com", id="two-origins-allowed-last"),
    pytest.param("https://example.com,https://evil.net", id="two-origins-comma"),
    pytest.param("https://evil.net, https://a.example.com", id="two-origins-comma-space"),
    pytest.param("*", id="star"),
    pytest.param("null", id="null"),
    pytest.param("copy", id="copy-keyword"),
    pytest.param("", id="empty"),
    pytest.param("https://example.com\r\nSet-Cookie: session=evil", id="crlf-header-injection"),
    pytest.param("https://a.example.com\r\n", id="subdomain-trailing-crlf"),
    pytest.param("https://example.com\n", id="trailing-lf"),
    pytest.param("https://example.com\r", id="trailing-cr"),
    pytest.param("https://a.example.com\x00", id="trailing-nul"),
    pytest.param("https://a.example.com\x00.evil.net", id="nul-then-evil"),
    pytest.param("https://evil.net\x00.example.com", id="evil-then-nul-subdomain"),
    pytest.param("https://example.com/" + "a" * (10 * KB), id="10kB-path"),
    pytest.param("https://" + "a." * (5 * KB) + "evil.net", id="10kB-host"),
    pytest.param("https://example.com" + "a" * (10 * KB), id="10kB-glued"),
    pytest.param("https://a.example.com/" + "a" * MB, id="1MB-path"),
    pytest.param("https://" + "a." * (MB // 2) + "example.com.evil.net", id="1MB-host"),
    pytest.param(", ".join(["https://a.example.com"] * (MB // 23)), id="1MB-list-of-allowed-origins"),
]

GENUINE = [
    pytest.param(EXACT, "https://example.com", id="exact"),
    pytest.param(SUBDOMAINS, "https://a.example.com", id="subdomains"),
    pytest.param({**SUBDOMAINS, **WIDE_OPEN}, "https://a.b.example.com", id="subdomains-wide-open"),
]


@pytest.mark.parametrize(("settings", "origin"), GENUINE)
def test_the_genuine_origin_is_allowed_so_the_refusals_below_mean_something(settings, origin):
    response = call(CORS(RecordingApp(), **settings), make_environ("GET", origin))
    assert cors_headers(response.headers)["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", LOOK_ALIKES)
@pytest.mark.parametrize("settings", LOOK_ALIKE_POLICIES)
def test_a_look_alike_origin_gets_no_cors_headers_and_the_app_still_answers(settings, origin):
    app = RecordingApp([("Content-Type", "text/plain"), ("X-App", "kept")], body=[b"app ", b"body"])
    response = call(CORS(app, **settings), make_environ("GET", origin))
    assert cors_headers(response.headers) == {}
    assert response.status == "200 OK"
    assert response.headers[:2] == [("Content-Type", "text/plain"), ("X-App", "kept")]
    assert response.body == b"app body"
    assert app.calls == 1


@pytest.mark.parametrize("origin", LOOK_ALIKES)
@pytest.mark.parametrize("settings", LOOK_ALIKE_POLICIES)
def test_a_look_alike_origin_gets_a_preflight_refusal(settings, origin):
    app = RecordingApp()
    response = call(CORS(app, **settings), preflight_environ(origin, "GET", "x-token"))
    assert cors_headers(response.headers) == {}
    assert response.status == "200 OK"
    assert response.body == b""
    assert app.calls == 0


# Not an origin as a browser serializes it, so never reflected, even by `copy`. (`null` is
# serialized but never reflected either: tests/test_compat.py.)
MALFORMED = [
    pytest.param("https://EXAMPLE.COM", id="uppercase"),
    pytest.param("https://example.com/", id="trailing-slash"),
    pytest.param("https://example.com/path", id="path"),
    pytest.param("https://user@example.com", id="userinfo"),
    pytest.param("https://example.com:0", id="port-zero"),
    pytest.param("https://example.com:443", id="explicit-default-https-port"),
    pytest.param("http://example.com:80", id="explicit-default-http-port"),
    pytest.param("https://" + "a" * 64 + ".example", id="label-over-63"),
    pytest.param("https://" + "abcdefghi." * 25 + "example", id="host-over-253"),
    pytest.param("https://example%2Ecom", id="percent-encoded"),
    pytest.param("https://ex\xe4mple.com", id="latin-1-host"),
    pytest.param("https://example.com https://evil.net", id="two-origins"),
    pytest.param("https://example.com ", id="trailing-space"),
    pytest.param("https://example.com\r\nSet-Cookie: session=evil", id="crlf-header-injection"),
    pytest.param("https://example.com\x00", id="nul"),
    pytest.param("*", id="star"),
    pytest.param("", id="empty"),
    pytest.param("https://example.com/" + "a" * MB, id="1MB-path"),
]
REFLECTING = [
    pytest.param({"origin": "copy"}, id="copy"),
    pytest.param({"origin": "copy", **WIDE_OPEN}, id="copy-wide-open"),
]


@pytest.mark.parametrize("origin", MALFORMED)
@pytest.mark.parametrize("settings", REFLECTING)
def test_a_reflecting_policy_never_reflects_a_malformed_origin(settings, origin):
    actual = call(CORS(RecordingApp(), **settings), make_environ("GET", origin))
    preflight = call(CORS(RecordingApp(), **settings), preflight_environ(origin))
    assert cors_headers(actual.headers) == {}
    assert cors_headers(preflight.headers) == {}


@pytest.mark.parametrize("settings", REFLECTING)
def test_a_reflecting_policy_reflects_a_well_formed_origin(settings):
    response = call(CORS(RecordingApp(), **settings), make_environ("GET", "https://any.example"))
    assert cors_headers(response.headers)["Access-Control-Allow-Origin"] == "https://any.example"


@pytest.mark.parametrize("origin", [*MALFORMED, pytest.param("null", id="null")])
def test_a_public_policy_answers_star_and_never_echoes_the_origin(origin):
    app = CORS(RecordingApp(), origin="*", methods="*", headers="*")
    actual = call(app, make_environ("GET", origin))
    preflight = call(app, preflight_environ(origin, "PUT", "x-token"))
    assert cors_headers(actual.headers) == {"Access-Control-Allow-Origin": "*"}
    assert cors_headers(preflight.headers) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "x-token",
    }


HOSTILE_REQUEST_METHODS = [
    pytest.param("PUT\r\nSet-Cookie: session=evil", id="crlf-header-injection"),
    pytest.param("PUT\n", id="trailing-lf"),
    pytest.param("PUT\r", id="trailing-cr"),
    pytest.param("PUT\x00", id="trailing-nul"),
    pytest.param("", id="empty"),
    pytest.param("GET, PUT", id="list"),
    pytest.param("GET PUT", id="two-words"),
    pytest.param("P(U)T", id="separator-characters"),
    pytest.param("P\xdcT", id="latin-1"),
    pytest.param(wire("PU\u0422"), id="utf-8-cyrillic-homograph"),
    pytest.param("," * MB, id="1MB-of-commas"),
    pytest.param("PUT" * (MB // 3) + "\n", id="1MB-token-then-lf"),
]
METHOD_SETTINGS = [
    pytest.param({"methods": "*"}, id="methods-star"),
    pytest.param({"methods": "GET, PUT"}, id="methods-list"),
]


@pytest.mark.parametrize("request_method", HOSTILE_REQUEST_METHODS)
@pytest.mark.parametrize("settings", METHOD_SETTINGS)
def test_a_malformed_access_control_request_method_gets_a_preflight_refusal(settings, request_method):
    app = CORS(RecordingApp(), origin="https://example.com", headers="*", **settings)
    response = call(app, preflight_environ("https://example.com", request_method))
    assert cors_headers(response.headers) == {}


HOSTILE_REQUEST_HEADERS = [
    pytest.param("x-token\r\nSet-Cookie: session=evil", id="crlf-header-injection"),
    pytest.param("x-token\n", id="trailing-lf"),
    pytest.param("x-token\r", id="trailing-cr"),
    pytest.param("x-token\x00", id="trailing-nul"),
    pytest.param("x token", id="inner-space"),
    pytest.param("x-token;", id="semicolon"),
    pytest.param("(x-token)", id="parentheses"),
    pytest.param("x-t\xf6ken", id="latin-1"),
    pytest.param("x-token, x token", id="second-element-not-a-token"),
    pytest.param("," * MB, id="1MB-of-commas-CVE-2025-47908"),
    pytest.param(", " * (MB // 2), id="1MB-of-comma-space"),
    pytest.param("x-token," * (MB // 8) + "\n", id="1MB-list-then-lf"),
    pytest.param("x-token" * (MB // 7) + "\x00", id="1MB-token-then-nul"),
]
HEADER_SETTINGS = [
    pytest.param({"headers": "*"}, id="headers-star"),
    pytest.param({"headers": "X-Token"}, id="headers-list"),
]


@pytest.mark.parametrize("request_headers", HOSTILE_REQUEST_HEADERS)
@pytest.mark.parametrize("settings", HEADER_SETTINGS)
def test_a_malformed_access_control_request_headers_gets_a_preflight_refusal(settings, request_headers):
    app = CORS(RecordingApp(), origin="https://example.com", **settings)
    response = call(app, preflight_environ("https://example.com", "GET", request_headers))
    assert cors_headers(response.headers) == {}


def test_a_request_header_list_repeating_an_allowed_name_is_answered_with_the_configured_list():
    app = CORS(RecordingApp(), origin="https://example.com", headers="X-Token")
    repeated = ", ".join(["x-token"] * 400)
    response = call(app, preflight_environ("https://example.com", "GET", repeated))
    assert cors_headers(response.headers)["Access-Control-Allow-Headers"] == "X-Token"


@pytest.mark.parametrize(
    ("length", "allowed"), [pytest.param(4096, True, id="4096"), pytest.param(4097, False, id="4097")]
)
def test_a_request_header_list_is_read_up_to_4096_characters(length, allowed):
    app = CORS(RecordingApp(), origin="https://example.com", headers="X-Token")
    requested = "x-token," + " " * (length - 8)
    response = call(app, preflight_environ("https://example.com", "GET", requested))
    assert ("Access-Control-Allow-Origin" in cors_headers(response.headers)) is allowed


def test_a_request_header_list_over_4_kib_is_refused_unread():
    app = CORS(RecordingApp(), origin="https://example.com", headers="X-Token")
    repeated = ", ".join(["x-token"] * (MB // 9))
    response = call(app, preflight_environ("https://example.com", "GET", repeated))
    assert cors_headers(response.headers) == {}


# RFC 9110 section 5.6.2's delimiters but the comma (the list separator), DEL and a latin-1 letter:
# each makes a name that is not a token.
NOT_IN_A_TOKEN = '"():;<=>?@[\\]{}/' + "\x7f\xe4"


@pytest.mark.parametrize("character", [pytest.param(c, id=f"U+{ord(c):04X}") for c in NOT_IN_A_TOKEN])
def test_a_reflected_request_header_list_holds_only_tokens(character):
    app = CORS(RecordingApp(), origin="https://example.com", headers="*")
    requested = f"x-token, x{character}y, authorization"
    response = call(app, preflight_environ("https://example.com", "GET", requested))
    reflected = cors_headers(response.headers).get("Access-Control-Allow-Headers")
    assert reflected is None or all(TOKEN.fullmatch(name.strip(" \t")) for name in reflected.split(","))


def peak_memory(app, environ) -> int:
    """Bytes allocated at the peak of one request, beyond what the request already held."""
    tracemalloc.start()
    try:
        call(app, environ)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Bounded work: the memory a request costs is linear in its size with a small constant. A
# parser that splits a comma-bomb into a list costs 8 bytes a comma, rs/cors cost 120 MB for 1 MB
# (CVE-2025-47908); re-matching a repeated group keeps state for each element.
SMALL_CONSTANT = 4
BASELINE = 64 * KB

BIG_REQUEST_HEADERS = [
    pytest.param("," * MB, id="1MB-of-commas"),
    pytest.param(", " * (MB // 2), id="1MB-of-comma-space"),
    pytest.param("a," * (MB // 2) + "a", id="1MB-of-one-letter-names"),
    pytest.param("x-token, " * (MB // 9) + "x-token", id="1MB-of-one-allowed-name"),
    pytest.param("a" * MB + "\n", id="1MB-name-then-lf"),
]


@pytest.mark.parametrize("request_headers", BIG_REQUEST_HEADERS)
@pytest.mark.parametrize("settings", HEADER_SETTINGS)
def test_a_huge_access_control_request_headers_costs_memory_linear_in_its_length(settings, request_headers):
    app = CORS(RecordingApp(), origin="https://example.com", **settings)
    peak = peak_memory(app, preflight_environ("https://example.com", "GET", request_headers))
    limit = SMALL_CONSTANT * len(request_headers) + BASELINE
    assert peak <= limit


@pytest.mark.parametrize(
    "request_method",
    [
        pytest.param("," * MB, id="1MB-of-commas"),
        pytest.param("A" * MB, id="1MB-token"),
        pytest.param("A" * MB + "\n", id="1MB-token-then-lf"),
    ],
)
def test_a_huge_access_control_request_method_costs_memory_linear_in_its_length(request_method):
    app = CORS(RecordingApp(), origin="https://example.com", methods="*")
    peak = peak_memory(app, preflight_environ("https://example.com", request_method))
    limit = SMALL_CONSTANT * len(request_method) + BASELINE
    assert peak <= limit


BIG_ORIGINS = [
    pytest.param("https://" + "a." * (5 * KB) + "evil.net", id="10kB-of-labels"),
    pytest.param("https://" + "a." * (MB // 2) + "evil.net", id="1MB-of-labels"),
    pytest.param("https://" + "a." * (MB // 2) + "example.com", id="1MB-of-subdomain-labels"),
    pytest.param("https://" + "a" * MB, id="1MB-label"),
    pytest.param("https://a.example.com/" + "a" * MB, id="1MB-path"),
]
ORIGIN_SETTINGS = [
    pytest.param(EXACT, id="exact"),
    pytest.param(SUBDOMAINS, id="subdomains"),
    pytest.param({"origin": "copy"}, id="copy"),
]


@pytest.mark.parametrize("origin", BIG_ORIGINS)
@pytest.mark.parametrize("settings", ORIGIN_SETTINGS)
def test_a_huge_origin_costs_memory_linear_in_its_length(settings, origin):
    peak = peak_memory(CORS(RecordingApp(), **settings), make_environ("GET", origin))
    limit = SMALL_CONSTANT * len(origin) + BASELINE
    assert peak <= limit


# The match runs in a child process that is killed if it hangs: with backtracking, a pattern
# with k wildcards costs O(n**k) for an n-byte origin (10 kB and three wildcards: hours),
# where linear matching takes milliseconds.
MATCH_ONE_ORIGIN = textwrap.dedent(
    """
    import sys
    from wsgiref.util import setup_testing_defaults
    from wsgicors import CORS

    pattern, size = sys.argv[1], int(sys.argv[2])
    headers = []
    environ = {"HTTP_ORIGIN": "https://" + "a." * (size // 2) + "evil.net"}
    setup_testing_defaults(environ)
    CORS(lambda e, s: s("200 OK", []) or [], origin=pattern)(environ, lambda s, h, e=None: headers.extend(h))
    print(any(name.startswith("Access-Control-") for name, _ in headers))
    """
)


@pytest.mark.parametrize(
    ("pattern", "size"),
    [
        pytest.param("https://*.example.com", MB, id="one-wildcard-1MB"),
        pytest.param("https://*.*.example.com", MB, id="two-wildcards-1MB"),
        pytest.param("https://*.*.*.example.com", 10 * KB, id="three-wildcards-10kB"),
    ],
)
def test_a_huge_origin_against_a_pattern_with_several_wildcards_is_refused_without_hanging(pattern, size):
    what = f"matching a {size}-byte origin against {pattern!r}"
    assert output_within_limit(MATCH_ONE_ORIGIN, pattern, str(size), what=what) == "False\n"


EMITTING = {"origin": "copy", "methods": "*", "headers": "*", "expose_headers": "*", "credentials": True}
HOSTILE_VALUES = [
    pytest.param("\r\nSet-Cookie: session=evil", id="crlf"),
    pytest.param("\n", id="lf"),
    pytest.param("\r", id="cr"),
    pytest.param("\x00", id="nul"),
    pytest.param("\x0b\x0c\x1b", id="other-controls"),
]


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
@pytest.mark.parametrize(
    "environ_of",
    [
        pytest.param(lambda h: make_environ("GET", "https://a.example" + h), id="origin"),
        pytest.param(lambda h: preflight_environ("https://a.example" + h), id="preflight-origin"),
        pytest.param(lambda h: preflight_environ("https://a.example", "PUT" + h), id="request-method"),
        pytest.param(lambda h: preflight_environ("https://a.example", "PUT", "x-token" + h), id="request-headers"),
        pytest.param(lambda h: make_environ("PUT" + h, "https://a.example"), id="method"),
    ],
)
def test_header_values_we_emit_never_contain_control_characters(environ_of, hostile):
    response = call(CORS(RecordingApp(), **EMITTING), environ_of(hostile))
    assert response.status == "200 OK"
    for name, value in response.headers:
        assert FIELD_VALUE.fullmatch(value), (name, value)


FORGING = [
    pytest.param("\r\nINFO forged line", id="crlf"),
    pytest.param("\nINFO forged line", id="lf"),
    pytest.param("\rINFO forged line", id="cr"),
    pytest.param("\x85INFO forged line", id="next-line"),
    pytest.param("\u2028INFO forged line", id="line-separator"),
    pytest.param("\x1b[2K\x1b[1GINFO forged line", id="ansi-escape"),
    pytest.param("\x00INFO forged line", id="nul"),
]


@pytest.mark.parametrize("forged", FORGING)
@pytest.mark.parametrize(
    "environ_of",
    [
        pytest.param(lambda f: make_environ("GET", "https://evil.net" + f), id="origin"),
        pytest.param(lambda f: make_environ("GET" + f, "https://evil.net"), id="method"),
        pytest.param(lambda f: preflight_environ("https://evil.net" + f), id="preflight-origin"),
        pytest.param(lambda f: preflight_environ("https://example.com", "PUT" + f), id="request-method"),
        pytest.param(lambda f: preflight_environ("https://example.com", "GET", "x-token" + f), id="request-headers"),
    ],
)
def test_no_request_value_can_forge_a_log_line(caplog, environ_of, forged):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    call(CORS(RecordingApp(), origin="https://example.com", headers="X-Token"), environ_of(forged))
    messages = [record.getMessage() for record in caplog.records if record.name == "wsgicors"]
    assert messages, "the refusal is logged"
    for message in messages:
        assert message.isprintable(), message
