"""Origin syntax and origin matching: pure functions, table-tested."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsgicors import CORS
from wsgicors.origins import (
    MAX_ORIGIN_LENGTH,
    Glob,
    InvalidOrigin,
    compile_origins,
    is_serialized_origin,
    parse_origin_entry,
    pattern_warnings,
)


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com",
        "http://localhost:8080",
        "http://127.0.0.1:1",
        "http://[::1]:65535",
        "https://a-b_c.example.com",
        "https://example.com.",
        "chrome-extension://abcdef",
    ],
)
def test_browser_serialized_origins_are_recognized(origin):
    assert is_serialized_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("null", id="null"),
        pytest.param("", id="empty"),
        pytest.param("https://Example.com", id="uppercase-host"),
        pytest.param("HTTPS://example.com", id="uppercase-scheme"),
        pytest.param("https://example.com/", id="trailing-slash"),
        pytest.param("https://example.com/path", id="path"),
        pytest.param("https://user@example.com", id="userinfo"),
        pytest.param("https://example.com:0", id="port-zero"),
        pytest.param("https://example.com:65536", id="port-too-large"),
        pytest.param("https://example.com:080", id="port-leading-zero"),
        pytest.param("https://example.com:", id="empty-port"),
        pytest.param("https://exa mple.com", id="space"),
        pytest.param("https://ex%41mple.com", id="percent-encoded"),
        pytest.param("https://bücher.example", id="non-ascii"),
        pytest.param("https://example.com\r\n", id="crlf"),
        pytest.param("https://.example.com", id="empty-label"),
        pytest.param("example.com", id="no-scheme"),
        pytest.param("https://a.example https://b.example", id="two-origins"),
        pytest.param("https://example.com:443", id="explicit-default-https-port"),
        pytest.param("http://example.com:80", id="explicit-default-http-port"),
        pytest.param("https://" + "a" * 64 + ".example", id="label-over-63"),
        pytest.param("https://" + "abcdefghi." * 25 + "example", id="host-over-253"),
        pytest.param("file://", id="file"),
    ],
)
def test_anything_else_is_not_a_serialized_origin(origin):
    assert not is_serialized_origin(origin)


@pytest.mark.parametrize(
    ("entry", "normalized"),
    [
        pytest.param("https://Example.COM", "https://example.com", id="lowercased"),
        pytest.param("https://example.com:443", "https://example.com", id="default-https-port"),
        pytest.param("http://example.com:80", "http://example.com", id="default-http-port"),
        pytest.param("https://example.com:80", "https://example.com:80", id="other-port-kept"),
        pytest.param("http://[::1]:8080", "http://[::1]:8080", id="ipv6-bracket-is-literal"),
        pytest.param("NULL", "null", id="null"),
        pytest.param("Copy", "copy", id="copy"),
        pytest.param("https://*.Example.com", "https://*.example.com", id="pattern"),
        pytest.param("*.example.com", "*.example.com", id="pattern-without-scheme"),
    ],
)
def test_origin_entries_are_normalized(entry, normalized):
    assert parse_origin_entry(entry) == normalized


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        pytest.param("https://example.com/", "with a path, query or fragment", id="trailing-slash"),
        pytest.param("https://example.com/app", "with a path, query or fragment", id="path"),
        pytest.param("https://example.com#top", "with a path, query or fragment", id="fragment"),
        pytest.param("https://example.com?a=1", "is not an origin pattern", id="query"),
        pytest.param("example.com", "is not an origin such as", id="no-scheme"),
        pytest.param("https://exa mple.com", "is not an origin such as", id="space"),
        pytest.param("https://example.com:99999", "is not an origin such as", id="port-too-large"),
        pytest.param("https://bücher.example", "is not ASCII", id="non-ascii"),
        pytest.param("example.*", "is not an origin pattern", id="pattern-without-scheme-or-leading-star"),
        pytest.param("https://*.exa mple.com", "is not an origin pattern", id="pattern-with-space"),
    ],
)
def test_invalid_entries_are_refused_with_a_reason(entry, reason):
    with pytest.raises(InvalidOrigin, match=reason):
        parse_origin_entry(entry)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param([], "lists no origin", id="empty"),
        pytest.param(["*", "https://a.example"], "mixes '\\*' with other entries", id="star-mixed"),
        pytest.param(["https://a.example", "copy"], "mixes 'copy' with other entries", id="copy-mixed"),
    ],
)
def test_invalid_entry_lists_are_refused(entries, message):
    with pytest.raises(InvalidOrigin, match=message):
        compile_origins(entries)


SUBDOMAINS = compile_origins(["https://*.example.com"])


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        pytest.param("https://api.example.com", True, id="subdomain"),
        pytest.param("https://a.b.example.com", True, id="nested-subdomain"),
        pytest.param("https://example.com", False, id="apex"),
        pytest.param("http://api.example.com", False, id="other-scheme"),
        pytest.param("https://api.example.com:8443", False, id="other-port"),
        pytest.param("https://evil.net/.example.com", False, id="path-trick"),
        pytest.param("https://evil.net?.example.com", False, id="query-trick"),
        pytest.param("https://api.example.com.evil.net", False, id="suffix-trick"),
        pytest.param("https://API.example.com", False, id="uppercase"),
    ],
)
def test_a_subdomain_pattern_matches_only_subdomains(origin, allowed):
    assert SUBDOMAINS.allows(origin) is allowed


def test_question_mark_matches_exactly_one_character():
    matcher = compile_origins(["http://localhost:800?"])
    assert matcher.allows("http://localhost:8001")
    assert not matcher.allows("http://localhost:80")
    assert not matcher.allows("http://localhost:80011")


def test_a_pattern_without_scheme_matches_any_scheme():
    matcher = compile_origins(["*.example.com"])
    assert matcher.allows("http://a.example.com")
    assert matcher.allows("https://a.example.com")


def test_null_matches_only_when_listed():
    assert compile_origins(["null"]).allows("null")
    assert not compile_origins(["copy"]).allows("null")
    assert not compile_origins(["*"]).allows("null")
    assert not compile_origins(["*://*"]).allows("null")
    assert not compile_origins(["https://*.example.com"]).allows("null")


@pytest.mark.parametrize(
    ("origin", "serialized"),
    [
        pytest.param("https://" + "a" * 63 + ".example", True, id="label-of-63"),
        pytest.param("https://" + "a" * 64 + ".example", False, id="label-of-64"),
        pytest.param("https://" + "a." * 124 + "abcde", True, id="host-of-253"),
        pytest.param("https://" + "a." * 124 + "abcdef", False, id="host-of-254"),
    ],
)
def test_a_host_dns_cannot_hold_is_not_an_origin(origin, serialized):
    assert is_serialized_origin(origin) is serialized
    for entries in (["copy"], ["https://*"], ["*.a"], ["https://*.example"]):
        expected = serialized and fnmatch.fnmatchcase(origin, entries[0].replace("copy", "*"))
        assert compile_origins(entries).allows(origin) is expected, entries


@pytest.mark.parametrize("origin", ["https://x.example:443", "http://x.example:80"])
def test_copy_and_patterns_refuse_an_explicit_default_port(origin):
    for entries in (["copy"], ["*.example:*"], ["https://*.example:443", "http://*.example:80"], ["*://*"]):
        assert not compile_origins(entries).allows(origin), entries


def test_file_origin_is_allowed_only_where_listed_literally():
    # Some embedded WebViews send `Origin: file://` for pages loaded from files.
    assert parse_origin_entry("FILE://") == "file://"
    assert compile_origins(["https://a.example", "file://"]).exact == {"https://a.example", "file://"}
    answer = CORS(lambda environ, start_response: [], origin="https://a.example file://").answers.lookup(
        "file://", "GET"
    )
    assert answer.cors == (("Access-Control-Allow-Origin", "file://"),)
    for entries in (["copy"], ["*://*"], ["file://*"], ["*"]):
        assert not compile_origins(entries).allows("file://"), entries


def test_copy_and_star_allow_every_serialized_origin_only():
    for entry in ("copy", "*"):
        matcher = compile_origins([entry])
        assert matcher.allows("http://localhost:3000")
        assert not matcher.allows("http://localhost:3000/")
        assert not matcher.allows("garbage")


def test_exact_origins_match_themselves_only():
    matcher = compile_origins(["https://a.example", "http://b.example:8080"])
    assert matcher.allows("https://a.example")
    assert matcher.allows("http://b.example:8080")
    assert not matcher.allows("http://a.example")
    assert not matcher.allows("http://b.example")


@pytest.mark.parametrize(
    ("entry", "warnings"),
    [
        pytest.param("https://*.example.com", [], id="leading-label"),
        pytest.param("https://*", [], id="any-host"),
        pytest.param("http://localhost:*", [], id="any-port"),
        pytest.param("https://*example.com", ["can cross a dot boundary"], id="glued-star"),
        pytest.param("https://example.*", ["can cross a dot boundary"], id="any-tld"),
        pytest.param("https://api.*.example.com", ["can cross a dot boundary"], id="inner-label"),
        pytest.param("*.example.com", ["has no scheme"], id="no-scheme"),
        pytest.param("*example.com", ["has no scheme", "can cross a dot boundary"], id="no-scheme-glued"),
        pytest.param("https://example.com", [], id="exact-origin"),
        pytest.param("copy", [], id="copy"),
        pytest.param("https://*/path", [], id="not-a-pattern"),
    ],
)
def test_risky_patterns_are_explained(entry, warnings):
    found = pattern_warnings(entry)
    assert len(found) == len(warnings)
    for text, expected in zip(found, warnings):
        assert expected in text


# Hosts as browsers serialize them: lowercase labels of letters, digits and hyphens.
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_origin = st.builds(
    lambda scheme, labels, port: f"{scheme}://{'.'.join(labels)}{port}",
    st.sampled_from(["http", "https"]),
    st.lists(_label, min_size=1, max_size=4),
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda port: f":{port}")),
)


@settings(max_examples=300, deadline=None)
@given(_origin, _origin)
def test_an_exact_origin_matches_itself_and_no_other_origin(configured, other):
    normalized = parse_origin_entry(configured)
    matcher = compile_origins([configured])
    assert matcher.allows(normalized)
    assert matcher.allows(other) is (other == normalized)


# Each turns an origin into something a browser never sends.
_MALFORMING = [
    str.upper,
    lambda origin: origin + "/",
    lambda origin: origin + " ",
    lambda origin: origin + "\r\n",
    lambda origin: origin + ":",
    lambda origin: origin + "\x00",
    lambda origin: origin.replace("://", "://user@"),
    lambda origin: origin + " https://evil.net",
]


def _headers(configured: str) -> st.SearchStrategy[str]:
    """Origin headers the matchers below allow (the configured origin, any origin, a subdomain
    of x.example), as they are or malformed; and any text."""
    allowed = st.one_of(st.just(configured), _origin, _label.map(lambda label: f"https://{label}.x.example"))
    malformed = st.tuples(allowed, st.sampled_from(_MALFORMING)).map(lambda pair: pair[1](pair[0]))
    return st.one_of(allowed, malformed, st.text(max_size=60))


@settings(max_examples=300, deadline=None)
@given(_origin, st.data())
def test_matching_never_raises_and_never_admits_malformed_origins(configured, data):
    header = data.draw(_headers(configured))
    for matcher in (
        compile_origins([configured]),
        compile_origins(["copy"]),
        compile_origins(["https://*.x.example"]),
    ):
        if matcher.allows(header):
            assert is_serialized_origin(header) or header == parse_origin_entry(configured)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        pytest.param("https://*.*.example.com", "https://a.b.example.com", True, id="two-stars"),
        pytest.param("https://*.*.example.com", "https://a.example.com", False, id="two-stars-one-label"),
        pytest.param("https://app-*.vercel.app", "https://app-123.vercel.app", True, id="star-inside-a-label"),
        pytest.param("https://app-*.vercel.app", "https://app-.vercel.app", True, id="star-matches-nothing"),
        pytest.param("http://localhost:*", "http://localhost:8080", True, id="star-port"),
        pytest.param("http://localhost:*", "http://localhost.evil:8080", False, id="star-port-prefix-trick"),
        pytest.param("http://*:808?", "http://a:808", False, id="question-mark-one-character"),
        pytest.param("http://*:808?", "http://a:8081", True, id="star-and-question-mark"),
        pytest.param("*a*a*a*b", "aaaaaaaaaaab", True, id="backtracking-shape"),
        pytest.param("*a*a*a*b", "a" * 400, False, id="backtracking-shape-refused"),
    ],
)
def test_globs_match_as_fnmatch_does(pattern, text, matches):
    assert Glob.compile(pattern).matches(text) is matches
    assert fnmatch.fnmatchcase(text, pattern) is matches


def test_a_long_origin_is_refused_before_any_pattern_sees_it():
    matcher = compile_origins(["https://*.*.*.example.com"])
    assert not matcher.allows("https://" + "a." * (MAX_ORIGIN_LENGTH // 2) + "example.com")


@pytest.mark.parametrize(
    ("entries", "origin", "allowed"),
    [
        pytest.param(["https://*.a.example", "https://*.b.example"], "https://x.b.example", True, id="second-tail"),
        pytest.param(["https://*.a.example:8443"], "https://x.a.example:8443", True, id="tail-with-port"),
        pytest.param(["https://*.a.example:8443"], "https://x.a.example", False, id="tail-port-missing"),
        pytest.param(["http://*.a.example", "*.b.example"], "https://x.b.example", True, id="any-scheme-tail"),
        pytest.param(
            ["http://*.a.example", "*.b.example"], "https://x.a.example", False, id="scheme-tail-only-its-scheme"
        ),
        pytest.param(["https://*.example.com"], "https://example.com", False, id="apex-needs-a-label"),
    ],
)
def test_subdomain_patterns_are_found_by_their_tail(entries, origin, allowed):
    assert compile_origins(entries).allows(origin) is allowed


def test_a_question_mark_is_a_wildcard_so_an_origin_cannot_have_a_query():
    assert compile_origins(["https://example.com?ru"]).allows("https://example.com.ru")
    assert pattern_warnings("https://example.com?ru") == [
        "has a wildcard that can cross a dot boundary, so it also matches unrelated domains; "
        "a leading '*.' label (https://*.example.com) means subdomains"
    ]
