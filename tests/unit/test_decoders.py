"""Pure decoders over byte buffers: no debugger, no Go process."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdbgomem.elf.layout import Field, StructLayout
from gdbgomem.errors import MemoryReadError
from gdbgomem.releases import is_supported, parse_go_version
from gdbgomem.render.terminal import sanitize
from gdbgomem.render.text import humanize
from gdbgomem.runtime.stack_view import GuardRules, morestack_verdict
from gdbgomem.runtime.struct_decoder import StructDecoder
from gdbgomem.runtime.target import Target
from gdbgomem.runtime.unwinder import StackWindow, is_runtime_function

PREEMPT = (1 << 64) - 1314
RULES = GuardRules(stack_guard=928, stack_small=128, stack_big=4096)


class BytesTarget(Target):
    """A Target over a dict of {base: bytes} regions that counts read calls."""

    def __init__(self, regions):
        self.regions, self.calls = regions, 0

    def read(self, address, size):
        self.calls += 1
        for base, data in self.regions.items():
            if base <= address and address + size <= base + len(data):
                return data[address - base:address - base + size]
        raise MemoryReadError(address, size)

    def symbol_address(self, name): return None
    def symbol_size(self, name): return None
    def struct_layout(self, type_name): return None
    def constant(self, name): return None
    def threads(self): return []
    def has_process(self): return True
    is_core = False
    pid = None
    executable = None


def test_read_many_merges_close_regions_and_isolates_holes():
    memory = bytes(range(256)) * 64  # 16 KiB
    target = BytesTarget({0x10000: memory})
    regions = [(0x10000 + 100 * i, 16) for i in range(100)] + [(0x90000, 8)]
    got = target.read_many(regions)
    assert got[:100] == [memory[100 * i:100 * i + 16] for i in range(100)]
    assert got[100] is None
    assert target.calls == 2  # one window for the 100 close regions, one for the hole


def test_read_many_falls_back_per_region_when_a_window_has_a_hole():
    target = BytesTarget({0x1000: b"a" * 16, 0x1100: b"b" * 16})
    assert target.read_many([(0x1000, 16), (0x1100, 16)]) == [b"a" * 16, b"b" * 16]


def test_record_decoder_nested_paths_and_missing_members():
    gobuf = StructLayout("runtime.gobuf", 16, {"sp": Field(0, 8, "uintptr"), "pc": Field(8, 8, "uintptr")})
    status = StructLayout("atomic.Uint32", 4, {"value": Field(0, 4, "uint32")})
    g = StructLayout("runtime.g", 48, {
        "stack": Field(0, 16, "runtime.stack"), "sched": Field(16, 16, "runtime.gobuf", gobuf),
        "atomicstatus": Field(32, 4, "atomic.Uint32", status), "goid": Field(40, 8, "uint64")})
    decoder = StructDecoder(g, [("sp", "sched.sp"), ("pc", "sched.pc"), ("status", "atomicstatus.value"),
                                ("goid", "goid"), ("syscallbp", "syscallbp")])
    data = bytes(16) + struct.pack("<QQI4xQ", 0xc000, 0x401000, 0x1004, 42)
    assert decoder.decode(data) == {"sp": 0xc000, "pc": 0x401000, "status": 0x1004, "goid": 42, "syscallbp": None}
    assert decoder.decode(data[:-1]) is None
    assert decoder.decode_ordered(data) == (0xc000, 0x401000, 0x1004, 42, None)  # missing at the end: fast path
    out_of_order = StructDecoder(g, [("goid", "goid"), ("sp", "sched.sp"), ("nope", "nope")])
    assert out_of_order.decode_ordered(data) == (42, 0xc000, None)
    assert decoder.decode_ordered(data[:-1]) is None


@pytest.mark.parametrize("frame, sp, guard, expect", [
    (64, 0x2000, 0x1000, False), (64, 0x1000, 0x1000, True),      # small: SP <= guard
    (1000, 0x1400, 0x1000, False), (1000, 0x1000 + 872, 0x1000, True),  # large: SP-(frame-128) <= guard
    (8192, 0x100, 0x10, True),                                    # huge: the subtraction wraps
    (8192, 0x5000, 0x1000, False),
    (64, 0x2000, PREEMPT, True), (100000, 1 << 40, PREEMPT, True),  # preempt marker: always
])
def test_morestack_verdict_follows_the_prologue_rules(frame, sp, guard, expect):
    assert morestack_verdict(frame, sp, guard, RULES, PREEMPT).morestack is expect


def test_stack_window_reads_inside_and_beyond():
    window = StackWindow(0x100, struct.pack("<QQ", 7, 9), read=lambda a, n: struct.pack("<Q", a))
    assert window.word(0x108) == 9
    assert window.word(0x200) == 0x200
    assert StackWindow(0x100, b"").word(0x100) is None


def test_versions():
    assert parse_go_version("go1.21.13") == (1, 21, 13)
    assert parse_go_version("go1.22rc1") == (1, 22, 0)
    assert parse_go_version("devel go1.27-abcdef") == (1, 27, 0)
    assert parse_go_version("nothing") is None
    assert not is_supported((1, 20, 5)) and is_supported((1, 21, 0))


def test_sanitize_and_humanize():
    assert sanitize("a\x1b[31mb\x00") == "a\\x1b[31mb\\x00"
    assert sanitize("tab\tok") == "tab\tok"
    assert humanize(2048) == "2 KiB" and humanize(1536) == "1.5 KiB" and humanize(100) == "100 B"


def test_runtime_code_by_name_or_file():
    assert is_runtime_function("runtime.gopark")
    assert is_runtime_function("sync.runtime_SemacquireMutex", "/go/src/runtime/sema.go")
    assert not is_runtime_function("main.main", "/src/app/main.go")
    assert not is_runtime_function("example.com/runtime.Fn", "example.com/runtime/fn.go")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1 << 64), st.integers(-8, 1 << 16)), max_size=50))
def test_read_many_never_raises(regions):
    target = BytesTarget({0x1000: bytes(4096)})
    got = target.read_many(regions)
    assert len(got) == len(regions)
