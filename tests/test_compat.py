"""0.7.0 configurations keep working; each behaviour fixed since 0.7.0 has a test here."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from support import TEXT, RecordingApp, cors_headers
from webtest import TestApp

from wsgicors import CORS, ConfigurationError, make_middleware
from wsgicors.answers import RECENT_ANSWERS
from wsgicors.policy import Names


def seed_readme_app(global_config, **settings):
    """The Pyramid example of the 0.7.0 README, verbatim but for this docstring."""

    def get_root(request):
        return {}

    config = Configurator(root_factory=get_root, settings=settings)
    config.begin()
    # whatever it takes to config your app goes here
    config.end()

    from wsgicors import CORS

    return CORS(config.make_wsgi_app(), headers="*", methods="*", maxage="180", origin="*")


SITE = "http://localhost:3000"

# The settings 0.7.0's own test suite used.
FREE = {
    "policy": "pol",
    "pol_origin": "*",
    "pol_methods": "*",
    "pol_headers": "*",
    "pol_expose_headers": "*",
    "pol_credentials": "true",
    "pol_maxage": "100",
}
MULTI = {
    "policy": "pol2,pol1",
    "pol1_origin": "*",
    "pol1_methods": "*",
    "pol1_headers": "*",
    "pol1_expose_headers": "*",
    "pol1_credentials": "true",
    "pol1_maxage": "100",
    "pol2_origin": "*.woopy.com",
    "pol2_methods": "*",
    "pol2_headers": "*",
    "pol2_expose_headers": "*",
    "pol2_credentials": "true",
    "pol2_maxage": "100",
}
# Since 1.1.0 `*` with credentials is refused (TestFixedSince070); `copy` is what keeps
# 0.7.0's "every origin, with credentials" meaning.
FREE_COPY = {**FREE, "pol_origin": "copy"}
MULTI_COPY = {**MULTI, "pol1_origin": "copy"}
VERBMULTI = {
    "policy": "pol2,pol1",
    "matchstrategy": "verbmatch",
    "pol1_origin": "*.ourdomain.com",
    "pol1_headers": "*",
    "pol1_methods": "HEAD, OPTIONS, GET, POST, PUT, DELETE",
    "pol1_maxage": "180",
    "pol2_origin": "*",
    "pol2_headers": "*",
    "pol2_methods": "HEAD, OPTIONS, GET",
    "pol2_maxage": "180",
}


def test_the_seed_readme_pyramid_example_answers_preflights():
    app = TestApp(seed_readme_app({}))
    response = app.options(
        "/",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-a",
        },
    )
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "x-a",
        "Access-Control-Max-Age": "180",
    }


def test_the_seed_readme_pyramid_example_marks_app_errors_readable():
    response = TestApp(seed_readme_app({})).get("/missing", headers={"Origin": SITE}, status=404)
    assert cors_headers(response) == {"Access-Control-Allow-Origin": "*"}


ANY = Names(any=True)


@pytest.mark.parametrize(
    ("settings", "verbmatch", "policies"),
    [
        pytest.param(FREE_COPY, False, [("pol", ("copy",), ANY, ANY, ANY, True, 100)], id="free-with-copy"),
        pytest.param(
            MULTI_COPY,
            False,
            [
                ("pol2", ("*.woopy.com",), ANY, ANY, ANY, True, 100),
                ("pol1", ("copy",), ANY, ANY, ANY, True, 100),
            ],
            id="multi-with-copy",
        ),
        pytest.param(
            VERBMULTI,
            True,
            [
                ("pol2", ("*",), Names(listed=("HEAD", "OPTIONS", "GET")), ANY, Names(), False, 180),
                (
                    "pol1",
                    ("*.ourdomain.com",),
                    Names(listed=("HEAD", "OPTIONS", "GET", "POST", "PUT", "DELETE")),
                    ANY,
                    Names(),
                    False,
                    180,
                ),
            ],
            id="verbmulti",
        ),
    ],
)
def test_the_settings_of_the_070_test_suite_still_build(settings, verbmatch, policies):
    config = make_middleware(RecordingApp(), {}, **settings).config
    assert config.verbmatch is verbmatch
    assert [
        (p.name, p.origins.entries, p.methods, p.headers, p.expose_headers, p.credentials, p.max_age)
        for p in config.policies
    ] == policies


def test_070_multi_selects_the_pattern_policy_for_its_subdomains():
    app = TestApp(CORS(RecordingApp(), MULTI_COPY))
    response = app.get("/", headers={"Origin": "http://palim.woopy.com"})
    assert cors_headers(response)["Access-Control-Allow-Origin"] == "http://palim.woopy.com"


def test_070_verbmulti_selects_the_policy_allowing_put():
    app = TestApp(CORS(RecordingApp(), VERBMULTI))
    response = app.options("/", headers={"Origin": "https://x.ourdomain.com", "Access-Control-Request-Method": "PUT"})
    assert response.headers["Access-Control-Allow-Methods"] == "HEAD, OPTIONS, GET, POST, PUT, DELETE"


class TestFixedSince070:
    """One test per entry of CHANGES.rst's 1.0.0 Security and Bug Fixes."""

    def test_preflight_status_is_200_ok_not_204_ok(self, make_app):
        assert make_app(origin="*").preflight(SITE, "GET").status == "200 OK"

    @pytest.mark.parametrize(
        ("settings", "policy"),
        [pytest.param(FREE, "pol", id="free"), pytest.param(MULTI, "pol1", id="multi")],
    )
    def test_star_with_credentials_is_refused_at_construction_not_reflected(self, settings, policy):
        # 0.7.0 and 1.0.0 reflected every Origin with Access-Control-Allow-Credentials: true.
        with pytest.raises(ConfigurationError) as raised:
            CORS(RecordingApp(), settings)
        assert (raised.value.policy, raised.value.key) == (policy, f"{policy}_origin")
        assert str(raised.value).startswith(
            f"policy {policy!r}: {policy}_origin='*' is refused with {policy}_credentials=true: '*' allows every origin"
        )

    def test_copy_with_credentials_preflight_reflects_origin_method_and_headers(self, make_app):
        response = make_app(FREE_COPY).preflight(SITE, "PUT", "x-a")
        assert cors_headers(response) == {
            "Access-Control-Allow-Origin": SITE,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Methods": "PUT",
            "Access-Control-Allow-Headers": "x-a",
            "Access-Control-Max-Age": "100",
        }

    def test_expose_star_with_credentials_exposes_named_headers_not_star(self, make_app):
        response = make_app(FREE_COPY).actual(SITE)
        assert response.headers["Access-Control-Expose-Headers"] == "Content-Type"

    def test_a_refused_preflight_leaks_no_methods_credentials_or_max_age(self, make_app):
        client = make_app(policy="p", p_origin="https://a.example", p_methods="GET", p_credentials="true", p_maxage="9")
        assert cors_headers(client.preflight(SITE, "GET")) == {}

    def test_vary_is_merged_into_the_app_header_not_added_twice(self, make_app):
        app = RecordingApp(vary="Accept-Encoding")
        response = make_app(origin="copy", app=app).actual(SITE)
        assert response.headers.getall("Vary") == ["Accept-Encoding, Origin"]

    def test_vary_origin_is_sent_on_refused_and_origin_less_responses(self, make_app):
        client = make_app(origin="https://a.example")
        assert client.actual(SITE).headers["Vary"] == "Origin"
        assert client.actual(None).headers["Vary"] == "Origin"

    def test_uppercase_configured_origins_match(self, make_app):
        response = make_app(origin="http://Foo.example").actual("http://foo.example")
        assert response.headers["Access-Control-Allow-Origin"] == "http://foo.example"

    def test_a_dict_without_policy_forms_one_policy(self):
        response = TestApp(CORS(RecordingApp(), {"origin": "*"})).get("/", headers={"Origin": SITE})
        assert response.headers["Access-Control-Allow-Origin"] == "*"

    def test_null_is_allowed_only_by_a_policy_listing_it_never_by_copy_or_a_pattern(self, make_app):
        client = make_app(policy="sandbox, all", sandbox_origin="null", all_origin="copy")
        assert cors_headers(client.actual("null")) == {"Access-Control-Allow-Origin": "null"}
        for settings in ({"origin": "copy"}, {"origin": "https://*"}, {"origin": "copy", "credentials": True}):
            client = make_app(settings)
            assert cors_headers(client.actual("null")) == {}
            assert cors_headers(client.preflight("null", "GET")) == {}

    def test_a_pattern_never_matches_across_a_path(self, make_app):
        response = make_app(origin="*.example.com").actual("https://evil.net/.example.com")
        assert cors_headers(response) == {}

    def test_an_app_allow_origin_is_not_duplicated(self, make_app):
        app = RecordingApp([*TEXT, ("Access-Control-Allow-Origin", "*")])
        response = make_app(origin="copy", app=app).actual(SITE)
        assert response.headers.getall("Access-Control-Allow-Origin") == ["*"]

    def test_the_app_header_list_is_not_appended_to(self):
        shared = [("Content-Type", "text/plain")]
        app = CORS(lambda environ, start_response: (start_response("200 OK", shared), [b""])[1], origin="copy")
        TestApp(app).get("/", headers={"Origin": SITE})
        assert shared == [("Content-Type", "text/plain")]

    def test_policy_selection_keeps_no_unbounded_per_origin_cache(self, make_app):
        # 0.7.0's lru_cache, keyed by the Origin, held on to the middleware; the memo of
        # recent answers is emptied when full (tests/test_answers.py).
        client = make_app(origin="https://*.example.com")
        before = dict(vars(client.cors))
        for number in range(RECENT_ANSWERS + 44):
            client.actual(f"https://{number}.example.com")
        assert vars(client.cors) == before
        assert len(client.cors.answers.recent) <= RECENT_ANSWERS
