"""What a browser does with CORS headers, after the Fetch Standard: a model for ``explain``."""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional, Tuple

# https://fetch.spec.whatwg.org/#cors-safelisted-method
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
# https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
_UNSAFE_BYTE = re.compile(r'[\x00-\x08\x0a-\x1f"():<>?@\[\\\]{}\x7f]')
_LANGUAGE = re.compile(r"[0-9A-Za-z *,\-.;=]*")
_SIMPLE_RANGE = re.compile(r"bytes=([0-9]+)-([0-9]*)")
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

#: A request header a script sets: (name, value).
RequestHeader = Tuple[str, str]


def is_safelisted(name: str, value: str) -> bool:
    """Whether a request header needs no preflight, by its name and value.

    https://fetch.spec.whatwg.org/#cors-safelisted-request-header
    """
    name = name.lower()
    if len(value) > 128:
        return False
    if name == "accept":
        return _UNSAFE_BYTE.search(value) is None
    if name in ("accept-language", "content-language"):
        return _LANGUAGE.fullmatch(value) is not None
    if name == "content-type":
        essence = value.split(";", 1)[0].strip().lower()
        return _UNSAFE_BYTE.search(value) is None and essence in _FORM_TYPES
    if name == "range":
        # A simple range header value: https://fetch.spec.whatwg.org/#simple-range-header-value
        match = _SIMPLE_RANGE.fullmatch(value)
        return match is not None and (not match[2] or int(match[1]) <= int(match[2]))
    return False


def needs_preflight(method: str, headers: Iterable[RequestHeader]) -> bool:
    """Whether a browser sends a preflight before this request."""
    return method not in SAFELISTED_METHODS or bool(unsafe_header_names(headers))


def unsafe_header_names(headers: Iterable[RequestHeader]) -> list[str]:
    """The names a browser lists in ``Access-Control-Request-Headers``: lowercase, sorted.

    https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
    """
    headers = list(headers)
    unsafe = {name.lower() for name, value in headers if not is_safelisted(name, value)}
    # Safelisted values of more than 1024 bytes in all are unsafe after all.
    if sum(len(value) for name, value in headers if name.lower() not in unsafe) > 1024:
        unsafe.update(name.lower() for name, _ in headers)
    return sorted(unsafe)


def cors_check(headers: Mapping[str, str], origin: str, credentials: bool) -> Optional[str]:
    """Why a browser refuses a response to a script (None if it does not).

    https://fetch.spec.whatwg.org/#cors-check; the wording follows Chromium's console.

    :param headers: the response headers, by lowercase name.
    """
    allow_origin = headers.get("access-control-allow-origin")
    if allow_origin is None:
        return "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    if allow_origin == "*" and credentials:
        return (
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
            "wildcard '*' when the request's credentials mode is 'include'."
        )
    if allow_origin not in ("*", origin):
        return (
            f"The 'Access-Control-Allow-Origin' header has a value '{allow_origin}' that is not equal "
            "to the supplied origin."
        )
    allow_credentials = headers.get("access-control-allow-credentials", "")
    if credentials and allow_credentials != "true":
        return (
            f"The value of the 'Access-Control-Allow-Credentials' header in the response is "
            f"'{allow_credentials}' which must be 'true' when the request's credentials mode is 'include'."
        )
    return None


def preflight_check(
    status: int,
    headers: Mapping[str, str],
    origin: str,
    method: str,
    request_headers: Iterable[RequestHeader],
    credentials: bool,
) -> Optional[str]:
    """Why a browser refuses a preflight answer (None if it does not).

    https://fetch.spec.whatwg.org/#cors-preflight-fetch
    """
    refusal = cors_check(headers, origin, credentials)
    if refusal is None and not 200 <= status <= 299:
        refusal = "It does not have HTTP ok status."
    if refusal is not None:
        return f"Response to preflight request doesn't pass access control check: {refusal}"
    methods = _list(headers.get("access-control-allow-methods", ""))
    wildcard = "*" in methods and not credentials
    if method not in methods and method not in SAFELISTED_METHODS and not wildcard:
        return f"Method {method} is not allowed by Access-Control-Allow-Methods in preflight response."
    allowed = {name.lower() for name in _list(headers.get("access-control-allow-headers", ""))}
    for name in unsafe_header_names(request_headers):
        # A `*` never covers Authorization: https://fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
        covered = "*" in allowed and not credentials and name != "authorization"
        if name not in allowed and not covered:
            return f"Request header field {name} is not allowed by Access-Control-Allow-Headers in preflight response."
    return None


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]
