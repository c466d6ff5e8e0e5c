"""``python -m wsgicors``: check a CORS configuration, and explain its answer to a request."""

from __future__ import annotations

import argparse
import configparser
import json
import logging
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Sequence, TextIO

from .config import Config, ConfigurationError, Problem, compile_settings
from .explain import Exchange, Explanation, stand_in_app
from .middleware import CORS, make_middleware
from .policy import Decision, Names, Policy

EXIT_OK, EXIT_WARNINGS, EXIT_ERRORS = 0, 1, 2
_FILTER_USE = ("egg:wsgicors#middleware", "egg:wsgicors")
_COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1"}


class UsageError(Exception):
    """A command line or an ini file that cannot be read."""


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    colour = out.isatty() and "NO_COLOR" not in os.environ
    try:
        source, settings = _settings(args)
        if args.command == "check":
            return _check(source, settings, args.strict, args.json, _Printer(out, colour))
        return _explain(source, settings, args, _Printer(out, colour))
    except UsageError as error:
        print(f"wsgicors: {error}", file=sys.stderr)
        return EXIT_ERRORS
    except BrokenPipeError:
        # The reader (`| head`) has gone: what is left unprinted is not wanted. Point
        # stdout at devnull so that the interpreter's final flush does not fail too.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wsgicors", description="Check a CORS configuration, and explain its answer to a request."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="report errors and warnings, show the compiled policies")
    explain = commands.add_parser("explain", help="show what a request gets, and why")
    for command in (check, explain):
        command.add_argument("ini", nargs="?", help="a paste ini file, with #section for one [filter:section]")
        command.add_argument(
            "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, instead of an ini"
        )
        command.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    explain.add_argument("--origin", required=True, help="the page's origin, such as https://app.example.com")
    explain.add_argument("--method", default="GET", help="the request's method (default GET)")
    explain.add_argument("--path", default="/", help="the request's path below the middleware's mount (default /)")
    explain.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="HEADER",
        help="a request header the script sets: a name, or 'Name: value' (a form's Content-Type needs no preflight)",
    )
    explain.add_argument("--preflight", action="store_true", help="send a preflight even if none is needed")
    explain.add_argument("--credentials", action="store_true", help='fetch with credentials: "include"')
    return parser


def _settings(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    if bool(args.ini) == bool(args.set):
        raise UsageError("give an ini file or --set KEY=VALUE settings (not both)")
    if args.ini:
        return args.ini, load_ini_settings(args.ini)
    settings = {}
    for pair in args.set:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise UsageError(f"--set {pair!r} is not KEY=VALUE")
        settings[key.strip()] = value
    return "--set", settings


def load_ini_settings(spec: str) -> dict[str, str]:
    """The settings PasteDeploy gives the wsgicors filter of ``path[#section]``."""
    path, _, section = spec.partition("#")
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    try:
        from paste.deploy.loadwsgi import FILTER, loadcontext
    except ImportError:
        raise UsageError("reading an ini file needs PasteDeploy: pip install 'wsgicors[paste]'") from None
    name = section.removeprefix("filter:") if section else _find_filter_section(path)
    try:
        context = loadcontext(FILTER, f"config:{os.path.abspath(path)}", name=name)
    except LookupError as error:
        raise UsageError(f"{path}: {error}") from None
    if context.object is not make_middleware:
        raise UsageError(f"{path}: [filter:{name}] does not use egg:wsgicors#middleware")
    return dict(context.local_conf)


def _find_filter_section(path: str) -> str:
    parser = configparser.RawConfigParser(strict=False)
    parser.read(path)
    names = [
        section.split(":", 1)[1].strip()
        for section in parser.sections()
        if section.startswith("filter:") and parser.get(section, "use", fallback="").strip().lower() in _FILTER_USE
    ]
    if len(names) != 1:
        found = "no" if not names else f"{len(names)} ({', '.join(names)})"
        raise UsageError(f"{path}: {found} [filter:...] sections use egg:wsgicors#middleware; name one as {path}#NAME")
    return names[0]


def _check(source: str, settings: dict[str, str], strict: bool, as_json: bool, printer: _Printer) -> int:
    try:
        config = compile_settings(settings)
    except ConfigurationError as error:
        if as_json:
            printer.json({"source": source, "errors": [_problem_json(p) for p in error.problems]})
        else:
            _print_problems(error.problems, printer)
            printer.line(f"{_count(error.problems, 'error')} in {source}")
        return EXIT_ERRORS
    if as_json:
        printer.json(
            {
                "source": source,
                "matchstrategy": "verbmatch" if config.verbmatch else "firstmatch",
                "debug_header": config.debug_header,
                "policies": [_policy_json(policy) for policy in config.policies],
                "warnings": [_problem_json(problem) for problem in config.warnings],
            }
        )
    else:
        _print_config(source, config, printer)
    return EXIT_WARNINGS if strict and config.warnings else EXIT_OK


def _print_problems(problems: Sequence[Problem], printer: _Printer) -> None:
    for problem in problems:
        printer.line(f"{printer.paint('error', 'red')}: {problem}")


def _print_config(source: str, config: Config, printer: _Printer) -> None:
    count = len(config.policies)
    strategy = "verbmatch" if config.verbmatch else "firstmatch"
    printer.line(f"{source}: {count} polic{'y' if count == 1 else 'ies'}, matchstrategy {strategy}")
    if not config.policies:
        printer.line("no policy: every CORS request is refused")
    for policy in config.policies:
        printer.line("")
        printer.line(printer.paint(_policy_title(policy), "bold"))
        for key, value in _policy_rows(policy):
            printer.line(f"  {key:<16} {value}")
    if config.warnings:
        printer.line("")
    for warning in config.warnings:
        printer.line(f"{printer.paint('warning', 'yellow')}: {warning}")
    printer.line("")
    if config.warnings:
        printer.line(f"no errors, {printer.paint(_count(config.warnings, 'warning'), 'yellow')}")
    else:
        printer.line(f"{printer.paint('OK', 'green')}: no errors, 0 warnings")


def _policy_title(policy: Policy) -> str:
    return "policy (unnamed)" if policy.name is None else f"policy {policy.name!r}"


def _policy_rows(policy: Policy) -> list[tuple[str, str]]:
    def listed(names: Names, any_means: str) -> str:
        return f"* ({any_means})" if names.any else str(names) or "-"

    paths = [] if policy.paths is None else [("paths", " ".join(policy.paths.entries))]
    return [
        ("origin", " ".join(policy.origins.entries)),
        ("methods", listed(policy.methods, "as requested")),
        ("headers", listed(policy.headers, "as requested")),
        ("expose_headers", listed(policy.expose_headers, "all")),
        ("credentials", "true" if policy.credentials else "false"),
        ("maxage", "-" if policy.max_age is None else f"{policy.max_age} s"),
        ("private_network", "true" if policy.private_network else "false"),
        *paths,
    ]


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def _explain(source: str, settings: dict[str, str], args: argparse.Namespace, printer: _Printer) -> int:
    try:
        # `check` reports warnings; here they would only interleave with the answer.
        with _quiet(logging.getLogger("wsgicors")):
            middleware = CORS(stand_in_app, settings)
    except ConfigurationError as error:
        _print_problems(error.problems, printer)
        return EXIT_ERRORS
    try:
        explanation = middleware.explain(
            args.origin, args.method, args.header, args.preflight, args.credentials, args.path
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.json:
        printer.json(_explanation_json(explanation))
    else:
        _print_explanation(explanation, printer)
    return EXIT_OK


def _print_explanation(explanation: Explanation, printer: _Printer) -> None:
    def row(label: str, text: str) -> None:
        printer.line(f"{label:<10} {text}")

    mode = "include" if explanation.credentials else "same-origin"
    target = explanation.method if explanation.path == "/" else f"{explanation.method} {explanation.path}"
    row("request", f"{target} from {explanation.origin}, credentials {mode}")
    for correction in explanation.corrections:
        row("", f"origin corrected: {correction}")
    if explanation.headers:
        row("", f"headers: {', '.join(f'{name}: {value}' if value else name for name, value in explanation.headers)}")
    if not explanation.steps:
        row("policies", "none configured")
    for number, step in enumerate(explanation.steps):
        label = "policies" if number == 0 else ""
        row(label, f"{_policy_title(step.policy)}: {step.reason}")
    if explanation.steps and not explanation.steps[-1].selected:
        row("", "no later policy: refused")
    if explanation.preflight is not None:
        _print_exchange("preflight", explanation.preflight, printer)
    else:
        row("preflight", "none (a simple request)")
    _print_exchange("actual", explanation.actual, printer)
    if explanation.blocked is None:
        row("browser", printer.paint("the page can read the answer", "green"))
    else:
        row("browser", f"{printer.paint('blocked by CORS policy', 'red')}:")
        row("", explanation.blocked)
    for number, warning in enumerate(explanation.warnings):
        row("warnings" if number == 0 else "", printer.paint(warning, "yellow"))


def _print_exchange(label: str, exchange: Exchange, printer: _Printer) -> None:
    printer.line(f"{label:<10} {_verdict(exchange.decision, printer)}")
    printer.line(f"{'':<10}   {exchange.status}")
    for name, value in exchange.headers:
        printer.line(f"{'':<10}   {name}: {value}")


def _verdict(decision: Decision, printer: _Printer) -> str:
    if decision.allowed:
        reason = "" if decision.reason == "allowed" else f" ({decision.reason})"
        return f"{printer.paint('allowed', 'green')}{reason}"
    return f"{printer.paint('refused', 'red')} ({decision.detail or decision.reason})"


def _count(items: Sequence[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {**problem._asdict(), "message": str(problem)}


def _policy_json(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "origin": list(policy.origins.entries),
        "methods": _names_json(policy.methods),
        "headers": _names_json(policy.headers),
        "expose_headers": _names_json(policy.expose_headers),
        "credentials": policy.credentials,
        "maxage": policy.max_age,
        "private_network": policy.private_network,
        "paths": None if policy.paths is None else list(policy.paths.entries),
    }


def _names_json(names: Names) -> Any:
    return "*" if names.any else list(names.listed)


def _exchange_json(exchange: Optional[Exchange]) -> Optional[dict[str, Any]]:
    if exchange is None:
        return None
    decision = exchange.decision
    return {
        "status": exchange.status,
        "headers": [list(header) for header in exchange.headers],
        "allowed": decision.allowed,
        "policy": None if decision.policy is None else decision.policy.name,
        "reason": decision.reason,
        "detail": decision.detail,
    }


def _explanation_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "origin": explanation.origin,
        "method": explanation.method,
        "path": explanation.path,
        "headers": [list(header) for header in explanation.headers],
        "credentials": explanation.credentials,
        "corrections": list(explanation.corrections),
        "warnings": list(explanation.warnings),
        "policies": [
            {"name": step.policy.name, "selected": step.selected, "reason": step.reason} for step in explanation.steps
        ],
        "preflight": _exchange_json(explanation.preflight),
        "actual": _exchange_json(explanation.actual),
        "readable": explanation.readable,
        "blocked": explanation.blocked,
    }


class _Printer:
    def __init__(self, out: TextIO, colour: bool) -> None:
        self.out = out
        self.colour = colour

    def line(self, text: str) -> None:
        print(text.rstrip(), file=self.out)

    def json(self, data: Any) -> None:
        print(json.dumps(data, indent=2, default=str), file=self.out)

    def paint(self, text: str, colour: str) -> str:
        return f"\033[{_COLOURS[colour]}m{text}\033[0m" if self.colour else text
