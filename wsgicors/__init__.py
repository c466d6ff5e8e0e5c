"""wsgicors: a WSGI middleware for Cross-Origin Resource Sharing (CORS)."""

from .config import ConfigurationError
from .middleware import CORS, make_middleware

__all__ = ["CORS", "ConfigurationError", "make_middleware"]
