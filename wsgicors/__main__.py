"""``python -m wsgicors check|explain ...``."""

from .cli import main

raise SystemExit(main())
