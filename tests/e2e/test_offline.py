"""`gdbgomem core BINARY CORE -- COMMAND` and the Python API, without a debugger: the same JSON
as gdb gives on the same core, field by field."""

from __future__ import annotations

import json
import os
import subprocess

import pexpect
import pytest

from devtools import hostrun
from tests.e2e.harness import subject
from devtools.fixtures import ROOT

pytestmark = pytest.mark.e2e
GDBGOMEM = str(ROOT / ".venv" / "bin" / "gdbgomem")


def offline(binary, core, *words, check=True):
    proc = subprocess.run([GDBGOMEM, "core", str(binary), str(core), "--", *words], capture_output=True,
                          text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def cores(running, go_version):
    """The harness's gcore cores of the goroutines and heap fixtures, with their fixtures."""
    made = {}
    for name in ("goroutines", "heap"):
        fixture = subject(running, name, go_version)
        fixture.look("gdb", on_core=True)  # writes the core if this release has none yet
        made[name] = (fixture.fixture, fixture.core)
    return made


@pytest.mark.parametrize("fixture_name", ["goroutines", "heap"])
def test_offline_json_equals_gdb_on_the_same_core(running, go_version, fixture_name):
    fixture = subject(running, fixture_name, go_version)
    in_gdb, offline_look = fixture.look("gdb", on_core=True), fixture.look("standalone")
    for command in fixture.commands:
        if "--json" in command:
            assert offline_look.json(command) == in_gdb.json(command), command
    # the command line's own path: `gdbgomem core BINARY CORE -- COMMAND`, one process a command
    for command in fixture.commands[:2]:
        mine = json.loads(offline(fixture.fixture.binary, fixture.core, *command.split()).stdout)
        assert mine == in_gdb.json(command), command


def test_python_api_examples(cores):
    fixture, core = cores["goroutines"]
    script = f"""
import gdbgomem
prog = gdbgomem.open_core({str(fixture.binary)!r}, {str(core)!r})
# the 10 goroutines holding the biggest stacks
biggest = sorted(prog.goroutines(), key=lambda g: g.stack_size, reverse=True)[:10]
print(biggest[0].goid, biggest[0].stack_size, len(biggest))
# size classes ranked by the bytes their spans waste (free slots plus tail)
heap = gdbgomem.open_core({str(cores["heap"][0].binary)!r}, {str(cores["heap"][1])!r})
waste = {{}}
for span in heap.spans():
    if span.state == "inuse":
        waste[span.sizeclass] = waste.get(span.sizeclass, 0) + span.free_slots * span.elemsize + span.tail_bytes
ranked = sorted(waste.items(), key=lambda kv: -kv[1])
print(ranked[0][0], ranked[0][1] > 0, prog.stack({fixture.truth['deep']['goid']}).frames[-1].function)
"""
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split("\n")[:2]
    goid, size, count = map(int, first.split())
    assert goid == fixture.truth["deep"]["goid"] and size >= 64 * 1024 and count == 10
    assert second.split()[1:] == ["True", "runtime.goexit"]


def test_interactive_prompt(cores, tmp_path):
    fixture, core = cores["goroutines"]
    child = pexpect.spawn(GDBGOMEM, ["core", str(fixture.binary), str(core)], encoding="utf-8", timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})
    child.expect(r"\(gdbgomem\) ")
    child.sendline("go-info")
    child.expect(r"\(gdbgomem\) ")
    assert fixture.truth["go_version"] in child.before
    child.sendline("go-nope")
    child.expect(r"\(gdbgomem\) ")
    assert "gdbgomem: unknown command 'go-nope'" in child.before
    child.sendline("go-g 1 --json")
    child.expect(r"\(gdbgomem\) ")
    assert '"goid":1' in child.before
    child.sendline("quit")
    child.expect(pexpect.EOF)
    assert (tmp_path / ".gdbgomem_history").read_text().splitlines()[-3:] == ["go-nope", "go-g 1 --json", "quit"]


def test_commands_piped_in(cores):
    """A script's way: command lines on stdin, outputs on stdout, no prompt; status 1 if one failed."""
    fixture, core = cores["goroutines"]
    piped = subprocess.run([GDBGOMEM, "core", str(fixture.binary), str(core)], input="go-g 1 --json\ngo-info --json\n",
                           capture_output=True, text=True, timeout=300)
    first, second = piped.stdout.splitlines()
    assert piped.returncode == 0 and not piped.stderr
    assert json.loads(first)["goid"] == 1 and json.loads(second)["go_version"] == fixture.truth["go_version"]
    failing = subprocess.run([GDBGOMEM, "core", str(fixture.binary), str(core)], input="go-nope\ngo-g 1 --json\n",
                             capture_output=True, text=True, timeout=300)
    assert failing.returncode == 1 and json.loads(failing.stdout)["goid"] == 1
    assert failing.stderr == "gdbgomem: unknown command 'go-nope' (go-help lists the commands)\n"


def test_bad_cores(cores, tmp_path):
    fixture, core = cores["goroutines"]
    heap_fixture, _ = cores["heap"]
    truncated = tmp_path / "truncated.core"
    with open(core, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(os.path.getsize(core) // 50))
    (tmp_path / "junk").write_bytes(os.urandom(4096))
    proc = offline(fixture.binary, truncated, "go-goroutines", check=False)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    # a warning first; then what the saved part holds decodes, or one line says what is missing
    assert lines[0].startswith("gdbgomem: warning: the core file is truncated") and "Traceback" not in proc.stderr
    assert (proc.returncode, len(lines)) in ((0, 1), (1, 2)), proc.stderr
    cases = {  # what the one line must say
        "not a core file": (fixture.binary, fixture.binary),
        "not an ELF file": (fixture.binary, tmp_path / "junk"),
        "written by another build of the program": (heap_fixture.binary, core),
        "No such file": (fixture.binary, tmp_path / "missing.core"),
    }
    in_gdb = hostrun.run_gdb([str(heap_fixture.binary), str(core)], ["go-info"])[0]  # gdb only warns
    assert in_gdb.strip().splitlines()[-1].startswith("gdbgomem: the core was written by another build")
    for expected, (binary, core_path) in cases.items():
        proc = offline(binary, core_path, "go-goroutines", check=False)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("gdbgomem: "), (expected, proc.stderr)
        assert expected in lines[0], (expected, lines[0])
    truncated.unlink()
