"""Hypothesis strategies: configurations from the valid configuration space with their meaning,
requests aimed at them, app answers, and spellings of origins and patterns for the parser fuzzers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from hypothesis import strategies as st
from reference import DEFAULT_PORTS, STANDARD_METHODS, Configuration, Meaning, glob
from support import make_environ, preflight_environ

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
    # `*` with credentials is refused at construction (tests/test_config.py).
    falsy = [None, False, *(spelling for spelling, value in BOOLEANS.items() if not value)]
    credentials = draw(st.sampled_from(falsy if kind == "*" else [None, True, False, *BOOLEANS]))
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


def candidates(configuration: Configuration) -> list[str]:
    """Origins some policy of ``configuration`` may allow: its exact entries and examples of its patterns."""
    entries = [entry for policy in configuration.policies for entry in policy.origins if entry not in ("*", "copy")]
    return [entry for entry in entries if "*" not in entry and "?" not in entry] + [
        example for example in PATTERN_EXAMPLES if any(glob(entry, example) for entry in entries)
    ]


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
    aimed = st.sampled_from(candidates(configuration) + KNOWN).map(lambda origin: (origin, origin != "null"))
    return st.one_of(aimed, aimed, origins)


@st.composite
def requests(draw: Callable[..., Any], configuration: Configuration, preflights: bool = True) -> Request:
    """Requests aimed at ``configuration``: preflights (unless ``preflights`` is false) and others."""
    origin, serialized = draw(st.one_of(*[aimed_origins(configuration)] * 3, st.just((None, False))))
    if origin is not None and preflights and draw(st.booleans()):
        environ = preflight_environ(origin, draw(request_methods), draw(preflight_request_headers))
    else:
        method = draw(request_methods)
        # Request-method headers on a request that is not a preflight are not CORS' business.
        environ = make_environ(method, origin, None, draw(request_headers))
    environ.update(draw(other_headers))
    preflight = environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
    return Request(environ, origin, serialized, preflight)


def configured_requests(preflights: bool = True) -> st.SearchStrategy[tuple[Configuration, Request]]:
    """A configuration and a request aimed at it; ``preflights=False`` draws no preflight."""
    return configurations().flatmap(
        lambda configuration: st.tuples(st.just(configuration), requests(configuration, preflights))
    )


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


# --- parser fuzzing ----------------------------------------------------------------------------

entry_spellings = st.one_of(
    browser_origins(),
    browser_origins().map(str.upper),
    browser_origins().map(lambda origin: origin + DEFAULT_PORTS.get(origin.partition(":")[0], "")),
    st.sampled_from(["null", "NULL", "https://[::1]", "http://127.0.0.1:8000", "https://xn--bcher-kva.example"]),
    st.text(max_size=30),
    st.text(st.sampled_from("hts:/.[]:09azAZ-_"), max_size=30),
)


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
