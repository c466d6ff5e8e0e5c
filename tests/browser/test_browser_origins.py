"""Which origins the browser lets read the API's answers."""

from __future__ import annotations

import pytest
from browser_support import only

pytestmark = pytest.mark.browser


def configurations(origins):
    return {
        "listed": {"origin": origins.page},
        "pattern": {"origin": "http://127.0.0.1:*"},
        "null-listed": {"origin": f"null {origins.page}"},
    }


def test_listed_origin_reads_a_simple_get(page, api):
    result = page.fetch(api.url("listed"))
    assert result["readable"] is True
    assert result["status"] == 200
    assert '"method": "GET"' in result["body"]
    get = only(api.seen())
    assert (get["method"], get["origin"]) == ("GET", page.origin)
    assert get["cors"] == {"Access-Control-Allow-Origin": page.origin}


def test_unlisted_origin_cannot_read_the_same_get(other_page, api):
    result = other_page.fetch(api.url("listed"))
    assert result["readable"] is False
    assert result["error"] == "TypeError: Failed to fetch"
    # A simple GET is sent without asking: the app ran; the browser hid the answer.
    get = only(api.seen())
    assert (get["method"], get["origin"], get["status"]) == ("GET", other_page.origin, 200)
    assert get["cors"] == {}


def test_wildcard_pattern_lets_an_origin_it_matches_read(page, api):
    result = page.fetch(api.url("pattern"))
    assert result["readable"] is True
    assert only(api.seen())["cors"] == {"Access-Control-Allow-Origin": page.origin}


def test_wildcard_pattern_refuses_an_origin_it_does_not_match(other_page, api):
    result = other_page.fetch(api.url("pattern"))
    assert result["readable"] is False
    assert only(api.seen())["cors"] == {}


def test_null_origin_of_a_sandboxed_iframe_is_refused_when_null_is_not_listed(page, api):
    result = page.fetch_from_sandbox(api.url("listed"))
    assert result["readable"] is False
    get = only(api.seen())
    assert (get["origin"], get["cors"]) == ("null", {})


def test_null_origin_of_a_sandboxed_iframe_reads_when_null_is_listed(page, api):
    result = page.fetch_from_sandbox(api.url("null-listed"))
    assert result["readable"] is True
    assert result["status"] == 200
    get = only(api.seen())
    assert (get["origin"], get["cors"]) == ("null", {"Access-Control-Allow-Origin": "null"})
