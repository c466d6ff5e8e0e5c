"""Nonsense configurations: refused at construction with a ConfigurationError naming the policy
and the key, never a middleware that half works."""

from __future__ import annotations

import pytest
from support import RecordingApp

from wsgicors import CORS, ConfigurationError, make_middleware


def named(**settings: object) -> dict[str, object]:
    """``settings`` as the ``free`` policy's keys: ``maxage`` becomes ``free_maxage``."""
    return {"policy": "free", "free_origin": "https://example.com", **{f"free_{k}": v for k, v in settings.items()}}


def unnamed(**settings: object) -> dict[str, object]:
    return {"origin": "https://example.com", **settings}


# (settings, the policy and the key the error names)
NONSENSE = [
    # Policies and keys.
    pytest.param(
        {"policy": "free,subdomains", "free_origin": "*"},
        "subdomains",
        "subdomains_origin",
        id="listed-policy-never-defined",
    ),
    pytest.param({"policy": "free", "fre_origin": "*"}, "free", "free_origin", id="policy-prefix-misspelt"),
    pytest.param({"policy": "free", "free_methods": "GET"}, "free", "free_origin", id="named-policy-without-origin"),
    pytest.param({"methods": "GET"}, None, "origin", id="policy-without-origin"),
    pytest.param({"origin": "", "maxage": "60"}, None, "origin", id="empty-origin-value"),
    pytest.param({"policy": "free", "free_orign": "*"}, "free", "free_orign", id="unknown-key-of-a-policy"),
    pytest.param({"orign": "*", "maxage": "60"}, None, "orign", id="unknown-key"),
    pytest.param(
        {"policy": "free,deny", "free_origin": "*", "deny_origin": "*"}, None, "deny_origin", id="deny-with-keys"
    ),
    pytest.param({"policy": "free,free", "free_origin": "*"}, None, "policy", id="policy-listed-twice"),
    pytest.param({"policy": 5}, None, "policy", id="policy-not-a-string"),
    pytest.param({"origin": "*", "matchstrategy": "bestmatch"}, None, "matchstrategy", id="unknown-matchstrategy"),
    pytest.param({"origin": "*", "matchstrategy": "first match"}, None, "matchstrategy", id="matchstrategy-with-space"),
    # maxage
    pytest.param(unnamed(maxage="abc"), None, "maxage", id="maxage-abc"),
    pytest.param(unnamed(maxage="-1"), None, "maxage", id="maxage-negative-string"),
    pytest.param(unnamed(maxage=-1), None, "maxage", id="maxage-negative-int"),
    pytest.param(unnamed(maxage="1.5"), None, "maxage", id="maxage-fraction-string"),
    pytest.param(unnamed(maxage=1.5), None, "maxage", id="maxage-float"),
    pytest.param(unnamed(maxage=True), None, "maxage", id="maxage-bool"),
    pytest.param(unnamed(maxage="\uff11\uff10"), None, "maxage", id="maxage-fullwidth-digits"),
    pytest.param(unnamed(maxage="10 20"), None, "maxage", id="maxage-two-numbers"),
    pytest.param(named(maxage="ten"), "free", "free_maxage", id="named-maxage-ten"),
    # credentials
    pytest.param(unnamed(credentials="yes please"), None, "credentials", id="credentials-yes-please"),
    pytest.param(unnamed(credentials="ture"), None, "credentials", id="credentials-misspelt"),
    pytest.param(unnamed(credentials=2), None, "credentials", id="credentials-two"),
    pytest.param(named(credentials="maybe"), "free", "free_credentials", id="named-credentials-maybe"),
    # origin entries that are not origins
    pytest.param({"origin": "https://example.com/"}, None, "origin", id="origin-trailing-slash"),
    pytest.param({"origin": "https://example.com/path"}, None, "origin", id="origin-path"),
    pytest.param({"origin": "https://example.com?q=1"}, None, "origin", id="origin-query"),
    # "?" is a wildcard (0.7.0's fnmatch rule), so "https://example.com?debug" is a pattern, not
    # an origin with a query: it is accepted with a warning (tests/test_origins.py).
    pytest.param({"origin": "https://example.com#top"}, None, "origin", id="origin-fragment"),
    pytest.param({"origin": "https://user@example.com"}, None, "origin", id="origin-userinfo"),
    pytest.param({"origin": "https://example.com:0"}, None, "origin", id="origin-port-zero"),
    pytest.param({"origin": "https://example.com:65536"}, None, "origin", id="origin-port-too-big"),
    pytest.param({"origin": "https://example.com:443:443"}, None, "origin", id="origin-two-default-ports"),
    pytest.param({"origin": "https://example.com:8080:443"}, None, "origin", id="origin-two-ports"),
    pytest.param({"origin": "example.com"}, None, "origin", id="origin-without-scheme"),
    pytest.param({"origin": "//example.com"}, None, "origin", id="origin-scheme-relative"),
    pytest.param({"origin": "https://"}, None, "origin", id="origin-without-host"),
    pytest.param({"origin": "https://ex\xe4mple.com"}, None, "origin", id="origin-not-ascii"),
    pytest.param({"origin": "https://example.com\r\nSet-Cookie: a=b"}, None, "origin", id="origin-crlf"),
    pytest.param({"origin": "https://example.com\x00"}, None, "origin", id="origin-nul"),
    pytest.param({"origin": "* https://example.com"}, None, "origin", id="origin-star-among-others"),
    pytest.param({"origin": "copy https://example.com"}, None, "origin", id="origin-copy-among-others"),
    pytest.param({"origin": ["https://example.com", 5]}, None, "origin", id="origin-list-with-a-number"),
    pytest.param({"origin": 123}, None, "origin", id="origin-a-number"),
    pytest.param(named(origin="https://example.com/"), "free", "free_origin", id="named-origin-trailing-slash"),
    # empty origin lists
    pytest.param({"origin": []}, None, "origin", id="origin-empty-list"),
    pytest.param({"origin": ["", "  "]}, None, "origin", id="origin-list-of-blanks"),
    # malformed patterns
    pytest.param({"origin": "https://*.example.com/"}, None, "origin", id="pattern-trailing-slash"),
    pytest.param({"origin": "https://*.example.com:"}, None, "origin", id="pattern-empty-port"),
    pytest.param({"origin": "https://*.example.com:*x"}, None, "origin", id="pattern-port-with-letter"),
    pytest.param({"origin": "https://*.example.com:0"}, None, "origin", id="pattern-port-zero"),
    pytest.param({"origin": "https://*.example.com:99999"}, None, "origin", id="pattern-port-too-big"),
    pytest.param({"origin": "https://*..example.com"}, None, "origin", id="pattern-empty-label"),
    pytest.param({"origin": "https://*.ex@mple.com"}, None, "origin", id="pattern-userinfo"),
    pytest.param({"origin": "https://*.[::1]"}, None, "origin", id="pattern-wildcard-beside-ipv6"),
    pytest.param({"origin": "http*"}, None, "origin", id="pattern-without-separator"),
    pytest.param({"origin": "*://"}, None, "origin", id="pattern-without-host"),
    pytest.param({"origin": "?"}, None, "origin", id="pattern-one-character"),
    # methods
    pytest.param(unnamed(methods="CONNECT"), None, "methods", id="method-connect"),
    pytest.param(unnamed(methods="TRACE"), None, "methods", id="method-trace"),
    pytest.param(unnamed(methods="TRACK"), None, "methods", id="method-track"),
    pytest.param(unnamed(methods="get, trace"), None, "methods", id="method-trace-lowercase-in-a-list"),
    pytest.param(unnamed(methods=["GET", "Connect"]), None, "methods", id="method-connect-in-a-python-list"),
    pytest.param(named(methods="TRACE"), "free", "free_methods", id="named-method-trace"),
    pytest.param(unnamed(methods="GET POST"), None, "methods", id="methods-space-separated"),
    pytest.param(unnamed(methods="G(E)T"), None, "methods", id="method-not-a-token"),
    pytest.param(unnamed(methods="GET\r\nSet-Cookie: a=b"), None, "methods", id="method-crlf"),
    pytest.param(unnamed(methods="*, GET"), None, "methods", id="methods-star-among-others"),
    pytest.param(unnamed(methods=123), None, "methods", id="methods-a-number"),
    pytest.param(unnamed(methods=","), None, "methods", id="methods-listing-nothing"),
    # header names
    pytest.param(unnamed(headers="X Token"), None, "headers", id="header-with-space"),
    pytest.param(unnamed(headers="X-Token:"), None, "headers", id="header-with-colon"),
    pytest.param(unnamed(headers="X-Token\r\nSet-Cookie: a=b"), None, "headers", id="header-crlf"),
    pytest.param(unnamed(headers="X-\xdcmlaut"), None, "headers", id="header-not-ascii"),
    pytest.param(unnamed(headers="*, X-Token"), None, "headers", id="headers-star-among-others"),
    pytest.param(unnamed(headers=b"X-Token"), None, "headers", id="headers-bytes"),
    pytest.param(unnamed(expose_headers="X Total"), None, "expose_headers", id="expose-header-with-space"),
    pytest.param(unnamed(expose_headers="X-Total\nSet-Cookie: a=b"), None, "expose_headers", id="expose-header-lf"),
    pytest.param(named(headers="X Token"), "free", "free_headers", id="named-header-with-space"),
]


@pytest.mark.parametrize(("settings", "policy", "key"), NONSENSE)
def test_a_nonsense_configuration_is_refused_naming_the_policy_and_the_key(settings, policy, key):
    with pytest.raises(ConfigurationError) as raised:
        CORS(RecordingApp(), settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)
    message = str(raised.value)
    assert key in message
    if policy is not None:
        assert f"policy {policy!r}: {key}" in message


PASTE_DEPLOY_IDS = {
    "listed-policy-never-defined",
    "unknown-key-of-a-policy",
    "unknown-matchstrategy",
    "named-maxage-ten",
    "credentials-yes-please",
    "named-origin-trailing-slash",
    "pattern-empty-port",
    "method-trace",
    "header-crlf",
}
INI_NONSENSE = [case for case in NONSENSE if case.id in PASTE_DEPLOY_IDS]


@pytest.mark.parametrize(("settings", "policy", "key"), INI_NONSENSE)
def test_the_paste_deploy_filter_refuses_nonsense_given_as_ini_strings(settings, policy, key):
    assert all(isinstance(value, str) for value in settings.values())
    with pytest.raises(ConfigurationError) as raised:
        make_middleware(RecordingApp(), {"here": "/srv", "__file__": "/srv/app.ini"}, **settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)


def test_every_problem_is_reported_at_once():
    settings = {"origin": "https://example.com/", "maxage": "abc", "credentials": "yes please", "methods": "TRACE"}
    with pytest.raises(ConfigurationError) as raised:
        CORS(RecordingApp(), settings)
    assert [problem.key for problem in raised.value.problems] == ["origin", "maxage", "credentials", "methods"]
    for key in settings:
        assert f"{key}=" in str(raised.value)


def test_a_configuration_error_is_a_value_error():
    with pytest.raises(ValueError, match="maxage='abc'"):
        CORS(RecordingApp(), origin="*", maxage="abc")
