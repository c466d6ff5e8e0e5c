"""Raw settings (keywords, a dict, or PasteDeploy strings) compiled into a frozen Config."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, cast

from .callback import OriginCheck
from .headers import TOKEN, unique_names
from .origins import (
    ANY,
    COPY,
    NULL,
    OriginMatcher,
    compile_origins,
    covers_every_host,
    decided_at_run_time,
    fixes_only_top_level_domain,
    is_loopback,
    is_serialized_origin,
    matches_plain_http,
    pattern_warnings,
)
from .paths import PathMatcher, compile_paths
from .policy import Names, Policy

DENY = "deny"
STRATEGIES = ("firstmatch", "verbmatch")
# Fetch normalizes only these method names to uppercase: https://fetch.spec.whatwg.org/#concept-method-normalize
_NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
# https://fetch.spec.whatwg.org/#forbidden-method: browsers never send these.
_FORBIDDEN_METHODS = frozenset({"CONNECT", "TRACE", "TRACK"})
# The CORS-safelisted methods: what browsers allow without Access-Control-Allow-Methods.
_DEFAULT_METHODS = Names.of(("GET", "HEAD", "POST"), case_sensitive=True)
_BOOLEANS = {
    **dict.fromkeys(("true", "yes", "on", "1"), True),
    **dict.fromkeys(("false", "no", "off", "0"), False),
}


class Problem(NamedTuple):
    """One problem in the settings."""

    policy: Optional[str]
    key: str
    value: object
    reason: str

    def __str__(self) -> str:
        where = "" if self.policy is None else f"policy {self.policy!r}: "
        setting = self.key if self.value is None else f"{self.key}={self.value!r}"
        return f"{where}{setting} {self.reason}"


class ConfigurationError(ValueError):
    """Invalid CORS settings, raised by :class:`wsgicors.CORS` at construction.

    ``problems`` holds every problem found; ``policy``, ``key``, ``value`` and ``reason``
    are those of the first.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        self.policy, self.key, self.value, self.reason = self.problems[0]
        lines = [str(problem) for problem in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{len(lines)} problems in the CORS settings:")
        super().__init__("\n  ".join(lines))


@dataclass(frozen=True)
class Config:
    """Compiled settings: the policies tried in order, and how they are selected.

    :param policies: the listed policies up to ``deny``.
    :param verbmatch: select by origin and method (``verbmatch``), not origin alone.
    :param debug_header: add ``X-CORS-Decision`` to responses (a development aid).
    :param warnings: valid but risky choices, each as a :class:`Problem`.
    """

    policies: tuple[Policy, ...]
    verbmatch: bool = False
    debug_header: bool = False
    warnings: tuple[Problem, ...] = field(default=(), repr=False)


def _items(value: object, separator: Optional[str]) -> list[str]:
    parts = value.split(separator) if isinstance(value, str) else value
    if isinstance(parts, (set, frozenset)):
        # A set has no order; sorted, the answers are the same on every run.
        parts = sorted(parts) if all(isinstance(p, str) for p in parts) else parts
    if not isinstance(parts, (list, tuple, set, frozenset)) or not all(isinstance(p, str) for p in parts):
        raise ValueError("is not a string or a list of strings")
    return [part.strip() for part in parts if part.strip()]


def _tokens(value: object, what: str) -> list[str]:
    tokens = _items(value, ",")
    if ANY in tokens and len(tokens) > 1:
        raise ValueError("mixes '*' with other entries; '*' must stand alone")
    for token in tokens:
        if TOKEN.fullmatch(token) is None:
            raise ValueError(f"has an entry {token!r} that is not a {what} name")
    return tokens


def parse_origin(value: object) -> OriginMatcher:
    """``*``, ``copy``, whitespace-separated origins and origin patterns, or (from Python)
    a callable that decides at run time."""
    if callable(value):
        return decided_at_run_time(cast(OriginCheck, value))
    return compile_origins(_items(value, None))


def parse_paths(value: object) -> Optional[PathMatcher]:
    """Paths separated by whitespace or commas (``/exact/path``, ``/prefix/*``, ``/*``),
    or from Python a list, whose entries are taken whole (a path may hold a space).
    ``None`` for ``/*``: the policy answers as one without paths."""
    if isinstance(value, str):
        return compile_paths(entry for entry in re.split(r"[\s,]+", value) if entry)
    if not isinstance(value, (list, tuple)) or not all(isinstance(entry, str) for entry in value):
        raise ValueError("is not a string or a list of strings")
    return compile_paths(value)


def parse_methods(value: object) -> Names:
    """``*`` (any method) or comma-separated method names, compared case-sensitively."""
    methods = _tokens(value, "method")
    if not methods:
        raise ValueError("lists no method")
    if methods == [ANY]:
        return Names(any=True)
    forbidden = [method for method in methods if method.upper() in _FORBIDDEN_METHODS]
    if forbidden:
        raise ValueError(f"has the forbidden method {forbidden[0]!r}: browsers never send CONNECT, TRACE or TRACK")
    normalized = (m.upper() if m.upper() in _NORMALIZED_METHODS else m for m in methods)
    return Names.of(tuple(dict.fromkeys(normalized)), case_sensitive=True)


def parse_header_names(value: object) -> Names:
    """``*`` or comma-separated header names, compared without regard to case."""
    return Names.of(unique_names(_tokens(value, "header")), case_sensitive=False)


def parse_bool(value: object) -> bool:
    """A Python bool or true/false, yes/no, on/off, 1/0 in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise ValueError("is not a boolean (true/false, yes/no, on/off, 1/0)")


def parse_max_age(value: object) -> int:
    """A non-negative whole number of seconds, as an int or a string of digits."""
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("is not a non-negative integer")


def parse_strategy(value: object) -> bool:
    """``firstmatch`` or ``verbmatch``; ``True`` for ``verbmatch``."""
    strategy = value.strip().lower() if isinstance(value, str) else value
    if strategy not in STRATEGIES:
        raise ValueError("is not 'firstmatch' or 'verbmatch'")
    return strategy == "verbmatch"


_POLICY_KEYS: dict[str, Callable[[object], Any]] = {
    "origin": parse_origin,
    "methods": parse_methods,
    "headers": parse_header_names,
    "expose_headers": parse_header_names,
    "credentials": parse_bool,
    "maxage": parse_max_age,
    "private_network": parse_bool,
    "paths": parse_paths,
}
_DEFAULTS: dict[str, Any] = {
    "methods": _DEFAULT_METHODS,
    "headers": Names(),
    "expose_headers": Names(),
    "credentials": False,
    "maxage": None,
    "private_network": False,
    "paths": None,
}
_KEYS_LONGEST_FIRST = sorted(_POLICY_KEYS, key=len, reverse=True)
_GLOBAL_KEYS = ("policy", "matchstrategy", "debug_header")


def compile_settings(settings: Mapping[str, object]) -> Config:
    """Validate and compile raw settings.

    Without ``policy``, the policy keys form one unnamed policy; with it, each listed
    policy takes the keys prefixed with its name and ``_``. Nothing configured denies all.

    :raises ConfigurationError: listing every problem found.
    """
    settings = dict(settings)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    verbmatch = _pop_global(problems, settings, "matchstrategy", parse_strategy)
    debug_header = _pop_global(problems, settings, "debug_header", parse_bool)
    if "policy" in settings or not settings.keys() & _POLICY_KEYS.keys():
        known = list(_GLOBAL_KEYS) + ([] if "policy" in settings else list(_POLICY_KEYS))
        names, reachable = _policy_names(problems, warnings, settings.pop("policy", None))
        known += [f"{name}_{key}" for name in names for key in _POLICY_KEYS]
        grouped = _group_by_policy(problems, warnings, names, settings, known)
    else:
        grouped, reachable = {None: {key: (key, value) for key, value in settings.items()}}, 1
    # Policies after `deny` are checked like the others, but never used.
    policies = [_compile_policy(problems, warnings, name, options) for name, options in grouped.items()]
    if problems:
        raise ConfigurationError(problems)
    used = tuple(policy for policy in policies[:reachable] if policy is not None)
    warnings.extend(_selection_warnings(used, verbmatch))
    return Config(
        policies=used,
        verbmatch=verbmatch,
        debug_header=debug_header,
        warnings=tuple(warnings),
    )


def _pop_global(
    problems: list[Problem], settings: dict[str, object], key: str, converter: Callable[[object], bool]
) -> bool:
    value = settings.pop(key, None)
    return not _is_unset(value) and bool(_convert(problems, None, key, value, converter))


def _is_unset(value: object) -> bool:
    """``None`` and blank strings (an empty ini value) leave a key at its default."""
    return value is None or (isinstance(value, str) and not value.strip())


def _convert(
    problems: list[Problem],
    policy: Optional[str],
    key: str,
    value: object,
    converter: Callable[[object], Any],
) -> Any:
    try:
        return converter(value)
    except ValueError as error:
        problems.append(Problem(policy, key, value, str(error)))
        return None


def _policy_names(problems: list[Problem], warnings: list[Problem], value: object) -> tuple[list[str], int]:
    """The listed names but ``deny``, and how many come before it (are ever used)."""
    try:
        names = [] if value is None else _items(value, ",")
    except ValueError as error:
        problems.append(Problem(None, "policy", value, str(error)))
        return [], 0
    invalid = [name for name in names if TOKEN.fullmatch(name) is None]
    if invalid:
        problems.append(Problem(None, "policy", value, f"has a policy name {invalid[0]!r} that is not a token"))
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        problems.append(Problem(None, "policy", value, f"lists {twice[0]!r} twice"))
        names = list(dict.fromkeys(names))
    # `deny` is a stop: reaching it means no CORS; later policies are unreachable.
    if DENY not in names:
        return names, len(names)
    reachable = names.index(DENY)
    unreachable = names[reachable + 1 :]
    if unreachable:
        warnings.append(Problem(None, "policy", value, f"lists {unreachable} after 'deny', where they are never used"))
    return names[:reachable] + unreachable, reachable


def _group_by_policy(
    problems: list[Problem],
    warnings: list[Problem],
    names: list[str],
    settings: Mapping[str, object],
    known_keys: list[str],
) -> dict[Optional[str], dict[str, tuple[str, object]]]:
    grouped: dict[Optional[str], dict[str, tuple[str, object]]] = {name: {} for name in names}
    longest_first = sorted(names, key=len, reverse=True)
    for key, value in settings.items():
        name = next((name for name in longest_first if key.startswith(f"{name}_")), None)
        if name is not None:
            grouped[name][key[len(name) + 1 :]] = (key, value)
            continue
        # Longest first: "other_expose_headers" is policy 'other', not 'other_expose'.
        option = next((option for option in _KEYS_LONGEST_FIRST if key.endswith(f"_{option}")), None)
        if option is not None and key != option:
            policy = key[: -len(option) - 1]
            if policy == DENY:
                problems.append(Problem(None, key, value, "is not allowed: 'deny' is a stop and takes no keys"))
            else:
                warnings.append(Problem(None, key, value, f"is ignored: policy {policy!r} is not listed in 'policy'"))
            continue
        problems.append(Problem(None, key, value, _unknown_key_reason(key, known_keys)))
    return grouped


def _unknown_key_reason(key: str, known_keys: list[str]) -> str:
    close = difflib.get_close_matches(key, known_keys, n=1)
    if close:
        return f"is not a known key; did you mean {close[0]!r}?"
    return f"is not a known key (known keys: {', '.join(known_keys)})"


def _compile_policy(
    problems: list[Problem], warnings: list[Problem], name: Optional[str], options: Mapping[str, tuple[str, object]]
) -> Optional[Policy]:
    prefix = "" if name is None else f"{name}_"
    values: dict[str, Any] = dict(_DEFAULTS)
    before = len(problems)
    for option, (key, value) in options.items():
        converter = _POLICY_KEYS.get(option)
        if converter is None:
            known = [f"{prefix}{known}" for known in _POLICY_KEYS]
            problems.append(Problem(name, key, value, _unknown_key_reason(key, known)))
            continue
        if not _is_unset(value):
            values[option] = _convert(problems, name, key, value, converter)
        elif option == "paths":
            # A missing value (blank in an ini, None from Python) must never open a policy to every path.
            reason = "is empty; list the paths, such as '/api/*', or leave the key out to cover every path"
            problems.append(Problem(name, key, value, reason))
    if "origin" not in values:
        problems.append(Problem(name, f"{prefix}origin", None, "is required"))
    if len(problems) > before:
        return None
    policy = Policy.build(
        name=name,
        origins=values["origin"],
        methods=values["methods"],
        headers=values["headers"],
        expose_headers=values["expose_headers"],
        credentials=values["credentials"],
        max_age=values["maxage"],
        private_network=values["private_network"],
        paths=values["paths"],
    )
    refusal = _credentials_refusal(policy, prefix)
    if refusal is not None:
        problems.append(refusal)
        return None
    warnings.extend(_risks(policy, prefix))
    return policy


def _selection_warnings(policies: tuple[Policy, ...], verbmatch: bool) -> list[Problem]:
    """Policies never selected, and policies answering requests meant for an earlier one.

    Selection goes in the declared order and skips a policy that does not allow the
    origin, so a request to an earlier policy's paths from an origin it does not list is
    answered by the next one that allows it. Each policy is named once, with the first
    policy that hides it or answers for it.
    """
    warnings = []
    hidden = set()
    for index, later in enumerate(policies):
        hider = next((earlier for earlier in policies[:index] if _shadows(earlier, later, verbmatch)), None)
        if hider is not None:
            hidden.add(index)
            reason = (
                f"lists it after {hider.name!r}, which covers every path it covers and allows every origin "
                "it allows, so it can never be selected; list it first, or narrow the earlier one"
            )
            warnings.append(Problem(later.name, "policy", None, reason))
    for index, earlier in enumerate(policies):
        if index in hidden or earlier.paths is None:
            continue
        candidates = (later for number, later in enumerate(policies) if number > index and number not in hidden)
        answering = next((later for later in candidates if _falls_through(earlier, later)), None)
        if answering is not None:
            reason = (
                f"restricts the policy to these paths, but a request to them from an origin it does not allow "
                f"falls through to policy {answering.name!r}, which allows {' '.join(answering.origins.entries)}; "
                f"give {answering.name!r} paths that leave these out"
            )
            key = f"{earlier.name}_paths"  # two policies or more: all named
            warnings.append(Problem(earlier.name, key, " ".join(earlier.paths.entries), reason))
    return warnings


def _falls_through(earlier: Policy, later: Policy) -> bool:
    """``later`` allows origins broadly (``*``, ``copy``, a pattern) on some of the paths
    that path-restricted ``earlier`` covers. Exact origins were listed on purpose."""
    if earlier.paths is None or earlier.origins.any_origin:
        return False  # nothing is restricted, or every origin is allowed: nothing falls through
    if later.origins.exact_only or later.origins.callback is not None:
        return False
    return later.paths is None or any(later.paths.overlaps(entry) for entry in earlier.paths.entries)


def _shadows(earlier: Policy, later: Policy, verbmatch: bool) -> bool:
    """``earlier`` is selected for every request ``later`` could answer."""
    if earlier.paths is not None and not (
        later.paths is not None and all(earlier.paths.contains(entry) for entry in later.paths.entries)
    ):
        return False
    listed_methods_too = earlier.methods.any or (not later.methods.any and earlier.methods.keys >= later.methods.keys)
    if verbmatch and not listed_methods_too:
        return False
    if earlier.public:
        return True  # `*` answers every Origin value, null included
    if later.public or earlier.origins.callback is not None:
        return False
    if earlier.origins.any_origin:
        # `copy` allows every serialized origin (all that patterns and callables see), never null or file://.
        return all(is_serialized_origin(origin) for origin in later.origins.exact)
    return later.origins.exact_only and all(earlier.origins.allows(origin) for origin in later.origins.exact)


def _credentials_refusal(policy: Policy, prefix: str) -> Optional[Problem]:
    """Origins that would let every site read users' credentialed answers: an error.

    Reflecting any origin with credentials is the bug behind Hono CVE-2026-54290 and
    RESTEasy GHSA-972r-f3fv-whm3; browsers refuse a literal `*` with credentials.
    """
    if not policy.credentials:
        return None
    entries = policy.origins.entries
    if entries == (ANY,):
        what = "'*' allows every origin"
    else:
        host_wide = [entry for entry in entries if covers_every_host(entry)]
        if not host_wide:
            return None
        what = f"{host_wide[0]!r} leaves the whole host to wildcards, so it allows every site"
    reason = (
        f"is refused with {prefix}credentials=true: {what}, and with credentials every such site "
        "could read your users' answers. Drop credentials, or list the origins (patterns such as "
        f"'https://*.example.com' are fine); if every site may really read your users' data, write "
        f"{prefix}origin=copy"
    )
    return Problem(policy.name, f"{prefix}origin", " ".join(entries), reason)


def _risks(policy: Policy, prefix: str) -> list[Problem]:
    entries = policy.origins.entries
    key = f"{prefix}origin"
    risks = [Problem(policy.name, key, entry, warning) for entry in entries for warning in pattern_warnings(entry)]
    if not policy.credentials:
        return risks
    credentialed = f"with {prefix}credentials=true"
    if entries[:1] == (COPY,):
        reason = f"{credentialed} lets every site make credentialed requests and read the answers"
        risks.insert(0, Problem(policy.name, key, COPY, reason))
    for entry in entries:
        if entry == NULL:
            reason = (
                f"{credentialed} lets any page read the answers: sandboxed iframes and data: URLs send Origin: null"
            )
            risks.append(Problem(policy.name, key, entry, reason))
        elif matches_plain_http(entry) and not is_loopback(entry):
            reason = (
                f"{credentialed} lets an attacker on the network, who can inject script into a plain-http page, "
                "read the answers; list https:// origins"
            )
            risks.append(Problem(policy.name, key, entry, reason))
        elif fixes_only_top_level_domain(entry) and not is_loopback(entry):
            reason = f"{credentialed} trusts every site under a top-level domain; list the sites"
            risks.append(Problem(policy.name, key, entry, reason))
    return risks
