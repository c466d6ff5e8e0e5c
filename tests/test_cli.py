"""``python -m wsgicors check|explain``: exact output, exit status, JSON."""

from __future__ import annotations

import io
import json
import runpy
import sys
from pathlib import Path

import pytest

from wsgicors.cli import main

INI = Path(__file__).parent / "ini"
VERBMATCH = str(INI / "verbmatch.ini")


def run(*argv):
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_check_prints_the_compiled_policies_of_an_ini():
    status, out = run("check", VERBMATCH)
    assert status == 0
    assert (
        out
        == f"""\
{VERBMATCH}: 2 policies, matchstrategy verbmatch

policy 'readers'
  origin           https://*.example.com
  methods          GET, HEAD
  headers          -
  expose_headers   -
  credentials      false
  maxage           -
  private_network  false

policy 'writers'
  origin           https://admin.example.com
  methods          GET, PUT, DELETE
  headers          Content-Type, X-CSRF-Token
  expose_headers   -
  credentials      true
  maxage           600 s
  private_network  false

OK: no errors, 0 warnings
"""
    )


def test_check_takes_settings_from_the_command_line():
    status, out = run("check", "--set", "origin=*", "--set", "methods=*")
    assert status == 0
    assert out.splitlines()[:5] == [
        "--set: 1 policy, matchstrategy firstmatch",
        "",
        "policy (unnamed)",
        "  origin           *",
        "  methods          * (as requested)",
    ]


def test_check_reports_warnings_and_fails_on_them_only_when_strict():
    argv = ["check", "--set", "origin=copy", "--set", "credentials=true"]
    warning = (
        "warning: origin='copy' with credentials=true lets every site make credentialed requests and read the answers"
    )
    status, out = run(*argv)
    assert (status, out.splitlines()[-3:]) == (0, [warning, "", "no errors, 1 warning"])
    assert run(*argv, "--strict")[0] == 1


def test_check_reports_every_error_and_exits_2():
    status, out = run("check", "--set", "policy=a", "--set", "a_orign=*", "--set", "matchstrategy=best")
    assert status == 2
    assert out == (
        "error: matchstrategy='best' is not 'firstmatch' or 'verbmatch'\n"
        "error: policy 'a': a_orign='*' is not a known key; did you mean 'a_origin'?\n"
        "error: policy 'a': a_origin is required\n"
        "3 errors in --set\n"
    )


def test_check_reads_the_filter_section_named_after_the_hash(tmp_path):
    ini = tmp_path / "two.ini"
    ini.write_text(
        "[filter:one]\nuse = egg:wsgicors#middleware\norigin = https://one.example\n"
        "[filter:two]\nuse = egg:wsgicors#middleware\norigin = https://two.example\n"
    )
    status, out = run("check", f"{ini}#filter:two")
    assert status == 0
    assert "  origin           https://two.example\n" in out


def test_check_needs_a_section_name_when_several_filters_use_wsgicors(tmp_path, capsys):
    ini = tmp_path / "two.ini"
    ini.write_text("[filter:one]\nuse = egg:wsgicors#middleware\n[filter:two]\nuse = egg:wsgicors\n")
    assert run("check", str(ini))[0] == 2
    assert capsys.readouterr().err == (
        f"wsgicors: {ini}: 2 (one, two) [filter:...] sections use egg:wsgicors#middleware; name one as {ini}#NAME\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["check"], "give an ini file or --set KEY=VALUE settings (not both)", id="nothing"),
        pytest.param(["check", "x.ini", "--set", "origin=*"], "give an ini file or --set", id="both"),
        pytest.param(["check", "--set", "origin"], "--set 'origin' is not KEY=VALUE", id="bad-set"),
        pytest.param(["check", "/nonexistent.ini"], "/nonexistent.ini: no such file", id="missing-file"),
        pytest.param(["check", f"{VERBMATCH}#nope"], "No section 'nope' (prefixed by 'filter')", id="missing-section"),
    ],
)
def test_unreadable_input_is_a_usage_error(capsys, argv, message):
    assert run(*argv)[0] == 2
    assert message in capsys.readouterr().err


def test_a_filter_section_of_another_middleware_is_refused(tmp_path, capsys):
    ini = tmp_path / "prefix.ini"
    ini.write_text("[filter:prefix]\nuse = egg:PasteDeploy#prefix\n")
    assert run("check", f"{ini}#prefix")[0] == 2
    assert capsys.readouterr().err == f"wsgicors: {ini}: [filter:prefix] does not use egg:wsgicors#middleware\n"


def test_check_json_lists_policies_and_warnings():
    status, out = run("check", "--json", "--set", "origin=https://*example.com")
    assert status == 0
    data = json.loads(out)
    assert data["policies"] == [
        {
            "name": None,
            "origin": ["https://*example.com"],
            "methods": ["GET", "HEAD", "POST"],
            "headers": [],
            "expose_headers": [],
            "credentials": False,
            "maxage": None,
            "private_network": False,
            "paths": None,
        }
    ]
    assert [warning["key"] for warning in data["warnings"]] == ["origin"]


def test_check_json_lists_errors():
    status, out = run("check", "--json", "--set", "origin=*", "--set", "maxage=-1")
    assert status == 2
    assert json.loads(out) == {
        "source": "--set",
        "errors": [
            {
                "policy": None,
                "key": "maxage",
                "value": "-1",
                "reason": "is not a non-negative integer",
                "message": "maxage='-1' is not a non-negative integer",
            }
        ],
    }


def test_explain_shows_steps_answers_and_the_browser_view():
    status, out = run(
        "explain", VERBMATCH, "--origin", "https://admin.example.com", "--method", "PUT", "--header", "X-Other"
    )
    assert status == 0
    assert (
        out
        == """\
request    PUT from https://admin.example.com, credentials same-origin
           headers: X-Other
policies   policy 'readers': method 'PUT' not allowed
           policy 'writers': selected
preflight  refused (request headers 'x-other' are not allowed)
             200 OK
             Content-Type: text/plain
             Content-Length: 0
             Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
actual     allowed (policy 'writers')
             200 OK
             Content-Type: text/plain
             Access-Control-Allow-Origin: https://admin.example.com
             Access-Control-Allow-Credentials: true
             Vary: Origin
browser    blocked by CORS policy:
           Response to preflight request doesn't pass access control check: \
No 'Access-Control-Allow-Origin' header is present on the requested resource.
"""
    )


def test_explain_says_when_no_policy_allows_the_origin():
    status, out = run(
        "explain", "--set", "policy=a", "--set", "a_origin=https://a.example", "--origin", "https://b.example"
    )
    assert status == 0
    assert out.splitlines()[1:4] == [
        "policies   policy 'a': origin not allowed",
        "           no later policy: refused",
        "preflight  none (a simple request)",
    ]
    assert "actual     refused (origin not allowed)" in out


def test_explain_with_nothing_configured():
    _, out = run("explain", "--set", "policy=deny", "--origin", "https://b.example")
    assert out.splitlines()[1] == "policies   none configured"
    assert "actual     refused (no policy configured)" in out


def test_explain_json():
    _, out = run("explain", "--json", "--set", "origin=*", "--origin", "https://b.example", "--credentials")
    data = json.loads(out)
    assert (data["readable"], data["preflight"], data["actual"]["allowed"]) == (False, None, True)
    assert data["policies"] == [{"name": None, "selected": True, "reason": "selected"}]
    assert data["actual"]["headers"] == [["Content-Type", "text/plain"], ["Access-Control-Allow-Origin", "*"]]


def test_explain_reports_configuration_errors():
    status, out = run("explain", "--set", "origin=https://a.example/", "--origin", "https://b.example")
    assert status == 2
    assert out == (
        "error: origin='https://a.example/' has an entry 'https://a.example/' with a path, query or fragment; "
        "an origin is scheme://host[:port], with no trailing slash\n"
    )


def test_colour_is_used_on_a_terminal_only(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    main(["check", "--set", "origin=*"], out=terminal)
    assert "\033[32mOK\033[0m: no errors, 0 warnings" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    main(["check", "--set", "origin=*"], out=plain)
    assert "\033[" not in plain.getvalue()


def test_python_m_wsgicors_runs_the_command_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["wsgicors", "check", "--set", "origin=*"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("wsgicors", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "OK: no errors, 0 warnings"


def test_reading_an_ini_without_pastedeploy_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "paste.deploy.loadwsgi", None)
    assert run("check", VERBMATCH)[0] == 2
    assert capsys.readouterr().err == (
        "wsgicors: reading an ini file needs PasteDeploy: pip install 'wsgicors[paste]'\n"
    )


def test_check_says_when_nothing_is_configured():
    assert run("check", "--set", "policy=deny")[1] == (
        "--set: 0 policies, matchstrategy firstmatch\nno policy: every CORS request is refused\n\n"
        "OK: no errors, 0 warnings\n"
    )


def test_explain_says_when_the_page_can_read_the_answer():
    status, out = run("explain", "--set", "origin=*", "--origin", "https://b.example")
    assert (status, out.splitlines()[-1]) == (0, "browser    the page can read the answer")
