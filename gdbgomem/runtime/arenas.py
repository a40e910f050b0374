"""Heap arenas: the 64 MiB units the heap reserves address space in (mheap.go heapArena).

mheap_.heapArenas (1.25+) or mheap_.allArenas lists their indexes; each index
leads through mheap_.arenas[l1][l2] to a heapArena holding, per page, the span
that owns it, and bitmaps of span starts in use and with marked objects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional

from gdbgomem.runtime.arena_index import ARENA_BASE_OFFSET, MASK64, arena_indexes
from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import ARENA_L2_BITS, LOG_HEAP_ARENA_BYTES, PAGES_PER_ARENA
from gdbgomem.runtime.pages import page_allocator
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.spans import spans_by_address


@dataclass
class Arena:
    index: int
    l1: int
    l2: int
    base: int
    address: Optional[int]      # the heapArena struct, None if unreadable
    spans: int                  # distinct live spans owning pages of this arena
    pages_in_use: int           # pages of in-use spans (from the spans table)
    span_starts_in_use: int     # bits set in pageInUse: first pages of in-use spans
    span_starts_marked: int     # bits set in pageMarks: in-use spans with marked objects
    page_spans: List[int]       # per page: address of the owning mspan (0 = none)


@per_stop
def all_arenas(rt: GoRuntime) -> List[Arena]:
    log_arena = rt.constant(LOG_HEAP_ARENA_BYTES)
    l2_bits = rt.constant(ARENA_L2_BITS)
    pages = rt.constant(PAGES_PER_ARENA)
    mheap = rt.layout("runtime.mheap")
    heap_arena = rt.layout("runtime.heapArena")
    arenas_at = rt.global_address("runtime.mheap_") + mheap.offset("arenas")
    by_address = spans_by_address(rt)
    size = page_size(rt)
    out = []
    for index in sorted(arena_indexes(rt)):
        l1, l2 = index >> l2_bits, index & ((1 << l2_bits) - 1)
        base = ((index << log_arena) + ARENA_BASE_OFFSET) & MASK64
        l2_table = rt.target.try_read(arenas_at + 8 * l1, 8)
        l2_table = struct.unpack("<Q", l2_table)[0] if l2_table else 0
        raw = rt.target.try_read(l2_table + 8 * l2, 8) if l2_table else None
        address = struct.unpack("<Q", raw)[0] if raw else None
        data = rt.target.try_read(address, heap_arena.size) if address else None
        if data is None:
            out.append(Arena(index, l1, l2, base, address, 0, 0, 0, 0, []))
            continue
        table = list(struct.unpack_from(f"<{pages}Q", data, heap_arena.offset("spans")))
        in_use_bits = data[heap_arena.offset("pageInUse"):heap_arena.offset("pageInUse") + pages // 8]
        marks = data[heap_arena.offset("pageMarks"):heap_arena.offset("pageMarks") + pages // 8]
        owners = _page_owners(table, by_address, base, size)
        used = sum(1 for s in owners if by_address[s].state == "inuse")
        out.append(Arena(index, l1, l2, base, address, len(set(owners)), used,
                         int.from_bytes(in_use_bits, "little").bit_count(),
                         int.from_bytes(marks, "little").bit_count(), table))
    return out


def _page_owners(table: List[int], by_address, base: int, size: int) -> List[int]:
    """The spans table's entries that still own their page (see _owner)."""
    return [address for page, address in enumerate(table) if _owner(by_address, address, base + page * size)]


def _owner(by_address, span_address: int, page_address: int):
    """The live span a spans-table entry names, where that span still covers the page; None for a
    stale entry. Freeing a span leaves its entries in place (mheap.go setSpans runs only on
    allocation), and its mspan struct may since hold a span elsewhere."""
    span = by_address.get(span_address) if span_address else None
    return span if span is not None and span.state != "free" and span.base <= page_address < span.end else None


def page_kinds(rt: GoRuntime, arena: Arena) -> str:
    """One character per page: '#' heap in use, 's' stack or other manual span, '.' free,
    '~' free and scavenged (returned to the OS), 'p' the random padding before the heap's
    first object (1.26+: allocated and scavenged, never used), ' ' outside the heap's grown ranges."""
    by_address = spans_by_address(rt)
    free, scavenged, padding = _free_bits(rt, arena)
    size = page_size(rt)
    kinds = []
    for page, span_address in enumerate(arena.page_spans):
        span = _owner(by_address, span_address, arena.base + page * size)
        if span is not None and span.state == "inuse":
            kinds.append("#")
        elif span is not None and span.state == "manual":
            kinds.append("s")
        elif page in scavenged:
            kinds.append("~")
        elif page in free:
            kinds.append(".")
        elif page in padding:
            kinds.append("p")
        else:
            kinds.append(" ")
    return "".join(kinds)


def resident_kinds(rt: GoRuntime, arena: Arena) -> Optional[str]:
    """One character per Go page of the arena: '#' all of it in RAM, '+' part of it, '.' none
    (demand paging: a page costs RAM once touched); None where the OS cannot be asked."""
    size = page_size(rt)
    resident = rt.target.page_residency(arena.base, arena.base + len(arena.page_spans) * size)
    if resident is None:
        return None
    per_page = max(1, size // 4096)
    marks = []
    for i in range(0, len(resident), per_page):
        count = sum(resident[i:i + per_page])
        marks.append("#" if count == per_page else ("+" if count else "."))
    return "".join(marks)


def _free_bits(rt: GoRuntime, arena: Arena):
    """Pages of the arena inside the heap's ranges that the page allocator has free, those of
    them scavenged, and those allocated yet scavenged (the padding; no span owns them)."""
    pa = page_allocator(rt)
    free, scavenged, padding = set(), set(), set()
    words = pa.chunk_pages // 64
    arena_end = arena.base + len(arena.page_spans) * pa.page
    for base, limit in pa.ranges():
        lo, hi = max(base, arena.base), min(limit, arena_end)
        if lo >= hi:
            continue
        for index, data in pa.chunks(lo, hi):
            if len(data) < 16 * words:
                continue
            chunk_base = pa.chunk_base(index)
            alloc = int.from_bytes(data[:8 * words], "little")
            scav = int.from_bytes(data[8 * words:16 * words], "little")
            for i in range(pa.chunk_pages):
                address = chunk_base + i * pa.page
                if not lo <= address < hi:
                    continue
                page = (address - arena.base) // pa.page
                if not alloc >> i & 1:
                    free.add(page)
                    if scav >> i & 1:
                        scavenged.add(page)
                elif scav >> i & 1:
                    padding.add(page)
    return free, scavenged, padding
