"""A person at gdb's prompt: colored table, --help, a wrong argument, an error, gdb still usable."""

from __future__ import annotations

import os
import re

import pexpect
import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e
PROMPT = r"\(gdb\) "
COLOR = re.compile(r"\x1b\[[0-9;]+m")  # SGR only: readline adds other escapes


@pytest.fixture
def gdb_session(running):
    version = fixtures.go_versions()[-1]
    fixture = running("goroutines", version)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    child = pexpect.spawn("gdb", ["-nx", "-q", "-x", str(hostrun.load_script()), "-p", str(fixture.pid)],
                          env=env, encoding="utf-8", timeout=120, dimensions=(60, 250))
    child.expect(PROMPT)
    child.sendline("set pagination off")
    child.expect(PROMPT)
    yield child, fixture
    child.sendline("detach")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF)


def run(child, command: str) -> str:
    child.sendline(command)
    child.expect(PROMPT)
    return child.before


def test_interactive_session(gdb_session):
    child, fixture = gdb_session
    table = run(child, "go-goroutines --func main.chanWaiter")
    assert COLOR.search(table), "a terminal gets colors"
    assert table.count("main.chanWaiter") >= fixture.truth["counts"]["main.chanWaiter"]

    helptext = run(child, "go-goroutines --help")
    assert "usage: go-goroutines" in helptext and "--status" in helptext and "--json" in helptext

    wrong = run(child, "go-goroutines --limit many")
    assert "gdbgomem: go-goroutines: argument --limit: not a number: 'many'" in wrong
    assert "Traceback" not in wrong

    missing = run(child, "go-g 987654")
    assert "gdbgomem: no goroutine 987654" in missing and "Traceback" not in missing

    run(child, "set gdbgomem-color off")
    plain = run(child, "go-threads")
    assert not COLOR.search(plain) and "G0 STACK" in plain

    listing = run(child, "go-help")
    for name in ("go-info", "go-goroutines", "go-g", "go-threads", "go-stack", "go-help"):
        assert name in listing
    assert "Go version" in run(child, "go-info"), "gdb still works after the errors"


def test_options_complete_with_tab(gdb_session):
    child, _fixture = gdb_session
    child.send("go-spans --cla\t")
    child.expect("--class")
    child.send(" 5 --js\t")
    child.expect("--json")
    child.sendline("")
    child.expect(PROMPT)
    assert '"spans"' in child.before
