"""Wrong programs, wrong arguments and garbage: one line, no traceback, gdb keeps going."""

from __future__ import annotations

import shutil

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e


def lines_of(text: str):
    return [line for line in text.splitlines() if line.strip()]


def test_non_go_binary():
    true = shutil.which("true")
    out = hostrun.run_gdb([true], ["go-goroutines", "go-info --json", "go-help", "go-heap", "go-span 0x1000"])
    assert lines_of(out[0]) == ["gdbgomem: not a Go program: the binary has neither a runtime.allgs symbol nor a "
                                "Go function table (pclntab) (load the program's Go executable)"]
    assert "gdbgomem: not a Go program" in out[1]
    assert "go-goroutines" in out[2]
    assert "gdbgomem: not a Go program" in out[3] and "gdbgomem: not a Go program" in out[4]


def test_go_binary_without_process():
    binary = fixtures.build("goroutines", fixtures.go_versions()[-1])
    out = hostrun.run_gdb([str(binary)], ["go-goroutines", "go-stack", "go-sizeclasses --json"])
    for i in (0, 1):
        assert lines_of(out[i]) == ["gdbgomem: no process (start it with `run`, attach with `gdb -p PID`, "
                                    "or open a core file)"]
    table = hostrun.json_of(out[2])["classes"]  # static data: the binary alone is enough
    assert len(table) == 68 and table[1]["size"] == 8 and all(c["live_spans"] == 0 for c in table)


def test_wrong_arguments(running):
    fixture = running("goroutines", fixtures.go_versions()[-1])
    commands = ["go-stack 1 --m 0", "go-stack --frame-size -5", "go-g", "go-g notanumber",
                "go-goroutines --bogus", "go-stack 99999999", "go-stack --m 4242", "go-goroutines 'unterminated",
                "go-span", "go-span nosuchsymbol", "go-span 0x10", "go-span 0xffffffffffffffff",
                "go-pages --level 9", "go-pages --chunk 0x10", "go-spans --min-free 2", "go-spans --sort nope",
                "go-arenas --columns x", "go-goroutines --status nosuch", "go-spans --class 999"]
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), commands)
    for i, command in enumerate(commands):
        text = lines_of(out[i])
        assert len(text) == 1 and text[0].startswith("gdbgomem: "), (command, out[i])
        assert "Traceback" not in out[i]
    assert "no goroutine 99999999" in out[5]
    assert "no M 4242" in out[6]
    assert "0x10 is not in the Go heap" in out[10] and "0xffffffffffffffff is not in the Go heap" in out[11]
    assert "no status nosuch (statuses are " in out[17] and "waiting" in out[17]
    assert "no size class 999 (classes are 0 (large objects) to 67)" in out[18]


def test_address_arguments_never_write_and_read_alike_everywhere(running):
    """go-span's ADDR is read by gdbgomem's own grammar: an assignment is refused and changes
    nothing; numbers, symbols with or without quotes, registers and offsets give the same
    addresses in every host."""
    fixture = running("goroutines", fixtures.go_versions()[-1])
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), ["p/x $rbx", "go-span $rbx=0x4242", "p/x $rbx",
                                                        "go-span $rbx++", "p/x $rbx"])
    assert out[0].split("=")[-1] == out[2].split("=")[-1] == out[4].split("=")[-1]
    for refused in (out[1], out[3]):
        assert lines_of(refused) == [lines_of(refused)[-1]] and "gdbgomem evaluates no expressions" in refused
    same = ["go-span runtime.allgs --json", "go-span 'runtime.allgs' --json", "go-span -5 --json",
            "go-span runtime.allgs+8 --json"]
    answers = {host: [lines_of(out)[-1].removeprefix("error: ") for out in hostrun.run_host(
        host, same, pid=fixture.pid).values()] for host in ("gdb", "lldb")}
    assert answers["gdb"] == answers["lldb"]
    assert answers["gdb"][0] == answers["gdb"][1] and "not in the Go heap" in answers["gdb"][0]
    assert "0xfffffffffffffffb is not in the Go heap" in answers["gdb"][2]
