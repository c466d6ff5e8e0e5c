"""Credentialed requests (`credentials: "include"`) with a cookie.

Where the cookie comes from: the API answers /set-cookie with ``session=abc123; Path=/``
(no SameSite, so Chromium treats it as Lax), and the tests get it by a top-level
navigation to the API: a first-party cookie for host ``localhost``.

Which page may send it: Chromium 156 blocks third-party cookies here, and the site of
``http://127.0.0.1:A`` is not that of ``http://localhost:B``, so from ``origins.page`` the
cookie is withheld (and ``SameSite=None; Secure``, which Chromium accepts on
http://localhost, is withheld too). ``http://localhost:A`` is another *origin* of the
API's *site* (ports do not count for sites), so its credentialed requests carry the
cookie, as ``app.example.com`` calling ``api.example.com`` does in production. The
credentialed tests run from there; the last test pins the cross-site behaviour.
"""

from __future__ import annotations

import pytest
from browser_support import only

pytestmark = pytest.mark.browser

CREDENTIALED_CORS = {"Access-Control-Allow-Credentials": "true"}


def configurations(origins):
    return {
        "credentials-list": {
            "origin": f"{origins.page} {origins.same_site_page}",
            "methods": "GET, PUT",
            "credentials": True,
        },
        # `*` with credentials is refused at construction; `copy` is how every origin is let in.
        "credentials-copy": {"origin": "copy", "credentials": True},
        "star": {"origin": "*"},
    }


@pytest.fixture(scope="module")
def logged_in(api_server, same_site_page):
    same_site_page.visit(f"{api_server.origin}/star/set-cookie")
    cookies = same_site_page.page.context.cookies(api_server.origin)
    assert [(cookie["name"], cookie["value"]) for cookie in cookies] == [("session", "abc123")]


@pytest.mark.parametrize("configuration", ["credentials-list", "credentials-copy"])
def test_credentialed_get_sends_the_cookie_and_reads_the_answer(same_site_page, api, logged_in, configuration):
    result = same_site_page.fetch(api.url(configuration, "/whoami"), credentials="include")
    assert result["readable"] is True
    assert '"cookie": "session=abc123"' in result["body"]
    get = only(api.seen())
    assert get["cookie"] == "session=abc123"
    # Never `*` with credentials: the origin is reflected.
    assert get["cors"] == {"Access-Control-Allow-Origin": same_site_page.origin, **CREDENTIALED_CORS}


def test_credentialed_preflighted_put_sends_the_cookie(same_site_page, api, logged_in):
    result = same_site_page.fetch(
        api.url("credentials-list", "/items/1"), method="PUT", credentials="include", body="{}"
    )
    assert result["readable"] is True
    preflight, put = api.seen()
    assert (preflight["method"], preflight["cookie"]) == ("OPTIONS", None)  # preflights never carry cookies
    assert (put["method"], put["cookie"]) == ("PUT", "session=abc123")
    assert preflight["cors"] == {
        "Access-Control-Allow-Origin": same_site_page.origin,
        **CREDENTIALED_CORS,
        "Access-Control-Allow-Methods": "GET, PUT",
    }


def test_credentialed_get_is_hidden_when_the_answer_allows_star_without_credentials(same_site_page, api, logged_in):
    result = same_site_page.fetch(api.url("star", "/whoami"), credentials="include")
    assert result["readable"] is False
    get = only(api.seen())  # the cookie went out; the browser refused to show the answer
    assert (get["cookie"], get["cors"]) == ("session=abc123", {"Access-Control-Allow-Origin": "*"})


def test_cross_site_page_reads_a_credentialed_answer_but_chromium_withholds_the_cookie(page, api, logged_in):
    result = page.fetch(api.url("credentials-list", "/whoami"), credentials="include")
    assert result["readable"] is True
    get = only(api.seen())
    assert get["cookie"] is None  # a third-party cookie for this page
    assert get["cors"] == {"Access-Control-Allow-Origin": page.origin, **CREDENTIALED_CORS}
