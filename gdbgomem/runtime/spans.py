"""Spans: every runtime.mspan on mheap_.allspans (mheap.go), decoded in bulk.

allspans holds every span struct the heap ever made, dead ones included
(their pages went back to the page allocator). A span in use holds objects of
one span class; a manual span holds memory the runtime manages by hand:
goroutine stacks, or GC work buffers (found on work.wbufSpans).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Set

from gdbgomem.runtime.process import GoProcess
from gdbgomem.runtime.records import RecordDecoder
from gdbgomem.runtime.sizeclasses import page_size

MAX_SPANS = 1 << 26  # 64 Mi span structs would describe far more than a 48-bit heap
MAX_LIST = 1 << 20   # span list walks stop here (corrupt cycles)

SPAN_MEMBERS = [
    ("start", "startAddr"), ("npages", "npages"), ("freeindex", "freeindex"), ("nelems", "nelems"),
    ("alloc_bits", "allocBits"), ("gcmark_bits", "gcmarkBits"), ("alloc_count", "allocCount"),
    ("spanclass", "spanclass"), ("state", "state.s.value"),
    ("alloc_count_before_cache", "allocCountBeforeCache"), ("elemsize", "elemsize"), ("limit", "limit"),
    ("large_type", "largeType"),
]

# mSpanState values (mheap.go) and the names gdbgomem gives them; the values are
# read from DWARF where present.
STATE_CONSTANTS = [("runtime.mSpanDead", 0, "free"), ("runtime.mSpanInUse", 1, "inuse"),
                   ("runtime.mSpanManual", 2, "manual")]


@dataclass(slots=True)
class Span:
    """One runtime.mspan."""

    address: int
    base: int
    npages: int
    bytes: int
    state: str                 # "inuse", "manual" or "free" (mSpanDead)
    spanclass: int
    sizeclass: int
    noscan: bool
    elemsize: int
    nelems: int
    alloc_count: int
    freeindex: int
    alloc_bits: int
    gcmark_bits: int
    alloc_count_before_cache: int
    limit: int
    large_type: Optional[int]
    manual_use: Optional[str] = None  # for manual spans: "stack" or "workbuf"

    @property
    def free_slots(self) -> int:
        return max(0, self.nelems - self.alloc_count)

    @property
    def tail_bytes(self) -> int:
        """Span bytes past the last slot: unused tail plus runtime metadata kept there."""
        return max(0, self.bytes - self.nelems * self.elemsize) if self.state == "inuse" else 0

    @property
    def used_bytes(self) -> int:
        return self.alloc_count * self.elemsize

    @property
    def utilization(self) -> float:
        return self.used_bytes / self.bytes if self.bytes else 0.0

    @property
    def end(self) -> int:
        return self.base + self.bytes


def span_decoder(proc: GoProcess) -> RecordDecoder:
    return proc.fact("span_decoder", lambda: RecordDecoder(proc.layout("runtime.mspan"), SPAN_MEMBERS))


def state_names(proc: GoProcess) -> Dict[int, str]:
    return proc.fact("span_states", lambda: {proc.constant(name, value): label
                                             for name, value, label in STATE_CONSTANTS})


def all_spans(proc: GoProcess) -> List[Span]:
    """Every span of mheap_.allspans; cached until the process resumes."""
    return proc.snapshot("spans", lambda: _read_all(proc))


def spans_by_address(proc: GoProcess) -> Dict[int, Span]:
    """mspan address -> Span, built once per snapshot (arena page tables point at mspans)."""
    return proc.snapshot("spans_by_address", lambda: {s.address: s for s in all_spans(proc)})


def _read_all(proc: GoProcess) -> List[Span]:
    mheap = proc.layout("runtime.mheap")
    addresses = proc.read_word_slice(proc.global_address("runtime.mheap_") + mheap.offset("allspans"),
                                     MAX_SPANS, "mheap_.allspans")
    make = span_maker(proc)
    blobs = proc.target.read_many([(a, make.size) for a in addresses])
    workbufs = workbuf_spans(proc)
    out = []
    for address, blob in zip(addresses, blobs):
        span = make(address, blob)
        if span is None:
            continue
        if span.state == "manual":
            span.manual_use = "workbuf" if address in workbufs else "stack"
        out.append(span)
    return out


class SpanMaker:
    """Decodes mspan structs into Spans, with the per-binary lookups done once
    (they would otherwise cost more than the decoding, at 150 000 spans)."""

    def __init__(self, proc: GoProcess):
        self.decoder = span_decoder(proc)
        self.size = self.decoder.size
        self.page = page_size(proc)
        self.states = state_names(proc)

    def __call__(self, address: int, data: Optional[bytes]) -> Optional[Span]:
        values = self.decoder.decode_ordered(data) if data is not None else None
        if values is None:
            return None
        (start, npages, freeindex, nelems, alloc_bits, gcmark_bits, alloc_count, spanclass, state,
         before_cache, elemsize, limit, large_type) = values
        return Span(address, start, npages, npages * self.page, self.states.get(state, f"state({state})"),
                    spanclass, spanclass >> 1, bool(spanclass & 1), elemsize, nelems, alloc_count, freeindex,
                    alloc_bits, gcmark_bits, before_cache or 0, limit, large_type)


def span_maker(proc: GoProcess) -> SpanMaker:
    return proc.fact("span_maker", lambda: SpanMaker(proc))


def workbuf_spans(proc: GoProcess) -> Set[int]:
    """Addresses of the manual spans holding GC work buffers (work.wbufSpans.free and .busy)."""
    work = proc.target.struct_layout("runtime.workType")
    address = proc.target.symbol_address("runtime.work")
    if work is None or address is None or not work.has("wbufSpans"):
        return set()
    found: Set[int] = set()
    next_offset = proc.layout("runtime.mspan").offset("next")
    for which in ("free", "busy"):
        path = f"wbufSpans.{which}.first"
        if not work.has(path):
            continue
        span = proc.target.try_read(address + work.offset(path), 8)
        span = struct.unpack("<Q", span)[0] if span else 0
        while span and span not in found and len(found) < MAX_LIST:
            found.add(span)
            raw = proc.target.try_read(span + next_offset, 8)
            span = struct.unpack("<Q", raw)[0] if raw else 0
    return found


def mcache_spans(proc: GoProcess) -> Set[int]:
    """Spans cached right now in some P's mcache (p.mcache.alloc[spanclass])."""
    p_layout, mcache = proc.layout("runtime.p"), proc.layout("runtime.mcache")
    alloc = mcache.member("alloc")
    count = alloc.size // 8
    cached: Set[int] = set()
    for p in proc.all_p():
        raw = proc.target.try_read(p + p_layout.offset("mcache"), 8) if p else None
        cache = struct.unpack("<Q", raw)[0] if raw else 0
        spans = proc.target.try_read(cache + alloc.offset, 8 * count) if cache else None
        if spans:
            cached.update(s for s in struct.unpack(f"<{count}Q", spans) if s)
    return cached


def pointer_bits_location(proc: GoProcess, span: Span) -> str:
    """Where the pointer/scalar bits of this span's objects live (mbitmap.go of each release).

    Chosen by what the binary has, not by version number: a heapArena.bitmap
    field means the per-arena bitmap (up to 1.21); otherwise small objects keep
    heap bits at the end of the span, larger ones a malloc header, large
    objects mspan.largeType; a spanInlineMarkBits type means Green Tea GC keeps
    mark bits inline in small-object spans (1.26+, or the 1.25 experiment).
    """
    if span.state != "inuse":
        return "-"
    if span.noscan:
        return "none (noscan)"
    if proc.layout("runtime.heapArena").has("bitmap"):
        return "arena bitmap"
    if span.sizeclass == 0:
        return "largeType"
    header_from = proc.constant("runtime.minSizeForMallocHeader",
                                proc.constant("internal/runtime/gc.MinSizeForMallocHeader", 512))
    if span.elemsize > header_from:
        return "malloc header"
    if green_tea(proc) and span.npages == 1 and span.elemsize >= 16:
        return "span heap bits + inline marks"
    return "span heap bits"


def green_tea(proc: GoProcess) -> bool:
    """True when the binary was built with the Green Tea GC (its inline mark bits type exists)."""
    return proc.fact("green_tea", lambda: proc.target.struct_layout("runtime.spanInlineMarkBits") is not None)
