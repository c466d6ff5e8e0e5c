"""Where a request's time goes: cProfile over one scenario, and timings of its steps.

Run ``python benchmarks/profile_requests.py --help``; see benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import timeit
from typing import Any, Callable, Optional

import benchlib
from bench_inprocess import SCENARIOS, Source
from benchlib import bare_app, start_response


def ns_per_call(func: Callable[[], Any], number: int) -> float:
    """Best of 7 repeats, in nanoseconds per call (wall clock, as timeit does)."""
    return min(timeit.repeat(func, number=number, repeat=7)) / number * 1e9


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "scenario",
        nargs="?",
        default="GET, allowed exact origin",
        help="a scenario name of bench_inprocess.py (default: %(default)r)",
    )
    parser.add_argument("--current", metavar="PATH", help="wsgicors package to profile (default: import wsgicors)")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    scenario = next((s for s in SCENARIOS if s.name == args.scenario), None)
    if scenario is None:
        raise SystemExit("unknown scenario; one of:\n  " + "\n  ".join(s.name for s in SCENARIOS))
    cors = benchlib.load_implementations(None, benchlib.package_dir(args.current), None)["1.1"]
    app = cors(bare_app, **scenario.settings())
    chunk = Source(scenario.requests()).chunk(args.requests)

    def run(app: Callable[..., Any]) -> None:
        for env in chunk:
            app(env.copy(), start_response)

    bare = ns_per_call(lambda: run(bare_app), 1) / len(chunk)
    full = ns_per_call(lambda: run(app), 1) / len(chunk)
    print(
        f"{scenario.name}: bare app {bare:.0f} ns, with {cors.__module__} {full:.0f} ns, added {full - bare:.0f} ns\n"
    )

    profiler = cProfile.Profile()
    profiler.runcall(run, app)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
