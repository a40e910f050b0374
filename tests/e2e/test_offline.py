"""`gdbgomem core BINARY CORE -- COMMAND` and the Python API, without a debugger: the same JSON
as gdb gives on the same core, field by field."""

from __future__ import annotations

import json
import os
import subprocess

import pexpect
import pytest

from devtools import gdbrun
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
def cores(running, go_version, tmp_path):
    """A gcore core of the goroutines fixture and one of the heap fixture, with their binaries."""
    made = {}
    for name in ("goroutines", "heap"):
        fixture = running(name, go_version)
        core = tmp_path / f"{name}.core"
        gdbrun.run_gdb(gdbrun.attach(fixture.pid), [f"gcore {core}"])
        assert core.exists()
        made[name] = (fixture, core)
    yield made
    for _, core in made.values():
        core.unlink(missing_ok=True)


def test_offline_json_equals_gdb_on_the_same_core(cores):
    fixture, core = cores["goroutines"]
    deep = fixture.truth["deep"]["goid"]
    commands = ["go-info --json", "go-goroutines --json", "go-threads --json", f"go-stack {deep} --json",
                "go-stack --json", "go-bt --all --json", f"go-g {fixture.truth['locked']['goid']} --json"]
    heap_fixture, heap_core = cores["heap"]
    sample = heap_fixture.truth["samples"][1]["addr"]
    heap_commands = ["go-heap --json", "go-spans --json", "go-spans --summary --json", "go-arenas --json",
                     "go-pages --json", "go-sizeclasses --json", f"go-span {sample} --json"]
    for binary, core_path, wanted in ((fixture.binary, core, commands), (heap_fixture.binary, heap_core, heap_commands)):
        in_gdb = gdbrun.run_gdb([str(binary), str(core_path)], wanted)
        for i, command in enumerate(wanted):
            mine = json.loads(offline(binary, core_path, *command.split()).stdout)
            assert mine == gdbrun.json_of(in_gdb[i]), command


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


def test_interactive_prompt(cores):
    fixture, core = cores["goroutines"]
    child = pexpect.spawn(GDBGOMEM, ["core", str(fixture.binary), str(core)], encoding="utf-8", timeout=120,
                          env={**os.environ, "HOME": str(core.parent)})
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
    for expected, (binary, core_path) in cases.items():
        proc = offline(binary, core_path, "go-goroutines", check=False)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("gdbgomem: "), (expected, proc.stderr)
        assert expected in lines[0], (expected, lines[0])
    truncated.unlink()
