"""Added CPU time per request of wsgicors over the bare app, side by side with 0.7.0.

Run ``python benchmarks/bench_inprocess.py --help``; see benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import benchlib
from benchlib import bare_app, environ, start_response

ALLOWED = "https://app.example.com"
REFUSED = "https://evil.example.net"
STREAM = 100_000  # distinct origins per stream scenario

# Every configuration uses the same keys, spelled so that 0.7.0 reads them the same way.
COMMON = {"methods": "GET, HEAD, POST", "headers": "Content-Type", "maxage": "600"}


def single(origin: str) -> dict[str, str]:
    return {"origin": origin, **COMMON}


def exact_list(n: int) -> dict[str, str]:
    # The origin requested in the "repeated" scenarios is listed last.
    return single(" ".join([f"https://www{k}.example.org" for k in range(n - 1)] + [ALLOWED]))


def wildcard_list(n: int) -> dict[str, str]:
    # The requested origins match the last pattern: the worst case for a scan.
    return single(" ".join(f"https://*.site{k}.example" for k in range(n)))


def path_list(n: int) -> dict[str, str]:
    # Requests go to /api/items (benchlib.environ), under the last of n entries.
    entries = [f"/section{k}/v{k % 3}/*" if k % 2 else f"/page{k}" for k in range(n - 1)] + ["/api/*"]
    return {**single(ALLOWED), "paths": " ".join(entries)}


def ten_policies() -> dict[str, str]:
    settings = {"policy": ",".join(f"p{k}" for k in range(10))}
    for k in range(10):
        settings.update(
            {f"p{k}_origin": f"https://app{k}.example.com", **{f"p{k}_{key}": v for key, v in COMMON.items()}}
        )
    return settings


def get(origin: Optional[str]) -> list[dict[str, Any]]:
    return [environ("GET", origin)]


def preflight(origin: str) -> list[dict[str, Any]]:
    return [
        environ(
            "OPTIONS",
            origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        )
    ]


def stream(template: str) -> list[dict[str, Any]]:
    return [environ("GET", template.format(i)) for i in range(STREAM)]


@dataclass(frozen=True)
class Scenario:
    name: str
    settings: Callable[[], dict[str, str]]
    requests: Callable[[], list[dict[str, Any]]]  # cycled through, one environ copy per call
    # Targets for the current version's column, each one of: ("legacy", r): added <= r x
    # 0.7.0's; ("floor", r): added <= r x the floor's in this scenario; ("row", name, r):
    # added <= r x this version's in scenario `name`; ("label", label, r): added <= r x
    # `label`'s in this scenario.
    targets: tuple[tuple[Any, ...], ...] = ()
    legacy: bool = True  # 0.7.0 has the feature measured


NOT_SLOWER = ("legacy", 1.0)
GET_FLOOR = ("floor", 1.5)
LIKE_EXACT = ("row", "GET, allowed exact origin", 1.3)
# A stream of distinct origins must not get slower because of the memo (5%: the noise).
MEMO_HARMLESS = ("label", "no memo", 1.05)

SCENARIOS = [
    Scenario("GET, no Origin", lambda: single(ALLOWED), lambda: get(None), (("floor", 1.15),)),
    Scenario("GET, allowed exact origin", lambda: single(ALLOWED), lambda: get(ALLOWED), (NOT_SLOWER, GET_FLOOR)),
    Scenario(
        "GET, allowed by wildcard",
        lambda: single("https://*.example.com"),
        lambda: get(ALLOWED),
        (NOT_SLOWER, GET_FLOOR, LIKE_EXACT),
    ),
    Scenario("GET, refused origin", lambda: single(ALLOWED), lambda: get(REFUSED), (NOT_SLOWER, GET_FLOOR, LIKE_EXACT)),
    Scenario(
        "GET, refused by a pattern policy",
        lambda: single("https://*.example.com"),
        lambda: get(REFUSED),
        (NOT_SLOWER, GET_FLOOR, LIKE_EXACT),
    ),
    Scenario("preflight, allowed", lambda: single(ALLOWED), lambda: preflight(ALLOWED), (NOT_SLOWER,)),
    Scenario("preflight, refused", lambda: single(ALLOWED), lambda: preflight(REFUSED), (NOT_SLOWER,)),
    Scenario(
        "preflight, stream refused",
        lambda: single(ALLOWED),
        lambda: [preflight(f"https://u{i}.attacker.example")[0] for i in range(STREAM)],
        (NOT_SLOWER, MEMO_HARMLESS),
    ),
    Scenario(
        "10 policies, first matches", ten_policies, lambda: get("https://app0.example.com"), (NOT_SLOWER, GET_FLOOR)
    ),
    Scenario(
        "10 policies, last matches", ten_policies, lambda: get("https://app9.example.com"), (NOT_SLOWER, GET_FLOOR)
    ),
    Scenario("origin=*, GET without Origin", lambda: single("*"), lambda: get(None), (("floor", 1.15),)),
    Scenario("origin=*, GET with Origin", lambda: single("*"), lambda: get(ALLOWED), (NOT_SLOWER, GET_FLOOR)),
    Scenario("exact x1, repeated origin", lambda: exact_list(1), lambda: get(ALLOWED), (NOT_SLOWER, GET_FLOOR)),
    Scenario(
        "exact x100, repeated origin",
        lambda: exact_list(100),
        lambda: get(ALLOWED),
        (NOT_SLOWER, GET_FLOOR, ("row", "exact x1, repeated origin", 1.2)),
    ),
    Scenario(
        "exact x10000, repeated origin",
        lambda: exact_list(10_000),
        lambda: get(ALLOWED),
        (NOT_SLOWER, GET_FLOOR, ("row", "exact x1, repeated origin", 1.2)),
    ),
    Scenario(
        "exact x10000, stream of its 10000",
        lambda: exact_list(10_000),
        # No 1-origin configuration has 10,000 allowed origins to stream; the
        # stream-vs-stream comparison is the refused one below.
        lambda: [environ("GET", f"https://www{k}.example.org") for k in range(9_999)] + get(ALLOWED),
        (NOT_SLOWER,),
    ),
    Scenario(
        "exact x1, stream refused",
        lambda: exact_list(1),
        lambda: stream("https://u{}.attacker.example"),
        (NOT_SLOWER, MEMO_HARMLESS),
    ),
    Scenario(
        "exact x100, stream refused",
        lambda: exact_list(100),
        lambda: stream("https://u{}.attacker.example"),
        (NOT_SLOWER, MEMO_HARMLESS, ("row", "exact x1, stream refused", 1.2)),
    ),
    Scenario(
        "exact x10000, stream refused",
        lambda: exact_list(10_000),
        lambda: stream("https://u{}.attacker.example"),
        (NOT_SLOWER, MEMO_HARMLESS, ("row", "exact x1, stream refused", 1.2)),
    ),
    Scenario(
        "wildcard x1, repeated origin",
        lambda: wildcard_list(1),
        lambda: get("https://www.site0.example"),
        (NOT_SLOWER, GET_FLOOR),
    ),
    Scenario(
        "wildcard x100, repeated origin",
        lambda: wildcard_list(100),
        lambda: get("https://www.site99.example"),
        (NOT_SLOWER, GET_FLOOR, ("row", "wildcard x1, repeated origin", 1.2)),
    ),
    Scenario(
        "wildcard x1, stream allowed",
        lambda: wildcard_list(1),
        lambda: stream("https://u{}.site0.example"),
        (MEMO_HARMLESS,),
    ),
    Scenario(
        "wildcard x100, stream allowed",
        lambda: wildcard_list(100),
        lambda: stream("https://u{}.site99.example"),
        (NOT_SLOWER, MEMO_HARMLESS, ("row", "wildcard x1, stream allowed", 2.0)),
    ),
    Scenario(
        "wildcard x1, stream refused",
        lambda: wildcard_list(1),
        lambda: stream("https://u{}.attacker.example"),
        (MEMO_HARMLESS,),
    ),
    Scenario(
        "wildcard x100, stream refused",
        lambda: wildcard_list(100),
        lambda: stream("https://u{}.attacker.example"),
        (NOT_SLOWER, MEMO_HARMLESS, ("row", "wildcard x1, stream refused", 2.0)),
    ),
]

# Per-path policies (1.1 only: 0.7.0 has no paths). A path is checked by a lookup per
# segment of the request's path, up to the deepest entry, so 1,000 entries (up to three
# segments deep) cost what 1 does.
PATH_SCENARIOS = [
    Scenario("paths x1, covered", lambda: path_list(1), lambda: get(ALLOWED), legacy=False),
    Scenario(
        "paths x1000, covered",
        lambda: path_list(1_000),
        lambda: get(ALLOWED),
        (("row", "paths x1, covered", 1.2),),
        legacy=False,
    ),
    Scenario(
        "paths x1000, uncovered",
        lambda: path_list(1_000),
        lambda: [environ("GET", ALLOWED, PATH_INFO="/admin/users")],
        (("row", "paths x1, covered", 1.2),),
        legacy=False,
    ),
]
SCENARIOS += PATH_SCENARIOS

# tracemalloc: memory kept after this many requests from distinct origins (after a warm-up).
MEMORY_CASES: list[tuple[str, Callable[[], dict[str, str]], str]] = [
    ("refused, exact x1", lambda: exact_list(1), "https://m{}.attacker.example"),
    ("wildcard-allowed, wildcard x100", lambda: wildcard_list(100), "https://m{}.site99.example"),
]
# Bytes kept after all requests: nothing grows with traffic. 1.1 keeps a memo of at most
# 256 recent answers (wsgicors/answers.py, RECENT_ANSWERS), a fixed bound below this.
MEMORY_LIMIT = 256 * 1024


# --------------------------------------------------------------------------- worker


def _run(app: Callable[..., Any], chunk: list[dict[str, Any]]) -> int:
    """CPU nanoseconds for one call of ``app`` per environ in ``chunk``: the timed loop."""
    sr = start_response
    clock = time.process_time_ns
    t0 = clock()
    for env in chunk:
        app(env.copy(), sr)
    return clock() - t0


class Source:
    """Cycles through a scenario's environs, so that a stream stays distinct across blocks."""

    def __init__(self, envs: list[dict[str, Any]]) -> None:
        self.envs = envs
        self.pos = 0

    def chunk(self, n: int) -> list[dict[str, Any]]:
        if len(self.envs) == 1:
            return self.envs * n
        out: list[dict[str, Any]] = []
        while len(out) < n:
            take = min(n - len(out), len(self.envs) - self.pos)
            out += self.envs[self.pos : self.pos + take]
            self.pos = (self.pos + take) % len(self.envs)
        return out


def _calibrate(app: Callable[..., Any], source: Source, block_ns: int) -> int:
    # Warm up first: a first call may pay one-time costs (0.7.0 compiles its patterns then),
    # which would make the blocks far too short.
    _run(app, source.chunk(2))
    loops = 4
    while True:
        elapsed = _run(app, source.chunk(loops))
        if elapsed >= block_ns // 8 or loops >= 10_000_000:
            return max(1, int(loops * block_ns / max(elapsed, 1)))
        loops *= 8


def measure_scenario(scenario: Scenario, impls: dict[str, Any], rounds: int, block_ns: int) -> dict[str, list[float]]:
    """Nanoseconds per call, one value per round, for the bare app and each implementation."""
    apps: dict[str, Callable[..., Any]] = {"bare": bare_app}
    settings = scenario.settings()
    for label, cors in impls.items():
        if scenario.legacy or label != "0.7.0":
            apps[label] = cors(bare_app, **settings)
    source = Source(scenario.requests())
    # The environs live for the whole scenario: keep the collector from walking them.
    gc.collect()
    gc.freeze()
    try:
        loops = {label: _calibrate(app, source, block_ns) for label, app in apps.items()}
        samples: dict[str, list[float]] = {label: [] for label in apps}
        labels = list(apps)
        for r in range(rounds):
            # Rotate the order so that no implementation always runs right after another.
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                chunk = source.chunk(loops[label])
                samples[label].append(_run(apps[label], chunk) / len(chunk))
    finally:
        gc.unfreeze()
    return samples


def measure_memory(impls: dict[str, Any], requests: int) -> dict[str, dict[str, list[int]]]:
    """Bytes still allocated (and peak) after ``requests`` requests from distinct origins."""
    out: dict[str, dict[str, list[int]]] = {}
    for name, settings, template in MEMORY_CASES:
        warmup = [environ("GET", template.format(f"w{i}")) for i in range(1_000)]
        envs = [environ("GET", template.format(i)) for i in range(requests)]
        out[name] = {}
        for label, cors in impls.items():
            if label in ("floor", "no memo"):
                continue
            app = cors(bare_app, **settings())
            _run(app, warmup)
            gc.collect()
            tracemalloc.start()
            _run(app, envs)
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out[name][label] = [current, peak]
    return out


def worker(params: dict[str, Any]) -> dict[str, Any]:
    impls = benchlib.load_implementations(
        params["legacy"], params["current"], params["candidate"], floor=True, no_memo=True
    )
    if params.get("memory"):
        return {"memory": measure_memory(impls, params["memory"])}
    result = {}
    for scenario in SCENARIOS:
        if scenario.name in params["scenarios"]:
            result[scenario.name] = measure_scenario(scenario, impls, params["rounds"], params["block_ns"])
    return {"samples": result}


# --------------------------------------------------------------------------- main


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    python = f"{platform.python_implementation()} {sys.version.split()[0]}"
    return f"{python}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {cpu}"


def run_worker(params: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker"],
        input=json.dumps(params),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker failed with exit status {proc.returncode}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def added_costs(runs: list[dict[str, Any]], labels: list[str]) -> dict[str, dict[str, Any]]:
    """Per scenario: the bare app's ns, and each label's added ns (median over processes)."""
    table: dict[str, dict[str, Any]] = {}
    for name in runs[0]["samples"]:
        per_process = [run["samples"][name] for run in runs]
        bare = [statistics.median(s["bare"]) for s in per_process]
        row: dict[str, Any] = {"bare": statistics.median(bare)}
        for label in labels:
            if label not in per_process[0]:
                row[label] = None  # not measured: 0.7.0 lacks the feature
                continue
            added = [statistics.median(s[label]) - b for s, b in zip(per_process, bare)]
            row[label] = statistics.median(added)
            row[label + " spread"] = (min(added), max(added))
        table[name] = row
    return table


def verdicts(scenario: Scenario, table: dict[str, dict[str, Any]], label: str) -> list[tuple[str, str]]:
    """(target text, PASS/FAIL with the ratio) for each of ``scenario``'s targets, for ``label``."""
    row = table[scenario.name]
    value = row[label]
    found = []
    for target in scenario.targets:
        if target[0] == "row":
            reference, ratio = target[1], target[2]
            text = f"<={ratio}x '{reference}'"
            base = table[reference][label] if reference in table else None
        else:
            kind, ratio = target[0], target[-1]
            other = {"legacy": "0.7.0", "floor": "floor"}.get(kind, target[1])
            text = f"<={ratio}x {other}"
            base = row.get(other)
        if base is None:
            found.append((text, "n/a"))
        else:
            base = max(base, 1.0)
            found.append((text, f"{'PASS' if value <= ratio * base else 'FAIL'} {value / base:.2f}x"))
    return found


def print_table(table: dict[str, dict[str, Any]], labels: list[str]) -> None:
    new = [label for label in labels if label not in ("0.7.0", "floor", "no memo")]
    head = ["scenario", "bare ns"] + [f"{label} +ns" for label in labels]
    if "0.7.0" in labels:
        head += [f"{label}/0.7.0" for label in new]
    head += ["target (1.x)"] + [f"{label}" for label in new]
    rows: list[list[str]] = [head]
    for scenario in SCENARIOS:
        if scenario.name not in table:
            continue
        row = table[scenario.name]
        cells = [scenario.name, f"{row['bare']:.0f}"] + [
            "-" if row[label] is None else f"{row[label]:.0f}" for label in labels
        ]
        if "0.7.0" in labels:
            cells += [f"{row[label] / row['0.7.0']:.2f}" if (row["0.7.0"] or 0) > 0 else "-" for label in new]
        checks = [verdicts(scenario, table, label) for label in new]
        targets = [text for text, _ in checks[0]] or [""]
        for index, target in enumerate(targets):
            results = [label_checks[index][1] if label_checks else "" for label_checks in checks]
            rows.append((cells if index == 0 else [""] * len(cells)) + [target, *results])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for i, cells in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if j == 0 or j >= len(cells) - len(new) - 1 else c.rjust(w)
                for j, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


def print_memory(memory: dict[str, dict[str, list[int]]], requests: int) -> None:
    print(
        f"\nMemory kept after {requests:,} requests from distinct origins "
        f"(tracemalloc, after a warm-up of 1,000; limit {MEMORY_LIMIT} bytes):"
    )
    for name, by_label in memory.items():
        cells = []
        for label, (current, peak) in by_label.items():
            status = "" if label in ("0.7.0", "floor", "no memo") else (" PASS" if current <= MEMORY_LIMIT else " FAIL")
            cells.append(f"{label}: {current:,} B kept, {peak:,} B peak{status}")
        print(f"  {name}: " + "; ".join(cells))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 processes, short blocks (about 30 s)")
    parser.add_argument("--processes", type=int, help="worker processes, run one after another (default 5)")
    parser.add_argument("--rounds", type=int, help="timed blocks per implementation and process (default 7)")
    parser.add_argument("--block-ms", type=float, help="CPU time per timed block (default 25)")
    parser.add_argument("--only", metavar="REGEX", help="run the scenarios whose name matches")
    parser.add_argument("--no-legacy", action="store_true", help="leave wsgicors 0.7.0 out")
    parser.add_argument(
        "--current", metavar="PATH", help="wsgicors package to measure as 1.1 (default: import wsgicors)"
    )
    parser.add_argument("--candidate", metavar="PATH", help="another wsgicors package (e.g. a prototype), as 'cand'")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc check")
    parser.add_argument("--json", metavar="FILE", help="also write all samples and results to FILE")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        json.dump(worker(json.load(sys.stdin)), sys.stdout)
        return 0

    processes = args.processes or (3 if args.quick else 5)
    rounds = args.rounds or (3 if args.quick else 7)
    block_ms = args.block_ms or (8 if args.quick else 25)
    memory_requests = 20_000 if args.quick else STREAM
    names = [s.name for s in SCENARIOS if not args.only or re.search(args.only, s.name)]
    params = {
        "legacy": None if args.no_legacy else str(benchlib.legacy_module_path()),
        "current": benchlib.package_dir(args.current),
        "candidate": benchlib.package_dir(args.candidate),
        "scenarios": names,
        "rounds": rounds,
        "block_ns": int(block_ms * 1e6),
    }
    labels = (["0.7.0"] if params["legacy"] else []) + ["1.1"] + (["cand"] if params["candidate"] else [])
    labels += ["no memo", "floor"]
    print(machine())
    print(
        f"1.1 = {params['current'] or 'import wsgicors'}"
        + (f"; cand = {params['candidate']}" if params["candidate"] else "")
    )
    print(
        f"{processes} processes x {rounds} rounds x {block_ms:g} ms blocks; CPU time (process_time); "
        "added = median over processes of (median implementation - median bare); "
        f"load average at start {os.getloadavg()[0]:.2f}\n"
    )
    started = time.monotonic()
    runs = []
    for i in range(processes):
        runs.append(run_worker(params))
        print(f"  process {i + 1}/{processes} done ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    table = added_costs(runs, labels)
    print_table(table, labels)
    memory = None
    if not args.no_memory:
        memory = run_worker({**params, "memory": memory_requests})["memory"]
        print_memory(memory, memory_requests)
    print(f"\n{time.monotonic() - started:.0f} s; load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": machine(), "params": params, "runs": runs, "table": table, "memory": memory}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
