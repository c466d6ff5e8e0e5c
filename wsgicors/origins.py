"""Origin syntax, origin patterns, and the compiled matcher for a policy's origins."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

# A browser serializes an origin as scheme "://" host [":" port], in lowercase, without
# the scheme's default port: https://html.spec.whatwg.org/#ascii-serialisation-of-an-origin
# The groups split a domain origin as "scheme://", first label, tail: a subdomain
# pattern's tail is sought in the tail.
_SCHEME = r"[a-z][a-z0-9+.\-]*"
_LABEL = r"[a-z0-9_\-]+"
_PORT = r"6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}"
_ORIGIN = re.compile(
    rf"({_SCHEME}://)(?:{_LABEL}((?:\.{_LABEL})*\.?(?::(?:{_PORT}))?)|\[[0-9a-f:.]+\](?::(?:{_PORT}))?)", re.ASCII
)
_PORT_NUMBER = re.compile(_PORT, re.ASCII)
# No real origin is longer (a host has at most 253 characters); checking the length
# first keeps a hostile 1 MB Origin away from the regex engine.
MAX_ORIGIN_LENGTH = 512

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

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}

ANY = "*"
COPY = "copy"
NULL = "null"


class InvalidOrigin(ValueError):
    """An ``origin`` entry that is not an origin, an origin pattern, ``*``, ``copy`` or ``null``."""


def is_serialized_origin(value: str) -> bool:
    """Whether ``value`` is an origin exactly as a browser sends it (``null`` is not)."""
    return len(value) <= MAX_ORIGIN_LENGTH and _ORIGIN.fullmatch(value) is not None


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
    :param exact: origins allowed as they are, ``null`` included when listed.
    :param any_origin: ``*`` or ``copy``: every serialized origin is allowed.
    :param subdomains: for ``scheme://*.domain[:port]`` patterns, the tails (``.domain[:port]``)
        by ``scheme://`` prefix, each with those of patterns without scheme, which are under ``""``.
    :param globs: every other pattern.
    """

    entries: tuple[str, ...]
    exact: frozenset[str] = field(repr=False, compare=False)
    any_origin: bool = field(repr=False, compare=False)
    subdomains: Mapping[str, frozenset[str]] = field(repr=False, compare=False)
    globs: tuple[Glob, ...] = field(repr=False, compare=False)

    @property
    def exact_only(self) -> bool:
        """Whether only the ``exact`` origins are allowed (no pattern, ``*`` or ``copy``)."""
        return not (self.any_origin or self.subdomains or self.globs)

    def allows(self, origin: str) -> bool:
        """Whether the request's ``Origin`` value is allowed."""
        if origin in self.exact:
            return True
        if self.exact_only or len(origin) > MAX_ORIGIN_LENGTH:
            return False
        # Wildcards, `*` and `copy` see only well-formed origins: this keeps "*.example.com"
        # from matching "https://evil.net/.example.com" and keeps `null` out.
        split = _ORIGIN.fullmatch(origin)
        if split is None:
            return False
        if self.any_origin:
            return True
        scheme, tail = split.groups()
        tails = self.subdomains.get(scheme) or self.subdomains.get("")
        # A leading "*" label may stand before each "." of the host.
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
        subdomains={prefix: frozenset(tails | any_scheme) for prefix, tails in subdomains.items()},
        globs=tuple(globs),
    )


def is_wildcard(entry: str) -> bool:
    """Whether a normalized entry is a pattern (it holds ``*`` or ``?`` and is not ``*``)."""
    return entry != ANY and ("*" in entry or "?" in entry)


def parse_origin_entry(entry: str) -> str:
    """Normalize one ``origin`` entry: lowercase, default port dropped.

    :raises InvalidOrigin: with the reason.
    """
    lowered = entry.lower()
    if lowered in (ANY, COPY, NULL):
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
    if not is_serialized_origin(lowered):
        raise InvalidOrigin(f"has an entry {entry!r} that is not an origin such as 'https://example.com:8443'")
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and lowered.endswith(default_port):
        lowered = lowered[: -len(default_port)]
    return lowered


def _is_pattern(entry: str) -> bool:
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None or (match["scheme"] is None and not entry.startswith("*")):
        return False
    port = match["port"]
    if port is not None and "*" not in port and "?" not in port and _PORT_NUMBER.fullmatch(port) is None:
        return False
    host = match["host"]
    return host.startswith("[") or "" not in host.split(".")


def pattern_warnings(entry: str) -> list[str]:
    """Why an entry, if it is a pattern, may allow more origins than its author meant."""
    match = _ORIGIN_PATTERN.fullmatch(entry)
    if match is None or not is_wildcard(entry):
        return []
    warnings = []
    if match["scheme"] is None:
        warnings.append("has no scheme, so it matches http:// origins as well as https://")
    # Only a whole leading label ("*.example.com") keeps the registrable domain fixed.
    labels = match["host"].split(".")
    leading = 1 if labels[0] in ("*", "?") else 0
    if any("*" in label or "?" in label for label in labels[leading:]):
        warnings.append(
            "has a wildcard that can cross a dot boundary, so it also matches unrelated domains; "
            "a leading '*.' label (https://*.example.com) means subdomains"
        )
    return warnings
