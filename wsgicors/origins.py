"""Origin syntax, origin patterns, and the compiled matcher for a policy's origins."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from .callback import OriginCallback, OriginCheck

# A browser serializes an origin as scheme "://" host [":" port], in lowercase, without
# the scheme's default port: https://html.spec.whatwg.org/#ascii-serialisation-of-an-origin
# The groups split a domain origin as "scheme://", first label, tail (the rest, port
# included): a subdomain pattern's tail is sought in the tail. An IPv6 host has no tail.
# A host that DNS cannot hold (a label over 63 characters, more than 253 in all) is not
# an origin any browser sends: https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4
_SCHEME = r"[a-z][a-z0-9+.\-]*"
_LABEL = r"[a-z0-9_\-]{1,63}"
_HOST_LENGTH = r"(?=[a-z0-9_\-.]{1,253}\.?(?::|$))"
_PORT = r"6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}"
_ORIGIN = re.compile(
    rf"({_SCHEME}://)(?:{_HOST_LENGTH}{_LABEL}((?:\.{_LABEL})*\.?(?::(?:{_PORT}))?)|\[[0-9a-f:.]+\](?::(?:{_PORT}))?)",
    re.ASCII,
)
_PORT_NUMBER = re.compile(_PORT, re.ASCII)
# No real origin is longer (a host has at most 253 characters); checking the length
# first keeps a hostile 1 MB Origin away from the regex engine.
MAX_ORIGIN_LENGTH = 512
# Browsers never serialize these ports: https://url.spec.whatwg.org/#default-port
_DEFAULT_PORT_SUFFIXES = {"http://": ":80", "https://": ":443"}

# An origin pattern: the same shape, where "*" and "?" may stand anywhere (fnmatch's two
# wildcards; "[" stays literal so that IPv6 hosts can be written).
_ORIGIN_PATTERN = re.compile(
    r"(?:(?P<scheme>[a-z*?][a-z0-9+.\-*?]*)://)?"
    r"(?P<host>[a-z0-9_\-.*?]+|\[[0-9a-f:.*?]+\])"
    r"(?::(?P<port>[0-9*?]+))?",
    re.ASCII,
)
# The usual pattern, a leading "*." label and nothing else wild: "https://*.example.com".
_SUBDOMAIN_PATTERN = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)?\*(?P<tail>\.[^*?]+)", re.ASCII)

ANY = "*"
COPY = "copy"
NULL = "null"
# Some embedded WebViews send it for pages loaded from files; like `null`, it is allowed
# only where listed, never by `copy` or a pattern.
FILE = "file://"


class InvalidOrigin(ValueError):
    """An ``origin`` entry that is not an origin, an origin pattern, ``*``, ``copy`` or ``null``."""


def split_origin(value: str) -> Optional[tuple[str, Optional[str]]]:
    """``("scheme://", tail)`` for an origin exactly as a browser serializes it, else ``None``.

    The tail is what follows a domain's first label (``".example.com:8443"``); ``None``
    for an IPv6 host. ``null`` and ``file://`` are not serialized origins here.
    """
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    match = _ORIGIN.fullmatch(value)
    if match is None:
        return None
    scheme, tail = match.groups()
    default_port = _DEFAULT_PORT_SUFFIXES.get(scheme)
    if default_port is not None and value.endswith(default_port):
        return None
    return scheme, tail


def is_serialized_origin(value: str) -> bool:
    """Whether ``value`` is an origin exactly as a browser sends it (``null`` is not)."""
    return split_origin(value) is not None


@dataclass(frozen=True)
class Glob:
    """A compiled origin pattern: ``*`` matches any run of characters, ``?`` one.

    Matching is linear in the origin's length, however many ``*`` the pattern has: each
    run between two ``*`` has a fixed length and is taken at its first place.
    """

    runs: tuple[re.Pattern[str], ...]
    tail_length: int

    @classmethod
    def compile(cls, pattern: str) -> Glob:
        """Compile an fnmatch-style pattern with ``*`` and ``?`` as its only wildcards."""
        runs = pattern.split("*")
        compiled = tuple(re.compile("".join("." if c == "?" else re.escape(c) for c in run)) for run in runs)
        return cls(compiled, len(runs[-1]))

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` matches."""
        if len(self.runs) == 1:
            return self.runs[0].fullmatch(text) is not None
        head, *middle, tail = self.runs
        found = head.match(text)
        end = len(text) - self.tail_length
        if found is None or end < found.end() or tail.fullmatch(text, end) is None:
            return False
        position = found.end()
        for run in middle:
            found = run.search(text, position, end)
            if found is None:
                return False
            position = found.end()
        return True


@dataclass(frozen=True)
class OriginMatcher:
    """The compiled ``origin`` setting of one policy.

    :param entries: the normalized entries, as configured (for ``repr`` and messages).
    :param exact: origins allowed as they are, ``null`` and ``file://`` included when listed.
    :param any_origin: ``*`` or ``copy``: every serialized origin is allowed.
    :param wildcard: the entry is ``*``: answered with ``Access-Control-Allow-Origin: *``.
    :param subdomains: for ``scheme://*.domain[:port]`` patterns, the tails (``.domain[:port]``)
        by ``scheme://`` prefix, each with those of patterns without scheme, which are under ``""``.
    :param globs: every other pattern.
    """

    entries: tuple[str, ...]
    exact: frozenset[str] = field(repr=False, compare=False)
    any_origin: bool = field(repr=False, compare=False)
    wildcard: bool = field(repr=False, compare=False)
    subdomains: Mapping[str, frozenset[str]] = field(repr=False, compare=False)
    globs: tuple[Glob, ...] = field(repr=False, compare=False)
    #: Only the ``exact`` origins are allowed (no pattern, ``*``, ``copy`` or callable).
    exact_only: bool = field(repr=False, compare=False)
    #: The setting is a callable, which decides at run time.
    callback: Optional[OriginCallback] = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        if self.callback is not None:
            return f"OriginMatcher(decided at run time by {self.callback.name})"
        return f"OriginMatcher(entries={self.entries!r})"

    def allows(self, origin: str) -> bool:
        """Whether the request's ``Origin`` value is allowed."""
        if origin in self.exact:
            return True
        if self.exact_only:
            return False
        # Wildcards, `*`, `copy` and callables see only serialized origins: this keeps
        # "*.example.com" from matching "https://evil.net/.example.com" and keeps `null` out.
        split = split_origin(origin)
        if split is None:
            return False
        if self.callback is not None:
            return self.callback.allows(origin)
        if self.any_origin:
            return True
        scheme, tail = split
        tails = self.subdomains.get(scheme) or self.subdomains.get("")
        # A leading "*" label may stand before each "." of the host; an IPv6 host (no
        # tail) has no subdomains.
        while tails and tail:
            if tail in tails:
                return True
            dot = tail.find(".", 1)
            tail = tail[dot:] if dot > 0 else ""
        return bool(self.globs) and any(glob.matches(origin) for glob in self.globs)


def compile_origins(entries: Iterable[str]) -> OriginMatcher:
    """Compile ``origin`` entries into a matcher.

    :raises InvalidOrigin: for an entry that is neither an origin nor a pattern.
    """
    normalized = tuple(dict.fromkeys(parse_origin_entry(entry) for entry in entries))
    if not normalized:
        raise InvalidOrigin("lists no origin")
    for keyword in (ANY, COPY):
        if keyword in normalized and len(normalized) > 1:
            raise InvalidOrigin(f"mixes {keyword!r} with other entries; {keyword!r} must stand alone")
    subdomains: dict[str, set[str]] = {}
    globs = []
    for entry in filter(is_wildcard, normalized):
        match = _SUBDOMAIN_PATTERN.fullmatch(entry)
        if match is None:
            globs.append(Glob.compile(entry))
        else:
            subdomains.setdefault(match["scheme"] or "", set()).add(match["tail"])
    any_scheme = subdomains.get("", set())
    return OriginMatcher(
        entries=normalized,
        exact=frozenset(e for e in normalized if not is_wildcard(e) and e not in (ANY, COPY)),
        any_origin=normalized[0] in (ANY, COPY),
        wildcard=normalized[0] == ANY,
        subdomains={prefix: frozenset(tails | any_scheme) for prefix, tails in subdomains.items()},
        globs=tuple(globs),
        exact_only=not (normalized[0] in (ANY, COPY) or subdomains or globs),
    )


def decided_at_run_time(check: OriginCheck) -> OriginMatcher:
    """A matcher that asks ``check`` about every serialized origin."""
    return OriginMatcher(
        entries=(),
        exact=frozenset(),
        any_origin=False,
        wildcard=False,
        subdomains={},
        globs=(),
        exact_only=False,
        callback=OriginCallback(check),
    )


def is_wildcard(entry: str) -> bool:
    """Whether a normalized entry is a pattern (it holds ``*`` or ``?`` and is not ``*``)."""
    return entry != ANY and ("*" in entry or "?" in entry)


def parse_origin_entry(entry: str) -> str:
    """Normalize one ``origin`` entry: lowercase, default port dropped.

    :raises InvalidOrigin: with the reason.
    """
    lowered = entry.lower()
    if lowered in (ANY, COPY, NULL, FILE):
        return lowered
    if not lowered.isascii():
        raise InvalidOrigin(
            f"has an entry {entry!r} that is not ASCII; browsers send the IDNA form of a host, "
            f"such as 'https://xn--bcher-kva.example' for 'https://bücher.example'"
        )
    scheme, _, rest = lowered.rpartition("://")
    if "/" in rest or "#" in rest:
        raise InvalidOrigin(
            f"has an entry {entry!r} with a path, query or fragment; "
            "an origin is scheme://host[:port], with no trailing slash"
        )
    if is_wildcard(lowered):
        if not _is_pattern(lowered):
            raise InvalidOrigin(f"has an entry {entry!r} that is not an origin pattern such as 'https://*.example.com'")
        return lowered
    # The syntax is checked with the port as written; only then is a default port dropped.
    if len(lowered) > MAX_ORIGIN_LENGTH or _ORIGIN.fullmatch(lowered) is None:
        raise InvalidOrigin(f"has an entry {entry!r} that is not an origin such as 'https://example.com:8443'")
    default_port = _DEFAULT_PORT_SUFFIXES.get(f"{scheme}://")
    if default_port is not None and lowered.endswith(default_port):
        lowered = lowered[: -len(default_port)]
    if not is_serialized_origin(lowered):
        raise InvalidOrigin(f"has an entry {entry!r} that is not an origin such as 'https://example.com:8443'")
    return lowered


def _is_pattern(entry: str) -> bool:
    """Whether a lowercase entry holding a wildcard is a well-formed origin pattern."""
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None or (match["scheme"] is None and not entry.startswith("*")):
        return False
    port = match["port"]
    if port is not None and "*" not in port and "?" not in port and _PORT_NUMBER.fullmatch(port) is None:
        return False
    host = match["host"]
    # No empty label: "https://*..example.com" can never match.
    return host.startswith("[") or "" not in host.split(".")


def _fixed_host_labels(entry: str) -> tuple[list[str], list[str]]:
    """A pattern's host labels, and those of them without a wildcard."""
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None or not is_wildcard(entry):
        return [], []
    labels = match["host"].split(".")
    return labels, [label for label in labels if "*" not in label and "?" not in label]


def covers_every_host(entry: str) -> bool:
    """Whether a pattern leaves the whole host to wildcards (``https://*``, ``*.*``)."""
    labels, fixed = _fixed_host_labels(entry)
    return bool(labels) and not fixed


def fixes_only_top_level_domain(entry: str) -> bool:
    """Whether a pattern's only fixed host label is the last one (``https://*.com``)."""
    labels, fixed = _fixed_host_labels(entry)
    return len(labels) > 1 and fixed == labels[-1:]


def matches_plain_http(entry: str) -> bool:
    """Whether an origin or pattern allows ``http://`` origins (``http://x``, ``*://x``,
    ``http*://x``, or a pattern without scheme)."""
    scheme, separator, _ = entry.partition("://")
    if not separator:
        return is_wildcard(entry)
    return Glob.compile(scheme).matches("http")


def is_loopback(entry: str) -> bool:
    """Whether an origin or pattern names a loopback host, which browsers treat as
    potentially trustworthy even over http: https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy
    """
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None:
        return False
    host = match["host"]
    return (
        host in ("localhost", "[::1]")
        or host.endswith(".localhost")
        or (host.startswith("127.") and host.replace(".", "").isdigit())
    )


def pattern_warnings(entry: str) -> list[str]:
    """Why an entry, if it is a pattern, may allow more origins than its author meant."""
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None or not is_wildcard(entry):
        return []
    warnings = []
    if match["scheme"] is None:
        warnings.append(
            "has no scheme, so it matches every scheme: http://, https://, wss://, ftp://, chrome-extension://..."
        )
    # Only a whole leading label ("*.example.com") keeps the registrable domain fixed.
    labels = match["host"].split(".")
    leading = 1 if labels[0] in ("*", "?") else 0
    if any("*" in label or "?" in label for label in labels[leading:]):
        warnings.append(
            "has a wildcard that can cross a dot boundary, so it also matches unrelated domains; "
            "a leading '*.' label (https://*.example.com) means subdomains"
        )
    return warnings
