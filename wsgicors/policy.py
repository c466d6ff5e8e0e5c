"""Compiled CORS policies and the pure decisions made with them for one request."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Optional, Sequence, Tuple, Union

from .origins import ANY, OriginMatcher

Header = Tuple[str, str]
Headers = Tuple[Header, ...]

# RFC 9110 section 5.6.2: a method or a field name is a token.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
TOKEN = re.compile(_TOKEN)
# Access-Control-Request-Headers: https://fetch.spec.whatwg.org/#http-new-header-syntax
# Linear: the separators and the token characters are disjoint, so nothing backtracks.
_HEADER_NAME_LIST = re.compile(rf"[ \t]*{_TOKEN}(?:[ \t]*,[ \t]*{_TOKEN})*[ \t]*")
# Far more than any page asks for; longer lists are refused unread, since the regex
# engine's memory grows with each repetition (rs/cors CVE-2025-47908 was such a list).
MAX_REQUEST_HEADERS_LENGTH = 4096

# Why a request got no CORS headers: fixed phrases, free of request values.
ORIGIN_NOT_ALLOWED = "origin not allowed"
ORIGIN_AND_METHOD_NOT_ALLOWED = "no policy allows this origin with this method"
METHOD_NOT_ALLOWED = "method not allowed"
HEADERS_NOT_ALLOWED = "request headers not allowed"
PRIVATE_NETWORK_NOT_ALLOWED = "private network access not allowed"
MALFORMED_METHOD = "malformed Access-Control-Request-Method"
MALFORMED_HEADERS = "malformed Access-Control-Request-Headers"
NOT_CORS = "not a CORS request (no Origin)"
NO_POLICY = "no policy configured"


class Decision(NamedTuple):
    """What the middleware decided for a request, left in ``environ["wsgicors.decision"]``.

    :param allowed: whether CORS headers were granted.
    :param policy: the policy that answered, if any.
    :param reason: a fixed phrase saying why (no request values in it).
    :param detail: for a refused preflight, the reason with the request's values (in ``repr``).
    """

    allowed: bool
    policy: Optional[Policy]
    reason: str
    detail: str = ""

    @property
    def header_value(self) -> str:
        """The ``X-CORS-Decision`` value: ``allowed; policy 'free'``, ``refused; origin not allowed``."""
        return f"{'allowed' if self.allowed else 'refused'}; {self.reason}"


class Refusal(NamedTuple):
    """A refused preflight: a fixed ``reason`` and a ``detail`` naming the request's values."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Policy:
    """One compiled policy, with its response header values prepared.

    :param name: the policy's name, ``None`` for keywords given without ``policy``.
    :param origins: which request origins it allows.
    :param methods: the allowed methods, ``None`` for any (``*``).
    :param headers: the allowed request headers, ``None`` for any (``*``).
    :param expose_headers: response headers exposed to scripts; ``("*",)`` for all.
    :param credentials: whether credentialed requests are allowed.
    :param max_age: seconds a browser may cache a preflight answer, or ``None``.
    :param private_network: answer Private Network Access preflights.
    """

    name: Optional[str]
    origins: OriginMatcher
    methods: Optional[tuple[str, ...]]
    headers: Optional[tuple[str, ...]]
    expose_headers: tuple[str, ...]
    credentials: bool
    max_age: Optional[int]
    private_network: bool = False
    #: ``Access-Control-Allow-Origin: *`` for every request, whatever its ``Origin``.
    public: bool = field(init=False, repr=False, compare=False)
    #: With credentials, ``*`` is taken literally by browsers: expose the app's header names.
    exposes_response_header_names: bool = field(init=False, repr=False, compare=False)
    _method_set: Optional[frozenset[str]] = field(init=False, repr=False, compare=False)
    _header_set: Optional[frozenset[str]] = field(init=False, repr=False, compare=False)
    #: What an allowed actual response gets besides ``Access-Control-Allow-Origin``.
    response_headers: Headers = field(init=False, repr=False, compare=False)
    _preflight_headers: Headers = field(init=False, repr=False, compare=False)
    #: The decision for every request this policy allows.
    decision: Decision = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        wildcard_expose = self.expose_headers == (ANY,)
        actual: list[Header] = []
        preflight: list[Header] = []
        if self.credentials:
            actual.append(("Access-Control-Allow-Credentials", "true"))
            preflight.append(("Access-Control-Allow-Credentials", "true"))
        if self.expose_headers and not (wildcard_expose and self.credentials):
            actual.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
        if self.methods is not None:
            preflight.append(("Access-Control-Allow-Methods", ", ".join(self.methods)))
        if self.headers:
            preflight.append(("Access-Control-Allow-Headers", ", ".join(self.headers)))
        if self.max_age is not None:
            preflight.append(("Access-Control-Max-Age", str(self.max_age)))
        _set = object.__setattr__
        _set(self, "public", self.origins.entries == (ANY,) and not self.credentials)
        _set(self, "exposes_response_header_names", wildcard_expose and self.credentials)
        _set(self, "_method_set", None if self.methods is None else frozenset(self.methods))
        _set(self, "_header_set", None if self.headers is None else frozenset(h.lower() for h in self.headers))
        _set(self, "response_headers", tuple(actual))
        _set(self, "_preflight_headers", tuple(preflight))
        named = "allowed" if self.name is None else f"policy {self.name!r}"
        _set(self, "decision", Decision(True, self, named))

    def allows_origin(self, origin: str) -> bool:
        """Whether this policy answers requests from ``origin``."""
        return self.public or self.origins.allows(origin)

    def allows_method(self, method: str) -> bool:
        """Whether ``method`` (case-sensitive, as Fetch compares it) is allowed."""
        return self._method_set is None or method in self._method_set

    def _allow_origin(self, origin: str) -> Header:
        """The ``Access-Control-Allow-Origin`` header for an allowed ``origin``."""
        return ("Access-Control-Allow-Origin", "*" if self.public else origin)

    def actual_headers(self, origin: str) -> Headers:
        """CORS headers for the app's response to an allowed ``origin``."""
        return (self._allow_origin(origin), *self.response_headers)

    def preflight_headers(
        self,
        origin: str,
        method: str,
        request_headers: Optional[str],
        private_network: bool = False,
    ) -> Union[Headers, Refusal]:
        """CORS headers answering an allowed origin's preflight, or why it is refused.

        :param method: the ``Access-Control-Request-Method`` value.
        :param request_headers: the ``Access-Control-Request-Headers`` value, if sent.
        :param private_network: ``Access-Control-Request-Private-Network: true`` was sent.
        """
        # A listed method is a token; any other needs the syntax check before it is reflected.
        if self._method_set is None or method not in self._method_set:
            if TOKEN.fullmatch(method) is None:
                return Refusal(MALFORMED_METHOD, f"Access-Control-Request-Method {method!r} is not a method")
            if self._method_set is not None:
                return Refusal(METHOD_NOT_ALLOWED, f"method {method!r} is not allowed")
        # https://wicg.github.io/private-network-access/#cors-preflight
        if private_network and not self.private_network:
            return Refusal(PRIVATE_NETWORK_NOT_ALLOWED, "private network access is not allowed")
        headers: Headers = (self._allow_origin(origin), *self._preflight_headers)
        if self.methods is None:
            headers += (("Access-Control-Allow-Methods", method),)
        if private_network:
            headers += (("Access-Control-Allow-Private-Network", "true"),)
        if request_headers is None:
            return headers
        if len(request_headers) > MAX_REQUEST_HEADERS_LENGTH:
            detail = f"Access-Control-Request-Headers is longer than {MAX_REQUEST_HEADERS_LENGTH} characters"
            return Refusal(MALFORMED_HEADERS, detail)
        # The usual case, first: each requested name is a listed one (so a token, too). Only
        # for ASCII: "\u212a".lower() is "k".
        if self._header_set and request_headers.isascii():
            lowered = request_headers.lower()
            if lowered in self._header_set:
                return headers
            for name in lowered.split(","):
                if name.strip(" \t") not in self._header_set:
                    break
            else:
                return headers
        if not request_headers.strip(" \t"):
            return headers
        if _HEADER_NAME_LIST.fullmatch(request_headers) is None:
            detail = f"Access-Control-Request-Headers {request_headers!r} is not a list of header names"
            return Refusal(MALFORMED_HEADERS, detail)
        if self._header_set is None:
            return (*headers, ("Access-Control-Allow-Headers", request_headers.strip(" \t")))
        # Some name is not listed, or the usual case above would have answered.
        names = (part.strip(" \t").lower() for part in request_headers.split(","))
        refused = ", ".join(name for name in names if name not in self._header_set)
        return Refusal(HEADERS_NOT_ALLOWED, f"request headers {refused!r} are not allowed")


def select_policy(policies: Sequence[Policy], verbmatch: bool, origin: str, method: str) -> Optional[Policy]:
    """The first policy that allows ``origin`` (and, under ``verbmatch``, ``method``)."""
    for policy in policies:
        if policy.allows_origin(origin) and (not verbmatch or policy.allows_method(method)):
            return policy
    return None
