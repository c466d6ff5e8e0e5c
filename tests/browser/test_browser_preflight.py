"""Preflighted requests: which methods and request headers the browser is allowed to send."""

from __future__ import annotations

import json

import pytest
from browser_support import only

pytestmark = pytest.mark.browser

JSON_PUT = {
    "method": "PUT",
    "headers": {"Content-Type": "application/json", "X-Token": "t0k3n"},
    "body": json.dumps({"name": "teapot"}),
}


def configurations(origins):
    return {
        "writable": {"origin": origins.page, "methods": "GET, PUT, DELETE", "headers": "Content-Type, X-Token"},
        "any-header": {"origin": origins.page, "methods": "PUT", "headers": "*"},
        "cached": {"origin": origins.page, "methods": "PUT", "headers": "Content-Type, X-Token", "maxage": 600},
        "uncached": {"origin": origins.page, "methods": "PUT", "headers": "Content-Type, X-Token", "maxage": 0},
    }


def test_preflighted_put_with_custom_header_and_json_body_succeeds(page, api):
    result = page.fetch(api.url("writable", "/items/1"), **JSON_PUT)
    assert result["readable"] is True
    assert result["status"] == 200
    echoed = json.loads(result["body"])
    assert (echoed["method"], echoed["body"], echoed["x_token"]) == ("PUT", '{"name": "teapot"}', "t0k3n")
    assert api.methods_seen() == ["OPTIONS", "PUT"]
    preflight = only(api.seen(), "OPTIONS")
    # Chromium lists the non-safelisted request headers lowercased and sorted.
    assert (preflight["request_method"], preflight["request_headers"]) == ("PUT", "content-type,x-token")
    assert preflight["cors"] == {
        "Access-Control-Allow-Origin": page.origin,
        "Access-Control-Allow-Methods": "GET, PUT, DELETE",
        "Access-Control-Allow-Headers": "Content-Type, X-Token",
    }


def test_preflighted_delete_succeeds(page, api):
    result = page.fetch(api.url("writable", "/items/1"), method="DELETE")
    assert result["readable"] is True
    assert json.loads(result["body"])["method"] == "DELETE"
    assert api.methods_seen() == ["OPTIONS", "DELETE"]


def test_patch_outside_the_methods_list_is_stopped_by_the_preflight(page, api):
    result = page.fetch(api.url("writable", "/items/1"), method="PATCH", body="{}")
    assert result["readable"] is False
    assert result["error"] == "TypeError: Failed to fetch"
    preflight = only(api.seen())  # the PATCH itself is never sent
    assert (preflight["method"], preflight["request_method"], preflight["cors"]) == ("OPTIONS", "PATCH", {})


def test_request_header_outside_the_headers_list_is_stopped_by_the_preflight(page, api):
    result = page.fetch(api.url("writable", "/items/1"), method="PUT", headers={"X-Other": "1"})
    assert result["readable"] is False
    preflight = only(api.seen())
    assert (preflight["request_headers"], preflight["cors"]) == ("x-other", {})


def test_headers_star_allows_whatever_headers_are_requested(page, api):
    result = page.fetch(api.url("any-header", "/items/1"), method="PUT", headers={"X-Anything": "1", "X-Trace-Id": "2"})
    assert result["readable"] is True
    preflight = only(api.seen(), "OPTIONS")
    assert preflight["cors"] == {
        "Access-Control-Allow-Origin": page.origin,
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "x-anything, x-trace-id",
    }
    assert api.methods_seen() == ["OPTIONS", "PUT"]


def test_maxage_spares_the_second_preflight(page, api):
    first = page.fetch(api.url("cached", "/items/1"), **JSON_PUT)
    second = page.fetch(api.url("cached", "/items/1"), **JSON_PUT)
    assert (first["readable"], second["readable"]) == (True, True)
    assert api.methods_seen() == ["OPTIONS", "PUT", "PUT"]
    assert only(api.seen(), "OPTIONS")["cors"]["Access-Control-Max-Age"] == "600"


def test_maxage_zero_makes_every_put_ask_again(page, api):
    first = page.fetch(api.url("uncached", "/items/1"), **JSON_PUT)
    second = page.fetch(api.url("uncached", "/items/1"), **JSON_PUT)
    assert (first["readable"], second["readable"]) == (True, True)
    assert api.methods_seen() == ["OPTIONS", "PUT", "OPTIONS", "PUT"]
