"""A core written by gdb's gcore gives the answers the live process gave, in the same gdb session."""

from __future__ import annotations

import pytest

from tests.e2e.harness import subject

pytestmark = pytest.mark.e2e

STABLE_G_KEYS = ("goid", "g_address", "status", "wait_reason", "stack_lo", "stack_hi", "sp", "pc", "function",
                 "user_function", "user_line", "start_function", "created_by", "m_id", "thread_id")


def test_core_matches_live(running, go_version):
    goroutines = subject(running, "goroutines", go_version)
    live, core = goroutines.look("gdb"), goroutines.look("gdb", on_core=True)
    assert core.json("go-info --json")["core"] is True
    assert core.json("go-info --json")["go_version"] == live.truth["go_version"]
    live_gs = {g["goid"]: g for g in live.json("go-goroutines --json")["goroutines"]}
    core_gs = {g["goid"]: g for g in core.json("go-goroutines --json")["goroutines"]}
    assert set(core_gs) == set(live_gs)
    for goid, g in core_gs.items():
        for key in STABLE_G_KEYS:
            assert g[key] == live_gs[goid][key], (goid, key)
        assert g["waited_ns"] is None  # a core has no "now"
    live_ts = {t["m_id"]: t for t in live.json("go-threads --json")["threads"]}
    for t in core.json("go-threads --json")["threads"]:
        mine = live_ts[t["m_id"]]
        for key in ("thread_id", "g0_stack_lo", "g0_stack_hi", "g0_origin", "curg_goid", "lockedg_goid", "sp", "pc"):
            assert t[key] == mine[key], (t["m_id"], key)
    deep = live.truth["deep"]["goid"]
    assert core.json(f"go-stack {deep} --json")["frames"] == live.json(f"go-stack {deep} --json")["frames"]
    assert core.json("go-stack --json")["frames"] == live.json("go-stack --json")["frames"]
    assert core.json("go-bt --all --json") == live.json("go-bt --all --json")


def spans_of(output: dict) -> list:
    """The span objects of a go-spans or go-span output."""
    return output.get("spans", []) if isinstance(output.get("spans"), list) else \
        [output["span"]] if isinstance(output.get("span"), dict) else []


def test_heap_commands_on_a_core_match_live(running, go_version):
    heap = subject(running, "heap", go_version)
    live, core = heap.look("gdb"), heap.look("gdb", on_core=True)
    for command in heap.commands:
        if not command.endswith("--json") and "--json " not in command:
            continue
        mine, theirs = live.json(command), core.json(command)
        if command == "go-heap --json":
            assert mine.pop("resident_bytes") > 0 and theirs.pop("resident_bytes") is None  # no /proc for a core
            assert mine.pop("scavenged_resident_bytes") >= 0 and theirs.pop("scavenged_resident_bytes") is None
            assert mine.pop("page_faults")["minor"] > 0 and theirs.pop("page_faults") is None
        for live_span, core_span in zip(spans_of(mine), spans_of(theirs)):  # what was in RAM: pagemap only
            assert live_span.pop("resident_bytes") is not None or live_span["state"] == "free"
            assert core_span.pop("resident_bytes") is None
            live_span.pop("scavenged_resident_bytes"), core_span.pop("scavenged_resident_bytes")
        if command == "go-info --json":
            assert mine.pop("core") is False and theirs.pop("core") is True
        if command.startswith("go-maps"):  # what a core recorded of the address space: test_maps.py
            continue
        if command == "go-arenas --resident --json":  # what was in RAM: /proc only
            for live_arena, core_arena in zip(mine["arenas"], theirs["arenas"]):
                assert live_arena.pop("resident_bytes") > 0 and core_arena.pop("resident_bytes") is None
        assert theirs == mine, command
