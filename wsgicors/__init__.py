"""wsgicors: a WSGI middleware for Cross-Origin Resource Sharing (CORS)."""

from importlib.metadata import PackageNotFoundError, version

from .callback import OriginCheck
from .config import ConfigurationError
from .middleware import CORS, make_middleware

try:
    #: The installed distribution's version.
    __version__ = version("wsgicors")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree that was never installed
    __version__ = "unknown"

__all__ = ["CORS", "ConfigurationError", "OriginCheck", "__version__", "make_middleware"]
