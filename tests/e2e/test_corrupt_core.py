"""Corrupt runtime structures in a real core (hypothesis): cycles in allm, absurd allglen, spans
pointing anywhere. Every command must end, quickly, with output or one GoMemError; nothing else
may escape."""

from __future__ import annotations

import json
import os
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools import fixtures, hostrun
from devtools.core_mutations import PatchedTarget, places
from gdbgomem.commands import COMMANDS
from gdbgomem.commands.base import execute
from gdbgomem.errors import GoMemError
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.spans import all_spans
from gdbgomem.hosts.standalone import CoreTarget

pytestmark = pytest.mark.e2e
BY_NAME = {c.name: c for c in COMMANDS}
RUN = ["go-info --json", "go-goroutines --json", "go-threads --json", "go-stack 1 --json", "go-bt --all --json",
       "go-heap --json", "go-spans --json", "go-arenas --json", "go-pages --json", "go-span 0xc000010000 --json",
       "go-types --json", "go-roots --json", f"go-report {os.devnull}"]
SECONDS_PER_COMMAND = 20


@pytest.fixture(scope="module")
def core(tmp_path_factory, ptrace_allowed):
    version = fixtures.go_versions()[-1]
    fixture = fixtures.start("goroutines", version)
    path = tmp_path_factory.mktemp("corrupt") / "goroutines.core"
    try:
        hostrun.run_gdb(hostrun.attach(fixture.pid), [f"gcore {path}"])
    finally:
        fixture.stop()
    target = CoreTarget(str(fixture.binary), str(path))
    yield target
    path.unlink()


WORDS = st.one_of(st.sampled_from([0, 1, 7, 1 << 20, 1 << 32, 1 << 40, (1 << 63) - 1, (1 << 64) - 1,
                                   0xc000000000]), st.integers(0, (1 << 64) - 1))


@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy's overflows too: a warning on the user's terminal
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupt_structures_never_escape(core, data):
    where = places(core)
    names = data.draw(st.lists(st.sampled_from(sorted(where)), min_size=1, max_size=3, unique=True))
    patches = [(where[name], struct.pack("<Q", data.draw(WORDS))) for name in names]
    if "m[0].alllink" in names:  # half the time, a cycle: the M links to itself
        if data.draw(st.booleans()):
            allm = GoRuntime(core).read_word(where["allm"])
            patches.append((where["m[0].alllink"], struct.pack("<Q", allm)))
    proc = GoRuntime(PatchedTarget(core, patches))
    for line in RUN:
        name, _, argument = line.partition(" ")
        started = time.monotonic()
        try:
            execute(BY_NAME[name], argument, lambda: proc, False)
        except GoMemError:
            pass
        assert time.monotonic() - started < SECONDS_PER_COMMAND, (line, names)


def run(target, line):
    name, _, argument = line.partition(" ")
    return execute(BY_NAME[name], argument, lambda: GoRuntime(target), False)


@pytest.mark.parametrize("lo_of", [lambda hi: hi + 0x1000, lambda hi: hi - (2 << 30)], ids=["lo-above-hi", "2GiB"])
def test_a_stack_that_cannot_be_is_shown_corrupt_with_its_raw_value(core, lo_of):
    where = places(core)
    hi = GoRuntime(core).read_word(where["g[0].stack_hi"])
    lo = lo_of(hi)
    patched = PatchedTarget(core, [(where["g[0].stack_lo"], struct.pack("<Q", lo))])
    rows = {g["goid"]: g for g in json.loads(run(patched, "go-goroutines --json"))["goroutines"]}
    bad = next(g for g in rows.values() if g["stack_lo"] == lo)
    assert bad["stack_size"] == hi - lo and "stack_size" in bad["corrupt"]
    assert [g for g in rows.values() if g["corrupt"]] == [bad]
    assert json.loads(run(patched, f"go-stack {bad['goid']} --json"))["corrupt"] == bad["corrupt"]
    listing = run(patched, "go-goroutines")
    assert "corrupt" in listing and "TiB" not in listing and "-" + str(hi - lo) not in listing
    assert f"corrupt: {bad['corrupt']['stack_size']}" in run(patched, f"go-g {bad['goid']}")
    assert "corrupt" in run(patched, f"go-stack {bad['goid']}").splitlines()[0]
    assert "corrupt" not in run(core, "go-goroutines") and "corrupt" not in run(core, f"go-g {bad['goid']}")


def test_a_span_whose_fields_contradict_is_shown_corrupt(core):
    rt = GoRuntime(core)
    span = next(s for s in all_spans(rt) if s.state == "inuse" and s.nelems > 1)
    offset = rt.layout("runtime.mspan").member("allocCount")
    patched = PatchedTarget(core, [(span.address + offset.offset, (span.nelems + 5).to_bytes(offset.size, "little"))])
    rows = {s["mspan_address"]: s for s in json.loads(run(patched, "go-spans --json"))["spans"]}
    assert rows[span.address]["alloc_count"] == span.nelems + 5
    assert set(rows[span.address]["corrupt"]) == {"alloc_count"}
    assert [a for a, s in rows.items() if s["corrupt"]] == [span.address]
    assert f"allocCount {span.nelems + 5} is above nelems {span.nelems}" in run(patched, f"go-span {span.base}")
    assert "corrupt" in run(patched, "go-spans --limit 0") and "corrupt" not in run(core, "go-spans --limit 0")


def one_line_error(target, line) -> str:
    started = time.monotonic()
    with pytest.raises(GoMemError) as raised:
        run(target, line)
    assert time.monotonic() - started < 2, line
    return str(raised.value)


def test_what_the_fuzz_benchmark_found_ends_in_one_line_quickly(core):
    """bench/fuzz_cores.py found these taking minutes: each is now a one-line error."""
    where, rt = places(core), GoRuntime(core)
    span = next(s for s in all_spans(rt) if s.state == "inuse" and s.nelems > 1)
    nelems = rt.layout("runtime.mspan").member("nelems")
    most = ((1 << 8 * nelems.size) - 1).to_bytes(nelems.size, "little")
    huge = PatchedTarget(core, [(span.address + nelems.offset, most)])
    assert "is corrupt" in one_line_error(huge, f"go-span {span.base} --json")
    ranges = GoRuntime(core).read_word(where["pageAlloc.inUse.ranges"])  # the first range: [base, limit)
    base = GoRuntime(core).read_word(ranges)
    vast = PatchedTarget(core, [(ranges + 8, struct.pack("<Q", base + (1 << 46)))])  # 64 TiB: a walk of years
    assert "reaches past the heap's" in one_line_error(vast, "go-pages --json")
    anywhere = PatchedTarget(core, [(where["pageAlloc.inUse.ranges"], struct.pack("<Q", where["allm"]))])
    started = time.monotonic()
    try:
        run(anywhere, "go-pages --json")  # garbage that happens to look like ranges in the arenas is harmless
    except GoMemError as error:
        assert "pageAlloc.inUse is corrupt" in str(error)
    assert time.monotonic() - started < 2
    many = PatchedTarget(core, [(where["allgs.len"], struct.pack("<QQ", 40_000_000, 40_000_000))])
    assert "runtime.allglen" in one_line_error(many, "go-info --json")


def test_a_span_of_one_byte_slots_is_left_out_of_the_heap_graph(core):
    """The fuzzing found go-types reading an in-use span whose elemsize was 1 as words: the heap
    graph reads whole words of slots, so such a span (no size class has one) is left out."""
    rt = GoRuntime(core)
    span = next(s for s in all_spans(rt) if s.state == "inuse" and s.nelems > 1 and s.alloc_count and not s.noscan)
    elemsize = rt.layout("runtime.mspan").member("elemsize")
    one = PatchedTarget(core, [(span.address + elemsize.offset, (1).to_bytes(elemsize.size, "little"))])

    def objects(target):
        census = json.loads(run(target, "go-types --json"))
        return census["reachable"]["objects"] + census["unreachable"]["objects"]

    assert 0 < objects(one) < objects(core)
