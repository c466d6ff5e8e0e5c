"""Response header lists: adding CORS headers to the app's and merging ``Vary``."""

from __future__ import annotations

from typing import Iterable, List, Tuple

from .policy import Headers

HeaderList = List[Tuple[str, str]]


def add_cors_headers(headers: HeaderList, cors: Headers, vary_origin: bool, expose_names: bool) -> HeaderList:
    """A new list: the app's ``headers``, plus ``cors`` unless the app set
    ``Access-Control-Allow-Origin`` itself, with ``Origin`` merged into ``Vary``.

    :param expose_names: expose the names of the app's headers (``*`` with credentials).
    """
    names = [name.lower() for name, _ in headers]
    result = headers + list(cors) if "access-control-allow-origin" not in names else list(headers)
    if expose_names and cors and "access-control-allow-origin" not in names:
        exposed = ", ".join(unique_names(name for name, _ in headers))
        if exposed:
            result.append(("Access-Control-Expose-Headers", exposed))
    if vary_origin:
        merge_vary(result, names)
    return result


def unique_names(names: Iterable[str]) -> tuple[str, ...]:
    """Header names without case-insensitive repeats, each as first spelled."""
    spellings: dict[str, str] = {}
    for name in names:
        spellings.setdefault(name.lower(), name)
    return tuple(spellings.values())


def merge_vary(headers: HeaderList, names: List[str]) -> None:
    """Add ``Origin`` to the first ``Vary`` header in ``headers`` (or a new one), in place.

    :param names: the lowercased names of the app's headers, a prefix of ``headers``.
    """
    # Vary is a list: one header, no repeated token, and `*` already covers Origin.
    # https://www.rfc-editor.org/rfc/rfc9110#field.vary
    if "vary" not in names:
        headers.append(("Vary", "Origin"))
        return
    values = [headers[i][1] for i, name in enumerate(names) if name == "vary"]
    tokens = {token.strip().lower() for value in values for token in value.split(",")}
    if "origin" in tokens or "*" in tokens:
        return
    first = names.index("vary")
    name, value = headers[first]
    headers[first] = (name, f"{value}, Origin" if value.strip() else "Origin")
