"""What a new user meets first: check's warnings and errors, explain's corrections, the
debug header, `copy`, log lines, and the command line's manners."""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

import wsgicors
from wsgicors import CORS
from wsgicors.cli import main
from wsgicors.fetch import is_safelisted, unsafe_header_names

ROOT = Path(__file__).resolve().parent.parent
DEMO = str(ROOT / "examples" / "demo.ini")
HTTP_RISK = (
    "lets an attacker on the network, who can inject script into a plain-http page, read the answers; "
    "list https:// origins"
)
NULL_RISK = "lets any page read the answers: sandboxed iframes and data: URLs send Origin: null"
TLD_RISK = "trusts every site under a top-level domain; list the sites"
COPY_WARNING = "origin='copy' with credentials=true lets every site make credentialed requests and read the answers"
REFUSAL_ADVICE = (
    "and with credentials every such site could read your users' answers. Drop credentials, or list the "
    "origins (patterns such as 'https://*.example.com' are fine); if every site may really read your users' "
    "data, write {key}=copy"
)


def run(*argv: str) -> tuple[int, str]:
    """``wsgicors argv...``: the exit status and what was printed."""
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def settings_argv(*pairs: str) -> list[str]:
    return [arg for pair in pairs for arg in ("--set", pair)]


def check(*pairs: str, strict: bool = False) -> tuple[int, list[str]]:
    status, text = run("check", *settings_argv(*pairs), *(["--strict"] if strict else []))
    return status, text.splitlines()


def warnings_of(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("warning: ")]


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b""]


def call(middleware: CORS, origin: str, method: str = "GET", **extra: str) -> list[tuple[str, str]]:
    """The response headers ``middleware`` gives a request from ``origin``."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "HTTP_ORIGIN": origin, **extra}
    setup_testing_defaults(environ)
    answers: list[list[tuple[str, str]]] = []
    middleware(environ, lambda status, headers, exc_info=None: answers.append(headers))
    return answers[-1]


def cors_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.startswith("Access-Control-")]


# -- check: warnings and errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "risk"),
    [
        pytest.param("null", NULL_RISK, id="null"),
        pytest.param("http://example.com", HTTP_RISK, id="http-origin"),
        pytest.param("http://*.example.com", HTTP_RISK, id="http-pattern"),
        pytest.param("https://*.com", TLD_RISK, id="pattern-fixing-only-the-tld"),
    ],
)
def test_check_warns_about_an_origin_risky_with_credentials_and_fails_only_when_strict(origin, risk):
    status, lines = check(f"origin={origin}", "credentials=true")
    assert status == 0
    assert warnings_of(lines) == [f"warning: origin={origin!r} with credentials=true {risk}"]
    assert lines[-1] == "no errors, 1 warning"
    assert check(f"origin={origin}", "credentials=true", strict=True)[0] == 1


def test_check_names_the_policy_and_its_prefixed_keys_in_a_warning():
    _, lines = check("policy=p", "p_origin=null", "p_credentials=true")
    assert warnings_of(lines) == [f"warning: policy 'p': p_origin='null' with p_credentials=true {NULL_RISK}"]


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("http://localhost:8080", id="localhost"),
        pytest.param("http://127.0.0.1:8080", id="ipv4-loopback"),
        pytest.param("http://[::1]:8080", id="ipv6-loopback"),
        pytest.param("http://app.localhost", id="dot-localhost"),
        pytest.param("https://example.com", id="https"),
        pytest.param("https://*.example.com", id="https-subdomains"),
    ],
)
def test_check_does_not_warn_about_loopback_http_or_https_origins_with_credentials(origin):
    status, lines = check(f"origin={origin}", "credentials=true", strict=True)
    assert status == 0
    assert warnings_of(lines) == []
    assert lines[-1] == "OK: no errors, 0 warnings"


def test_check_refuses_the_wildcard_origin_with_credentials():
    status, lines = check("origin=*", "credentials=true")
    assert status == 2
    assert lines == [
        "error: origin='*' is refused with credentials=true: '*' allows every origin, "
        + REFUSAL_ADVICE.format(key="origin"),
        "1 error in --set",
    ]


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("https://*", id="https-any-host"),
        pytest.param("*://*", id="any-scheme-any-host"),
        pytest.param("http*://*", id="http-or-https-any-host"),
        pytest.param("https://?*", id="question-mark-then-star"),
        pytest.param("https://*.*", id="two-wild-labels"),
        pytest.param("*.*", id="schemeless-two-wild-labels"),
    ],
)
def test_check_refuses_a_pattern_leaving_the_whole_host_to_wildcards_with_credentials(origin):
    status, lines = check(f"origin={origin}", "credentials=true")
    assert status == 2
    assert lines == [
        f"error: origin={origin!r} is refused with credentials=true: {origin!r} leaves the whole host to "
        "wildcards, so it allows every site, " + REFUSAL_ADVICE.format(key="origin"),
        "1 error in --set",
    ]


def test_check_refuses_a_wildcard_with_credentials_even_in_a_policy_listed_after_deny():
    status, lines = check("policy=a,deny,b", "a_origin=https://a.example", "b_origin=*", "b_credentials=true")
    assert status == 2
    assert lines == [
        "error: policy 'b': b_origin='*' is refused with b_credentials=true: '*' allows every origin, "
        + REFUSAL_ADVICE.format(key="b_origin"),
        "1 error in --set",
    ]


def test_check_only_warns_about_copy_with_credentials():
    status, lines = check("origin=copy", "credentials=true")
    assert status == 0
    assert warnings_of(lines) == [f"warning: {COPY_WARNING}"]


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("*://*.example.com", id="any-scheme"),
        pytest.param("http*://*.example.com", id="http-star"),
        pytest.param("*.example.com", id="no-scheme"),
    ],
)
def test_check_warns_about_a_pattern_that_matches_plain_http_with_credentials(origin):
    _, lines = check(f"origin={origin}", "credentials=true")
    assert any("lets an attacker on the network" in line for line in warnings_of(lines))


def test_check_says_a_pattern_without_scheme_matches_every_scheme():
    _, lines = check("origin=*.example.com")
    assert warnings_of(lines) == [
        "warning: origin='*.example.com' has no scheme, so it matches every scheme: "
        "http://, https://, wss://, ftp://, chrome-extension://..."
    ]
    assert "http:// origins as well as https://" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("origin", "summary"),
    [
        pytest.param("https://a.example", "OK: no errors, 0 warnings", id="none"),
        pytest.param("https://a.example null", "no errors, 1 warning", id="one"),
        pytest.param("*.example.com", "no errors, 2 warnings", id="two"),
    ],
)
def test_check_ends_with_a_summary_that_says_ok_only_without_warnings(origin, summary):
    _, lines = check(f"origin={origin}", "credentials=true")
    assert lines[-2:] == ["", summary]


# -- explain ----------------------------------------------------------------------------------


def test_explain_drops_a_trailing_slash_from_the_origin_and_says_so():
    status, text = run("explain", DEMO, "--origin", "http://localhost:6543/")
    assert status == 0
    assert text == (
        "request    GET from http://localhost:6543, credentials same-origin\n"
        "           origin corrected: dropped the path '/': an origin has none\n"
        "policies   policy 'app': selected\n"
        "preflight  none (a simple request)\n"
        "actual     allowed (policy 'app')\n"
        "             200 OK\n"
        "             Content-Type: text/plain\n"
        "             Access-Control-Allow-Origin: http://localhost:6543\n"
        "             Access-Control-Allow-Credentials: true\n"
        "             Access-Control-Expose-Headers: X-Request-Id\n"
        "             Vary: Origin\n"
        "browser    the page can read the answer\n"
    )


LOWERCASED = "lowercased it: browsers send origins in lowercase"
DEFAULT_PORT_DROPPED = "dropped the default port :443: browsers never send it"


@pytest.mark.parametrize(
    ("given", "origin", "correction"),
    [
        pytest.param("http://Localhost:6543", "http://localhost:6543", LOWERCASED, id="uppercase"),
        pytest.param("https://example.com:443", "https://example.com", DEFAULT_PORT_DROPPED, id="default-port"),
    ],
)
def test_explain_corrects_an_origin_a_browser_would_not_send_and_goes_on(given, origin, correction):
    status, text = run("explain", DEMO, "--origin", given)
    lines = text.splitlines()
    assert status == 0
    assert lines[:2] == [
        f"request    GET from {origin}, credentials same-origin",
        f"           origin corrected: {correction}",
    ]
    assert lines[-1] == "browser    the page can read the answer"


def test_explain_asks_for_a_scheme_when_the_origin_has_none(capsys):
    assert run("explain", DEMO, "--origin", "localhost:6543") == (2, "")
    assert capsys.readouterr().err == (
        "wsgicors: origin 'localhost:6543' has no scheme: write it as a browser sends it, "
        "such as 'http://localhost:6543'\n"
    )


def test_the_explain_method_corrects_the_origin_and_lists_the_corrections():
    explanation = CORS(app, origin="http://localhost:6543").explain("http://Localhost:6543/")
    assert explanation.origin == "http://localhost:6543"
    assert explanation.corrections == ("dropped the path '/': an origin has none", LOWERCASED)
    assert explanation.readable


def test_explain_ends_with_the_configuration_warnings():
    status, text = run("explain", *settings_argv("origin=copy", "credentials=true"), "--origin", "https://a.example")
    assert status == 0
    assert text.splitlines()[-2:] == ["browser    the page can read the answer", f"warnings   {COPY_WARNING}"]


def test_explain_json_has_the_corrections_and_the_warnings():
    argv = ["explain", *settings_argv("origin=copy", "credentials=true"), "--json", "--origin", "HTTPS://A.example:443"]
    status, text = run(*argv)
    data = json.loads(text)
    assert status == 0
    assert data["origin"] == "https://a.example"
    assert data["corrections"] == [LOWERCASED, DEFAULT_PORT_DROPPED]
    assert data["warnings"] == [COPY_WARNING]


@pytest.mark.parametrize(
    ("content_type", "preflight"),
    [
        pytest.param("application/x-www-form-urlencoded", "preflight  none (a simple request)", id="form"),
        pytest.param("multipart/form-data; boundary=b", "preflight  none (a simple request)", id="multipart"),
        pytest.param("application/json", "preflight  allowed (policy 'app')", id="json"),
    ],
)
def test_explain_sends_a_preflight_for_a_post_only_when_its_content_type_is_not_a_form_type(content_type, preflight):
    argv = ["explain", DEMO, "--origin", "http://localhost:6543", "--method", "POST"]
    status, text = run(*argv, "--header", f"Content-Type: {content_type}")
    lines = text.splitlines()
    assert status == 0
    assert lines[1] == f"           headers: Content-Type: {content_type}"
    assert preflight in lines
    assert lines[-1] == "browser    the page can read the answer"


@pytest.mark.parametrize(
    ("name", "value", "safelisted"),
    [
        pytest.param("Content-Type", "application/x-www-form-urlencoded", True, id="urlencoded-form"),
        pytest.param("content-type", "multipart/form-data; boundary=x", True, id="multipart-form"),
        pytest.param("Content-Type", "text/plain; charset=utf-8", True, id="text-plain-charset"),
        pytest.param("Content-Type", "TEXT/PLAIN", True, id="essence-any-case"),
        pytest.param("Content-Type", "application/json", False, id="json"),
        pytest.param("Content-Type", 'text/plain; charset="utf-8"', False, id="unsafe-byte-quote"),
        pytest.param("Accept", "a" * 128, True, id="128-chars"),
        pytest.param("Accept", "a" * 129, False, id="129-chars"),
        pytest.param("Accept-Language", "en-US,en;q=0.9", True, id="language-allowed-chars"),
        pytest.param("Accept-Language", "en_US", False, id="language-underscore"),
        pytest.param("X-Token", "1", False, id="other-name"),
    ],
)
def test_is_safelisted_follows_the_fetch_standard(name, value, safelisted):
    assert is_safelisted(name, value) is safelisted


@pytest.mark.parametrize(
    ("headers", "names"),
    [
        pytest.param([("Content-Type", "text/plain")], [], id="form-type"),
        pytest.param(
            [("X-Token", "1"), ("Content-Type", "application/json")], ["content-type", "x-token"], id="sorted-lowercase"
        ),
        pytest.param([("Accept", "a" * 128)] * 9, ["accept"], id="over-1024-in-all"),
    ],
)
def test_unsafe_header_names_are_lowercase_sorted_and_count_the_total_size(headers, names):
    assert unsafe_header_names(headers) == names


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [pytest.param([], id="top"), ["check"], ["explain"]])
def test_help_is_plain_text_without_rst_markup(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: wsgicors {' '.join(command)}".rstrip())
    assert "``" not in out


def test_a_reader_closing_the_pipe_early_gets_no_broken_pipe_traceback(tmp_path):
    # About 700 kB of output, far more than a pipe holds: the writer is still writing
    # when the reader goes.
    origins = "\n    ".join(f"https://host{number}.example" for number in range(30_000))
    ini = tmp_path / "many.ini"
    ini.write_text(f"[filter:cors]\nuse = egg:wsgicors#middleware\norigin =\n    {origins}\n")
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "wsgicors", "check", str(ini)], stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT
        )
        assert process.stdout is not None
        assert process.stdout.readline() == f"{ini}: 1 policy, matchstrategy firstmatch\n".encode()
        process.stdout.close()
        status = process.wait(timeout=60)
    errors = stderr_path.read_text()
    assert "Traceback" not in errors
    assert "BrokenPipeError" not in errors
    assert status == 0


def test_the_version_is_the_installed_distribution_version():
    assert wsgicors.__version__ == importlib.metadata.version("wsgicors")


# -- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "origin", "decision"),
    [
        pytest.param({"origin": "https://a.example"}, "https://a.example", "allowed", id="unnamed-policy"),
        pytest.param(
            {"policy": "free", "free_origin": "*"}, "https://a.example", "allowed; policy 'free'", id="named-policy"
        ),
        pytest.param({"origin": "https://a.example"}, "https://b.example", "refused; origin not allowed", id="refused"),
    ],
)
def test_the_debug_header_says_the_decision_once(settings, origin, decision):
    headers = call(CORS(app, settings, debug_header="true"), origin)
    assert [value for name, value in headers if name == "X-CORS-Decision"] == [decision]


@pytest.mark.parametrize(
    ("origin", "reflected"),
    [
        pytest.param("https://evil.example:443", False, id="https-default-port"),
        pytest.param("http://evil.example:80", False, id="http-default-port"),
        pytest.param("https://Evil.example", False, id="uppercase"),
        pytest.param("https://evil.example/", False, id="trailing-slash"),
        pytest.param("https://evil.example:8443", True, id="other-port"),
    ],
)
def test_copy_reflects_only_an_origin_serialized_as_a_browser_sends_it(origin, reflected):
    headers = call(CORS(app, origin="copy"), origin)
    assert cors_headers(headers) == ([("Access-Control-Allow-Origin", origin)] if reflected else [])
    assert ("Vary", "Origin") in headers


@pytest.mark.parametrize(
    ("origin_setting", "allow_origin"),
    [
        pytest.param("file://", "file://", id="listed"),
        pytest.param("https://a.example file://", "file://", id="listed-among-others"),
        pytest.param("copy", None, id="copy"),
        pytest.param("https://*.example", None, id="subdomain-pattern"),
        pytest.param("*://*", None, id="any-scheme-pattern"),
        pytest.param("*", "*", id="wildcard"),
    ],
)
def test_file_origin_is_reflected_only_when_listed_literally(origin_setting, allow_origin):
    headers = call(CORS(app, origin=origin_setting), "file://")
    expected = [] if allow_origin is None else [("Access-Control-Allow-Origin", allow_origin)]
    assert cors_headers(headers) == expected


HOST_253 = ".".join(["a" * 63] * 3) + "." + "a" * 53 + ".example"
HOST_254 = ".".join(["a" * 63] * 3) + "." + "a" * 54 + ".example"
LABEL_64 = "a" * 64 + ".example"


@pytest.mark.parametrize("origin_setting", ["copy", "https://*.example", "https://*"])
@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        pytest.param(HOST_253, True, id="253-char-host"),
        pytest.param(HOST_254, False, id="254-char-host"),
        pytest.param(LABEL_64, False, id="64-char-label"),
    ],
)
def test_a_host_dns_cannot_hold_is_never_matched_by_copy_or_a_pattern(origin_setting, host, allowed):
    assert (len(HOST_253), len(HOST_254)) == (253, 254)
    origin = f"https://{host}"
    headers = call(CORS(app, origin=origin_setting), origin)
    assert cors_headers(headers) == ([("Access-Control-Allow-Origin", origin)] if allowed else [])


A = "https://a.example"
LONG_ORIGIN = "https://" + "x" * 59_992
LONG_HEADER = "x-" + "b" * 3_998
REFUSED_LONG = f"CORS refused: no policy allows origin {LONG_ORIGIN[:100]!r}... (60,000 chars) with method "
PREFLIGHT_REFUSED = f"CORS preflight from origin {A!r} refused: "
LONG_METHOD_REFUSED = f"{PREFLIGHT_REFUSED}method {'P' * 100!r}... (60,000 chars) is not allowed"
UNREAD = f"{PREFLIGHT_REFUSED}Access-Control-Request-Headers is longer than 4096 characters"
LONG_HEADER_REFUSED = f"{PREFLIGHT_REFUSED}request headers {LONG_HEADER[:100]!r}... (4,000 chars) are not allowed"


@pytest.mark.parametrize(
    ("origin", "request_method", "request_headers", "message"),
    [
        pytest.param(LONG_ORIGIN, None, None, f"{REFUSED_LONG}'GET'", id="origin-refused"),
        pytest.param(LONG_ORIGIN, "PUT", None, f"{REFUSED_LONG}'PUT'", id="preflight-origin-refused"),
        pytest.param(A, "P" * 60_000, None, LONG_METHOD_REFUSED, id="method-refused"),
        pytest.param(A, "GET", "x" * 60_000, UNREAD, id="headers-over-4096-refused-unread"),
        pytest.param(A, "GET", LONG_HEADER, LONG_HEADER_REFUSED, id="header-refused"),
    ],
)
def test_debug_log_lines_show_a_long_request_value_cut_with_its_length(
    caplog, origin, request_method, request_headers, message
):
    caplog.set_level(logging.DEBUG, logger="wsgicors")
    extra = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": request_method} if request_method else {}
    if request_headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = request_headers
    method = "OPTIONS" if request_method else "GET"
    headers = call(CORS(app, origin=A, methods="GET"), origin, method, **extra)
    assert cors_headers(headers) == []
    assert [record.getMessage() for record in caplog.records] == [message]
    assert all(len(record.getMessage()) < 400 for record in caplog.records)
