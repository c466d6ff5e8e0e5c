"""What of the app's answer a cross-origin script may read: headers, error statuses, streams."""

from __future__ import annotations

import pytest
from browser_support import only

pytestmark = pytest.mark.browser


def configurations(origins):
    return {
        "plain": {"origin": origins.page},
        "exposing": {"origin": origins.page, "expose_headers": "X-Request-Id"},
    }


def test_exposed_header_is_readable(page, api):
    result = page.fetch(api.url("exposing"))
    assert result["readable"] is True
    # Content-Length and Content-Type are CORS-safelisted: always readable.
    assert sorted(result["headers"]) == ["content-length", "content-type", "x-request-id"]
    assert result["headers"]["x-request-id"] == "42"
    assert only(api.seen())["cors"] == {
        "Access-Control-Allow-Origin": page.origin,
        "Access-Control-Expose-Headers": "X-Request-Id",
    }


def test_header_not_exposed_is_hidden_from_the_script(page, api):
    result = page.fetch(api.url("plain"))
    assert result["readable"] is True
    assert sorted(result["headers"]) == ["content-length", "content-type"]


@pytest.mark.parametrize("status", [404, 500])
def test_app_error_status_is_readable_cross_origin(page, api, status):
    result = page.fetch(api.url("exposing", f"/status/{status}"))
    assert result["readable"] is True
    assert (result["status"], result["body"]) == (status, f"status {status}")
    assert result["headers"]["x-request-id"] == "42"


def test_streamed_body_is_readable_cross_origin(page, api):
    result = page.fetch(api.url("plain", "/stream"))
    assert result["readable"] is True
    assert result["body"] == "chunk 1;chunk 2;chunk 3"
    assert result["chunks"] >= 1
    assert only(api.seen())["cors"] == {"Access-Control-Allow-Origin": page.origin}
