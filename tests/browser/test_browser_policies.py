"""Two named policies, chosen by origin alone (firstmatch) or by origin and method (verbmatch)."""

from __future__ import annotations

import pytest
from browser_support import only

pytestmark = pytest.mark.browser


def configurations(origins):
    # `readers` lets both sites read; `writers` lets the page also write.
    policies = {
        "policy": "readers, writers",
        "readers_origin": f"{origins.page} {origins.other}",
        "readers_methods": "GET",
        "writers_origin": origins.page,
        "writers_methods": "GET, PUT",
        "writers_headers": "Content-Type",
    }
    return {
        "firstmatch": {**policies, "matchstrategy": "firstmatch"},
        "verbmatch": {**policies, "matchstrategy": "verbmatch"},
    }


@pytest.mark.parametrize("strategy", ["firstmatch", "verbmatch"])
@pytest.mark.parametrize("site", ["page", "other_page"])
def test_both_sites_read_with_get_under_either_strategy(request, api, strategy, site):
    browser_page = request.getfixturevalue(site)
    result = browser_page.fetch(api.url(strategy))
    assert result["readable"] is True
    assert only(api.seen())["cors"] == {"Access-Control-Allow-Origin": browser_page.origin}


def test_firstmatch_refuses_a_put_because_the_first_policy_matching_the_origin_lacks_put(page, api):
    result = page.fetch(
        api.url("firstmatch", "/items/1"), method="PUT", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert result["readable"] is False
    preflight = only(api.seen())
    assert (preflight["method"], preflight["request_method"], preflight["cors"]) == ("OPTIONS", "PUT", {})


def test_verbmatch_lets_the_second_policy_allow_the_put(page, api):
    result = page.fetch(
        api.url("verbmatch", "/items/1"), method="PUT", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert result["readable"] is True
    assert api.methods_seen() == ["OPTIONS", "PUT"]
    assert only(api.seen(), "OPTIONS")["cors"] == {
        "Access-Control-Allow-Origin": page.origin,
        "Access-Control-Allow-Methods": "GET, PUT",
        "Access-Control-Allow-Headers": "Content-Type",
    }


def test_verbmatch_refuses_a_put_from_a_site_no_writing_policy_lists(other_page, api):
    result = other_page.fetch(
        api.url("verbmatch", "/items/1"), method="PUT", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert result["readable"] is False
    assert api.methods_seen() == ["OPTIONS"]
