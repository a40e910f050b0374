"""go-maps: the address space, live and on cores, in every host and build: sizes add up to what
the kernel counts (VmSize, VmRSS in /proc/PID/status), and the fixture's own objects, globals
and stack land in mappings with the right role."""

from __future__ import annotations

import pytest

from tests.e2e.harness import BUILDS, HOSTS, subject

pytestmark = pytest.mark.e2e
# /proc/PID/status reads the kernel's per-CPU RSS counters approximately (Linux 6.2+), smaps
# walks the page tables: the two may differ by a few of each CPU's unflushed batches
RSS_SLACK = 2 << 20


@pytest.fixture(params=[(host, build) for build in BUILDS for host in HOSTS], ids="-".join)
def h(request, running, go_version):
    host, build = request.param
    return subject(running, "heap", go_version, build).look(host)


def holding(maps: dict, address: int) -> dict:
    found = [m for m in maps["mappings"] if m["start"] <= address < m["end"]]
    assert len(found) == 1, (hex(address), found)
    return found[0]


def test_sizes_add_up_to_what_the_kernel_counts(h):
    maps = h.json("go-maps --json")
    starts = [m["start"] for m in maps["mappings"]]
    assert starts == sorted(starts) and all(m["end"] - m["start"] == m["size"] > 0 for m in maps["mappings"])
    if h.on_core:
        assert maps["kernel"] is None and maps["totals"]["rss"] is None
        return
    kernel = maps["kernel"]
    assert maps["totals"]["vsz"] == kernel["vm_size"]
    assert abs(maps["totals"]["rss"] - kernel["vm_rss"]) <= RSS_SLACK
    assert sum(m["rss"] for m in maps["mappings"]) == maps["totals"]["rss"]


def test_objects_globals_and_the_stack_have_their_roles(h):
    maps = h.json("go-maps --json")
    for sample in h.truth["samples"]:
        role = holding(maps, sample["addr"])["role"]
        assert role.startswith("Go heap arena"), (sample, role)
    mheap = h.json("go-maps runtime.mheap_ --json")["mappings"]
    assert len(mheap) == 1 and mheap[0]["role"].startswith("program ")
    assert {".bss", ".noptrbss"} & set(mheap[0]["role"].split()), mheap  # the runtime's heap is a global
    text = [m for m in maps["mappings"] if "x" in m["perms"] and m["role"].startswith("program ")]
    assert len(text) == 1 and ".text" in text[0]["role"].split()
    assert len([m for m in maps["mappings"] if "heapArena metadata" in m["roles"]]) >= 1
    reserved = [m for m in maps["mappings"] if m["role"].startswith("Go heap arena") and m["perms"].startswith("---")]
    assert all(m["role"].endswith("reserved (no access yet)") for m in reserved)
    stacks = [m for m in maps["mappings"] if "main thread's stack" in m["roles"]]
    assert len(stacks) == 1, stacks


def test_the_text_view_ends_with_the_totals(h):
    last = h.outputs["go-maps"].strip().splitlines()[-1]
    assert " mappings: VSZ " in last and " shown" not in last
    if not h.on_core:
        assert "the kernel counts VmSize" in last
    else:
        assert "a core keeps no resident counts" in last


def test_go_span_outside_the_heap_says_where_the_address_is(h):
    said = " ".join(h.outputs["go-span runtime.mheap_"].split())
    assert "is not in the Go heap; it is in the program's .bss " in said or \
        "is not in the Go heap; it is in the program's .noptrbss " in said, said


def test_arena_residency_is_what_the_kernel_counts(h):
    """pagemap's present bits over each arena add up to smaps' Rss of the mappings inside it
    (two views of the kernel's page tables); a core has no record of residency."""
    if h.on_core:
        assert all(a["resident_bytes"] is None for a in h.json("go-arenas --resident --json")["arenas"])
        assert "residency unknown: a core keeps no record" in " ".join(h.outputs["go-arenas --map --resident"].split())
        return
    arenas = h.json("go-arenas --resident --json")["arenas"]
    mappings = h.json("go-maps --json")["mappings"]
    arena_bytes = h.json("go-heap --json")["arena_bytes"] // len(arenas)
    for a in arenas:
        lo, hi = a["base"], a["base"] + arena_bytes
        inside = [m for m in mappings if m["start"] < hi and lo < m["end"]]
        if all(lo <= m["start"] and m["end"] <= hi for m in inside if m["rss"]):
            assert a["resident_bytes"] == sum(m["rss"] for m in inside), a
        assert 0 < a["resident_bytes"] <= arena_bytes
    picture = h.outputs["go-arenas --map --resident"]
    assert "# in RAM" in picture and "#" in picture.split("# in RAM")[0]
