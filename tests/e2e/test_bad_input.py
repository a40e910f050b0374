"""Wrong programs, wrong arguments and garbage: one line, no traceback, gdb keeps going."""

from __future__ import annotations

import shutil

import pytest

from devtools import fixtures, gdbrun

pytestmark = pytest.mark.e2e


def lines_of(text: str):
    return [line for line in text.splitlines() if line.strip()]


def test_non_go_binary():
    true = shutil.which("true")
    out = gdbrun.run_gdb([true], ["go-goroutines", "go-info --json", "go-help"])
    assert lines_of(out[0]) == ["gdbgomem: not a Go program: the binary has no runtime.allgs symbol "
                                "(load a Go binary built without -ldflags=-s)"]
    assert "gdbgomem: not a Go program" in out[1]
    assert "go-goroutines" in out[2]


def test_go_binary_without_process():
    binary = fixtures.build("goroutines", fixtures.go_versions()[-1])
    out = gdbrun.run_gdb([str(binary)], ["go-goroutines", "go-stack"])
    for text in out.values():
        assert lines_of(text) == ["gdbgomem: no process (start it with `run`, attach with `gdb -p PID`, "
                                  "or open a core file)"]


def test_wrong_arguments(running):
    fixture = running("goroutines", fixtures.go_versions()[-1])
    commands = ["go-stack 1 --m 0", "go-stack --frame-size -5", "go-g", "go-g notanumber",
                "go-goroutines --bogus", "go-stack 99999999", "go-stack --m 4242", "go-goroutines 'unterminated"]
    out = gdbrun.run_gdb(gdbrun.attach(fixture.pid), commands)
    for i, command in enumerate(commands):
        text = lines_of(out[i])
        assert len(text) == 1 and text[0].startswith("gdbgomem: "), (command, out[i])
        assert "Traceback" not in out[i]
    assert "no goroutine 99999999" in out[5]
    assert "no M 4242" in out[6]
