"""The README's examples and command outputs are real: each is run here as written."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pyramid.config import Configurator
from support import RecordingApp

from wsgicors import CORS
from wsgicors.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


def literal_blocks(directive: str) -> list[str]:
    """The bodies of the README's ``.. code:: <directive>`` blocks, dedented."""
    blocks = re.findall(rf"^\.\. code:: {directive}\n\n((?:    .*\n|\n)+)", README, flags=re.MULTILINE)
    return [re.sub(r"^    ", "", block, flags=re.MULTILINE).strip() + "\n" for block in blocks]


def command_examples() -> list[tuple[str, str]]:
    """Each ``$ .venv/bin/python -m wsgicors ...`` line of the README with the output printed under it."""
    examples = re.findall(
        r"^    \$ \.venv/bin/python -m wsgicors (.*)\n((?:    .*\n|\n)+?)(?=\S)", README, flags=re.MULTILINE
    )
    return [
        (command, re.sub(r"^    ", "", output, flags=re.MULTILINE).rstrip("\n") + "\n") for command, output in examples
    ]


@pytest.mark.parametrize(("command", "output"), command_examples(), ids=lambda value: value.split()[0])
def test_the_readme_command_outputs_are_what_the_commands_print(monkeypatch, command, output):
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    main(command.split(), out=out)
    assert out.getvalue() == output


def test_the_readme_shows_both_commands():
    assert [command.split()[0] for command, _ in command_examples()] == ["check", "explain"]


@pytest.mark.parametrize("ini", literal_blocks("ini"), ids=["seed-pipeline", "one-policy", "paths"])
def test_the_readme_ini_examples_pass_check(tmp_path, ini):
    path = tmp_path / "example.ini"
    path.write_text(ini)
    out = io.StringIO()
    assert main(["check", "--strict", str(path)], out=out) == 0, out.getvalue()


@pytest.mark.parametrize("code", literal_blocks("python"), ids=["seed-pyramid", "python-values"])
def test_the_readme_python_examples_build_the_middleware(code):
    namespace = {"Configurator": Configurator, "application": RecordingApp()}
    exec(code, namespace)
    built = namespace["app"]({}) if "app" in namespace else namespace["application"]
    assert isinstance(built, CORS)
