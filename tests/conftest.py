"""Fixtures: ``make_app`` builds the stack under test."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from support import Client, RecordingApp

from wsgicors import CORS


@pytest.fixture
def make_app():
    """``make_app(settings=None, app=None, **kw)`` -> a ``Client`` over ``CORS(app, settings, **kw)``.

    ``client.cors`` is the middleware, ``client.app`` the ``RecordingApp`` it wraps.
    """

    def make(settings: Optional[dict[str, Any]] = None, app: Optional[RecordingApp] = None, **kw: Any) -> Client:
        app = app or RecordingApp()
        return Client(CORS(app, settings, **kw), app)

    return make
