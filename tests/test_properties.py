"""Properties over arbitrary requests and configurations drawn from the valid configuration space,
checked against a reference written here from what the settings mean, not from wsgicors' code;
and fuzz targets for the origin, origin-pattern and request-header parsers."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Callable, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import (
    FIELD_VALUE,
    TOKEN,
    HeaderList,
    RecordingApp,
    call,
    cors_headers,
    make_environ,
    preflight_environ,
)

from wsgicors import CORS, ConfigurationError

# Bounded and without deadlines: the suite stays fast, and a slow shared machine is no failure.
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fetch normalizes only these methods to uppercase.
STANDARD_METHODS = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def browser_form(entry: str) -> str:
    """An exact ``origin`` entry as a browser sends it: lowercase, without the default port."""
    lowered = entry.lower()
    default_port = DEFAULT_PORTS.get(lowered.partition("://")[0])
    if default_port and lowered.endswith(default_port):
        return lowered[: -len(default_port)]
    return lowered


def glob(pattern: str, origin: str) -> bool:
    """``*`` matches any run of characters, ``?`` any one; everything else, ``[`` too, is literal."""
    return fnmatch.fnmatchcase(origin, pattern.replace("[", "[[]"))


@dataclass(frozen=True)
class Meaning:
    """What one policy means, from the documentation."""

    origins: tuple[str, ...]  # "*", "copy", or browser forms and lowercased patterns
    methods: Optional[frozenset[str]]  # None: any
    headers: Optional[frozenset[str]]  # lowercase; None: any
    credentials: bool

    @property
    def public(self) -> bool:
        return self.origins == ("*",) and not self.credentials

    def allows_origin(self, origin: str, serialized: bool) -> bool:
        if self.public:
            return True
        if self.origins[0] in ("*", "copy"):
            return serialized
        exact = [entry for entry in self.origins if "*" not in entry and "?" not in entry]
        patterns = [entry for entry in self.origins if entry not in exact]
        return origin in exact or (serialized and any(glob(pattern, origin) for pattern in patterns))

    def allows_method(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass(frozen=True)
class Configuration:
    settings: dict[str, Any]
    policies: tuple[Meaning, ...]
    verbmatch: bool

    @property
    def candidates(self) -> list[str]:
        """Origins some policy may allow: its exact entries and examples of its patterns."""
        entries = [entry for policy in self.policies for entry in policy.origins if entry not in ("*", "copy")]
        return [entry for entry in entries if "*" not in entry and "?" not in entry] + [
            example for example in PATTERN_EXAMPLES if any(glob(entry, example) for entry in entries)
        ]

    def select(self, origin: str, serialized: bool, method: str) -> Optional[Meaning]:
        for policy in self.policies:
            if policy.allows_origin(origin, serialized) and (not self.verbmatch or policy.allows_method(method)):
                return policy
        return None

    def actual_grant(self, origin: Optional[str], serialized: bool, method: str) -> dict[str, str]:
        """The Allow-Origin and Allow-Credentials headers an actual request should get."""
        first = self.policies[0] if self.policies else None
        if first is not None and first.public and (not self.verbmatch or first.methods is None):
            return {"Access-Control-Allow-Origin": "*"}
        policy = None if origin is None else self.select(origin, serialized, method)
        return grant(policy, origin)

    def preflight_grant(
        self, origin: str, serialized: bool, method: str, request_headers: Optional[str]
    ) -> dict[str, str]:
        """The Allow-Origin and Allow-Credentials headers a preflight should get."""
        policy = self.select(origin, serialized, method)
        if policy is None or not TOKEN.fullmatch(method) or not policy.allows_method(method):
            return {}
        if request_headers is not None and request_headers.strip(" \t"):
            names = [name.strip(" \t") for name in request_headers.split(",")]
            if not all(TOKEN.fullmatch(name) for name in names):
                return {}
            if policy.headers is not None and any(name.lower() not in policy.headers for name in names):
                return {}
        return grant(policy, origin)


def grant(policy: Optional[Meaning], origin: Optional[str]) -> dict[str, str]:
    if policy is None:
        return {}
    headers = {"Access-Control-Allow-Origin": "*" if policy.public else str(origin)}
    if policy.credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def granted(headers: HeaderList) -> dict[str, str]:
    found = cors_headers(headers)
    return {
        name: found[name]
        for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials")
        if name in found
    }


# --- configurations -------------------------------------------------------------------------

# (as configured, what it means)
EXACT_ENTRIES = [
    ("https://example.com", "https://example.com"),
    ("HTTPS://Example.COM:443", "https://example.com"),
    ("http://example.com:8080", "http://example.com:8080"),
    ("http://localhost:80", "http://localhost"),
    ("https://a.example.com", "https://a.example.com"),
    ("https://[::1]:8443", "https://[::1]:8443"),
    ("null", "null"),
    ("NULL", "null"),
]
PATTERN_ENTRIES = [
    ("https://*.example.com", "https://*.example.com"),
    ("HTTPS://*.EXAMPLE.ORG", "https://*.example.org"),
    ("*.example.net", "*.example.net"),
    ("http://?.example.com", "http://?.example.com"),
    ("https://a?c.example.com", "https://a?c.example.com"),
    ("https://*.example.com:*", "https://*.example.com:*"),
    ("*://*.example.org:8443", "*://*.example.org:8443"),
]
# Origins each pattern entry matches, to aim requests at what a configuration allows.
PATTERN_EXAMPLES = [
    "https://a.example.com",
    "https://x.y.example.com",
    "https://a.example.org",
    "http://b.example.net",
    "http://b.example.com",
    "https://abc.example.com",
    "https://a.example.com:8443",
    "wss://a.example.org:8443",
]
CONFIGURED_METHODS = ["GET", "POST", "PUT", "delete", "PATCH", "PROPFIND"]
CONFIGURED_HEADERS = ["X-Token", "Authorization", "content-type", "X-Requested-With"]
BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False, "1": True, "0": False}


def as_list(values: list[str], separator: str) -> st.SearchStrategy[Any]:
    """A list setting as an ini string or a Python list."""
    return st.sampled_from([separator.join(values), list(values)])


@st.composite
def policies(draw: Callable[..., Any]) -> tuple[dict[str, Any], Meaning]:
    config: dict[str, Any] = {}
    kind = draw(st.sampled_from(["*", "copy", "entries", "entries"]))
    if kind == "entries":
        entries = draw(st.lists(st.sampled_from(EXACT_ENTRIES + PATTERN_ENTRIES), min_size=1, max_size=4, unique=True))
        config["origin"] = draw(
            as_list([configured for configured, _ in entries], draw(st.sampled_from([" ", "\n  "])))
        )
        origins = tuple(dict.fromkeys(meaning for _, meaning in entries))
    else:
        config["origin"] = kind
        origins = (kind,)
    methods: Optional[frozenset[str]] = frozenset({"GET", "HEAD", "POST"})
    choice = draw(st.sampled_from(["default", "*", "list"]))
    if choice == "*":
        config["methods"], methods = "*", None
    elif choice == "list":
        listed = draw(st.lists(st.sampled_from(CONFIGURED_METHODS), min_size=1, max_size=4, unique=True))
        config["methods"] = draw(as_list(listed, ", "))
        methods = frozenset(m.upper() if m.upper() in STANDARD_METHODS else m for m in listed)
    headers: Optional[frozenset[str]] = frozenset()
    choice = draw(st.sampled_from(["default", "*", "list"]))
    if choice == "*":
        config["headers"], headers = "*", None
    elif choice == "list":
        listed = draw(st.lists(st.sampled_from(CONFIGURED_HEADERS), min_size=1, max_size=3, unique=True))
        config["headers"] = draw(as_list(listed, ","))
        headers = frozenset(name.lower() for name in listed)
    expose = draw(st.sampled_from([None, "*", "X-Total", ["X-Total", "ETag"]]))
    if expose is not None:
        config["expose_headers"] = expose
    credentials = draw(st.sampled_from([None, True, False, *BOOLEANS]))
    if credentials is not None:
        config["credentials"] = credentials
    maxage = draw(st.one_of(st.none(), st.integers(0, 86_400), st.integers(0, 86_400).map(str)))
    if maxage is not None:
        config["maxage"] = maxage
    meaning = Meaning(origins, methods, headers, BOOLEANS.get(str(credentials).lower(), False))
    return config, meaning


@st.composite
def configurations(draw: Callable[..., Any]) -> Configuration:
    drawn = draw(st.lists(policies(), min_size=1, max_size=3))
    strategy = draw(st.sampled_from([None, "firstmatch", "verbmatch", "VerbMatch"]))
    config: dict[str, Any] = {} if strategy is None else {"matchstrategy": strategy}
    if len(drawn) == 1 and draw(st.booleans()):
        config.update(drawn[0][0])
        meanings = (drawn[0][1],)
    else:
        names = [f"p{number}" for number in range(len(drawn))]
        for name, (settings_, _) in zip(names, drawn):
            config.update({f"{name}_{key}": value for key, value in settings_.items()})
        stop = draw(st.integers(0, len(names)))
        listed = [*names[:stop], "deny", *names[stop:]] if draw(st.booleans()) else names
        config["policy"] = ", ".join(listed)
        meanings = tuple(meaning for _, meaning in drawn)[: stop if "deny" in listed else None]
    return Configuration(config, meanings, strategy is not None and strategy.lower() == "verbmatch")


# --- requests -------------------------------------------------------------------------------

LABELS = ["a", "b", "abc", "example", "com", "org", "net", "localhost", "evil"]
KNOWN = [
    "https://example.com",
    "http://example.com:8080",
    "http://localhost",
    "https://a.example.com",
    "https://[::1]:8443",
    "http://b.example.com",
    "https://abc.example.com",
    "https://a.example.org",
    "wss://a.example.org:8443",
    "https://a.example.net",
    "https://a.example.com:8443",
]


@st.composite
def browser_origins(draw: Callable[..., Any]) -> str:
    """Origins exactly as a browser serializes them."""
    if draw(st.booleans()):
        return str(draw(st.sampled_from(KNOWN)))
    scheme = draw(st.sampled_from(["https", "http", "wss"]))
    host = ".".join(draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=4)))
    port = draw(st.sampled_from(["", ":3000", ":8080", ":8443"]))
    return f"{scheme}://{host}{port}"


# Each turns a browser-serialized origin into something a browser never sends.
MALFORMING = [
    str.upper,
    lambda origin: origin + "/",
    lambda origin: origin + "/path?q",
    lambda origin: origin + " ",
    lambda origin: " " + origin,
    lambda origin: origin + "\r\nX: y",
    lambda origin: origin + "\x00",
    lambda origin: origin + "\xe4",
    lambda origin: origin + ":",
    lambda origin: origin + "#",
    lambda origin: origin.replace("://", "://user@"),
    lambda origin: origin + " https://evil.net",
]

LATIN_1 = st.text(st.characters(max_codepoint=0xFF), max_size=30)

# (Origin value, whether a browser could have sent it as it is)
origins = st.one_of(
    browser_origins().map(lambda origin: (origin, True)),
    st.tuples(browser_origins(), st.sampled_from(MALFORMING)).map(lambda pair: (pair[1](pair[0]), False)),
    st.sampled_from([("null", False), ("", False), ("*", False)]),
    LATIN_1.filter(lambda text: "://" not in text).map(lambda text: (text, False)),
)
browser_methods = st.sampled_from(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "PROPFIND", "OPTIONS", "get", "delete"]
)
request_methods = st.one_of(
    browser_methods,
    browser_methods,
    st.sampled_from(["", "GET\r\n", "G T", "\x00", ",", "PUT\n"]),
    LATIN_1,
)
request_headers = st.one_of(
    st.none(),
    st.tuples(
        st.lists(st.sampled_from([*CONFIGURED_HEADERS, "x-token", "AUTHORIZATION", "X-Other"]), max_size=4),
        st.sampled_from([",", ", ", " , ", ",\t"]),
    ).map(lambda pair: pair[1].join(pair[0])),
    st.sampled_from(["x-token\r\n", "x token", ",", "x-token,,authorization", "\x00", "(x)", "x-t\xf6ken", " "]),
    LATIN_1,
)
preflight_request_headers = st.one_of(
    st.none(),
    st.lists(st.sampled_from(CONFIGURED_HEADERS), min_size=1, max_size=2).map(", ".join),
    request_headers,
)
other_headers = st.dictionaries(
    st.sampled_from(["HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_VARY", "HTTP_X_FORWARDED_FOR", "HTTP_HOST"]),
    LATIN_1,
    max_size=3,
)


@dataclass(frozen=True)
class Request:
    environ: dict[str, Any]
    origin: Optional[str]
    serialized: bool
    preflight: bool


def aimed_origins(configuration: Configuration) -> st.SearchStrategy[tuple[str, bool]]:
    """Mostly origins the configuration may allow, the rest anything."""
    aimed = st.sampled_from(configuration.candidates + KNOWN).map(lambda origin: (origin, origin != "null"))
    return st.one_of(aimed, aimed, origins)


@st.composite
def requests(draw: Callable[..., Any], configuration: Configuration) -> Request:
    origin, serialized = draw(st.one_of(*[aimed_origins(configuration)] * 3, st.just((None, False))))
    if origin is not None and draw(st.booleans()):
        environ = preflight_environ(origin, draw(request_methods), draw(preflight_request_headers))
    else:
        method = draw(request_methods)
        # Request-method headers on a request that is not a preflight are not CORS' business.
        environ = make_environ(method, origin, None, draw(request_headers))
    environ.update(draw(other_headers))
    preflight = environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    return Request(environ, origin, serialized, preflight)


def configured_requests() -> st.SearchStrategy[tuple[Configuration, Request]]:
    return configurations().flatmap(lambda configuration: st.tuples(st.just(configuration), requests(configuration)))


# VCHAR, obs-text and SP: a field value once stripped of surrounding whitespace.
FIELD_CHARACTERS = "".join(chr(code) for code in range(0x20, 0x100) if code != 0x7F)
field_values = st.text(FIELD_CHARACTERS, max_size=20).map(lambda text: text.strip(" \t"))
app_headers = st.lists(
    st.tuples(
        st.sampled_from(["Content-Type", "X-App", "Vary", "vary", "Set-Cookie", "ETag", "Cache-Control"]), field_values
    ),
    max_size=5,
)
bodies = st.lists(st.binary(max_size=20), max_size=4)


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
@given(configured_requests(), app_headers, bodies)
def test_the_body_and_the_apps_own_headers_pass_through_unchanged(configured, headers, body):
    configuration, incoming = configured
    response = call(CORS(RecordingApp(headers, body=body), configuration.settings), incoming.environ)
    if incoming.preflight:
        return
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
@given(configured_requests())
def test_an_actual_request_gets_allow_origin_exactly_when_the_reference_allows_it(configured):
    configuration, incoming = configured
    if incoming.preflight:
        return
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

entry_spellings = st.one_of(
    browser_origins(),
    browser_origins().map(str.upper),
    browser_origins().map(lambda origin: origin + DEFAULT_PORTS.get(origin.partition(":")[0], "")),
    st.sampled_from(["null", "NULL", "https://[::1]", "http://127.0.0.1:8000", "https://xn--bcher-kva.example"]),
    st.text(max_size=30),
    st.text(st.sampled_from("hts:/.[]:09azAZ-_"), max_size=30),
)


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


@st.composite
def patterns(draw: Callable[..., Any]) -> tuple[str, Callable[[Any], tuple[str, str, str]]]:
    """An origin pattern, and a function drawing the parts of an origin it was built to match."""
    scheme = draw(st.sampled_from(["https://", "http://", "*://", ""]))
    labels = draw(
        st.lists(st.sampled_from(["*", "?", "a", "b?", "ex*", "example", "com", "org"]), min_size=1, max_size=4)
    )
    if not scheme:
        labels = ["*", *labels]  # a pattern without a scheme starts with its wildcard
    port = draw(st.sampled_from(["", ":8080", ":*", ":80?0"]))
    pattern = f"{scheme}{'.'.join(labels)}{port}"

    def instance(draw: Callable[..., Any]) -> tuple[str, str, str]:
        def fill(part: str, stars: list[str], marks: str) -> str:
            text = "".join(draw(st.sampled_from(stars)) if char == "*" else char for char in part)
            return "".join(draw(st.sampled_from(marks)) if char == "?" else char for char in text)

        host = [fill(label, ["a", "b1", "x.y", "example"], "abc019") for label in labels]
        if scheme:
            built = fill(scheme, ["https", "http", "wss"], "")
        else:  # the leading "*" stands for the scheme and the first labels
            built = draw(st.sampled_from(["https://", "http://"]))
            host[0] = draw(st.sampled_from(["a", "b.c", "example"]))
        return built, ".".join(host), fill(port, ["1", "8080", "65535"], "0123456789")

    return pattern, instance


# Each turns the parts of an origin into another browser-serialized origin, near the first.
NEAR_MISSES = [
    lambda scheme, host, port: ("http://" if scheme == "https://" else "https://", host, port),
    lambda scheme, host, port: ("wss://", host, port),
    lambda scheme, host, port: (scheme, "evil" + host, port),
    lambda scheme, host, port: (scheme, "evil." + host, port),
    lambda scheme, host, port: (scheme, host + ".evil.net", port),
    lambda scheme, host, port: (scheme, host + "a", port),
    lambda scheme, host, port: (scheme, host.partition(".")[2] or "evil", port),
    lambda scheme, host, port: (scheme, host, "" if port else ":8443"),
    lambda scheme, host, port: (scheme, host, ":2" if port == ":1" else ":1"),
]


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
    names = [name.strip(" \t") for name in requested.split(",")]
    allowed = not requested.strip(" \t") or all(
        TOKEN.fullmatch(name) and name.lower() in {c.lower() for c in configured} for name in names
    )
    assert ("Access-Control-Allow-Origin" in cors_headers(response.headers)) == allowed


@PROPERTY
@given(st.one_of(request_headers.filter(lambda value: value is not None), st.text(max_size=30)))
def test_a_reflected_request_header_list_is_exactly_the_well_formed_one_requested(requested):
    app = CORS(RecordingApp(), origin="https://example.com", headers="*")
    response = call(app, preflight_environ("https://example.com", "GET", requested))
    names = [name.strip(" \t") for name in requested.split(",")]
    well_formed = all(TOKEN.fullmatch(name) for name in names)
    expected = {"Access-Control-Allow-Origin": "https://example.com", "Access-Control-Allow-Methods": "GET, HEAD, POST"}
    if not requested.strip(" \t"):
        assert cors_headers(response.headers) == expected
    elif well_formed:
        assert cors_headers(response.headers) == {**expected, "Access-Control-Allow-Headers": requested.strip(" \t")}
    else:
        assert cors_headers(response.headers) == {}


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
