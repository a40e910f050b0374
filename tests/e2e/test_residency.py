"""Residency, page faults and the madvise mode against the kernel's own account, read inside the
same gdb stop: /proc/PID/pagemap decoded here (not with gdbgomem's reader) for every span, and
/proc/PID/stat's fault counts; the heap fixture run with GODEBUG=madvdontneed=0 and without, after
returning 8 MiB it had written to (debug.FreeOSMemory)."""

from __future__ import annotations

import json

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e
OS_PAGE = 4096
RELEASED = 8 << 20


def kernel_view(ranges) -> str:
    """A gdb command printing the pagemap entries of the ranges and /proc/PID/stat, as JSON."""
    code = ("import json\npid = gdb.selected_inferior().pid\nout = []\n"
            f"with open('/proc/%d/pagemap' % pid, 'rb') as f:\n"
            f"    for b, e in {ranges!r}:\n"
            "        f.seek(b // 4096 * 8)\n        out.append([b, f.read((e - b) // 4096 * 8).hex()])\n"
            "print('KERNEL', json.dumps({'pagemap': out, 'stat': open('/proc/%d/stat' % pid).read()}))")
    return f"python exec({code!r})"


def resident_pages(pagemap):
    """Addresses of the 4 KiB pages in RAM: present (bit 63) and the process's own or a file's
    (bits 56, 61); a present page that is neither is the shared zero page, not counted in Rss."""
    found = set()
    for base, hexed in pagemap:
        raw = bytes.fromhex(hexed)
        for i in range(0, len(raw), 8):
            entry = int.from_bytes(raw[i:i + 8], "little")
            if entry >> 63 & 1 and entry & (1 << 56 | 1 << 61):
                found.add(base + i // 8 * OS_PAGE)
    return found


def look(fixture, commands):
    ranges = [(r["base"], r["limit"]) for r in
              hostrun.json_of(hostrun.run_gdb(hostrun.attach(fixture.pid), ["go-heap --json"])[0])["heap_ranges"]]
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), [*commands, kernel_view(ranges)])
    kernel = json.loads(next(line for line in out[len(commands)].splitlines()
                             if line.startswith("KERNEL "))[len("KERNEL "):])
    return [hostrun.json_of(out[i]) for i in range(len(commands))], kernel


@pytest.fixture(params=["default", "madvdontneed=0"])
def released(request, ptrace_allowed, go_version):
    godebug = "" if request.param == "default" else request.param
    fixture = fixtures.start("heap", go_version, ["-release-mb", str(RELEASED >> 20)], godebug=godebug)
    yield request.param, fixture
    fixture.stop()


def test_residency_faults_and_madvise_are_the_kernels(released):
    mode, fixture = released
    (spans, heap), kernel = look(fixture, ["go-spans --json", "go-heap --json"])
    in_ram = resident_pages(kernel["pagemap"])
    live = [s for s in spans["spans"] if s["state"] != "free"]
    assert live and all(s["resident_bytes"] is not None for s in live)
    for s in live:
        own = sum(OS_PAGE for page in range(s["base"], s["base"] + s["bytes"], OS_PAGE) if page in in_ram)
        assert s["resident_bytes"] == own, s
    assert sum(s["resident_bytes"] for s in live) > 0
    stat = kernel["stat"].rpartition(")")[2].split()
    assert heap["page_faults"] == {"minor": int(stat[7]), "major": int(stat[9])}  # fields 10 and 12
    madvise = heap["madvise"]
    if mode == "default":  # runtime1.go: madvdontneed=1 on Linux: scavenged pages leave RAM at once
        assert (madvise["madvdontneed"], madvise["advice"], madvise["from_godebug"]) == (1, "MADV_DONTNEED", False)
        assert heap["scavenged_resident_bytes"] == 0
    else:  # MADV_FREE: the kernel keeps the released pages until it needs the memory
        assert (madvise["madvdontneed"], madvise["advice"], madvise["from_godebug"]) == (0, "MADV_FREE", True)
        assert RELEASED // 2 <= heap["scavenged_resident_bytes"] <= len(in_ram) * OS_PAGE
    assert heap["scavenged_bytes"] >= RELEASED // 2  # FreeOSMemory scavenged what the fixture dropped
