"""lldb: the same commands give the same JSON as gdb, on the same live process and the same core."""

from __future__ import annotations

import pytest

from devtools import hostrun
from tests.e2e.harness import subject

pytestmark = pytest.mark.e2e


STABLE_THREAD_KEYS = ("m_id", "m_address", "thread_id", "g0_address", "g0_stack_lo", "g0_stack_hi", "g0_origin",
                      "gsignal_stack_lo", "gsignal_stack_hi", "lockedg_goid", "is_m0", "isextra")


def user_code(frames) -> bool:
    return any((f["function"] or "").startswith("main.") for f in frames)


def comparable(command: str, data: dict) -> dict:
    """What cannot change between two attaches to one live process. The runtime's own goroutines
    (scavenger, sysmon's wake-ups) and idle threads move on between them; the program's parked
    goroutines and each thread's identity do not. On a core everything is compared."""
    if command.startswith("go-goroutines"):
        data["goroutines"] = [{k: v for k, v in g.items() if k != "waited_ns"} for g in data["goroutines"]
                              if not (g["start_function"] or "").startswith("runtime.")
                              or g["start_function"] == "runtime.main"]
        data.pop("by_status"), data.pop("total"), data.pop("shown")
    elif command.startswith("go-threads"):
        data["threads"] = [{k: t[k] for k in STABLE_THREAD_KEYS} for t in data["threads"]]
    elif command.startswith("go-bt --all"):
        data["groups"] = [g for g in data["groups"] if user_code(g["frames"])]
        data.pop("goroutines")
    elif command.startswith("go-g "):
        data.pop("waited_ns")
    elif command == "go-heap --json":  # the kernel's counts move between two attaches
        data.pop("page_faults"), data.pop("scavenged_resident_bytes")
    elif command.startswith("go-span"):  # so does what is in RAM (a goroutine touches its stack)
        for span in data["spans"] if isinstance(data.get("spans"), list) else [data.get("span") or {}]:
            span.pop("resident_bytes", None), span.pop("scavenged_resident_bytes", None)
    elif command == "go-arenas --resident --json":  # the runtime may return pages between two attaches
        data["arenas"] = [{k: v for k, v in a.items() if k != "resident_bytes"} for a in data["arenas"]]
    elif command.startswith("go-maps"):  # lldb's own breakpoints copy a page of text: what is
        data = {"mappings": [{k: m[k] for k in ("start", "end", "perms", "roles")}  # resident moves
                             for m in data["mappings"]], "vsz": data["totals"]["vsz"]}
    return data


def diff(a, b, path=""):
    """The first differing paths of two JSON values, to make a failure readable."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in diff(a.get(k), b.get(k), f"{path}.{k}")][:5]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]")][:5]
    return [] if a == b else [(path, a, b)]


@pytest.mark.parametrize("fixture_name", ["goroutines", "heap"])
def test_lldb_equals_gdb_live_and_on_a_core(running, go_version, fixture_name):
    fixture = subject(running, fixture_name, go_version)
    live_gdb, live_lldb = fixture.look("gdb"), fixture.look("lldb")
    core_gdb, core_lldb = fixture.look("gdb", on_core=True), fixture.look("lldb", on_core=True)
    for command in fixture.commands:
        if "--json" not in command:
            continue
        live_g, live_l = live_gdb.json(command), live_lldb.json(command)
        assert live_g["schema_version"] == live_l["schema_version"] == 2
        if command == "go-heap --json":  # resident memory moves a little between two attaches
            assert live_g.pop("resident_bytes") > 0 and live_l.pop("resident_bytes") > 0
        live_l, live_g = comparable(command, live_l), comparable(command, live_g)
        assert live_l == live_g, (f"live: {command}", diff(live_l, live_g))
        core_l, core_g = core_lldb.json(command), core_gdb.json(command)
        if command.startswith("go-maps"):  # lldb names a core's regions itself: no paths, no saved bytes
            core_l, core_g = comparable(command, core_l), comparable(command, core_g)
        assert core_l == core_g, (f"core: {command}", diff(core_l, core_g))


def test_lldb_without_a_program():
    out = hostrun.run_lldb([], ["go-help", "go-goroutines"])
    assert "go-goroutines" in out[0] and "error" not in out[0]
    assert "error: gdbgomem: no target" in out[1]
    true = hostrun.run_lldb(["/bin/true"], ["go-info"])[0]
    assert "error: gdbgomem: not a Go program" in true and "Traceback" not in true


def test_lldb_help_and_errors(running, go_version):
    fixture = running("goroutines", go_version)
    out = hostrun.run_lldb(["-p", str(fixture.pid)], ["go-help", "help go-stack", "go-g 987654"])
    assert "go-goroutines" in out[0] and "go-pages" in out[0]
    assert "--frame-size" in out[1]
    assert "error: gdbgomem: no goroutine 987654" in out[2] and "Traceback" not in out[2]


def test_interactive_lldb_session(running):
    import re

    import pexpect

    from devtools import fixtures
    fixture = running("goroutines", fixtures.go_versions()[-1])
    child = pexpect.spawn("lldb-16", ["--no-lldbinit", "-p", str(fixture.pid), "-s", str(hostrun.lldb_init_script())],
                          encoding="utf-8", timeout=120, dimensions=(60, 250), env={"TERM": "xterm-256color",
                                                                                    "PATH": "/usr/bin:/bin"})
    prompt = r"\(lldb\) "

    def run(command):
        child.sendline(command)
        child.expect(re.escape(command))
        child.expect(prompt)
        return child.before

    child.expect(r"command script import gdbgomem.hosts.lldb")
    child.expect(prompt)
    table = run("go-goroutines --func main.chanWaiter")
    assert table.count("main.chanWaiter") >= fixture.truth["counts"]["main.chanWaiter"]
    assert re.search(r"\x1b\[[0-9;]+m", table), "a terminal gets colors"
    assert "usage: go-stack" in run("go-stack --help")
    wrong = re.sub(r"\x1b\[[0-9;]*m", "", run("go-goroutines --limit many"))  # lldb colors "error:"
    assert "error: gdbgomem: go-goroutines: argument --limit: not a number" in wrong and "Traceback" not in wrong
    assert "Go version" in run("go-info")
    child.sendline("detach")
    child.expect(prompt)
    child.sendline("quit")
    child.expect(pexpect.EOF)
