"""What two targets of bench_inprocess.py are up against: the cost, in CPython, of the
least work each needs, on the same stream of distinct origins.

* ``exact x10000, stream refused`` <= 1.2 x ``exact x1, stream refused``: each request
  looks its origin up in the table of listed origins and misses. A miss in a
  10,000-entry dict reads memory that a 1-entry dict does not, and the stream's
  environs keep evicting it from the CPU caches.
* streams of distinct origins <= 1.05 x ``no memo``: any memo, on a miss, looks the
  origin up, empties itself if full, and inserts; without one, the lookup is in an
  empty dict.

Each floor is the difference of two plain loops that do only that, beside the same copy
of each environ that bench_inprocess.py makes, and is shown as the ratio it alone would
give the target's row: (row + floor) / row, with the row (``exact x1, stream refused``,
and ``wildcard x1, stream refused`` under ``no memo``) measured in the same run.

Run ``python benchmarks/floors.py`` (about 1 minute); see benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any, Callable, Mapping, Optional

import benchlib
from bench_inprocess import STREAM, exact_list, wildcard_list
from benchlib import bare_app, environ, start_response

from wsgicors.answers import RECENT_ANSWERS

Environs = list[dict[str, Any]]


def per_request(loop: Callable[[Environs], None], environs: Environs) -> float:
    """CPU nanoseconds per environ of one pass of ``loop``."""
    started = time.process_time_ns()
    loop(environs)
    return (time.process_time_ns() - started) / len(environs)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="passes per loop, alternating (default 9)")
    args = parser.parse_args(argv)

    impls = benchlib.load_implementations(None, None, None, no_memo=True)
    exact_x1 = impls["1.1"](bare_app, exact_list(1))
    exact_x10000 = impls["1.1"](bare_app, exact_list(10_000))
    wildcard = impls["1.1"](bare_app, wildcard_list(1))
    wildcard_no_memo = impls["no memo"](bare_app, wildcard_list(1))
    one, many = exact_x1.answers, exact_x10000.answers
    value = one.refused
    environs = [environ("GET", f"https://u{number}.attacker.example") for number in range(STREAM)]

    def misses_in(table: Mapping[str, Any]) -> Callable[[Environs], None]:
        def loop(environs: Environs) -> None:
            get = table.get
            for env in environs:
                origin = env.copy()["HTTP_ORIGIN"]
                get(origin, value)

        return loop

    memo: dict[str, Any] = {}

    def memo_misses(environs: Environs) -> None:
        # The same lookup as misses_in's, then what any bounded memo does on a miss.
        get = memo.get
        for env in environs:
            origin = env.copy()["HTTP_ORIGIN"]
            get(origin, value)
            if len(memo) >= RECENT_ANSWERS:
                memo.clear()
            memo[origin] = value

    def requests_to(app: Callable[..., Any]) -> Callable[[Environs], None]:
        def loop(environs: Environs) -> None:
            for env in environs:
                app(env.copy(), start_response)

        return loop

    loops = {
        "miss, 1 entry": misses_in(one.exact),
        "miss, 10,000 entries": misses_in(many.exact),
        "miss, empty dict": misses_in({}),
        "memo miss": memo_misses,
        "bare app": requests_to(bare_app),
        "exact x1, stream refused": requests_to(exact_x1),
        "exact x10000, stream refused": requests_to(exact_x10000),
        "wildcard x1, stream refused": requests_to(wildcard),
        "wildcard x1, stream refused, no memo": requests_to(wildcard_no_memo),
    }
    gc.freeze()
    samples: dict[str, list[float]] = {name: [] for name in loops}
    for round_number in range(args.rounds):
        names = list(loops)
        for name in names[round_number % len(names) :] + names[: round_number % len(names)]:
            samples[name].append(per_request(loops[name], environs))
    ns = {name: statistics.median(values) for name, values in samples.items()}

    def added(name: str) -> float:
        return ns[name] - ns["bare app"]

    dict_floor = ns["miss, 10,000 entries"] - ns["miss, 1 entry"]
    memo_floor = ns["memo miss"] - ns["miss, empty dict"]
    print(f"{STREAM:,} distinct origins, {args.rounds} alternating passes; CPU ns per request (median)")
    for name, value_ns in ns.items():
        print(f"  {name:<38} {value_ns:7.0f}")
    print()
    print(f"{'target':<64} {'1.1':>6}  {'floor':>6}  {'floor ns':>8}")
    for target, row, base, floor in (
        ("exact x10000 <= 1.2x exact x1 (stream refused; dict miss)", "exact x10000", "exact x1", dict_floor),
        ("memo <= 1.05x no memo (wildcard x1, stream refused; memo miss)", "wildcard x1", None, memo_floor),
    ):
        measured = added(f"{row}, stream refused")
        baseline = added(f"{base}, stream refused" if base else f"{row}, stream refused, no memo")
        print(f"{target:<64} {measured / baseline:5.2f}x  {(baseline + floor) / baseline:5.2f}x  {floor:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
