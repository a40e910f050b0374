"""The tour fixture, phase by phase (SIGUSR1 each), against the ground truth it prints: what
docs/tour.md shows holds on every release tested."""

from __future__ import annotations

import json
import select
import signal

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e
HUGE_PAGE = 2 << 20


def advance(fixture) -> dict:
    fixture.process.send_signal(signal.SIGUSR1)
    assert select.select([fixture.process.stdout], [], [], 60)[0], "the tour printed no phase"
    return json.loads(fixture.process.stdout.readline())


def gdb_json(fixture, commands):
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), commands)
    return [hostrun.json_of(out[i]) for i in range(len(commands))]


def test_tour_phases(ptrace_allowed, go_version):
    fixture = fixtures.start("tour", go_version)
    try:
        assert fixture.truth["topic"] == "start"
        heap, = gdb_json(fixture, ["go-heap --json"])
        assert heap["heap_inuse_bytes"] > 0 and heap["pages"]["in_use"] > 0
        assert heap["madvise"]["advice"] == "MADV_DONTNEED" and heap["page_faults"]["minor"] > 0

        objects = advance(fixture)
        small, pair, medium = gdb_json(fixture, [f"go-span {objects[k]} --json" for k in ("small", "pair", "medium")])
        assert (small["span"]["elemsize"], small["span"]["noscan"]) == (16, True)
        assert (pair["span"]["elemsize"], pair["span"]["noscan"]) == (8, False)
        assert (medium["span"]["elemsize"], medium["span"]["noscan"]) == (208, True)  # 200 B rounds up to class 15

        paging = advance(fixture)
        span, = gdb_json(fixture, [f"go-span {paging['buffer']} --json --bytes 0"])
        assert span["span"]["bytes"] == paging["bytes"] and span["span"]["base"] == paging["buffer"]
        # only the written pages are in RAM (a transparent huge page may bring a little more)
        assert paging["touched"] <= span["span"]["resident_bytes"] <= paging["touched"] + 2 * HUGE_PAGE

        release = advance(fixture)
        heap, = gdb_json(fixture, ["go-heap --json"])
        assert heap["scavenged_bytes"] >= paging["bytes"] and heap["scavenged_resident_bytes"] == 0
        assert release["memstats"]["heap_released"] >= paging["bytes"]  # the runtime's own count agrees

        stack = advance(fixture)["stack"]
        view, = gdb_json(fixture, [f"go-stack {stack['goid']} --json"])
        assert view["stack_lo"] <= stack["deep_local"] < view["stack_hi"]
        assert view["stack_hi"] - view["stack_lo"] >= stack["depth"] * stack["frame_pad"]
        assert [f["function"] for f in view["frames"]].count("main.recurse") == stack["depth"] + 1
    finally:
        fixture.stop()
