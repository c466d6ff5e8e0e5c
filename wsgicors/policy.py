"""Compiled CORS policies, the decisions made with them, and policy selection: pure functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple, Optional, Union

from .headers import MAX_REQUEST_HEADERS_LENGTH, TOKEN, Header, Headers, requested_header_names
from .origins import OriginMatcher
from .paths import ROOT, PathMatcher

ANY = "*"
#: The environ key under which each request's :class:`Decision` is left.
DECISION_KEY = "wsgicors.decision"
# https://fetch.spec.whatwg.org/#cors-safelisted-method: a preflight never needs these
# listed in Access-Control-Allow-Methods ("CORS-preflight fetch", step 7).
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})

# Why a request got the answer it got: fixed phrases, free of request values.
ALLOWED = "allowed"
ORIGIN_NOT_ALLOWED = "origin not allowed"
ORIGIN_AND_METHOD_NOT_ALLOWED = "no policy allows this origin with this method"
METHOD_NOT_ALLOWED = "method not allowed"
HEADERS_NOT_ALLOWED = "request headers not allowed"
PRIVATE_NETWORK_NOT_GRANTED = "private network access not granted"
MALFORMED_METHOD = "malformed Access-Control-Request-Method"
MALFORMED_HEADERS = "malformed Access-Control-Request-Headers"
NOT_CORS = "not a CORS request (no Origin)"
NO_POLICY = "no policy configured"
NO_POLICY_FOR_PATH = "no policy covers this path"
# Why selection skipped a policy.
SKIPPED_FOR_ORIGIN = "origin not allowed"
SKIPPED_FOR_PATH = "path not covered"
SELECTED = "selected"

#: Request values in a decision's detail and in log lines are cut to this many characters.
SHOWN_LENGTH = 100


def shown(value: str) -> str:
    """``repr`` of a request value, cut to :data:`SHOWN_LENGTH` characters with its length."""
    if len(value) <= SHOWN_LENGTH:
        return repr(value)
    return f"{value[:SHOWN_LENGTH]!r}... ({len(value):,} chars)"


class Decision(NamedTuple):
    """What the middleware decided for a request, left in ``environ["wsgicors.decision"]``.

    :param allowed: whether CORS headers were granted.
    :param policy: the policy that answered, if any.
    :param reason: a fixed phrase saying why (no request values in it).
    :param detail: the reason with the request's values (in ``repr``, cut to 100 characters).
    """

    allowed: bool
    policy: Optional[Policy]
    reason: str
    detail: str = ""

    @property
    def header_value(self) -> str:
        """The ``X-CORS-Decision`` value: ``allowed``, ``allowed; policy 'free'``,
        ``refused; origin not allowed``."""
        verdict = "allowed" if self.allowed else "refused"
        return verdict if self.reason == verdict else f"{verdict}; {self.reason}"


@dataclass(frozen=True)
class Names:
    """A list setting (``methods``, ``headers``, ``expose_headers``): names, or any (``*``).

    :param listed: the names as configured (empty for ``*``).
    :param any: the setting is ``*``.
    :param keys: the names a request's are compared with (lowercase for header names).
    """

    listed: tuple[str, ...] = ()
    any: bool = False
    keys: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def of(cls, names: tuple[str, ...], case_sensitive: bool) -> Names:
        """``("*",)`` is any; other names are compared as given, or without case."""
        if names == (ANY,):
            return cls(any=True)
        return cls(names, False, frozenset(names if case_sensitive else (name.lower() for name in names)))

    def allows(self, name: str) -> bool:
        """Whether ``name`` (lowercase, for header names) is allowed."""
        return self.any or name in self.keys

    def __str__(self) -> str:
        return ANY if self.any else ", ".join(self.listed)


class Refusal(NamedTuple):
    """A refused preflight: a fixed ``reason`` and a ``detail`` naming the request's values."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Policy:
    """One compiled policy: its settings, and the header values it answers with.

    Build it with :meth:`build`, which prepares the header values.

    :param name: the policy's name, ``None`` for keywords given without ``policy``.
    :param origins: which request origins it allows.
    :param methods: the methods a preflight may ask for (``GET``, ``HEAD`` and ``POST``
        always may); under ``verbmatch``, what selects the policy.
    :param headers: the request headers a preflight may ask for.
    :param expose_headers: response headers exposed to scripts.
    :param credentials: whether credentialed requests are allowed.
    :param max_age: seconds a browser may cache a preflight answer, or ``None``.
    :param private_network: answer Private Network Access preflights.
    :param paths: the request paths it covers; ``None`` for every path.
    """

    name: Optional[str]
    origins: OriginMatcher
    methods: Names
    headers: Names
    expose_headers: Names
    credentials: bool
    max_age: Optional[int]
    private_network: bool = False
    paths: Optional[PathMatcher] = None
    #: What an allowed actual response gets after ``Access-Control-Allow-Origin``.
    response_headers: Headers = field(default=(), repr=False, compare=False)
    #: What an allowed preflight gets after ``Access-Control-Allow-Origin``.
    preflight_response_headers: Headers = field(default=(), repr=False, compare=False)
    #: ``Access-Control-Allow-Origin: *`` for every request, whatever its ``Origin``.
    public: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        name: Optional[str],
        origins: OriginMatcher,
        methods: Names,
        headers: Names,
        expose_headers: Names,
        credentials: bool,
        max_age: Optional[int],
        private_network: bool = False,
        paths: Optional[PathMatcher] = None,
    ) -> Policy:
        """A policy with its header values prepared."""
        credentialed = (("Access-Control-Allow-Credentials", "true"),) if credentials else ()
        # With credentials a `*` is taken literally: the app's header names are listed
        # per response instead (https://fetch.spec.whatwg.org/#http-access-control-expose-headers).
        exposed = expose_headers.listed or (expose_headers.any and not credentials)
        expose = (("Access-Control-Expose-Headers", str(expose_headers)),) if exposed else ()
        allow_methods = (("Access-Control-Allow-Methods", str(methods)),) if methods.listed else ()
        allow_headers = (("Access-Control-Allow-Headers", str(headers)),) if headers.listed else ()
        max_age_header = () if max_age is None else (("Access-Control-Max-Age", str(max_age)),)
        return cls(
            name,
            origins,
            methods,
            headers,
            expose_headers,
            credentials,
            max_age,
            private_network,
            paths,
            response_headers=(*credentialed, *expose),
            preflight_response_headers=(*credentialed, *allow_methods, *allow_headers, *max_age_header),
            public=origins.wildcard and not credentials,
        )

    @property
    def exposes_response_header_names(self) -> bool:
        """``expose_headers=*`` with credentials: expose the names of each response's headers."""
        return self.expose_headers.any and self.credentials

    @cached_property
    def decision(self) -> Decision:
        """The decision for every request this policy allows."""
        return Decision(True, self, ALLOWED if self.name is None else f"policy {self.name!r}")

    def allows_origin(self, origin: str) -> bool:
        """Whether this policy answers requests from ``origin``."""
        return self.public or self.origins.allows(origin)

    def allows_method(self, method: str) -> bool:
        """Whether ``method`` (case-sensitive, as Fetch compares it) is listed, or any is."""
        return self.methods.allows(method)

    def allow_origin(self, origin: str) -> Header:
        """The ``Access-Control-Allow-Origin`` header for an allowed ``origin``."""
        return ("Access-Control-Allow-Origin", ANY if self.public else origin)

    def actual_headers(self, origin: str) -> Headers:
        """CORS headers for the app's response to an allowed ``origin``."""
        return (self.allow_origin(origin), *self.response_headers)

    def preflight_headers(self, origin: str) -> Headers:
        """CORS headers for every allowed preflight from ``origin``."""
        return (self.allow_origin(origin), *self.preflight_response_headers)

    def check_preflight(
        self, method: str, request_headers: Optional[str], private_network: bool
    ) -> Union[Headers, Refusal]:
        """Why a preflight from an allowed origin is refused, or the headers that answer
        what it asked for beyond :meth:`preflight_headers` (usually none).

        :param method: the ``Access-Control-Request-Method`` value.
        :param request_headers: the ``Access-Control-Request-Headers`` value, if sent.
        :param private_network: ``Access-Control-Request-Private-Network: true`` was sent.
        """
        extra: Headers = ()
        # A listed or safelisted method is a token; any other is checked before it is
        # reflected. https://fetch.spec.whatwg.org/#cors-preflight-fetch, step 7
        if method not in self.methods.keys and method not in SAFELISTED_METHODS:
            if TOKEN.fullmatch(method) is None:
                return Refusal(MALFORMED_METHOD, f"Access-Control-Request-Method {shown(method)} is not a method")
            if not self.methods.any:
                return Refusal(METHOD_NOT_ALLOWED, f"method {shown(method)} is not allowed")
        if self.methods.any:
            extra += (("Access-Control-Allow-Methods", method),)
        if request_headers is not None:
            if len(request_headers) > MAX_REQUEST_HEADERS_LENGTH:
                detail = f"Access-Control-Request-Headers is longer than {MAX_REQUEST_HEADERS_LENGTH} characters"
                return Refusal(MALFORMED_HEADERS, detail)
            names = requested_header_names(request_headers, self.headers.keys)
            if names is None:
                detail = f"Access-Control-Request-Headers {shown(request_headers)} is not a list of header names"
                return Refusal(MALFORMED_HEADERS, detail)
            if self.headers.any:
                if names:
                    extra += (("Access-Control-Allow-Headers", ", ".join(names)),)
            elif not self.headers.keys.issuperset(names):
                refused = ", ".join(name for name in names if name not in self.headers.keys)
                return Refusal(HEADERS_NOT_ALLOWED, f"request headers {shown(refused)} are not allowed")
        # https://wicg.github.io/private-network-access/#cors-preflight: without the opt-in
        # the ordinary answer goes out, and only the browser's private-network check fails.
        if private_network and self.private_network:
            extra += (("Access-Control-Allow-Private-Network", "true"),)
        return extra


class Step(NamedTuple):
    """One policy tried in turn: ``selected``, or skipped with a ``reason``."""

    policy: Policy
    selected: bool
    reason: str


def select_policy(
    policies: tuple[Policy, ...],
    verbmatch: bool,
    origin: str,
    method: str,
    path: str = ROOT,
    steps: Optional[list[Step]] = None,
) -> Optional[Policy]:
    """The first policy, in the declared order, that covers ``path`` and allows ``origin``
    (and, under ``verbmatch``, lists ``method``). Never the most specific first: that is
    how flask-cors's CVE-2024-6839 happened.

    :param steps: if given, each policy tried is appended to it, with why it was skipped.
    """
    for policy in policies:
        # The origin last: a callable deciding it is not asked about a request that the
        # path or, under verbmatch, the method already rules out.
        if policy.paths is not None and not policy.paths.covers(path):
            reason = SKIPPED_FOR_PATH
        elif verbmatch and not policy.allows_method(method):
            reason = f"method {shown(method)} not allowed"
        elif not policy.allows_origin(origin):
            reason = SKIPPED_FOR_ORIGIN
        else:
            if steps is not None:
                steps.append(Step(policy, True, SELECTED))
            return policy
        if steps is not None:
            steps.append(Step(policy, False, reason))
    return None
