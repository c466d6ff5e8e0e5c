"""The apps that bench_server.py serves: the bare app, alone or wrapped by one implementation.

Chosen by environment variables (bench_server.py sets them): ``WSGICORS_BENCH_IMPL`` is
``bare``, ``0.7.0``, ``1.1`` or ``cand``; ``WSGICORS_BENCH_LEGACY``, ``WSGICORS_BENCH_CURRENT``
and ``WSGICORS_BENCH_CANDIDATE`` are the paths given to ``benchlib.load_implementations``.

gunicorn: ``gunicorn --chdir benchmarks serverapp:app``;
waitress: ``python benchmarks/serverapp.py PORT [THREADS]`` (listens on 127.0.0.1 only).
"""

from __future__ import annotations

import os
import sys

import benchlib
from bench_inprocess import ALLOWED, single

# The in-process benchmark's single-policy settings: one allowed origin.
SETTINGS = single(ALLOWED)


def make_app() -> object:
    impl = os.environ.get("WSGICORS_BENCH_IMPL", "bare")
    if impl == "bare":
        return benchlib.bare_app
    impls = benchlib.load_implementations(
        os.environ.get("WSGICORS_BENCH_LEGACY") or None,
        os.environ.get("WSGICORS_BENCH_CURRENT") or None,
        os.environ.get("WSGICORS_BENCH_CANDIDATE") or None,
    )
    return impls[impl](benchlib.bare_app, **SETTINGS)


app = make_app()

if __name__ == "__main__":
    import logging

    import waitress

    # waitress warns "Task queue depth is N" for each request that waits for a thread: under
    # load that is most of them, and writing those lines would be measured with the app.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    waitress.serve(
        app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]) if len(sys.argv) > 2 else 4, _quiet=True
    )
