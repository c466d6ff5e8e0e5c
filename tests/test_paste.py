"""The PasteDeploy filter: ``egg:wsgicors#middleware`` loaded from real ini files."""

from __future__ import annotations

from pathlib import Path

import pytest
from paste.deploy import loadapp
from support import cors_headers
from webtest import TestApp

from wsgicors import CORS, ConfigurationError

INI = Path(__file__).parent / "ini"


def load(name: str) -> TestApp:
    return TestApp(loadapp(f"config:{INI / name}"))


def test_the_entry_point_builds_the_middleware_in_a_pipeline():
    assert isinstance(loadapp(f"config:{INI / 'seed_readme.ini'}"), CORS)


def test_the_seed_readme_pipeline_answers_a_subdomain_preflight():
    response = load("seed_readme.ini").options(
        "/",
        headers={
            "Origin": "https://api.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-token",
        },
    )
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "https://api.example.com",
        "Access-Control-Allow-Methods": "HEAD, OPTIONS, GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": "x-token",
        "Access-Control-Max-Age": "180",
    }


def test_the_seed_readme_pipeline_copies_any_other_origin():
    response = load("seed_readme.ini").get("/", headers={"Origin": "http://localhost:3000"})
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "http://localhost:3000",
        "Access-Control-Expose-Headers": "*",
    }
    assert response.headers["Vary"] == "Origin"


def test_bare_keys_in_a_filter_section_form_one_policy():
    response = load("bare_keys.ini").get("/", headers={"Origin": "https://b.example:8443"})
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": "https://b.example:8443",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Total",
    }


def test_the_default_section_is_not_read_as_cors_settings():
    (policy,) = loadapp(f"config:{INI / 'bare_keys.ini'}").config.policies
    assert policy.max_age is None


def test_verbmatch_and_deny_from_an_ini():
    app = load("verbmatch.ini")
    admin = "https://admin.example.com"
    writer = app.options("/", headers={"Origin": admin, "Access-Control-Request-Method": "PUT"})
    assert cors_headers(writer) == {
        "Access-Control-Allow-Origin": admin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, PUT, DELETE",
        "Access-Control-Allow-Headers": "Content-Type, X-CSRF-Token",
        "Access-Control-Max-Age": "600",
    }
    reader = app.get("/", headers={"Origin": admin})
    assert cors_headers(reader) == {"Access-Control-Allow-Origin": admin}
    refused = app.options("/", headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "PUT"})
    assert cors_headers(refused) == {}


def test_a_bad_ini_setting_fails_at_load_time_naming_the_key(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text(
        "[app:main]\nuse = call:support:echo_app_factory\nfilter-with = cors\n"
        "[filter:cors]\nuse = egg:wsgicors#middleware\npolicy = free\nfree_origin = *\nfree_maxage = 3 minutes\n"
    )
    with pytest.raises(
        ConfigurationError, match=r"^policy 'free': free_maxage='3 minutes' is not a non-negative integer$"
    ):
        loadapp(f"config:{ini}")
