"""A core the kernel writes when a Go program crashes (GOTRACEBACK=crash, SIGQUIT): gdb and the
offline reader give the same goroutines, and they match the program's ground truth."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from devtools import fixtures, hostrun, kernel_cores
from devtools.fixtures import ROOT

pytestmark = pytest.mark.e2e
CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")


@pytest.fixture(params=["0x33"])
def kernel_core(request, ptrace_allowed, go_version, tmp_path):
    if kernel_cores.why_no_cores_here():
        pytest.skip(kernel_cores.why_no_cores_here())
    fixture = fixtures.start("goroutines", go_version, cwd=tmp_path, crash_core=True)
    # 0x33, the default: anonymous private and shared memory and ELF headers, so the Go heap and
    # stacks are in the core; 0x10: ELF headers only, a core without the heap
    Path(f"/proc/{fixture.pid}/coredump_filter").write_text(request.param)
    stderr, core = kernel_cores.crash(fixture.process, tmp_path)
    assert core is not None, f"no core in {tmp_path}: {stderr[-2000:]}"
    yield fixture, core
    core.unlink()


def test_kernel_core_in_gdb_and_offline(kernel_core):
    fixture, core = kernel_core
    truth = fixture.truth
    deep = truth["deep"]["goid"]
    commands = ["go-goroutines --json", f"go-stack {deep} --json", "go-threads --json", "go-heap --json"]
    in_gdb = hostrun.run_gdb([str(fixture.binary), str(core)], commands)
    for i, command in enumerate(commands):
        mine = json.loads(subprocess.run([str(ROOT / ".venv" / "bin" / "gdbgomem"), "core", str(fixture.binary),
                                          str(core), "--", *command.split()], capture_output=True, text=True,
                                         check=True).stdout)
        assert mine == hostrun.json_of(in_gdb[i]), command
    goroutines = {g["goid"]: g for g in hostrun.json_of(in_gdb[0])["goroutines"]}
    for probe in truth["chan_probes"]:
        g = goroutines[probe["goid"]]
        assert g["status"] == "waiting" and g["wait_reason"] == "chan receive"
        assert g["stack_lo"] <= probe["local_addr"] < g["stack_hi"]
    frames = hostrun.json_of(in_gdb[1])["frames"]
    assert [f["function"] for f in frames].count("main.recurse") == truth["deep"]["depth"] + 1
    threads = hostrun.json_of(in_gdb[2])["threads"]
    assert truth["locked"]["tid"] in {t["thread_id"] for t in threads}
    assert hostrun.json_of(in_gdb[3])["heap_inuse_bytes"] > 0


@pytest.mark.parametrize("kernel_core", ["0x10"], indirect=True)
def test_core_without_the_heap(kernel_core):
    fixture, core = kernel_core
    offline = subprocess.run([str(ROOT / ".venv" / "bin" / "gdbgomem"), "core", str(fixture.binary), str(core), "--",
                              "go-goroutines"], capture_output=True, text=True)
    lines = [line for line in offline.stderr.splitlines() if line.strip()]
    assert offline.returncode == 1 and len(lines) == 1 and "Traceback" not in offline.stderr
    assert "coredump_filter" in lines[0] and ("did not save" in lines[0] or "no Go runtime state" in lines[0])
    still = subprocess.run([str(ROOT / ".venv" / "bin" / "gdbgomem"), "core", str(fixture.binary), str(core), "--",
                            "go-sizeclasses", "--json"], capture_output=True, text=True)
    assert still.returncode == 0 and json.loads(still.stdout)["classes"][1]["size"] == 8
    in_gdb = hostrun.run_gdb([str(fixture.binary), str(core)], ["go-goroutines"])[0]
    # gdb reads the missing bss as the executable's zeros: the empty allm is what tells
    assert "gdbgomem: the core holds no Go runtime state" in in_gdb
