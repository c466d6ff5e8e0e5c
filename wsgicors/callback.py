"""Origins decided at run time: the application's callable, called so that it fails closed."""

from __future__ import annotations

import logging
import reprlib
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

log = logging.getLogger("wsgicors")

#: Decides whether a serialized origin is allowed: only ``True`` allows. It is called
#: from many threads at once under a threaded server, so it must be thread-safe.
OriginCheck = Callable[[str], bool]
#: Seconds between two error lines about one policy's callable.
ERROR_INTERVAL = 10.0

_now = time.monotonic


class ErrorThrottle:
    """At most one error line per :data:`ERROR_INTERVAL` seconds; the next line says how
    many were left out, so that a database outage cannot flood the log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: Optional[float] = None
        self._suppressed = 0

    def admit(self) -> Optional[int]:
        """``None`` if this line is left out, else how many were left out before it."""
        with self._lock:
            now = _now()
            if self._last is not None and now - self._last < ERROR_INTERVAL:
                self._suppressed += 1
                return None
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
            return suppressed


@dataclass(frozen=True)
class OriginCallback:
    """The ``origin`` setting given as a callable.

    :param check: called with a serialized origin (never ``null``, ``file://``, a
        malformed or an over-long value), from any number of threads at once.
    :param errors: throttles the error lines about ``check``.
    """

    check: OriginCheck
    errors: ErrorThrottle = field(default_factory=ErrorThrottle, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The callable's qualified name, ``module.qualname``."""
        # A function names itself; an object with __call__ is named by its class.
        named = self.check if hasattr(self.check, "__qualname__") else type(self.check)
        module = getattr(named, "__module__", None)
        return f"{module}.{named.__qualname__}" if module else named.__qualname__

    def allows(self, origin: str) -> bool:
        """Whether ``check`` returned ``True`` for ``origin``.

        Any other result, and any ``Exception`` it raises, refuses (fail closed) and is
        logged at ERROR: it is a bug in the callable, or its store is unreachable.
        """
        try:
            verdict = self.check(origin)
        except Exception:
            self._error("origin check %s raised for origin %r", origin, exc_info=True)
            return False
        if verdict is True:
            return True
        if verdict is not False:
            shown = reprlib.repr(verdict)  # the callable's value, cut short
            self._error("origin check %s returned %s for origin %r; only True allows", shown, origin)
        return False

    def _error(self, message: str, *args: object, exc_info: bool = False) -> None:
        suppressed = self.errors.admit()
        if suppressed is None:
            return
        if suppressed:
            message += f" ({suppressed} similar lines suppressed)"
        log.error(message, self.name, *args, exc_info=exc_info)
