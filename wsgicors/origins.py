"""Origin syntax, origin patterns, and the compiled matcher for a policy's origins."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

# A browser serializes an origin as scheme "://" host [":" port], in lowercase, without
# the scheme's default port: https://html.spec.whatwg.org/#ascii-serialisation-of-an-origin
_SCHEME = r"[a-z][a-z0-9+.\-]*"
_DOMAIN = r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*\.?"
_IPV6 = r"\[[0-9a-f:.]+\]"
_PORT = r"6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}"
_SERIALIZED_ORIGIN = re.compile(rf"{_SCHEME}://(?:{_DOMAIN}|{_IPV6})(?::(?:{_PORT}))?", re.ASCII)

# An origin pattern: the same shape, where "*" and "?" may stand anywhere (fnmatch's two
# wildcards; "[" stays literal so that IPv6 hosts can be written).
_ORIGIN_PATTERN = re.compile(
    r"(?:(?P<scheme>[a-z*?][a-z0-9+.\-*?]*)://)?"
    r"(?P<host>[a-z0-9_\-.*?]+|\[[0-9a-f:.*?]+\])"
    r"(?::(?P<port>[0-9*?]+))?",
    re.ASCII,
)

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}

ANY = "*"
COPY = "copy"
NULL = "null"


class InvalidOrigin(ValueError):
    """An ``origin`` entry that is not an origin, an origin pattern, ``*``, ``copy`` or ``null``."""


def is_serialized_origin(value: str) -> bool:
    """Whether ``value`` is an origin exactly as a browser sends it (``null`` is not)."""
    return _SERIALIZED_ORIGIN.fullmatch(value) is not None


@dataclass(frozen=True)
class OriginMatcher:
    """The compiled ``origin`` setting of one policy.

    :param entries: the normalized entries, as configured (for ``repr`` and messages).
    :param exact: origins allowed as they are, ``null`` included when listed.
    :param pattern: one anchored regex of all wildcard entries, or ``None``.
    :param any_origin: ``*`` or ``copy``: every serialized origin is allowed.
    """

    entries: tuple[str, ...]
    exact: frozenset[str] = field(repr=False)
    pattern: Optional[re.Pattern[str]] = field(repr=False)
    any_origin: bool = field(repr=False)

    def allows(self, origin: str) -> bool:
        """Whether the request's ``Origin`` value is allowed."""
        if origin in self.exact:
            return True
        if not self.any_origin and self.pattern is None:
            return False
        # Wildcards, `*` and `copy` see only well-formed origins: this keeps "*.example.com"
        # from matching "https://evil.net/.example.com" and keeps `null` out.
        if _SERIALIZED_ORIGIN.fullmatch(origin) is None:
            return False
        return self.any_origin or self.pattern.fullmatch(origin) is not None  # type: ignore[union-attr]


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
    wildcards = [entry for entry in normalized if is_wildcard(entry)]
    pattern = None
    if wildcards:
        pattern = re.compile("|".join(_translate(entry) for entry in wildcards), re.ASCII)
    return OriginMatcher(
        entries=normalized,
        exact=frozenset(e for e in normalized if not is_wildcard(e) and e not in (ANY, COPY)),
        pattern=pattern,
        any_origin=normalized[0] in (ANY, COPY),
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
    scheme, separator, rest = lowered.rpartition("://")
    if "/" in rest or "#" in rest:
        raise InvalidOrigin(
            f"has an entry {entry!r} with a path, query or fragment; "
            "an origin is scheme://host[:port], with no trailing slash"
        )
    if is_wildcard(lowered):
        match = _ORIGIN_PATTERN.fullmatch(lowered)
        if match is None or (not separator and not lowered.startswith("*")):
            raise InvalidOrigin(f"has an entry {entry!r} that is not an origin pattern such as 'https://*.example.com'")
        return lowered
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and lowered.endswith(default_port):
        lowered = lowered[: -len(default_port)]
    if not is_serialized_origin(lowered):
        raise InvalidOrigin(f"has an entry {entry!r} that is not an origin such as 'https://example.com:8443'")
    return lowered


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


def _translate(entry: str) -> str:
    return "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in entry)
