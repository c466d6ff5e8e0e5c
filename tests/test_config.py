"""Settings compiled once at construction: defaults, normalization, errors, warnings."""

from __future__ import annotations

import pytest
from support import RecordingApp
from webtest import TestApp

from wsgicors import CORS, ConfigurationError, make_middleware
from wsgicors.policy import Names


def compiled(settings=None, **kw):
    return CORS(RecordingApp(), settings, **kw).config


def test_a_compiled_policy_reads_back_as_configured():
    config = compiled(origin="https://A.example:443 https://*.b.example", methods="get, patch", maxage="60")
    assert repr(config) == (
        "Config(policies=(Policy(name=None, origins=OriginMatcher(entries=('https://a.example', "
        "'https://*.b.example')), methods=Names(listed=('GET', 'patch'), any=False), "
        "headers=Names(listed=(), any=False), expose_headers=Names(listed=(), any=False), "
        "credentials=False, max_age=60, private_network=False, paths=None),), verbmatch=False, debug_header=False)"
    )


def test_defaults_allow_the_safelisted_methods_and_nothing_else():
    (policy,) = compiled(origin="*").policies
    assert (policy.methods, policy.headers, policy.expose_headers, policy.credentials, policy.max_age) == (
        Names(listed=("GET", "HEAD", "POST")),
        Names(),
        Names(),
        False,
        None,
    )


def test_nothing_configured_compiles_to_no_policy():
    assert compiled().policies == ()
    assert compiled({}).policies == ()
    assert compiled(policy="deny").policies == ()


@pytest.mark.parametrize(
    ("python_value", "ini_value"),
    [
        pytest.param({"maxage": 600}, {"maxage": "600"}, id="maxage"),
        pytest.param(
            {"origin": "https://a.example", "credentials": True},
            {"origin": "https://a.example", "credentials": "TRUE"},
            id="credentials-true",
        ),
        pytest.param({"credentials": False}, {"credentials": "off"}, id="credentials-false"),
        pytest.param(
            {"origin": ["https://a.example", "https://b.example"]},
            {"origin": "https://a.example\n    https://b.example"},
            id="origin-list-multiline",
        ),
        pytest.param({"methods": ["GET", "POST"]}, {"methods": "GET,POST"}, id="methods"),
        pytest.param({"headers": ("X-A", "X-B")}, {"headers": " X-A , X-B "}, id="headers"),
        pytest.param({"expose_headers": ["X-A"]}, {"expose_headers": "X-A"}, id="expose-headers"),
    ],
)
def test_python_values_and_ini_strings_compile_alike(python_value, ini_value):
    base = {"origin": "*"}
    assert compiled({**base, **python_value}) == compiled({**base, **ini_value})


def test_an_empty_ini_value_leaves_the_default():
    assert compiled(origin="*", maxage="", methods=" ") == compiled(origin="*")


def test_only_the_standard_methods_are_uppercased():
    (policy,) = compiled(origin="*", methods="get, Post, patch, PATCH, get").policies
    assert policy.methods == Names(listed=("GET", "POST", "patch", "PATCH"))


def test_header_names_are_deduplicated_case_insensitively_keeping_the_first_spelling():
    (policy,) = compiled(origin="*", headers="X-Token, x-token, Authorization").policies
    assert policy.headers == Names(listed=("X-Token", "Authorization"))


@pytest.mark.parametrize(
    ("cfg", "kw"),
    [
        pytest.param(None, {"origin": "*"}, id="keywords"),
        pytest.param({"origin": "*"}, {}, id="positional-dict"),
    ],
)
def test_bare_keys_form_one_unnamed_policy_in_every_form(cfg, kw):
    (policy,) = compiled(cfg, **kw).policies
    assert policy.name is None


def test_bare_keys_from_paste_form_one_policy():
    (policy,) = make_middleware(RecordingApp(), {}, origin="*").config.policies
    assert policy.name is None


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            {"policy": "free, subdom", "free_origin": "*", "subdom_origin": "https://*.example.com"},
            id="dict",
        ),
        pytest.param(
            {"policy": ["free", "subdom"], "free_origin": "*", "subdom_origin": "https://*.example.com"},
            id="list",
        ),
    ],
)
def test_named_policies_are_compiled_in_listed_order(settings):
    assert [policy.name for policy in compiled(settings).policies] == ["free", "subdom"]
    assert [policy.name for policy in compiled(**settings).policies] == ["free", "subdom"]


def test_policies_after_deny_are_dropped_with_one_warning(caplog):
    config = compiled(policy="a, deny, b", a_origin="*", b_origin="*")
    assert [policy.name for policy in config.policies] == ["a"]
    assert [warning.key for warning in config.warnings] == ["policy"]
    assert "policy='a, deny, b' lists ['b'] after 'deny', where they are never used" in caplog.text


def test_policies_after_deny_are_still_checked():
    with pytest.raises(ConfigurationError, match=r"^policy 'b': b_maxage='x' is not a non-negative integer$"):
        compiled(policy="a, deny, b", a_origin="*", b_origin="*", b_maxage="x")


def test_a_policy_name_that_prefixes_another_takes_only_its_own_keys():
    config = compiled(policy="a, a_b", a_origin="https://a.example", a_b_origin="https://b.example")
    assert [policy.origins.entries for policy in config.policies] == [
        ("https://a.example",),
        ("https://b.example",),
    ]


def test_keyword_settings_win_over_the_positional_dict():
    (policy,) = compiled({"origin": "*", "maxage": "1"}, maxage=2).policies
    assert policy.max_age == 2


def test_verbmatch_is_compiled():
    assert compiled(policy="a", a_origin="*", matchstrategy=" VerbMatch ").verbmatch is True
    assert compiled(policy="a", a_origin="*", matchstrategy="firstmatch").verbmatch is False


# (settings, the policy and the key the error names, a regex its message matches)
CONFIGURATION_ERRORS = [
    # policies and keys
    pytest.param({"methods": "GET"}, None, "origin", r"^origin is required$", id="origin-missing"),
    pytest.param(
        {"origins": "*"},
        None,
        "origins",
        r"origins='\*' is not a known key; did you mean 'origin'\?",
        id="unknown-keyword",
    ),
    pytest.param(
        {"zzz": "1"},
        None,
        "zzz",
        r"^zzz='1' is not a known key \(known keys: policy, matchstrategy, debug_header, origin, methods, headers,",
        id="unknown-key-without-suggestion",
    ),
    pytest.param(
        {"policy": "free", "free_orign": "*"},
        "free",
        "free_orign",
        r"policy 'free': free_orign='\*' is not a known key; did you mean 'free_origin'\?",
        id="typo",
    ),
    pytest.param(
        {"policy": "free"},
        "free",
        "free_origin",
        r"^policy 'free': free_origin is required$",
        id="listed-without-origin",
    ),
    pytest.param(
        {"policy": "free", "origin": "*", "free_origin": "*"},
        None,
        "origin",
        r"did you mean 'free_origin'",
        id="bare-key-beside-policy",
    ),
    pytest.param({"policy": "a,a", "a_origin": "*"}, None, "policy", r"lists 'a' twice", id="policy-twice"),
    pytest.param({"policy": 7}, None, "policy", r"is not a string or a list of strings", id="policy-type"),
    pytest.param({"policy": "a b"}, None, "policy", r"has a policy name 'a b' that is not a token", id="policy-name"),
    pytest.param(
        {"policy": "deny", "deny_origin": "*"},
        None,
        "deny_origin",
        r"'deny' is a stop and takes no keys",
        id="deny-keys",
    ),
    pytest.param(
        {"origin": "*", "matchstrategy": "bestmatch"},
        None,
        "matchstrategy",
        r"matchstrategy='bestmatch' is not 'firstmatch' or 'verbmatch'",
        id="strategy",
    ),
    pytest.param(
        {"policy": "free,subdomains", "free_origin": "*"},
        "subdomains",
        "subdomains_origin",
        r"^policy 'subdomains': subdomains_origin is required",
        id="listed-policy-never-defined",
    ),
    pytest.param(
        {"policy": "free", "fre_origin": "*"},
        "free",
        "free_origin",
        r"^policy 'free': free_origin is required",
        id="policy-prefix-misspelt",
    ),
    pytest.param({"origin": "", "maxage": "60"}, None, "origin", r"^origin is required", id="empty-origin-value"),
    pytest.param(
        {"origin": "*", "matchstrategy": "first match"},
        None,
        "matchstrategy",
        r"^matchstrategy='first match' is not 'firstmatch' or 'verbmatch'",
        id="matchstrategy-with-space",
    ),
    # maxage
    pytest.param(
        {"maxage": "ten", "origin": "*"},
        None,
        "maxage",
        r"maxage='ten' is not a non-negative integer",
        id="maxage-word",
    ),
    pytest.param(
        {"maxage": -1, "origin": "*"}, None, "maxage", r"maxage=-1 is not a non-negative integer", id="maxage-negative"
    ),
    pytest.param(
        {"maxage": "1.5", "origin": "*"}, None, "maxage", r"is not a non-negative integer", id="maxage-fraction-string"
    ),
    pytest.param({"maxage": True, "origin": "*"}, None, "maxage", r"is not a non-negative integer", id="maxage-bool"),
    pytest.param(
        {"policy": "free", "free_maxage": "ten", "free_origin": "*"},
        "free",
        "free_maxage",
        r"^policy 'free': free_maxage='ten' is not a non-negative integer$",
        id="named-maxage",
    ),
    pytest.param(
        {"origin": "https://example.com", "maxage": "-1"},
        None,
        "maxage",
        r"^maxage='-1' is not a non-negative integer",
        id="maxage-negative-string",
    ),
    pytest.param(
        {"origin": "https://example.com", "maxage": 1.5},
        None,
        "maxage",
        r"^maxage=1\.5 is not a non-negative integer",
        id="maxage-float",
    ),
    pytest.param(
        {"origin": "https://example.com", "maxage": "\uff11\uff10"},
        None,
        "maxage",
        r"^maxage='\uff11\uff10' is not a non-negative integer",
        id="maxage-fullwidth-digits",
    ),
    pytest.param(
        {"origin": "https://example.com", "maxage": "10 20"},
        None,
        "maxage",
        r"^maxage='10 20' is not a non-negative integer",
        id="maxage-two-numbers",
    ),
    # credentials
    pytest.param(
        {"credentials": "yes please", "origin": "*"},
        None,
        "credentials",
        r"credentials='yes please' is not a boolean \(true/false, yes/no, on/off, 1/0\)",
        id="credentials",
    ),
    pytest.param({"credentials": 1, "origin": "*"}, None, "credentials", r"is not a boolean", id="credentials-int"),
    pytest.param(
        {"origin": "https://example.com", "credentials": "ture"},
        None,
        "credentials",
        r"^credentials='ture' is not a boolean \(true/false, yes/no, on/off, 1/0\)",
        id="credentials-misspelt",
    ),
    pytest.param(
        {"policy": "free", "free_origin": "https://example.com", "free_credentials": "maybe"},
        "free",
        "free_credentials",
        r"^policy 'free': free_credentials='maybe' is not a boolean \(true/false, yes/no, on/off, 1/0\)",
        id="named-credentials-maybe",
    ),
    # origin entries
    pytest.param(
        {"origin": ["https://a.example", 3]},
        None,
        "origin",
        r"is not a string or a list of strings",
        id="origin-item-type",
    ),
    pytest.param(
        {"origin": "https://example.com/"},
        None,
        "origin",
        r"has an entry 'https://example.com/' with a path",
        id="origin-slash",
    ),
    pytest.param({"origin": []}, None, "origin", r"origin=\[\] lists no origin", id="origin-empty-list"),
    pytest.param(
        {"origin": "https://example.com/path"},
        None,
        "origin",
        r"^origin='https://example\.com/path' has an entry .+ with a path, query or fragment",
        id="origin-path",
    ),
    pytest.param(
        {"origin": "https://example.com?q=1"},
        None,
        "origin",
        r"^origin='https://example\.com\?q=1' has an entry .+ that is not an origin pattern",
        id="origin-query",
    ),
    pytest.param(
        {"origin": "https://example.com#top"},
        None,
        "origin",
        r"^origin='https://example\.com#top' has an entry .+ with a path, query or fragment",
        id="origin-fragment",
    ),
    pytest.param(
        {"origin": "https://user@example.com"},
        None,
        "origin",
        r"^origin='https://user@example\.com' has an entry .+ that is not an origin",
        id="origin-userinfo",
    ),
    pytest.param(
        {"origin": "https://example.com:0"},
        None,
        "origin",
        r"^origin='https://example\.com:0' has an entry .+ that is not an origin",
        id="origin-port-zero",
    ),
    pytest.param(
        {"origin": "https://example.com:65536"},
        None,
        "origin",
        r"^origin='https://example\.com:65536' has an entry .+ that is not an origin",
        id="origin-port-too-big",
    ),
    pytest.param(
        {"origin": "https://example.com:443:443"},
        None,
        "origin",
        r"^origin='https://example\.com:443:443' has an entry .+ that is not an origin",
        id="origin-two-default-ports",
    ),
    pytest.param(
        {"origin": "https://example.com:8080:443"},
        None,
        "origin",
        r"^origin='https://example\.com:8080:443' has an entry .+ that is not an origin",
        id="origin-two-ports",
    ),
    pytest.param(
        {"origin": "example.com"},
        None,
        "origin",
        r"^origin='example\.com' has an entry .+ that is not an origin",
        id="origin-without-scheme",
    ),
    pytest.param(
        {"origin": "//example.com"},
        None,
        "origin",
        r"^origin='//example\.com' has an entry .+ with a path, query or fragment",
        id="origin-scheme-relative",
    ),
    pytest.param(
        {"origin": "https://"},
        None,
        "origin",
        r"^origin='https://' has an entry .+ that is not an origin",
        id="origin-without-host",
    ),
    pytest.param(
        {"origin": "https://exämple.com"},
        None,
        "origin",
        r"^origin='https://exämple\.com' has an entry .+ that is not ASCII",
        id="origin-not-ascii",
    ),
    pytest.param(
        {"origin": "https://example.com\r\nSet-Cookie: a=b"},
        None,
        "origin",
        r"^origin='https://example\.com\\r\\nSet-Cookie: a=b' has an entry 'Set-Cookie:' that is not an origin",
        id="origin-crlf",
    ),
    pytest.param(
        {"origin": "https://example.com\x00"},
        None,
        "origin",
        r"^origin='https://example\.com\\x00' has an entry .+ that is not an origin",
        id="origin-nul",
    ),
    pytest.param(
        {"origin": "* https://example.com"},
        None,
        "origin",
        r"^origin='\* https://example\.com' mixes '\*' with other entries",
        id="origin-star-among-others",
    ),
    pytest.param(
        {"origin": "copy https://example.com"},
        None,
        "origin",
        r"^origin='copy https://example\.com' mixes 'copy' with other entries",
        id="origin-copy-among-others",
    ),
    pytest.param(
        {"origin": 123}, None, "origin", r"^origin=123 is not a string or a list of strings", id="origin-a-number"
    ),
    pytest.param(
        {"policy": "free", "free_origin": "https://example.com/"},
        "free",
        "free_origin",
        r"^policy 'free': free_origin='https://example\.com/' has an entry .+ with a path, query or fragment",
        id="named-origin-trailing-slash",
    ),
    pytest.param(
        {"origin": ["", "  "]}, None, "origin", r"^origin=\['', '  '\] lists no origin", id="origin-list-of-blanks"
    ),
    # patterns
    pytest.param(
        {"origin": "https://*.example.com/"},
        None,
        "origin",
        r"^origin='https://\*\.example\.com/' has an entry .+ with a path, query or fragment",
        id="pattern-trailing-slash",
    ),
    pytest.param(
        {"origin": "https://*.example.com:"},
        None,
        "origin",
        r"^origin='https://\*\.example\.com:' has an entry .+ that is not an origin pattern",
        id="pattern-empty-port",
    ),
    pytest.param(
        {"origin": "https://*.example.com:*x"},
        None,
        "origin",
        r"^origin='https://\*\.example\.com:\*x' has an entry .+ that is not an origin pattern",
        id="pattern-port-with-letter",
    ),
    pytest.param(
        {"origin": "https://*.example.com:0"},
        None,
        "origin",
        r"^origin='https://\*\.example\.com:0' has an entry .+ that is not an origin pattern",
        id="pattern-port-zero",
    ),
    pytest.param(
        {"origin": "https://*.example.com:99999"},
        None,
        "origin",
        r"^origin='https://\*\.example\.com:99999' has an entry .+ that is not an origin pattern",
        id="pattern-port-too-big",
    ),
    pytest.param(
        {"origin": "https://*..example.com"},
        None,
        "origin",
        r"^origin='https://\*\.\.example\.com' has an entry .+ that is not an origin pattern",
        id="pattern-empty-label",
    ),
    pytest.param(
        {"origin": "https://*.ex@mple.com"},
        None,
        "origin",
        r"^origin='https://\*\.ex@mple\.com' has an entry .+ that is not an origin pattern",
        id="pattern-userinfo",
    ),
    pytest.param(
        {"origin": "https://*.[::1]"},
        None,
        "origin",
        r"^origin='https://\*\.\[::1\]' has an entry .+ that is not an origin pattern",
        id="pattern-wildcard-beside-ipv6",
    ),
    pytest.param(
        {"origin": "http*"},
        None,
        "origin",
        r"^origin='http\*' has an entry .+ that is not an origin pattern",
        id="pattern-without-separator",
    ),
    pytest.param(
        {"origin": "*://"},
        None,
        "origin",
        r"^origin='\*://' has an entry .+ that is not an origin pattern",
        id="pattern-without-host",
    ),
    pytest.param(
        {"origin": "?"},
        None,
        "origin",
        r"^origin='\?' has an entry .+ that is not an origin pattern",
        id="pattern-one-character",
    ),
    # methods
    pytest.param(
        {"methods": "GET, TRACE", "origin": "*"}, None, "methods", r"forbidden method 'TRACE'", id="forbidden-method"
    ),
    pytest.param(
        {"methods": "GET, *", "origin": "*"}, None, "methods", r"mixes '\*' with other entries", id="star-mixed-methods"
    ),
    pytest.param(
        {"methods": 3, "origin": "*"}, None, "methods", r"is not a string or a list of strings", id="methods-type"
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": "CONNECT"},
        None,
        "methods",
        r"^methods='CONNECT' has the forbidden method 'CONNECT'",
        id="method-connect",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": "TRACE"},
        None,
        "methods",
        r"^methods='TRACE' has the forbidden method 'TRACE'",
        id="method-trace",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": "TRACK"},
        None,
        "methods",
        r"^methods='TRACK' has the forbidden method 'TRACK'",
        id="method-track",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": ["GET", "Connect"]},
        None,
        "methods",
        r"^methods=\['GET', 'Connect'\] has the forbidden method 'Connect'",
        id="method-connect-in-a-python-list",
    ),
    pytest.param(
        {"policy": "free", "free_origin": "https://example.com", "free_methods": "TRACE"},
        "free",
        "free_methods",
        r"^policy 'free': free_methods='TRACE' has the forbidden method 'TRACE'",
        id="named-method-trace",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": "G(E)T"},
        None,
        "methods",
        r"^methods='G\(E\)T' has an entry .+ that is not a method name",
        id="method-not-a-token",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": "GET\r\nSet-Cookie: a=b"},
        None,
        "methods",
        r"^methods='GET\\r\\nSet-Cookie: a=b' has an entry .+ that is not a method name",
        id="method-crlf",
    ),
    pytest.param(
        {"origin": "https://example.com", "methods": ","},
        None,
        "methods",
        r"^methods=',' lists no method",
        id="methods-listing-nothing",
    ),
    # header names
    pytest.param(
        {"headers": "X-A, X:B", "origin": "*"},
        None,
        "headers",
        r"entry 'X:B' that is not a header name",
        id="bad-header",
    ),
    pytest.param(
        {"expose_headers": "X A", "origin": "*"}, None, "expose_headers", r"not a header name", id="bad-expose"
    ),
    pytest.param(
        {"origin": "https://example.com", "headers": "X Token"},
        None,
        "headers",
        r"^headers='X Token' has an entry .+ that is not a header name",
        id="header-with-space",
    ),
    pytest.param(
        {"origin": "https://example.com", "headers": "X-Token\r\nSet-Cookie: a=b"},
        None,
        "headers",
        r"^headers='X-Token\\r\\nSet-Cookie: a=b' has an entry .+ that is not a header name",
        id="header-crlf",
    ),
    pytest.param(
        {"origin": "https://example.com", "headers": "X-Ümlaut"},
        None,
        "headers",
        r"^headers='X-Ümlaut' has an entry .+ that is not a header name",
        id="header-not-ascii",
    ),
    pytest.param(
        {"origin": "https://example.com", "headers": "*, X-Token"},
        None,
        "headers",
        r"^headers='\*, X-Token' mixes '\*' with other entries",
        id="headers-star-among-others",
    ),
    pytest.param(
        {"origin": "https://example.com", "headers": b"X-Token"},
        None,
        "headers",
        r"^headers=b'X-Token' is not a string or a list of strings",
        id="headers-bytes",
    ),
    pytest.param(
        {"origin": "https://example.com", "expose_headers": "X-Total\nSet-Cookie: a=b"},
        None,
        "expose_headers",
        r"^expose_headers='X-Total\\nSet-Cookie: a=b' has an entry .+ that is not a header name",
        id="expose-header-lf",
    ),
    pytest.param(
        {"policy": "free", "free_origin": "https://example.com", "free_headers": "X Token"},
        "free",
        "free_headers",
        r"^policy 'free': free_headers='X Token' has an entry .+ that is not a header name",
        id="named-header-with-space",
    ),
]


@pytest.mark.parametrize(("settings", "policy", "key", "message"), CONFIGURATION_ERRORS)
def test_invalid_settings_raise_a_configuration_error_naming_policy_and_key(settings, policy, key, message):
    with pytest.raises(ConfigurationError, match=message) as raised:
        compiled(settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)
    assert str(raised.value.problems[0]).startswith(key if policy is None else f"policy {policy!r}: {key}")


# The same errors from ini strings, through the PasteDeploy filter factory.
INI_IDS = {
    "listed-policy-never-defined",
    "typo",
    "strategy",
    "named-maxage",
    "credentials",
    "named-origin-trailing-slash",
    "pattern-empty-port",
    "method-trace",
    "header-crlf",
}


@pytest.mark.parametrize(
    ("settings", "policy", "key", "message"), [case for case in CONFIGURATION_ERRORS if case.id in INI_IDS]
)
def test_the_paste_deploy_filter_refuses_invalid_ini_strings_alike(settings, policy, key, message):
    assert all(isinstance(value, str) for value in settings.values())
    with pytest.raises(ConfigurationError, match=message) as raised:
        make_middleware(RecordingApp(), {"here": "/srv", "__file__": "/srv/app.ini"}, **settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_maxage": "x", "b_credentials": "maybe"},
            "3 problems in the CORS settings:\n"
            "  policy 'a': a_maxage='x' is not a non-negative integer\n"
            "  policy 'b': b_credentials='maybe' is not a boolean (true/false, yes/no, on/off, 1/0)\n"
            "  policy 'b': b_origin is required",
            id="named-policies",
        ),
        pytest.param(
            {"origin": "https://example.com/", "maxage": "abc", "credentials": "yes please", "methods": "TRACE"},
            "4 problems in the CORS settings:\n"
            "  origin='https://example.com/' has an entry 'https://example.com/' with a path, query or fragment; "
            "an origin is scheme://host[:port], with no trailing slash\n"
            "  maxage='abc' is not a non-negative integer\n"
            "  credentials='yes please' is not a boolean (true/false, yes/no, on/off, 1/0)\n"
            "  methods='TRACE' has the forbidden method 'TRACE': browsers never send CONNECT, TRACE or TRACK",
            id="bare-keys",
        ),
    ],
)
def test_every_problem_is_reported_at_once(settings, message):
    with pytest.raises(ConfigurationError) as raised:
        compiled(settings)
    assert str(raised.value) == message
    assert [str(problem) for problem in raised.value.problems] == message.split("\n  ")[1:]


def test_the_readme_error_example_reads_as_documented():
    with pytest.raises(ConfigurationError) as raised:
        compiled(policy="free", free_orign="*")
    assert str(raised.value) == (
        "2 problems in the CORS settings:\n"
        "  policy 'free': free_orign='*' is not a known key; did you mean 'free_origin'?\n"
        "  policy 'free': free_origin is required"
    )


def test_a_configuration_error_is_a_value_error_with_the_bad_value():
    with pytest.raises(ValueError) as raised:
        compiled(origin="*", maxage="ten")
    assert isinstance(raised.value, ConfigurationError)
    assert (raised.value.value, raised.value.reason) == ("ten", "is not a non-negative integer")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("other_origin", "*", id="origin"),
        # Keys are matched longest first: `expose_headers`, not `headers` of policy 'other_expose'.
        pytest.param("other_expose_headers", "X-Total", id="expose-headers"),
    ],
)
def test_a_key_for_a_policy_that_is_not_listed_is_a_warning_naming_that_policy(caplog, key, value):
    config = compiled({"policy": "free", "free_origin": "*", key: value})
    assert [policy.name for policy in config.policies] == ["free"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"{key}={value!r} is ignored: policy 'other' is not listed in 'policy'")
    ]


def test_prefixed_keys_without_a_policy_list_are_ignored_with_a_warning(caplog):
    assert compiled({"free_origin": "*"}).policies == ()
    assert "policy 'free' is not listed" in caplog.text


@pytest.mark.parametrize(
    ("settings", "warning"),
    [
        pytest.param(
            {"origin": "null", "credentials": "true"},
            "origin='null' with credentials=true lets any page read the answers: sandboxed iframes and data: URLs "
            "send Origin: null",
            id="null-credentials",
        ),
        pytest.param(
            {"origin": "http://a.example.com", "credentials": "true"},
            "origin='http://a.example.com' with credentials=true lets an attacker on the network, who can inject "
            "script into a plain-http page, read the answers; list https:// origins",
            id="plain-http-credentials",
        ),
        pytest.param(
            {"origin": "https://*.com", "credentials": "true"},
            "origin='https://*.com' with credentials=true trusts every site under a top-level domain; list the sites",
            id="top-level-domain-credentials",
        ),
        pytest.param(
            {"policy": "p", "p_origin": "copy", "p_credentials": "true"},
            "policy 'p': p_origin='copy' with p_credentials=true lets every site make credentialed requests",
            id="copy-credentials",
        ),
        pytest.param({"origin": "https://*example.com"}, "can cross a dot boundary", id="dot-boundary"),
        pytest.param(
            {"origin": "*.example.com"},
            "origin='*.example.com' has no scheme, so it matches every scheme: http://, https://, wss://",
            id="no-scheme",
        ),
    ],
)
def test_risky_settings_log_one_warning_at_construction(caplog, settings, warning):
    app = CORS(RecordingApp(), settings)
    assert len(caplog.records) == 1
    assert caplog.records[0].levelname == "WARNING"
    assert warning in caplog.records[0].getMessage()
    caplog.clear()
    TestApp(app).get("/", headers={"Origin": "https://a.example.com"})
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_safe_settings_log_nothing(caplog):
    compiled(origin="https://*.example.com https://example.com", credentials=True)
    # Browsers trust loopback origins over plain http.
    compiled(origin="http://localhost:8080 http://127.0.0.1:6543 http://*.localhost", credentials=True)
    assert caplog.records == []


# Origins that leave the whole host to wildcards: with credentials every site could read
# users' answers (Hono CVE-2026-54290), so they are refused at construction.
HOST_WIDE_ORIGINS = [
    pytest.param("*", id="star"),
    pytest.param("https://*", id="any-https-host"),
    pytest.param("*://*", id="any-scheme-any-host"),
    pytest.param("http*://*", id="any-http-scheme-any-host"),
    pytest.param("https://?*", id="question-mark-star"),
    pytest.param("https://*.*", id="two-wild-labels"),
    pytest.param("*.*", id="scheme-less-two-wild-labels"),
]


@pytest.mark.parametrize("origin", HOST_WIDE_ORIGINS)
def test_an_origin_every_site_matches_is_refused_with_credentials(origin):
    with pytest.raises(ConfigurationError) as raised:
        compiled(origin=origin, credentials="true")
    assert (raised.value.policy, raised.value.key, raised.value.value) == (None, "origin", origin)
    message = str(raised.value)
    assert message.startswith(f"origin={origin!r} is refused with credentials=true: ")
    what = (
        "'*' allows every origin"
        if origin == "*"
        else (f"{origin!r} leaves the whole host to wildcards, so it allows every site")
    )
    assert f": {what}, and with credentials every such site could read your users' answers. " in message
    assert "Drop credentials, or list the origins" in message
    assert message.endswith("write origin=copy")


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"policy": "p", "p_origin": "https://*", "p_credentials": "yes"}, id="listed"),
        pytest.param(
            {"policy": "ok, p", "ok_origin": "https://a.example", "p_origin": "https://*", "p_credentials": "yes"},
            id="second",
        ),
        pytest.param({"policy": "deny, p", "p_origin": "https://*", "p_credentials": "yes"}, id="after-deny"),
    ],
)
def test_every_listed_policy_is_refused_an_origin_every_site_matches_with_credentials(settings):
    with pytest.raises(ConfigurationError) as raised:
        compiled(settings)
    assert (raised.value.policy, raised.value.key) == ("p", "p_origin")
    assert str(raised.value).startswith("policy 'p': p_origin='https://*' is refused with p_credentials=true: ")
    assert str(raised.value).endswith("write p_origin=copy")


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("copy", id="copy"),
        pytest.param("https://*.example.com", id="subdomains"),
        pytest.param("*://*.example.com", id="subdomains-any-scheme"),
        pytest.param("https://*.example.*", id="fixed-label-in-the-middle"),
    ],
)
def test_an_origin_keeping_part_of_the_host_fixed_is_allowed_with_credentials(origin):
    (policy,) = compiled(origin=origin, credentials="true").policies
    assert policy.credentials is True


def test_paste_global_conf_is_not_read():
    app = make_middleware(
        RecordingApp(),
        {"here": "/srv", "__file__": "/srv/app.ini", "origin": "*", "maxage": "x"},
        origin="https://a.example",
    )
    (policy,) = app.config.policies
    assert (policy.origins.entries, policy.max_age) == (("https://a.example",), None)


def test_paste_global_conf_alone_configures_nothing():
    assert make_middleware(RecordingApp(), {"origin": "*", "here": "/srv"}).config.policies == ()
