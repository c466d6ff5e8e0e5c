"""Request paths a policy covers: exact paths and whole subtrees, matched without decoding."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

#: The path of a request whose ``PATH_INFO`` is empty or missing: where the middleware is mounted.
ROOT = "/"
#: The entry covering every path.
EVERY_PATH = "/*"
_SUBTREE = "/*"


class InvalidPath(ValueError):
    """A ``paths`` entry that is not ``/exact/path``, ``/prefix/*`` or ``/*``."""


@dataclass(frozen=True)
class PathMatcher:
    """The compiled ``paths`` setting of one policy.

    :param entries: the entries as configured (for ``repr`` and messages).
    :param exact: the paths covered exactly, as PEP 3333 delivers them (UTF-8 bytes
        decoded as latin-1).
    :param subtrees: the prefixes of ``/prefix/*`` entries (``/prefix``), delivered the same way.
    :param depth: the most segments in one of ``subtrees`` (``/a/b`` has 2).
    """

    entries: tuple[str, ...]
    exact: frozenset[str] = field(repr=False, compare=False)
    subtrees: frozenset[str] = field(repr=False, compare=False)
    depth: int = field(default=0, repr=False, compare=False)

    def covers(self, path: str) -> bool:
        """Whether ``path`` (``PATH_INFO`` as delivered, ``/`` when empty) is covered.

        Case-sensitive and never decoded (the CVE-2024-6844 and CVE-2024-6866 of
        flask-cors). A path with a ``.``, ``..`` or empty segment is never covered (only
        a policy for every path answers it): a server that did not normalise ``/api/../admin`` must not lend it
        ``/api/*``'s policy. The work is a set lookup per segment of the path, up to the
        deepest ``/prefix/*`` configured, however many entries there are.
        """
        if path in self.exact:
            return True
        return self.depth > 0 and is_normal(path) and self._in_a_subtree(path)

    def _in_a_subtree(self, path: str) -> bool:
        # "/a/b/c" lies in the subtree of "/a", "/a/b" or "/a/b/c": a segment boundary each
        # time, so "/api/*" never covers "/apix". Only the first `depth` segments can
        # name a subtree, so a long path costs a few lookups, never one per segment.
        subtrees = self.subtrees
        end = 0
        for _ in range(self.depth):
            end = path.find("/", end + 1)
            if end < 0:
                return path in subtrees
            if path[:end] in subtrees:
                return True
        return False

    def contains(self, entry: str) -> bool:
        """Whether every path the (valid, not ``/*``) ``entry`` covers is covered here."""
        if entry.endswith(_SUBTREE):
            # A subtree lies only within a subtree at or above it.
            return self._in_a_subtree(_delivered(entry[: -len(_SUBTREE)]))
        return self.covers(_delivered(entry))

    def overlaps(self, entry: str) -> bool:
        """Whether some path the (valid, not ``/*``) ``entry`` covers is covered here."""
        if entry.endswith(_SUBTREE):
            prefix = _delivered(entry[: -len(_SUBTREE)])
            below = prefix + "/"
            return self.contains(entry) or any(
                path == prefix or path.startswith(below) for path in (*self.exact, *self.subtrees)
            )
        return self.covers(_delivered(entry))


def request_path(environ: Mapping[str, Any]) -> str:
    """The request's path below where the middleware is mounted: ``PATH_INFO`` exactly
    as the server delivered it (https://peps.python.org/pep-3333/#environ-variables)."""
    return environ.get("PATH_INFO") or ROOT


def is_normal(path: str) -> bool:
    """Whether ``path`` has no ``.``, ``..`` or empty segment (a trailing ``/`` is fine)."""
    if "//" in path:
        return False
    # The usual path has no segment starting with a dot, and needs no closer look.
    return "/." not in path or ("/./" not in path and "/../" not in path and not path.endswith(("/.", "/..")))


def compile_paths(entries: Iterable[str]) -> Optional[PathMatcher]:
    """Compile ``paths`` entries; ``None`` when ``/*`` is among them: every path, as
    without ``paths``.

    :raises InvalidPath: for an entry of another form, naming the form to write.
    """
    checked = tuple(dict.fromkeys(_checked(entry) for entry in entries))
    if not checked:
        raise InvalidPath("lists no path; write '/*' for every path, or leave the key out")
    if EVERY_PATH in checked:
        return None
    subtrees = [entry[: -len(_SUBTREE)] for entry in checked if entry.endswith(_SUBTREE)]
    return PathMatcher(
        entries=checked,
        exact=frozenset(_delivered(entry) for entry in checked if not entry.endswith(_SUBTREE)),
        subtrees=frozenset(_delivered(prefix) for prefix in subtrees),
        depth=max((prefix.count("/") for prefix in subtrees), default=0),
    )


def _checked(entry: str) -> str:
    if not entry.startswith("/"):
        raise InvalidPath(f"has an entry {entry!r} that does not start with '/'; write {'/' + entry.lstrip('/')!r}")
    body = entry[: -len(_SUBTREE)] if entry.endswith(_SUBTREE) else entry
    if "*" in body:
        subtree = entry[: entry.index("*")].rstrip("/") + _SUBTREE
        raise InvalidPath(
            f"has an entry {entry!r} with a '*' that does not end it as '/*' (no regex or other globs); "
            f"write {subtree!r} for that whole subtree, or an exact path"
        )
    for character in "?#%":
        if character in entry:
            raise InvalidPath(
                f"has an entry {entry!r} with {character!r}: write the decoded path, without a query or fragment"
            )
    if not is_normal(body + "/" if entry.endswith(_SUBTREE) else body):
        normalized = posixpath.normpath(re.sub("/+", "/", entry))
        raise InvalidPath(
            f"has an entry {entry!r} with a '.', '..' or empty segment; write the path as a browser sends it, "
            f"such as {normalized!r}"
        )
    return entry


def _delivered(path: str) -> str:
    # PEP 3333 delivers PATH_INFO as its bytes decoded as latin-1; a configured path is
    # compared in that form: https://peps.python.org/pep-3333/#unicode-issues
    return path.encode("utf-8").decode("latin-1")
