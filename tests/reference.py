"""The reference: what a configuration means, written from the documentation, not from wsgicors' code.

The property tests (tests/test_properties.py) check the middleware's answers against it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Optional

from support import TOKEN, HeaderList, cors_headers

# Fetch normalizes only these methods to uppercase.
STANDARD_METHODS = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}
# A preflight never needs these listed ("CORS-preflight fetch", step 7).
SAFELISTED_METHODS = {"GET", "HEAD", "POST"}
# Longer Access-Control-Request-Headers values are refused unread.
MAX_REQUEST_HEADERS_LENGTH = 4096
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def browser_form(entry: str) -> str:
    """An exact ``origin`` entry as a browser sends it: lowercase, without the default port."""
    lowered = entry.lower()
    default_port = DEFAULT_PORTS.get(lowered.partition("://")[0])
    if default_port and lowered.endswith(default_port):
        return lowered[: -len(default_port)]
    return lowered


def requested_names(value: str) -> Optional[list[str]]:
    """The lowercase names an ``Access-Control-Request-Headers`` value asks for, or ``None``
    if it is refused: split on commas as Fetch splits a header list, spaces and tabs trimmed,
    empty elements ignored; each element must be a token, the whole at most 4096 characters."""
    if len(value) > MAX_REQUEST_HEADERS_LENGTH:
        return None
    names = [element.strip(" \t") for element in value.split(",")]
    names = [name for name in names if name]
    if not all(TOKEN.fullmatch(name) for name in names):
        return None
    return [name.lower() for name in names]


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
        if policy is None or not TOKEN.fullmatch(method):
            return {}
        # Under verbmatch the policy was selected for listing the method; under firstmatch
        # any policy allowing the origin allows the safelisted methods too.
        if not policy.allows_method(method) and method not in SAFELISTED_METHODS:
            return {}
        if request_headers is not None:
            names = requested_names(request_headers)
            if names is None:
                return {}
            if policy.headers is not None and any(name not in policy.headers for name in names):
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
