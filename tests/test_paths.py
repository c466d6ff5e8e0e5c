"""Policies by path (``paths``, ``<policy>_paths``): exact entries and ``/prefix/*``, matched
against ``PATH_INFO`` exactly as the server delivered it, failing closed.

Where flask-cors and rack-cors went wrong is a row here: a broad pattern tried before a
specific one (CVE-2024-6839), ``+`` decoded as a space (CVE-2024-6844), case-insensitive
matching (CVE-2024-6866), and ``/data/*`` matching ``/database`` (rack-cors).
"""

from __future__ import annotations

import io
import json
import logging
import textwrap
from typing import Any, Optional

import pytest
from support import RecordingApp, call, cors_headers, make_environ, output_within_limit, values

from wsgicors import CORS, ConfigurationError
from wsgicors.cli import main

SITE = "https://app.example.com"
PARTNER = "https://partner.example"
ADMIN = "https://admin.example.com"
EVIL = "https://evil.example"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
#: Exactly what a refused preflight gets: no ``Access-Control-Allow-*``, nothing for the path.
REFUSED_PREFLIGHT = [("Content-Type", "text/plain"), ("Content-Length", "0"), ("Vary", PREFLIGHT_VARY)]
NOT_COVERED = "no policy covers this path"


def wire(text: str) -> str:
    """``text`` as a WSGI server hands it over: its UTF-8 bytes decoded as latin-1 (PEP 3333)."""
    return text.encode("utf-8").decode("latin-1")


def environ_for(
    path: Optional[str],
    origin: Optional[str] = SITE,
    method: str = "GET",
    script_name: str = "",
    request_method: Optional[str] = None,
    request_headers: Optional[str] = None,
) -> dict[str, Any]:
    """A request to ``PATH_INFO=path`` (``None``: no ``PATH_INFO`` at all), built directly so
    that nothing between the test and the middleware normalises the path."""
    environ = make_environ(method, origin, request_method, request_headers)
    environ["SCRIPT_NAME"] = script_name
    if path is None:
        del environ["PATH_INFO"]
    else:
        environ["PATH_INFO"] = path
    return environ


def preflight_for(path: Optional[str], origin: str = SITE, method: str = "GET", **kw: Any) -> dict[str, Any]:
    return environ_for(path, origin, "OPTIONS", request_method=method, **kw)


def middleware(settings: Optional[dict[str, Any]] = None, **kw: Any) -> CORS:
    return CORS(RecordingApp(), settings, **kw)


def problems_text(settings: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as raised:
        middleware(settings)
    return str(raised.value)


# -- configuration: the entry forms, and nothing else ------------------------------------------


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        pytest.param("api/*", "api/*", id="no-leading-slash"),
        pytest.param("api", "api", id="bare-word"),
        pytest.param("*", "*", id="bare-star"),
        pytest.param("https://app.example.com/api/*", "https://app.example.com/api/*", id="url"),
        pytest.param("^/api/.*$", "^/api/.*$", id="regex-anchors"),
        pytest.param("/api*", "/api*", id="star-without-slash"),
        pytest.param("/api/*/items", "/api/*/items", id="star-inside"),
        pytest.param("/*/items", "/*/items", id="star-first-segment"),
        pytest.param("/api/x*", "/api/x*", id="star-glued-to-a-name"),
        pytest.param("/api/**", "/api/**", id="double-star"),
        pytest.param("/**", "/**", id="double-star-everything"),
        pytest.param("/api/.*", "/api/.*", id="regex-dot-star"),
        pytest.param("/api?x=1", "/api?x=1", id="query"),
        pytest.param("/api/?", "/api/?", id="question-mark"),
        pytest.param("/api#top", "/api#top", id="fragment"),
        pytest.param("/api%2Fitems", "/api%2Fitems", id="percent-encoded-slash"),
        pytest.param("/caf%C3%A9/*", "/caf%C3%A9/*", id="percent-encoded-letter"),
        pytest.param("/api/%", "/api/%", id="lone-percent"),
        pytest.param("/api/../admin", "/api/../admin", id="dot-dot-segment"),
        pytest.param("/api/./items", "/api/./items", id="dot-segment"),
        pytest.param("/api/..", "/api/..", id="final-dot-dot"),
        pytest.param("/.", "/.", id="root-dot"),
        pytest.param("/api/../*", "/api/../*", id="dot-dot-before-star"),
        pytest.param("//api", "//api", id="leading-empty-segment"),
        pytest.param("/api//items", "/api//items", id="inner-empty-segment"),
        pytest.param("/api//*", "/api//*", id="empty-segment-before-star"),
        pytest.param("//", "//", id="two-slashes"),
        pytest.param("/api/* admin/*", "admin/*", id="second-entry-of-a-whitespace-list"),
        pytest.param("/api/*,admin/*", "admin/*", id="second-entry-of-a-comma-list"),
        pytest.param("/files/a b", "b", id="space-in-ini-form-splits-entries"),
        pytest.param(["/api/*", "admin/*"], "admin/*", id="python-list"),
    ],
)
def test_an_entry_that_is_not_one_of_the_forms_is_an_error_naming_policy_key_and_entry(value, entry):
    message = problems_text({"policy": "api", "api_origin": SITE, "api_paths": value})
    assert "'api'" in message
    assert "api_paths" in message
    assert repr(entry) in message
    assert "write" in message


def test_the_error_suggests_the_right_form():
    message = problems_text({"policy": "api", "api_origin": SITE, "api_paths": "api/*"})
    assert "write '/api/*'" in message


def test_the_error_for_the_unnamed_policy_names_the_key_paths():
    with pytest.raises(ConfigurationError) as raised:
        middleware(origin=SITE, paths="api/*")
    assert raised.value.key == "paths"
    assert raised.value.policy is None
    assert "'api/*'" in str(raised.value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty-string"),
        pytest.param("   ", id="blank-string"),
        pytest.param("\n    \n", id="blank-ini-lines"),
        pytest.param(",", id="only-a-comma"),
        pytest.param(" , ,", id="only-commas"),
        pytest.param([], id="empty-list"),
        pytest.param((), id="empty-tuple"),
        pytest.param(None, id="None-from-python"),  # paths=os.environ.get("UNSET")
    ],
)
def test_a_blank_value_is_an_error_not_every_path(value):
    # A policy must never open up because a value went missing.
    with pytest.raises(ConfigurationError) as raised:
        middleware({"policy": "api", "api_origin": SITE, "api_paths": value})
    assert (raised.value.policy, raised.value.key) == ("api", "api_paths")


def test_a_blank_value_is_an_error_for_the_unnamed_policy_too():
    with pytest.raises(ConfigurationError) as raised:
        middleware(origin=SITE, paths="")
    assert raised.value.key == "paths"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(42, id="number"),
        pytest.param(["/api/*", 3], id="list-with-a-number"),
        pytest.param({"/api/*": True}, id="dict"),
    ],
)
def test_a_value_that_is_not_a_string_or_a_list_of_strings_is_an_error(value):
    with pytest.raises(ConfigurationError) as raised:
        middleware({"policy": "api", "api_origin": SITE, "api_paths": value})
    assert (raised.value.policy, raised.value.key) == ("api", "api_paths")


def test_the_bad_paths_of_every_policy_are_reported_at_once():
    with pytest.raises(ConfigurationError) as raised:
        middleware(
            {
                "policy": "api, admin",
                "api_origin": SITE,
                "api_paths": "api/*",
                "admin_origin": ADMIN,
                "admin_paths": "/admin*",
            }
        )
    assert [(problem.policy, problem.key) for problem in raised.value.problems] == [
        ("api", "api_paths"),
        ("admin", "admin_paths"),
    ]
    assert "'api/*'" in str(raised.value)
    assert "'/admin*'" in str(raised.value)


def test_a_bad_entry_in_a_policy_after_deny_is_still_an_error():
    with pytest.raises(ConfigurationError):
        middleware({"policy": "api, deny, later", "api_origin": SITE, "later_origin": SITE, "later_paths": "later"})


@pytest.mark.parametrize(
    ("python_value", "ini_value"),
    [
        pytest.param(["/api/*", "/public"], "/api/* /public", id="whitespace"),
        pytest.param(["/api/*", "/public"], "/api/*,/public", id="comma"),
        pytest.param(["/api/*", "/public"], " /api/* , /public ", id="comma-and-spaces"),
        pytest.param(["/api/*", "/public"], "\n    /api/*\n    /public", id="ini-lines"),
        pytest.param(("/api/*",), "/api/*", id="tuple"),
    ],
)
def test_python_lists_and_ini_strings_compile_alike(python_value, ini_value):
    base = {"policy": "api", "api_origin": SITE}
    assert middleware({**base, "api_paths": python_value}).config == middleware({**base, "api_paths": ini_value}).config


def test_an_entry_from_a_python_list_may_contain_a_space():
    cors = middleware(origin=SITE, paths=["/files/a b"])
    assert cors_headers(call(cors, environ_for("/files/a b")).headers) == {"Access-Control-Allow-Origin": SITE}
    assert cors_headers(call(cors, environ_for("/files/a")).headers) == {}


# -- which paths an entry covers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "path", "covered"),
    [
        # /exact/path: exactly that path.
        pytest.param("/api/items", "/api/items", True, id="exact-itself"),
        pytest.param("/api/items", "/api/items/", False, id="exact-not-with-a-trailing-slash"),
        pytest.param("/api/items", "/api/items/1", False, id="exact-not-below"),
        pytest.param("/api/items", "/api", False, id="exact-not-above"),
        pytest.param("/api/items", "/api/itemsx", False, id="exact-not-longer"),
        pytest.param("/api/items", "/api/item", False, id="exact-not-shorter"),
        # /prefix/*: the prefix itself and everything below it, at a segment boundary.
        pytest.param("/api/*", "/api", True, id="prefix-itself"),
        pytest.param("/api/*", "/api/", True, id="prefix-with-a-trailing-slash"),
        pytest.param("/api/*", "/api/items", True, id="prefix-below"),
        pytest.param("/api/*", "/api/items/1/parts", True, id="prefix-deep-below"),
        pytest.param("/api/*", "/apix", False, id="prefix-segment-boundary"),
        pytest.param("/api/*", "/apis/items", False, id="prefix-longer-first-segment"),
        pytest.param("/data/*", "/database", False, id="prefix-rack-cors-data-database"),
        pytest.param("/api/*", "/ap", False, id="prefix-shorter"),
        pytest.param("/api/*", "/", False, id="prefix-not-root"),
        pytest.param("/api/*", "/v1/api/items", False, id="prefix-only-at-the-start"),
        pytest.param("/api/v1/*", "/api/v1", True, id="nested-prefix-itself"),
        pytest.param("/api/v1/*", "/api/v10", False, id="nested-prefix-segment-boundary"),
        pytest.param("/api/v1/*", "/api/v2/items", False, id="nested-prefix-sibling"),
        # /*: every path.
        pytest.param("/*", "/", True, id="everything-root"),
        pytest.param("/*", "/any/deep/path", True, id="everything-deep"),
        pytest.param("/*", "", True, id="everything-empty-path-info"),
        # A trailing slash is part of a path.
        pytest.param("/api/x/", "/api/x/", True, id="trailing-slash-entry-itself"),
        pytest.param("/api/x/", "/api/x", False, id="trailing-slash-entry-not-without"),
        pytest.param("/api/x/", "/api/x/y", False, id="trailing-slash-entry-is-exact"),
        # /: the root only.
        pytest.param("/", "/", True, id="root-itself"),
        pytest.param("/", "", True, id="root-empty-path-info"),
        pytest.param("/", "/x", False, id="root-not-below"),
        # Several entries: any of them.
        pytest.param("/api/* /public", "/public", True, id="second-entry"),
        pytest.param("/api/* /public", "/public/x", False, id="second-entry-exact"),
        # Characters that mean something in a regex or a glob mean nothing here.
        pytest.param("/api/v1.0/*", "/api/v1x0/items", False, id="dot-is-literal"),
        pytest.param("/api/v1.0/*", "/api/v1.0/items", True, id="dot-literal-match"),
        pytest.param("/files/a+b", "/files/aab", False, id="plus-is-literal"),
        pytest.param("/files/[ab]", "/files/a", False, id="brackets-are-literal"),
        pytest.param("/files/[ab]", "/files/[ab]", True, id="brackets-literal-match"),
    ],
)
def test_a_policy_with_paths_answers_only_the_paths_it_covers(paths, path, covered):
    response = call(middleware(origin=SITE, paths=paths), environ_for(path))
    assert cors_headers(response.headers) == ({"Access-Control-Allow-Origin": SITE} if covered else {})
    assert values(response.headers, "Vary") == ["Origin"]


@pytest.mark.parametrize(
    ("paths", "covered"),
    [
        pytest.param("/", True, id="root"),
        pytest.param("/*", True, id="everything"),
        pytest.param("/api/*", False, id="prefix"),
    ],
)
def test_a_missing_path_info_is_the_root(paths, covered):
    response = call(middleware(origin=SITE, paths=paths), environ_for(None))
    assert cors_headers(response.headers) == ({"Access-Control-Allow-Origin": SITE} if covered else {})


@pytest.mark.parametrize(
    ("script_name", "path", "covered"),
    [
        pytest.param("/app", "/api/items", True, id="mounted-path-info-covered"),
        pytest.param("/api", "/items", False, id="script-name-is-not-matched"),
        pytest.param("/api", "", False, id="mount-point-itself-is-root"),
    ],
)
def test_the_path_is_relative_to_where_the_middleware_is_mounted(script_name, path, covered):
    response = call(middleware(origin=SITE, paths="/api/*"), environ_for(path, script_name=script_name))
    assert cors_headers(response.headers) == ({"Access-Control-Allow-Origin": SITE} if covered else {})


@pytest.mark.parametrize(
    ("paths", "path", "covered"),
    [
        pytest.param("/café/*", wire("/café/menu"), True, id="utf-8-bytes-as-latin-1"),
        pytest.param("/café/*", wire("/café"), True, id="utf-8-prefix-itself"),
        pytest.param("/café/*", "/café/menu", False, id="code-points-are-not-what-servers-deliver"),
        pytest.param("/café/*", wire("/CAFÉ/menu"), False, id="uppercase"),
        pytest.param("/café/*", wire("/cafe\u0301/menu"), False, id="decomposed-not-normalised"),
        pytest.param("/cafe\u0301/*", wire("/cafe\u0301/menu"), True, id="decomposed-entry-matches-decomposed"),
        pytest.param("/café/*", wire("/caf"), False, id="cut-before-the-letter"),
        pytest.param("/café/*", "/caf%C3%A9/menu", False, id="percent-encoded-is-not-decoded"),
    ],
)
def test_a_non_ascii_entry_is_compared_as_its_utf_8_bytes(paths, path, covered):
    response = call(middleware(origin=SITE, paths=paths), environ_for(path))
    assert cors_headers(response.headers) == ({"Access-Control-Allow-Origin": SITE} if covered else {})


def test_a_request_without_origin_to_an_uncovered_path_gets_no_cors_headers():
    response = call(middleware(origin=SITE, paths="/api/*"), environ_for("/admin", origin=None))
    assert cors_headers(response.headers) == {}
    assert values(response.headers, "Vary") == ["Origin"]


# -- hostile paths: one configuration, exact answers, in any declared order --------------------

# Every policy allows SITE; each is told apart by what it sends.
HOSTILE_POLICIES: dict[str, dict[str, Any]] = {
    "root": {"paths": "/", "expose_headers": "X-Root", "maxage": "1"},
    "admin": {"paths": "/admin/*", "expose_headers": "X-Admin", "maxage": "2", "credentials": "true"},
    "api": {"paths": "/api/*", "expose_headers": "X-Api", "maxage": "3"},
    "public": {"paths": "/public/*", "expose_headers": "X-Public", "maxage": "4"},
    "plus": {"paths": "/files/a+b", "expose_headers": "X-Plus", "maxage": "5"},
    "space": {"paths": ["/files/a b"], "expose_headers": "X-Space", "maxage": "6"},
    "cafe": {"paths": "/café/*", "expose_headers": "X-Cafe", "maxage": "7"},
}
DECLARED = list(HOSTILE_POLICIES)
# Their paths are disjoint, so the order never decides: every order answers alike.
ORDERS = [
    pytest.param(DECLARED, id="declared-order"),
    pytest.param(DECLARED[::-1], id="reversed-order"),
    pytest.param(["api", "cafe", "root", "space", "admin", "plus", "public"], id="shuffled-order"),
]


def hostile_settings(order: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {"policy": ", ".join(order)}
    for name in order:
        settings[f"{name}_origin"] = SITE
        settings.update({f"{name}_{key}": value for key, value in HOSTILE_POLICIES[name].items()})
    return settings


def actual_cors(name: Optional[str]) -> dict[str, str]:
    if name is None:
        return {}
    answer = {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Expose-Headers": HOSTILE_POLICIES[name]["expose_headers"],
    }
    if "credentials" in HOSTILE_POLICIES[name]:
        answer["Access-Control-Allow-Credentials"] = "true"
    return answer


def preflight_cors(name: Optional[str]) -> dict[str, str]:
    if name is None:
        return {}
    answer = {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, HEAD, POST",
        "Access-Control-Max-Age": HOSTILE_POLICIES[name]["maxage"],
    }
    if "credentials" in HOSTILE_POLICIES[name]:
        answer["Access-Control-Allow-Credentials"] = "true"
    return answer


# (PATH_INFO, SCRIPT_NAME, the policy that answers or None)
HOSTILE_PATHS = [
    pytest.param("/api/items", "", "api", id="baseline-api"),
    pytest.param("/admin/users", "", "admin", id="baseline-admin"),
    pytest.param("/public/x", "", "public", id="baseline-public"),
    pytest.param("/", "", "root", id="baseline-root"),
    # + is not a space (CVE-2024-6844), and nothing is percent-decoded.
    pytest.param("/files/a+b", "", "plus", id="plus-is-a-plus"),
    pytest.param("/files/a b", "", "space", id="space-is-a-space"),
    pytest.param("/files/a%20b", "", None, id="percent-20-is-not-decoded"),
    pytest.param("/files/a%2Bb", "", None, id="percent-2B-is-not-decoded"),
    pytest.param("/files/a+b/", "", None, id="plus-entry-is-exact"),
    pytest.param("/api%2Fitems", "", None, id="encoded-slash-is-no-segment-boundary"),
    pytest.param("/api/a%2Fb", "", "api", id="encoded-slash-below-a-prefix-is-a-character"),
    pytest.param("/admin%2Fusers", "", None, id="encoded-slash-after-admin"),
    pytest.param("/public%252Fx", "", None, id="double-encoded-slash-is-no-boundary"),
    pytest.param("/public/%252F", "", "public", id="double-encoded-slash-below-a-prefix"),
    pytest.param("/public/%2e%2e/admin", "", "public", id="encoded-dots-are-characters"),
    # Case-sensitive (CVE-2024-6866).
    pytest.param("/PUBLIC/x", "", None, id="uppercase-prefix"),
    pytest.param("/Public/x", "", None, id="capitalised-prefix"),
    pytest.param("/public/X", "", "public", id="uppercase-below-a-prefix"),
    pytest.param("/ADMIN/users", "", None, id="uppercase-admin"),
    # Dot and empty segments: covered only by policies without paths or with /*.
    pytest.param("/api/../admin", "", None, id="dot-dot-into-admin"),
    pytest.param("/api/../admin/users", "", None, id="dot-dot-into-admin-users"),
    pytest.param("/admin/../api/items", "", None, id="dot-dot-out-of-admin"),
    pytest.param("/api/./items", "", None, id="dot-segment"),
    pytest.param("/api/.", "", None, id="final-dot"),
    pytest.param("/api/..", "", None, id="final-dot-dot"),
    pytest.param("/./api/items", "", None, id="leading-dot"),
    pytest.param("/../api/items", "", None, id="leading-dot-dot"),
    pytest.param("//api/items", "", None, id="leading-empty-segment"),
    pytest.param("/api//items", "", None, id="inner-empty-segment"),
    pytest.param("/api/items//", "", None, id="trailing-empty-segment"),
    pytest.param("//", "", None, id="two-slashes"),
    pytest.param("/api/.hidden", "", "api", id="dot-file-is-no-dot-segment"),
    pytest.param("/api/...", "", "api", id="three-dots-is-no-dot-segment"),
    pytest.param("/api/items.", "", "api", id="trailing-dot-in-a-name"),
    # Segment boundaries and trailing slashes.
    pytest.param("/apix", "", None, id="prefix-glued"),
    pytest.param("/apix/items", "", None, id="prefix-glued-below"),
    pytest.param("/api", "", "api", id="prefix-itself"),
    pytest.param("/api/", "", "api", id="prefix-trailing-slash"),
    pytest.param("/api\\items", "", None, id="backslash-is-no-boundary"),
    pytest.param("/api;x/items", "", None, id="semicolon-is-no-boundary"),
    # Empty and missing PATH_INFO, and mounts.
    pytest.param("", "", "root", id="empty-path-info"),
    pytest.param(None, "", "root", id="missing-path-info"),
    pytest.param("/admin/users", "/api", "admin", id="mounted-under-api-path-info-decides"),
    pytest.param("/users", "/admin", None, id="mounted-under-admin-script-name-not-matched"),
    pytest.param("", "/admin", "root", id="mount-point-is-root"),
    pytest.param("/api/items", "/mount", "api", id="mounted-api"),
    # Non-ASCII, as PEP 3333 delivers it.
    pytest.param(wire("/café/menu"), "", "cafe", id="utf-8-path"),
    pytest.param("/café/menu", "", None, id="code-points-path"),
    pytest.param(wire("/CAFÉ/menu"), "", None, id="utf-8-uppercase"),
    pytest.param(wire("/cafe\u0301/menu"), "", None, id="utf-8-decomposed"),
    pytest.param("/caf%C3%A9/menu", "", None, id="percent-encoded-utf-8"),
]


@pytest.mark.parametrize(("path", "script_name", "policy"), HOSTILE_PATHS)
@pytest.mark.parametrize("order", ORDERS)
def test_a_hostile_path_gets_exactly_the_answer_of_the_policy_covering_it(order, path, script_name, policy):
    app = RecordingApp()
    response = call(CORS(app, hostile_settings(order)), environ_for(path, script_name=script_name))
    assert cors_headers(response.headers) == actual_cors(policy)
    assert values(response.headers, "Vary") == ["Origin"]
    assert (response.status, response.body, app.calls) == ("200 OK", b"body", 1)
    decision = app.environs[-1]["wsgicors.decision"]
    assert decision.reason == (NOT_COVERED if policy is None else f"policy {policy!r}")


@pytest.mark.parametrize(("path", "script_name", "policy"), HOSTILE_PATHS)
@pytest.mark.parametrize("order", ORDERS)
def test_a_preflight_to_a_hostile_path_is_answered_by_the_policy_covering_it(order, path, script_name, policy):
    app = RecordingApp()
    environ = preflight_for(path, script_name=script_name)
    response = call(CORS(app, hostile_settings(order)), environ)
    assert cors_headers(response.headers) == preflight_cors(policy)
    assert values(response.headers, "Vary") == [PREFLIGHT_VARY]
    assert (response.status, response.body, app.calls) == ("200 OK", b"", 0)
    assert environ["wsgicors.decision"].reason == (NOT_COVERED if policy is None else f"policy {policy!r}")


def test_the_hostile_configuration_has_no_warnings():
    # Disjoint paths, exact origins: the rows above are not answered under a warning.
    assert middleware(hostile_settings(DECLARED)).config.warnings == ()


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"origin": SITE, "paths": "/*"}, id="everything"),
        pytest.param({"policy": "a, b", "a_origin": SITE, "a_paths": "/api/*", "b_origin": SITE}, id="no-paths"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/../admin", id="dot-dot"),
        pytest.param("/api/./x", id="dot"),
        pytest.param("//api/x", id="leading-empty-segment"),
        pytest.param("/api//x", id="inner-empty-segment"),
    ],
)
def test_an_unnormalised_path_is_covered_by_a_policy_for_every_path(settings, path):
    response = call(middleware(settings), environ_for(path))
    assert cors_headers(response.headers) == {"Access-Control-Allow-Origin": SITE}


# The match runs in a child process that is killed if it hangs: cutting a path one segment
# at a time copies it once per segment (quadratic), where a bounded number of lookups is
# linear. Real servers cap the request line far lower.
MATCH_ONE_PATH = textwrap.dedent(
    """
    import sys
    from wsgiref.util import setup_testing_defaults
    from wsgicors import CORS

    path = {
        "segments": "/a" * 500_000,
        "segments-below-api": "/api" + "/a" * 500_000,
        "one-segment": "/" + "a" * 1_000_000,
        "slashes": "/" * 1_000_000,
    }[sys.argv[1]]
    cors = CORS(
        lambda e, s: s("200 OK", []) or [],
        origin="https://app.example.com",
        paths="/api/* /files/a/b/c/* /exact",
    )
    answers = set()
    for _ in range(20):
        headers = []
        environ = {"HTTP_ORIGIN": "https://app.example.com", "PATH_INFO": path}
        setup_testing_defaults(environ)
        cors(environ, lambda status, h, exc_info=None: headers.extend(h))
        answers.add(any(name == "Access-Control-Allow-Origin" for name, _ in headers))
    print(answers)
    """
)


@pytest.mark.parametrize(
    ("shape", "covered"),
    [
        pytest.param("segments", False, id="1MB-of-segments"),
        pytest.param("segments-below-api", True, id="1MB-of-segments-below-api"),
        pytest.param("one-segment", False, id="1MB-segment"),
        pytest.param("slashes", False, id="1MB-of-slashes"),
    ],
)
def test_a_huge_path_is_matched_without_hanging(shape, covered):
    output = output_within_limit(MATCH_ONE_PATH, shape, what=f"matching a 1 MB path ({shape}) 20 times")
    assert output == f"{{{covered}}}\n"


# -- the declared order decides --------------------------------------------------------------------

BROAD_AND_SPECIFIC = {
    "broad_origin": SITE,
    "broad_paths": "/api/*",
    "broad_expose_headers": "X-Broad",
    "specific_origin": SITE,
    "specific_paths": "/api/admin/*",
    "specific_expose_headers": "X-Specific",
}


@pytest.mark.parametrize(
    ("order", "expose"),
    [
        pytest.param("broad, specific", "X-Broad", id="broad-first-answers"),
        pytest.param("specific, broad", "X-Specific", id="specific-first-answers"),
    ],
)
def test_the_declared_order_decides_never_the_most_specific_entry(order, expose):
    # CVE-2024-6839 the other way round: no reordering, in either direction.
    cors = CORS(RecordingApp(), {"policy": order, **BROAD_AND_SPECIFIC})
    response = call(cors, environ_for("/api/admin/users"))
    assert cors_headers(response.headers) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Expose-Headers": expose,
    }


@pytest.mark.parametrize("strategy", ["firstmatch", "verbmatch"])
def test_a_policy_that_does_not_cover_the_path_is_skipped_under_both_strategies(strategy):
    cors = middleware(
        {
            "policy": "admin, api",
            "matchstrategy": strategy,
            "admin_origin": SITE,
            "admin_paths": "/admin/*",
            "admin_methods": "GET, PUT",
            "api_origin": SITE,
            "api_paths": "/api/*",
            "api_methods": "GET, DELETE",
        }
    )
    allowed = call(cors, preflight_for("/api/items/1", method="DELETE"))
    assert cors_headers(allowed.headers) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, DELETE",
    }
    refused = call(cors, preflight_for("/api/items/1", method="PUT"))
    assert cors_headers(refused.headers) == {}


ADMIN_AND_PUBLIC = {
    "policy": "admin, public",
    "admin_origin": ADMIN,
    "admin_paths": "/admin/*",
    "admin_credentials": "true",
    "public_origin": "*",
}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        pytest.param(
            ADMIN,
            {"Access-Control-Allow-Origin": ADMIN, "Access-Control-Allow-Credentials": "true"},
            id="listed-origin",
        ),
        pytest.param(EVIL, {"Access-Control-Allow-Origin": "*"}, id="unlisted-origin-falls-through"),
    ],
)
def test_a_request_from_an_origin_the_path_policy_does_not_list_falls_through(origin, expected):
    # What the warning below is about: `admin` does not shut /admin/* to other sites.
    response = call(middleware(ADMIN_AND_PUBLIC), environ_for("/admin/users", origin))
    assert cors_headers(response.headers) == expected


@pytest.mark.parametrize(
    ("path", "origin", "expected"),
    [
        pytest.param(
            "/admin/users",
            ADMIN,
            {"Access-Control-Allow-Origin": ADMIN, "Access-Control-Allow-Credentials": "true"},
            id="admin-from-admin",
        ),
        pytest.param("/admin/users", EVIL, {}, id="admin-from-elsewhere"),
        pytest.param("/api/items", EVIL, {"Access-Control-Allow-Origin": "*"}, id="api-from-anywhere"),
        pytest.param("/", EVIL, {}, id="root-from-anywhere"),
    ],
)
def test_the_fix_gives_the_broad_policy_paths_that_leave_admin_out(path, origin, expected):
    cors = middleware({**ADMIN_AND_PUBLIC, "public_paths": "/api/* /public/*"})
    assert cors.config.warnings == ()
    assert cors_headers(call(cors, environ_for(path, origin)).headers) == expected


# -- preflights to uncovered paths ------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_a_preflight_to_an_uncovered_path_is_refused_here_and_the_app_is_not_called(debug):
    app = RecordingApp()
    cors = CORS(app, origin=SITE, methods="*", headers="*", paths="/api/*", debug_header=debug)
    environ = preflight_for("/admin/users", method="PUT", request_headers="content-type")
    response = call(cors, environ)
    debug_line = [("X-CORS-Decision", f"refused; {NOT_COVERED}")] if debug else []
    assert response == ("200 OK", [*REFUSED_PREFLIGHT, *debug_line], b"")
    assert app.calls == 0
    assert environ["wsgicors.decision"].reason == NOT_COVERED


def test_a_preflight_to_a_covered_path_is_allowed_by_the_same_configuration():
    cors = middleware(origin=SITE, methods="*", headers="*", paths="/api/*")
    response = call(cors, preflight_for("/api/items", method="PUT", request_headers="content-type"))
    assert cors_headers(response.headers) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "content-type",
    }
    assert values(response.headers, "Vary") == [PREFLIGHT_VARY]


def test_a_public_policy_with_paths_answers_star_where_it_covers_and_varies_only_by_origin():
    # Without Origin nothing is added: such a response varies with Origin, so that a cache
    # never hands it to a CORS request. Nothing varies by path: caches key on the URL.
    cors = middleware(origin="*", paths="/public/*")
    covered = call(cors, environ_for("/public/x", EVIL))
    uncovered = call(cors, environ_for("/private/x", EVIL))
    without_origin = call(cors, environ_for("/public/x", None))
    assert cors_headers(covered.headers) == {"Access-Control-Allow-Origin": "*"}
    assert cors_headers(uncovered.headers) == cors_headers(without_origin.headers) == {}
    assert values(covered.headers, "Vary") == values(uncovered.headers, "Vary") == ["Origin"]
    assert values(without_origin.headers, "Vary") == ["Origin"]


# -- answers are never reused across paths -----------------------------------------------------------


@pytest.mark.parametrize(
    ("origin_setting", "origin", "allow_origin"),
    [
        pytest.param(SITE, SITE, SITE, id="exact"),
        pytest.param("https://*.example.com", SITE, SITE, id="pattern"),
        pytest.param("copy", PARTNER, PARTNER, id="copy"),
        pytest.param("*", PARTNER, "*", id="star"),
    ],
)
@pytest.mark.parametrize("strategy", ["firstmatch", "verbmatch"])
def test_an_answer_for_one_path_is_never_reused_for_another(strategy, origin_setting, origin, allow_origin):
    # The lookups and memos that spare a decision per request must not key by origin alone.
    cors = middleware(origin=origin_setting, paths="/api/*", matchstrategy=strategy)
    for _ in range(3):
        for path, covered in (("/api/items", True), ("/admin/users", False)):
            actual = call(cors, environ_for(path, origin))
            preflight = call(cors, preflight_for(path, origin))
            expected = {"Access-Control-Allow-Origin": allow_origin} if covered else {}
            assert cors_headers(actual.headers) == expected
            assert {k: v for k, v in cors_headers(preflight.headers).items() if k.endswith("-Origin")} == expected


# -- paths=/* answers like no paths ---------------------------------------------------------------

WITHOUT_PATHS = [
    pytest.param({"origin": SITE, "methods": "GET, PUT", "credentials": True}, id="exact"),
    pytest.param({"origin": "*", "headers": "*"}, id="star"),
    pytest.param({"origin": "https://*.example.com", "expose_headers": "X-Total"}, id="pattern"),
    pytest.param(
        {"policy": "a, b", "a_origin": PARTNER, "a_methods": "PUT", "b_origin": SITE, "matchstrategy": "verbmatch"},
        id="named-verbmatch",
    ),
]
REQUESTS = [
    pytest.param(lambda path: environ_for(path, SITE), id="actual-allowed"),
    pytest.param(lambda path: environ_for(path, EVIL), id="actual-refused"),
    pytest.param(lambda path: environ_for(path, None), id="no-origin"),
    pytest.param(lambda path: preflight_for(path, SITE, "PUT", request_headers="x-token"), id="preflight"),
    pytest.param(lambda path: preflight_for(path, PARTNER, "PUT"), id="preflight-partner"),
]


def with_every_path(settings: dict[str, Any]) -> dict[str, Any]:
    if "policy" not in settings:
        return {**settings, "paths": "/*"}
    names = [name.strip() for name in settings["policy"].split(",")]
    return {**settings, **{f"{name}_paths": "/*" for name in names}}


@pytest.mark.parametrize("environ_of", REQUESTS)
@pytest.mark.parametrize("settings", WITHOUT_PATHS)
def test_paths_star_answers_exactly_as_no_paths(settings, environ_of):
    for path in ("/", "", "/api/items", "/api/../admin", "//x"):
        without = call(middleware(settings), environ_of(path))
        everything = call(middleware(with_every_path(settings)), environ_of(path))
        assert everything == without, path


# -- the decision and its reason --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "path", "reason"),
    [
        pytest.param({"origin": SITE, "paths": "/api/*"}, "/admin", NOT_COVERED, id="uncovered"),
        pytest.param({"origin": ADMIN, "paths": "/api/*"}, "/api/x", "origin not allowed", id="covered-origin-refused"),
        pytest.param(
            {"policy": "a, b", "a_origin": ADMIN, "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/admin/*"},
            "/api/x",
            "origin not allowed",
            id="covered-by-one-refused-by-it",
        ),
        pytest.param(
            {"origin": SITE, "paths": "/api/*", "matchstrategy": "verbmatch"},
            "/admin",
            NOT_COVERED,
            id="verbmatch-uncovered",
        ),
        pytest.param(
            {"origin": ADMIN, "paths": "/api/*", "matchstrategy": "verbmatch"},
            "/api/x",
            "no policy allows this origin with this method",
            id="verbmatch-covered-origin-refused",
        ),
        pytest.param({"origin": SITE, "paths": "/api/*"}, "/api/../x", NOT_COVERED, id="dot-dot"),
    ],
)
def test_the_decision_says_when_no_policy_covers_the_path(settings, path, reason):
    app = RecordingApp()
    call(CORS(app, settings, debug_header=True), environ_for(path))
    decision = app.environs[-1]["wsgicors.decision"]
    assert (decision.allowed, decision.policy, decision.reason) == (False, None, reason)


def test_the_debug_header_says_when_no_policy_covers_the_path():
    cors = middleware(origin=SITE, paths="/api/*", debug_header=True)
    response = call(cors, environ_for("/admin/users"))
    assert values(response.headers, "X-CORS-Decision") == [f"refused; {NOT_COVERED}"]
    assert values(call(cors, environ_for("/api/x")).headers, "X-CORS-Decision") == ["allowed"]


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param(environ_for("/admin\r\nINFO forged line"), id="actual"),
        pytest.param(preflight_for("/admin\nINFO forged line"), id="preflight"),
    ],
)
def test_the_debug_log_says_when_no_policy_covers_the_path_and_cannot_be_forged(caplog, environ):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    call(middleware(origin=SITE, paths="/api/*"), environ)
    messages = [record.getMessage() for record in caplog.records if record.name == "wsgicors"]
    assert [message for message in messages if "no policy covers" in message], messages
    for message in messages:
        assert message.isprintable(), message


# -- warnings ------------------------------------------------------------------------------------


def warnings_of(settings: dict[str, Any]) -> list[Any]:
    return list(middleware(settings).config.warnings)


def fall_through_warnings(settings: dict[str, Any]) -> list[Any]:
    return [warning for warning in warnings_of(settings) if "falls through" in warning.reason]


def unreachable_warnings(settings: dict[str, Any]) -> list[Any]:
    return [warning for warning in warnings_of(settings) if "can never be selected" in warning.reason]


ADMIN_FIRST = {"policy": "admin, public", "admin_origin": ADMIN, "admin_paths": "/admin/*"}


@pytest.mark.parametrize(
    "public",
    [
        pytest.param({"public_origin": "*"}, id="star-every-path"),
        pytest.param({"public_origin": "copy"}, id="copy-every-path"),
        pytest.param({"public_origin": "https://*.example.org"}, id="pattern-every-path"),
        pytest.param({"public_origin": "https://a.example https://*.b.example"}, id="exact-and-pattern"),
        pytest.param({"public_origin": "*", "public_paths": "/*"}, id="star-paths-everything"),
        pytest.param({"public_origin": "*", "public_paths": "/admin/users"}, id="star-one-admin-path"),
        pytest.param({"public_origin": "*", "public_paths": "/admin"}, id="star-the-prefix-itself"),
        pytest.param({"public_origin": "*", "public_paths": "/admin/users/*"}, id="star-below-admin"),
        pytest.param({"public_origin": "*", "public_paths": "/public/* /admin/x"}, id="star-one-entry-overlaps"),
    ],
)
def test_a_later_broad_policy_covering_a_path_policy_s_paths_is_a_warning(caplog, public):
    settings = {**ADMIN_FIRST, **public}
    (warning,) = warnings_of(settings)
    assert (warning.policy, warning.key) == ("admin", "admin_paths")
    assert "falls through" in warning.reason
    assert "'public'" in warning.reason
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [("WARNING", str(warning))]


def test_the_fall_through_warning_names_the_later_policy_that_answers():
    settings = {
        "policy": "admin, partners, public",
        "admin_origin": ADMIN,
        "admin_paths": "/admin/*",
        "partners_origin": PARTNER,
        "public_origin": "*",
    }
    (warning,) = warnings_of(settings)
    assert warning.policy == "admin"
    assert "'public'" in warning.reason
    assert "'partners'" not in warning.reason


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({**ADMIN_FIRST, "public_origin": "https://a.example https://b.example"}, id="later-exact"),
        pytest.param({**ADMIN_FIRST, "public_origin": "*", "public_paths": "/public/*"}, id="disjoint"),
        pytest.param({**ADMIN_FIRST, "public_origin": "*", "public_paths": "/adminx/*"}, id="segment-boundary"),
        pytest.param({**ADMIN_FIRST, "public_origin": "*", "public_paths": "/admins"}, id="longer-name"),
        pytest.param({**ADMIN_FIRST, "public_origin": "*", "public_paths": "/"}, id="root-only"),
        pytest.param({"policy": "admin, public", "admin_origin": ADMIN, "public_origin": "*"}, id="no-paths"),
        pytest.param({**ADMIN_FIRST, "policy": "admin, deny, public", "public_origin": "*"}, id="after-deny"),
        pytest.param({**ADMIN_FIRST, "policy": "public, admin", "public_origin": "*"}, id="broad-first"),
    ],
)
def test_no_fall_through_warning_when_no_broad_later_policy_covers_the_paths(settings):
    assert fall_through_warnings(settings) == []


@pytest.mark.parametrize(
    ("settings", "earlier"),
    [
        pytest.param(
            {"policy": "a, b", "a_origin": SITE, "b_origin": SITE, "b_paths": "/api/*"}, "a", id="earlier-no-paths"
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/api/v1/*"},
            "a",
            id="containing-prefix-star",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "copy", "a_paths": "/*", "b_origin": SITE, "b_paths": "/x"},
            "a",
            id="everything-copy",
        ),
        pytest.param(
            {
                "policy": "a, b",
                "a_origin": f"{SITE} {PARTNER}",
                "a_paths": "/api/*",
                "b_origin": SITE,
                "b_paths": "/api/x",
            },
            "a",
            id="superset-of-exact-origins",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/api"},
            "a",
            id="prefix-covers-itself",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": SITE, "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/api/*"},
            "a",
            id="identical",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": "null", "b_paths": "/api/*"},
            "a",
            id="star-answers-null-too",
        ),
        pytest.param(
            {
                "policy": "a, b, c",
                "a_origin": "*",
                "a_paths": "/api/*",
                "b_origin": PARTNER,
                "c_origin": SITE,
                "c_paths": "/api/items",
            },
            "a",
            id="two-policies-before",
        ),
    ],
)
def test_a_policy_that_can_never_be_selected_is_a_warning_naming_the_earlier_one(settings, earlier):
    (warning,) = unreachable_warnings(settings)
    assert warning.policy == settings["policy"].split(", ")[-1]
    assert f"'{earlier}'" in warning.reason


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/admin/*"},
            id="disjoint-paths",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": SITE, "a_paths": "/api/*", "b_origin": PARTNER, "b_paths": "/api/x"},
            id="different-origins",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/v1/*", "b_origin": SITE, "b_paths": "/api/*"},
            id="narrower-earlier",
        ),
        pytest.param(
            {
                "policy": "a, b",
                "a_origin": SITE,
                "a_paths": "/api/*",
                "b_origin": f"{SITE} {PARTNER}",
                "b_paths": "/api/*",
            },
            id="later-allows-more-origins",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": SITE, "b_paths": "/apix"},
            id="segment-boundary",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api", "b_origin": SITE, "b_paths": "/api/*"},
            id="exact-earlier-prefix-later",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "copy", "a_paths": "/api/*", "b_origin": "null", "b_paths": "/api/*"},
            id="copy-never-allows-null",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": SITE, "a_paths": "/api/*", "b_origin": SITE},
            id="later-covers-more-paths",
        ),
        pytest.param(
            {"policy": "a, b", "a_origin": "*", "a_paths": "/api/*", "b_origin": "https://*.example.com"},
            id="later-pattern-covers-more-paths",
        ),
        pytest.param(
            {
                "policy": "a, b",
                "matchstrategy": "verbmatch",
                "a_origin": SITE,
                "a_paths": "/api/*",
                "a_methods": "GET",
                "b_origin": SITE,
                "b_paths": "/api/*",
                "b_methods": "PUT",
            },
            id="verbmatch-other-methods",
        ),
    ],
)
def test_no_unreachable_warning_for_a_policy_that_some_request_selects(settings):
    assert unreachable_warnings(settings) == []


def test_each_hidden_policy_is_named_once_with_the_first_policy_that_hides_it():
    cors = middleware(policy="p1, p2, p3", p1_origin="*", p2_origin="*", p3_origin=SITE)
    assert [(warning.policy, warning.reason.split(",")[0]) for warning in cors.config.warnings] == [
        ("p2", "lists it after 'p1'"),
        ("p3", "lists it after 'p1'"),
    ]


def test_explain_refuses_a_path_a_server_never_delivers():
    with pytest.raises(ValueError, match="path 'api/x' does not start with '/': write '/api/x'"):
        middleware(origin=SITE, paths="/api/*").explain(SITE, path="api/x")


def test_explain_reads_an_empty_path_as_the_middleware_does():
    cors = middleware(origin=SITE, paths="/")
    assert cors.explain(SITE, path="").readable
    assert call(cors, environ_for("", SITE)).headers[-1] == ("Vary", "Origin")


def test_configurations_without_paths_get_no_path_warnings():
    settings = {"policy": "a, b, c", "a_origin": SITE, "b_origin": "https://*.example.com", "c_origin": "*"}
    assert fall_through_warnings(settings) == unreachable_warnings(settings) == []


# -- explain -------------------------------------------------------------------------------------

EXPLAINED = {
    "policy": "admin, partners, api",
    "admin_origin": SITE,
    "admin_paths": "/admin/*",
    "partners_origin": PARTNER,
    "api_origin": SITE,
    "api_paths": "/api/*",
}


def steps(explanation: Any) -> list[tuple[Optional[str], bool, str]]:
    return [(step.policy.name, step.selected, step.reason) for step in explanation.steps]


def test_explain_shows_the_policies_skipped_for_their_paths():
    explanation = middleware(EXPLAINED).explain(SITE, path="/api/items")
    assert steps(explanation) == [
        ("admin", False, "path not covered"),
        ("partners", False, "origin not allowed"),
        ("api", True, "selected"),
    ]
    assert explanation.readable


def test_explain_defaults_to_the_root_path():
    explanation = middleware(EXPLAINED).explain(SITE)
    assert steps(explanation) == [
        ("admin", False, "path not covered"),
        ("partners", False, "origin not allowed"),
        ("api", False, "path not covered"),
    ]
    # `partners` covers every path: the origin is what it refuses.
    assert explanation.actual.decision.reason == "origin not allowed"
    assert not explanation.readable


def test_explain_says_when_no_policy_covers_the_path():
    explanation = middleware({**EXPLAINED, "policy": "admin, api"}).explain(SITE, path="/other")
    assert steps(explanation) == [("admin", False, "path not covered"), ("api", False, "path not covered")]
    assert explanation.actual.decision.reason == NOT_COVERED


def test_explain_sends_the_preflight_to_the_path_too():
    cors = middleware(origin=SITE, methods="PUT", paths="/api/*")
    covered = cors.explain(SITE, "PUT", path="/api/items/1")
    uncovered = cors.explain(SITE, "PUT", path="/admin/users")
    assert covered.preflight.decision.allowed and covered.readable
    assert list(uncovered.preflight.headers) == REFUSED_PREFLIGHT
    assert uncovered.preflight.decision.reason == NOT_COVERED
    assert not uncovered.readable


def test_explain_matches_the_path_as_given():
    cors = middleware(origin=SITE, paths="/api/*")
    assert not cors.explain(SITE, path="/api/../admin").readable
    assert not cors.explain(SITE, path="/API/items").readable
    assert cors.explain(SITE, path="/api/a+b").readable


# -- the command line ----------------------------------------------------------------------------


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


EXPLAINED_ARGS = [arg for key, value in EXPLAINED.items() for arg in ("--set", f"{key}={value}")]


def test_cli_explain_takes_a_path():
    status, out = run("explain", *EXPLAINED_ARGS, "--origin", SITE, "--path", "/admin/users")
    assert status == 0
    assert "policy 'admin': selected" in out
    assert "browser    the page can read the answer" in out


def test_cli_explain_shows_the_policies_skipped_for_their_paths():
    status, out = run("explain", *EXPLAINED_ARGS, "--origin", SITE, "--path", "/other")
    assert status == 0
    lines = out.splitlines()
    assert "policies   policy 'admin': path not covered" in lines
    assert "           policy 'partners': origin not allowed" in lines
    assert "           policy 'api': path not covered" in lines
    assert "actual     refused (origin not allowed)" in lines


def test_cli_explain_says_when_no_policy_covers_the_path():
    settings = {key: value for key, value in EXPLAINED.items() if not key.startswith("partners_")}
    args = [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    _, out = run("explain", *args, "--set", "policy=admin, api", "--origin", SITE, "--path", "/other")
    assert f"actual     refused ({NOT_COVERED})" in out.splitlines()


def test_cli_explain_defaults_to_the_root_path():
    _, default = run("explain", *EXPLAINED_ARGS, "--origin", SITE)
    _, root = run("explain", *EXPLAINED_ARGS, "--origin", SITE, "--path", "/")
    assert default == root
    assert "policies   policy 'admin': path not covered" in default.splitlines()


def test_cli_explain_json_shows_the_steps():
    _, out = run("explain", "--json", *EXPLAINED_ARGS, "--origin", SITE, "--path", "/api/x")
    data = json.loads(out)
    assert data["policies"] == [
        {"name": "admin", "selected": False, "reason": "path not covered"},
        {"name": "partners", "selected": False, "reason": "origin not allowed"},
        {"name": "api", "selected": True, "reason": "selected"},
    ]
    assert data["readable"] is True


FALLS_THROUGH_ARGS = [
    "--set",
    "policy=admin, public",
    "--set",
    f"admin_origin={ADMIN}",
    "--set",
    "admin_paths=/admin/*",
    "--set",
    "public_origin=*",
]


def test_cli_check_prints_the_fall_through_warning_and_fails_on_it_only_when_strict():
    status, out = run("check", *FALLS_THROUGH_ARGS)
    warnings = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert status == 0
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: policy 'admin': admin_paths")
    assert "falls through" in warnings[0] and "'public'" in warnings[0]
    assert out.splitlines()[-1] == "no errors, 1 warning"
    assert run("check", "--strict", *FALLS_THROUGH_ARGS)[0] == 1


def test_cli_check_passes_the_fixed_configuration():
    status, out = run("check", "--strict", *FALLS_THROUGH_ARGS, "--set", "public_paths=/api/* /public/*")
    assert status == 0
    assert out.splitlines()[-1] == "OK: no errors, 0 warnings"


def test_cli_check_reports_a_bad_entry_and_exits_2():
    status, out = run("check", "--set", "policy=api", "--set", f"api_origin={SITE}", "--set", "api_paths=api/*")
    assert status == 2
    (error,) = [line for line in out.splitlines() if line.startswith("error: ")]
    assert error.startswith("error: policy 'api': api_paths")
    assert "'api/*'" in error and "write '/api/*'" in error
    assert out.splitlines()[-1] == "1 error in --set"
