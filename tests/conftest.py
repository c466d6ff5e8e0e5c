"""Fixtures: ``make_app`` builds the stack under test."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from support import EchoApp, Stack

from wsgicors import CORS


@pytest.fixture
def make_app():
    """``make_app(settings=None, app=None, **kw)`` -> a Stack over ``CORS(app, settings, **kw)``."""

    def make(settings: Optional[dict[str, Any]] = None, app: Optional[EchoApp] = None, **kw: Any) -> Stack:
        echo = app or EchoApp()
        stack = Stack(CORS(echo, settings, **kw))
        stack.echo = echo
        return stack

    return make
