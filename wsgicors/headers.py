"""Header types and header lists: a preflight's requested names, ``Vary`` merging."""

from __future__ import annotations

import re
from typing import Iterable, List, Optional, Tuple

Header = Tuple[str, str]
Headers = Tuple[Header, ...]
HeaderList = List[Header]

# RFC 9110 section 5.6.2: a method or a field name is a token.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Far more than any page asks for; longer lists are refused unread (rs/cors
# CVE-2025-47908 was such a list).
MAX_REQUEST_HEADERS_LENGTH = 4096


def requested_header_names(value: str, listed: frozenset[str]) -> Optional[tuple[str, ...]]:
    """The lowercase names in an ``Access-Control-Request-Headers`` value, or ``None`` if
    one is not a header name.

    Parsed as Fetch parses a header list (https://fetch.spec.whatwg.org/#concept-header-list-get-decode-split):
    split on commas, HTTP whitespace trimmed, empty elements ignored, so that several
    header lines joined by the server (``a,,b``) are read as the names they hold. Each
    element is matched on its own, so the work is linear in the value's length.

    :param listed: lowercase names known to be tokens: a value that is one of them is
        answered without splitting or matching (the usual preflight asks for one name).
    """
    # Only for ASCII: "\u212a".lower() is "k".
    if value.isascii():
        lowered = value.lower()
        if lowered in listed:
            return (lowered,)
    names = []
    for element in value.split(","):
        name = element.strip(" \t")
        if name:
            if TOKEN.fullmatch(name) is None:
                return None
            names.append(name.lower())
    return tuple(names)


def unique_names(names: Iterable[str]) -> tuple[str, ...]:
    """Header names without case-insensitive repeats, each as first spelled."""
    spellings: dict[str, str] = {}
    for name in names:
        spellings.setdefault(name.lower(), name)
    return tuple(spellings.values())


def merge_vary(headers: HeaderList, token: str) -> HeaderList:
    """``headers`` with ``token`` merged into its first ``Vary`` header (or a new one).

    Vary is a list: one header, no repeated token, and ``*`` already covers every name.
    https://www.rfc-editor.org/rfc/rfc9110#field.vary
    """
    lowered = token.lower()
    first = None
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            tokens = {part.strip().lower() for part in value.split(",")}
            if lowered in tokens or "*" in tokens:
                return headers
            first = index if first is None else first
    if first is None:
        return [*headers, ("Vary", token)]
    name, value = headers[first]
    merged = list(headers)
    merged[first] = (name, f"{value}, {token}" if value.strip() else token)
    return merged
