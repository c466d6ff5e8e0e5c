"""Settings compiled once at construction: defaults, normalization, errors, warnings."""

from __future__ import annotations

import pytest
from support import RecordingApp

from wsgicors import CORS, ConfigurationError, make_middleware


def compiled(settings=None, **kw):
    return CORS(RecordingApp(), settings, **kw).config


def test_a_compiled_policy_reads_back_as_configured():
    config = compiled(origin="https://A.example:443 https://*.b.example", methods="get, patch", maxage="60")
    assert repr(config) == (
        "Config(policies=(Policy(name=None, origins=OriginMatcher(entries=('https://a.example', "
        "'https://*.b.example')), methods=('GET', 'patch'), headers=(), expose_headers=(), "
        "credentials=False, max_age=60, private_network=False),), verbmatch=False, debug_header=False)"
    )


def test_defaults_allow_the_safelisted_methods_and_nothing_else():
    (policy,) = compiled(origin="*").policies
    assert (policy.methods, policy.headers, policy.expose_headers, policy.credentials, policy.max_age) == (
        ("GET", "HEAD", "POST"),
        (),
        (),
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
        pytest.param({"credentials": True}, {"credentials": "TRUE"}, id="credentials-true"),
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
    assert policy.methods == ("GET", "POST", "patch", "PATCH")


def test_header_names_are_deduplicated_case_insensitively_keeping_the_first_spelling():
    (policy,) = compiled(origin="*", headers="X-Token, x-token, Authorization").policies
    assert policy.headers == ("X-Token", "Authorization")


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"origin": "*"}, id="keywords"),
        pytest.param({"cfg": {"origin": "*"}}, id="positional-dict"),
    ],
)
def test_bare_keys_form_one_unnamed_policy_in_every_form(settings):
    cfg = settings.pop("cfg", None)
    (policy,) = compiled(cfg, **settings).policies
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


@pytest.mark.parametrize(
    ("settings", "policy", "key", "message"),
    [
        pytest.param(
            {"maxage": "ten", "origin": "*"},
            None,
            "maxage",
            "maxage='ten' is not a non-negative integer",
            id="maxage-word",
        ),
        pytest.param(
            {"maxage": -1, "origin": "*"},
            None,
            "maxage",
            "maxage=-1 is not a non-negative integer",
            id="maxage-negative",
        ),
        pytest.param(
            {"maxage": "1.5", "origin": "*"},
            None,
            "maxage",
            "is not a non-negative integer",
            id="maxage-float",
        ),
        pytest.param(
            {"maxage": True, "origin": "*"}, None, "maxage", "is not a non-negative integer", id="maxage-bool"
        ),
        pytest.param(
            {"credentials": "yes please", "origin": "*"},
            None,
            "credentials",
            "credentials='yes please' is not a boolean \\(true/false, yes/no, on/off, 1/0\\)",
            id="credentials",
        ),
        pytest.param({"credentials": 1, "origin": "*"}, None, "credentials", "is not a boolean", id="credentials-int"),
        pytest.param(
            {"methods": "GET, TRACE", "origin": "*"},
            None,
            "methods",
            "forbidden method 'TRACE'",
            id="forbidden-method",
        ),
        pytest.param(
            {"methods": "connect", "origin": "*"},
            None,
            "methods",
            "forbidden method 'connect'",
            id="forbidden-method-lowercase",
        ),
        pytest.param(
            {"methods": "GET, *", "origin": "*"},
            None,
            "methods",
            "mixes '\\*' with other entries",
            id="star-mixed-methods",
        ),
        pytest.param(
            {"methods": "GE T", "origin": "*"},
            None,
            "methods",
            "entry 'GE T' that is not a method name",
            id="bad-method",
        ),
        pytest.param(
            {"headers": "X-A, X:B", "origin": "*"},
            None,
            "headers",
            "entry 'X:B' that is not a header name",
            id="bad-header",
        ),
        pytest.param(
            {"expose_headers": "X A", "origin": "*"},
            None,
            "expose_headers",
            "not a header name",
            id="bad-expose",
        ),
        pytest.param(
            {"methods": 3, "origin": "*"},
            None,
            "methods",
            "is not a string or a list of strings",
            id="methods-type",
        ),
        pytest.param(
            {"origin": ["https://a.example", 3]},
            None,
            "origin",
            "is not a string or a list of strings",
            id="origin-item-type",
        ),
        pytest.param(
            {"origin": "https://example.com/"},
            None,
            "origin",
            "has an entry 'https://example.com/' with a path",
            id="origin-slash",
        ),
        pytest.param({"origin": []}, None, "origin", "origin=\\[\\] lists no origin", id="origin-empty-list"),
        pytest.param({"methods": "GET"}, None, "origin", "^origin is required$", id="origin-missing"),
        pytest.param(
            {"origins": "*"},
            None,
            "origins",
            "origins='\\*' is not a known key; did you mean 'origin'\\?",
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
            "policy 'free': free_orign='\\*' is not a known key; did you mean 'free_origin'\\?",
            id="typo",
        ),
        pytest.param(
            {"policy": "free", "free_maxage": "ten", "free_origin": "*"},
            "free",
            "free_maxage",
            "^policy 'free': free_maxage='ten' is not a non-negative integer$",
            id="named-maxage",
        ),
        pytest.param(
            {"policy": "free"},
            "free",
            "free_origin",
            "^policy 'free': free_origin is required$",
            id="listed-without-origin",
        ),
        pytest.param(
            {"policy": "free", "origin": "*", "free_origin": "*"},
            None,
            "origin",
            "did you mean 'free_origin'",
            id="bare-key-beside-policy",
        ),
        pytest.param({"policy": "a,a", "a_origin": "*"}, None, "policy", "lists 'a' twice", id="policy-twice"),
        pytest.param({"policy": 7}, None, "policy", "is not a string or a list of strings", id="policy-type"),
        pytest.param(
            {"policy": "a b"}, None, "policy", "has a policy name 'a b' that is not a token", id="policy-name"
        ),
        pytest.param(
            {"policy": "deny", "deny_origin": "*"},
            None,
            "deny_origin",
            "'deny' is a stop and takes no keys",
            id="deny-keys",
        ),
        pytest.param(
            {"origin": "*", "matchstrategy": "bestmatch"},
            None,
            "matchstrategy",
            "matchstrategy='bestmatch' is not 'firstmatch' or 'verbmatch'",
            id="strategy",
        ),
    ],
)
def test_invalid_settings_raise_a_configuration_error_naming_policy_and_key(settings, policy, key, message):
    with pytest.raises(ConfigurationError, match=message) as raised:
        compiled(settings)
    assert (raised.value.policy, raised.value.key) == (policy, key)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigurationError) as raised:
        compiled(policy="a, b", a_origin="*", a_maxage="x", b_credentials="maybe")
    assert str(raised.value) == (
        "3 problems in the CORS settings:\n"
        "  policy 'a': a_maxage='x' is not a non-negative integer\n"
        "  policy 'b': b_credentials='maybe' is not a boolean (true/false, yes/no, on/off, 1/0)\n"
        "  policy 'b': b_origin is required"
    )
    assert [problem.key for problem in raised.value.problems] == ["a_maxage", "b_credentials", "b_origin"]


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


def test_a_key_for_a_policy_that_is_not_listed_is_a_warning(caplog):
    config = compiled(policy="free", free_origin="*", other_origin="*")
    assert [policy.name for policy in config.policies] == ["free"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "other_origin='*' is ignored: policy 'other' is not listed in 'policy'")
    ]


def test_prefixed_keys_without_a_policy_list_are_ignored_with_a_warning(caplog):
    assert compiled({"free_origin": "*"}).policies == ()
    assert "policy 'free' is not listed" in caplog.text


@pytest.mark.parametrize(
    ("settings", "warning"),
    [
        pytest.param(
            {"origin": "*", "credentials": "true"},
            "origin='*' with credentials=true lets every site make credentialed requests and read the answers",
            id="star-credentials",
        ),
        pytest.param(
            {"policy": "p", "p_origin": "copy", "p_credentials": "true"},
            "policy 'p': p_origin='copy' with p_credentials=true lets every site make credentialed requests",
            id="copy-credentials",
        ),
        pytest.param({"origin": "https://*example.com"}, "can cross a dot boundary", id="dot-boundary"),
        pytest.param({"origin": "*.example.com"}, "has no scheme", id="no-scheme"),
    ],
)
def test_risky_settings_log_one_warning_at_construction(caplog, settings, warning):
    app = CORS(RecordingApp(), settings)
    assert len(caplog.records) == 1
    assert caplog.records[0].levelname == "WARNING"
    assert warning in caplog.records[0].getMessage()
    caplog.clear()
    TestStack = __import__("webtest").TestApp
    TestStack(app).get("/", headers={"Origin": "https://a.example.com"})
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_safe_settings_log_nothing(caplog):
    compiled(origin="https://*.example.com https://example.com", credentials=True)
    assert caplog.records == []


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
