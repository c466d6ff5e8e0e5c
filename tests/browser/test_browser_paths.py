"""Policies by path: the browser lets the page read covered paths only.

Each configuration is mounted under its own ``/<name>`` (``SCRIPT_NAME``), so the
middleware sees, and ``paths`` names, the path below the mount: ``/items``, not
``/by-path/items``.
"""

from __future__ import annotations

import pytest
from browser_support import only

pytestmark = pytest.mark.browser

PUT_JSON = {"method": "PUT", "headers": {"Content-Type": "application/json"}, "body": "{}"}


def configurations(origins):
    return {
        # The page may read and write the items, and nothing else.
        "by-path": {
            "origin": origins.page,
            "methods": "GET, PUT",
            "headers": "Content-Type",
            "paths": "/items/*",
        },
        # The items for the page; /public for every site; the rest for nobody.
        "named": {
            "policy": "items, public",
            "items_origin": origins.page,
            "items_paths": "/items/*",
            "public_origin": "*",
            "public_paths": "/public/*",
        },
    }


def test_a_fetch_to_a_covered_path_is_readable(page, api):
    result = page.fetch(api.url("by-path", "/items/1"))
    assert result["readable"] is True
    assert result["status"] == 200
    assert '"path": "/by-path/items/1"' in result["body"]
    assert only(api.seen())["cors"] == {"Access-Control-Allow-Origin": page.origin}


def test_a_fetch_to_an_uncovered_path_is_blocked(page, api):
    result = page.fetch(api.url("by-path", "/admin/users"))
    assert result["readable"] is False
    assert result["error"] == "TypeError: Failed to fetch"
    # A simple GET is sent without asking: the app ran; the browser hid the answer.
    get = only(api.seen())
    assert (get["method"], get["path"], get["status"], get["cors"]) == ("GET", "/by-path/admin/users", 200, {})


def test_a_path_beside_the_prefix_is_blocked(page, api):
    result = page.fetch(api.url("by-path", "/itemsx"))
    assert result["readable"] is False
    assert only(api.seen())["cors"] == {}


def test_a_path_in_another_case_is_blocked(page, api):
    result = page.fetch(api.url("by-path", "/Items/1"))
    assert result["readable"] is False
    assert only(api.seen())["cors"] == {}


def test_a_preflighted_put_to_a_covered_path_is_allowed(page, api):
    result = page.fetch(api.url("by-path", "/items/1"), **PUT_JSON)
    assert result["readable"] is True
    assert api.methods_seen() == ["OPTIONS", "PUT"]
    assert only(api.seen(), "OPTIONS")["cors"] == {
        "Access-Control-Allow-Origin": page.origin,
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Headers": "Content-Type",
    }


def test_a_preflighted_put_to_an_uncovered_path_never_reaches_the_app(page, api):
    result = page.fetch(api.url("by-path", "/admin/users"), **PUT_JSON)
    assert result["readable"] is False
    preflight = only(api.seen())
    assert (preflight["method"], preflight["status"], preflight["cors"]) == ("OPTIONS", 200, {})


def test_dot_segments_are_resolved_by_the_browser_before_the_request_leaves(page, api):
    # The page asks for /items/../admin/users; the browser sends /admin/users, uncovered.
    result = page.fetch(api.url("by-path", "/items/../admin/users"))
    assert result["readable"] is False
    get = only(api.seen())
    assert (get["path"], get["cors"]) == ("/by-path/admin/users", {})


@pytest.mark.parametrize(
    ("site", "path", "allow_origin"),
    [
        pytest.param("page", "/items", "the page", id="page-items"),
        pytest.param("other_page", "/items", None, id="other-site-items"),
        pytest.param("page", "/public/news", "*", id="page-public"),
        pytest.param("other_page", "/public/news", "*", id="other-site-public"),
        pytest.param("page", "/admin/users", None, id="page-admin"),
        pytest.param("other_page", "/admin/users", None, id="other-site-admin"),
    ],
)
def test_named_policies_each_open_their_own_paths(request, api, site, path, allow_origin):
    browser_page = request.getfixturevalue(site)
    result = browser_page.fetch(api.url("named", path))
    assert result["readable"] is (allow_origin is not None)
    value = browser_page.origin if allow_origin == "the page" else allow_origin
    assert only(api.seen())["cors"] == ({} if value is None else {"Access-Control-Allow-Origin": value})
