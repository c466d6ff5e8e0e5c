"""Properties over arbitrary requests and configurations drawn from the valid configuration space,
checked against the reference (tests/reference.py); and fuzz targets for the origin,
origin-pattern and request-header parsers."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import browser_form, glob, granted, requested_names
from strategies import (
    CONFIGURED_HEADERS,
    NEAR_MISSES,
    aimed_origins,
    app_headers,
    bodies,
    configurations,
    configured_requests,
    entry_spellings,
    origins,
    patterns,
    preflight_request_headers,
    request_headers,
    request_methods,
)
from support import FIELD_VALUE, TOKEN, RecordingApp, call, cors_headers, make_environ, preflight_environ

from wsgicors import CORS, ConfigurationError

# Bounded and without deadlines: the suite stays fast, and a slow shared machine is no failure.
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(configured_requests(), app_headers)
def test_no_exception_escapes_and_every_header_value_is_a_valid_field_value(configured, headers):
    configuration, incoming = configured
    response = call(CORS(RecordingApp(headers), configuration.settings), incoming.environ)
    assert response.status == "200 OK"
    for name, value in response.headers:
        assert FIELD_VALUE.fullmatch(value), (name, value)
        assert not {"\r", "\n", "\x00"} & set(value)


@PROPERTY
@given(configured_requests())
def test_the_app_is_called_once_for_every_other_request_and_never_for_a_preflight(configured):
    configuration, incoming = configured
    app = RecordingApp()
    call(CORS(app, configuration.settings), incoming.environ)
    assert app.calls == (0 if incoming.preflight else 1)


@PROPERTY
@given(configured_requests(preflights=False), app_headers, bodies)
def test_the_body_and_the_apps_own_headers_pass_through_unchanged(configured, headers, body):
    configuration, incoming = configured
    response = call(CORS(RecordingApp(headers, body=body), configuration.settings), incoming.environ)
    assert response.body == b"".join(body)
    assert [name for name, _ in response.headers[: len(headers)]] == [name for name, _ in headers]
    for (name, value), (_, sent) in zip(headers, response.headers):
        if name.lower() == "vary":
            # The one change allowed: Origin merged into the app's Vary.
            assert sent in (value, f"{value}, Origin") or (sent == "Origin" and not value.strip())
        else:
            assert sent == value
    for name, _ in response.headers[len(headers) :]:
        assert name.startswith("Access-Control-") or (name == "Vary" and "vary" not in [n.lower() for n, _ in headers])


@PROPERTY
@given(configured_requests(preflights=False))
def test_an_actual_request_gets_allow_origin_exactly_when_the_reference_allows_it(configured):
    configuration, incoming = configured
    response = call(CORS(RecordingApp(), configuration.settings), incoming.environ)
    method = incoming.environ["REQUEST_METHOD"]
    assert granted(response.headers) == configuration.actual_grant(incoming.origin, incoming.serialized, method)


@PROPERTY
@given(configurations(), st.data())
def test_a_preflight_gets_allow_origin_exactly_when_the_reference_allows_it(configuration, data):
    value, serialized = data.draw(aimed_origins(configuration))
    method, names = data.draw(request_methods), data.draw(preflight_request_headers)
    response = call(CORS(RecordingApp(), configuration.settings), preflight_environ(value, method, names))
    assert granted(response.headers) == configuration.preflight_grant(value, serialized, method, names)


# --- fuzz targets for the parsers --------------------------------------------------------------


@PROPERTY
@given(entry_spellings, st.lists(st.one_of(origins, entry_spellings.map(lambda e: (e, False))), max_size=5))
def test_every_origin_the_parser_accepts_is_matched_by_itself_and_by_nothing_else(entry, others):
    if entry.split() != [entry] or "*" in entry or "?" in entry or entry.lower() == "copy":
        return  # several entries, a pattern or a keyword: not one exact origin
    try:
        app = CORS(RecordingApp(), origin=entry)
    except ConfigurationError:
        return
    itself = browser_form(entry)
    assert granted(call(app, make_environ("GET", itself)).headers) == {"Access-Control-Allow-Origin": itself}
    for other, _ in others:
        expected = {"Access-Control-Allow-Origin": itself} if other == itself else {}
        assert granted(call(app, make_environ("GET", other)).headers) == expected


@PROPERTY
@given(patterns(), st.data())
def test_every_pattern_the_parser_accepts_matches_what_it_was_built_from_and_nothing_else(built, data):
    pattern, instance = built
    app = CORS(RecordingApp(), origin=pattern)
    for _ in range(3):
        origin = "".join(instance(data.draw))
        assert granted(call(app, make_environ("GET", origin)).headers) == {"Access-Control-Allow-Origin": origin}
    near = [("".join(data.draw(st.sampled_from(NEAR_MISSES))(*instance(data.draw))), True) for _ in range(3)]
    for origin, serialized in near + data.draw(st.lists(origins, max_size=3)):
        matches = serialized and glob(pattern, origin)
        expected = {"Access-Control-Allow-Origin": origin} if matches else {}
        assert granted(call(app, make_environ("GET", origin)).headers) == expected


@PROPERTY
@given(
    st.lists(st.sampled_from(CONFIGURED_HEADERS), min_size=1, max_size=3, unique=True),
    st.one_of(request_headers.filter(lambda value: value is not None), st.text(max_size=30)),
)
def test_a_request_header_list_is_allowed_exactly_when_it_names_only_configured_headers(configured, requested):
    app = CORS(RecordingApp(), origin="https://example.com", headers=configured)
    response = call(app, preflight_environ("https://example.com", "GET", requested))
    names = requested_names(requested)
    allowed = names is not None and all(name in {c.lower() for c in configured} for name in names)
    assert ("Access-Control-Allow-Origin" in cors_headers(response.headers)) == allowed


@PROPERTY
@given(st.one_of(request_headers.filter(lambda value: value is not None), st.text(max_size=30)))
def test_a_reflected_request_header_list_is_exactly_the_well_formed_one_requested(requested):
    app = CORS(RecordingApp(), origin="https://example.com", headers="*")
    response = call(app, preflight_environ("https://example.com", "GET", requested))
    names = requested_names(requested)
    expected = {"Access-Control-Allow-Origin": "https://example.com", "Access-Control-Allow-Methods": "GET, HEAD, POST"}
    if names is None:
        assert cors_headers(response.headers) == {}
    elif not names:
        assert cors_headers(response.headers) == expected
    else:
        # The parsed names, lowercase, not the raw value.
        assert cors_headers(response.headers) == {**expected, "Access-Control-Allow-Headers": ", ".join(names)}


@PROPERTY
@given(st.one_of(request_methods, st.text(max_size=20)))
def test_a_reflected_request_method_is_exactly_the_token_requested(method):
    app = CORS(RecordingApp(), origin="https://example.com", methods="*")
    response = call(app, preflight_environ("https://example.com", method))
    if TOKEN.fullmatch(method):
        assert cors_headers(response.headers) == {
            "Access-Control-Allow-Origin": "https://example.com",
            "Access-Control-Allow-Methods": method,
        }
    else:
        assert cors_headers(response.headers) == {}
