"""Response header lists: adding CORS headers to the app's and merging ``Vary``."""

from __future__ import annotations

from typing import Iterable, List, Sequence, Tuple

HeaderList = List[Tuple[str, str]]

#: The last of the headers to add when the answer depends on the request's origin.
VARY_ORIGIN = ("Vary", "Origin")
#: Names (lowercase) of the app's headers that make adding ours more than an append.
WATCHED_NAMES = frozenset({"vary", "access-control-allow-origin"})


def add_cors_headers(headers: HeaderList, extra: Sequence[Tuple[str, str]], expose_names: bool = False) -> HeaderList:
    """A new list: the app's ``headers``, plus the CORS headers in ``extra`` unless the app
    set ``Access-Control-Allow-Origin`` itself, with ``Origin`` merged into its ``Vary``.

    :param extra: the CORS headers, ending with :data:`VARY_ORIGIN` when ``Origin`` is to
        be merged into ``Vary``.
    :param expose_names: expose the names of the app's headers (``*`` with credentials).
    """
    names = [name.lower() for name, _ in headers]
    vary = bool(extra) and extra[-1] is VARY_ORIGIN
    cors = extra[:-1] if vary else extra
    if "access-control-allow-origin" in names:
        cors = []
    elif expose_names:
        exposed = ", ".join(unique_names(name for name, _ in headers))
        if exposed:
            cors = [*cors, ("Access-Control-Expose-Headers", exposed)]
    result = [*headers, *cors]
    if vary:
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
        headers.append(VARY_ORIGIN)
        return
    values = [headers[i][1] for i, name in enumerate(names) if name == "vary"]
    tokens = {token.strip().lower() for value in values for token in value.split(",")}
    if "origin" in tokens or "*" in tokens:
        return
    first = names.index("vary")
    name, value = headers[first]
    headers[first] = (name, f"{value}, Origin" if value.strip() else "Origin")
