"""Requests per second under waitress and gunicorn on 127.0.0.1: bare app vs wsgicors, with wrk.

Run ``python benchmarks/bench_server.py --help``; see benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import benchlib
from bench_inprocess import ALLOWED, machine

HOST = "127.0.0.1"
ORIGIN = ALLOWED  # allowed by serverapp.SETTINGS

# wrk scripts: a simple GET from an allowed origin, and its preflight.
LUA = {
    "GET": f'wrk.method = "GET"\nwrk.headers["Origin"] = "{ORIGIN}"\n',
    "preflight": (
        'wrk.method = "OPTIONS"\n'
        f'wrk.headers["Origin"] = "{ORIGIN}"\n'
        'wrk.headers["Access-Control-Request-Method"] = "POST"\n'
        'wrk.headers["Access-Control-Request-Headers"] = "content-type"\n'
    ),
}


@dataclass
class WrkResult:
    rps: float
    requests: int
    socket_errors: int
    non_2xx: int
    #: CPU time the server's processes spent during the run, per request (microseconds).
    cpu_us: float = 0.0


@dataclass
class Server:
    kind: str
    impl: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    results: dict[str, list[WrkResult]] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(kind: str, impl: str, env: dict[str, str], workdir: Path, workers: int, threads: int) -> Server:
    port = free_port()
    log = workdir / f"{kind}-{impl}.log"
    env = {**os.environ, **env, "WSGICORS_BENCH_IMPL": impl, "PYTHONPATH": str(benchlib.HERE)}
    if kind == "waitress":
        cmd = [sys.executable, str(benchlib.HERE / "serverapp.py"), str(port), str(threads)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--chdir",
            str(benchlib.HERE),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "serverapp:app",
        ]
    with open(log, "wb") as out:
        # A session of its own, so that a gunicorn master and its workers can be stopped as one group.
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(kind, impl, port, proc, log)
    try:
        wait_ready(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_ready(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.kind} ({server.impl}) exited:\n{server.log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, server.port, timeout=2)
            conn.request("GET", "/", headers={"Origin": ORIGIN})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} ({server.impl}) did not answer on {HOST}:{server.port} within {timeout} s")


def stop_server(server: Server) -> None:
    """Stop the process we started (and, for gunicorn, its workers: our session's group)."""
    proc = server.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Workers that outlived their master would still be in the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def servers(
    kind: str, impls: list[str], env: dict[str, str], workdir: Path, workers: int, threads: int
) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for impl in impls:
            started.append(start_server(kind, impl, env, workdir, workers, threads))
        yield started
    finally:
        for server in started:
            stop_server(server)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group ``pgid`` (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            data = stat.read_text()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()  # from field 3, "state"
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, port: int, script: Path, duration: float, connections: int, threads: int, pgid: Optional[int] = None
) -> WrkResult:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://{HOST}:{port}/",
    ]
    cpu_before = group_cpu_seconds(pgid) if pgid else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    cpu = group_cpu_seconds(pgid) - cpu_before if pgid else 0.0
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        cpu_us=cpu / max(int(total.group(1)), 1) * 1e6,
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s runs (about 1 minute)")
    parser.add_argument("--servers", default="waitress,gunicorn", help="comma-separated (default: %(default)s)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 4)")
    parser.add_argument("--rounds", type=int, help="wrk runs per app and request kind, interleaved (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (default %(default)s)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (default %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default %(default)s)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads (default %(default)s)")
    parser.add_argument("--no-legacy", action="store_true", help="leave wsgicors 0.7.0 out")
    parser.add_argument(
        "--current", metavar="PATH", help="wsgicors package to measure as 1.1 (default: import wsgicors)"
    )
    parser.add_argument("--candidate", metavar="PATH", help="another wsgicors package, as 'cand'")
    parser.add_argument(
        "--wrk", default=shutil.which("wrk") or "/usr/bin/wrk", help="wrk executable (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    duration = args.duration or (2 if args.quick else 4)
    rounds = args.rounds or (1 if args.quick else 5)
    if not Path(args.wrk).exists():
        raise SystemExit(f"wrk not found at {args.wrk}; install it (Debian: apt-get install wrk) or pass --wrk")

    legacy = None if args.no_legacy else str(benchlib.legacy_module_path())
    env = {
        "WSGICORS_BENCH_LEGACY": legacy or "",
        "WSGICORS_BENCH_CURRENT": benchlib.package_dir(args.current) or "",
        "WSGICORS_BENCH_CANDIDATE": benchlib.package_dir(args.candidate) or "",
    }
    impls = ["bare"] + (["0.7.0"] if legacy else []) + ["1.1"] + (["cand"] if args.candidate else [])
    print(machine())
    print(
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{duration:g}s, {rounds} round(s) interleaved, median req/s; "
        f"waitress threads={args.threads}; gunicorn sync workers={args.workers}; load average at start "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(
        "GET = GET from an allowed Origin; preflight = OPTIONS + Origin + ACRM POST + ACRH content-type; "
        "ratios: median over rounds of req/s over the bare app's GET req/s in the same round;\n"
        "range: lowest-highest of those; us CPU: the server processes' CPU time per request (median); "
        "bare/this: the bare app's GET us CPU over this one's\n"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="wsgicors-bench-") as tmp:
        workdir = Path(tmp)
        scripts = {name: workdir / f"{name}.lua" for name in LUA}
        for name, path in scripts.items():
            path.write_text(LUA[name])
        for kind in args.servers.split(","):
            with servers(kind, impls, env, workdir, args.workers, args.threads) as running:
                for server in running:  # warm-up: imports, first connections, thread pools
                    for name in LUA:
                        run_wrk(args.wrk, server.port, scripts[name], 1, args.connections, args.wrk_threads)
                for r in range(rounds):
                    order = running[r % len(running) :] + running[: r % len(running)]
                    for server in order:
                        for name in LUA:
                            result = run_wrk(
                                args.wrk,
                                server.port,
                                scripts[name],
                                duration,
                                args.connections,
                                args.wrk_threads,
                                server.proc.pid,
                            )
                            server.results.setdefault(name, []).append(result)
                            print(
                                f"  {kind} {server.impl:5s} {name:9s} {result.rps:7.0f} req/s {result.cpu_us:6.1f} us",
                                file=sys.stderr,
                            )
                bare = running[0]
                for server in running:
                    cells = [kind, server.impl]
                    for name in LUA:
                        results = server.results[name]
                        ratios = ratios_to_bare_get(server, name, bare)
                        cpu = statistics.median(res.cpu_us for res in results)
                        cells += [
                            f"{statistics.median(res.rps for res in results):.0f}",
                            f"{statistics.median(ratios):.2f}",
                            f"{min(ratios):.2f}-{max(ratios):.2f}",
                            f"{cpu:.1f}",
                            f"{bare_get_cpu(bare) / cpu:.2f}",
                            f"{sum(res.socket_errors for res in results)}/{sum(res.non_2xx for res in results)}",
                        ]
                    cells.append(verdict(kind, server, bare))
                    rows.append(cells)
    head = [
        "server",
        "app",
        "GET req/s",
        "/bare GET",
        "range",
        "us CPU",
        "bare/this",
        "err/non2xx",
        "preflight req/s",
        "/bare GET",
        "range",
        "us CPU",
        "bare/this",
        "err/non2xx",
        "targets (waitress)",
    ]
    table = [head, *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        print(
            "  ".join(
                c.ljust(w) if j < 2 or j == len(row) - 1 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    return 0


def ratios_to_bare_get(server: Server, name: str, bare: Server) -> list[float]:
    """Per round: this server's req/s over the bare app's GET req/s of the same round, so
    that drifts in the machine's load cancel out."""
    return [res.rps / base.rps for res, base in zip(server.results[name], bare.results["GET"])]


def bare_get_cpu(bare: Server) -> float:
    return statistics.median(res.cpu_us for res in bare.results["GET"])


def verdict(kind: str, server: Server, bare: Server) -> str:
    """The issue's server-level targets for 1.x under waitress: on the req/s ratios, and on
    the server CPU per request (bare GET's over this one's), which other load disturbs less."""
    if kind != "waitress" or server.impl in ("bare", "0.7.0"):
        return ""
    cells = []
    for name, limit in (("GET", 0.97), ("preflight", 0.95)):
        rps = statistics.median(ratios_to_bare_get(server, name, bare))
        cpu = bare_get_cpu(bare) / statistics.median(res.cpu_us for res in server.results[name])
        cells.append(
            f"{name}>={limit}: req/s {'PASS' if rps >= limit else 'FAIL'}, CPU {'PASS' if cpu >= limit else 'FAIL'}"
        )
    return "; ".join(cells)


if __name__ == "__main__":
    sys.exit(main())
