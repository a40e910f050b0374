"""Spans: every runtime.mspan on mheap_.allspans (mheap.go), decoded in bulk.

allspans holds every span struct the heap ever made, dead ones included
(their pages went back to the page allocator). A span in use holds objects of
one span class; a manual span holds memory the runtime manages by hand:
goroutine stacks, GC work buffers (found on work.wbufSpans), or (Go 1.22-1.23)
the unrolled GC program of a large object's type, which that object's
mspan.largeType points at (mbitmap.go heapSetType, spanAllocPtrScalarBits).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

from gdbgomem.runtime.cache import per_binary, per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import MIN_SIZE_FOR_MALLOC_HEADER, SPAN_DEAD, SPAN_IN_USE, SPAN_MANUAL
from gdbgomem.runtime.plausible import span_flaws
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.struct_decoder import StructDecoder

MAX_SPANS = 1 << 26  # 64 Mi span structs would describe far more than a 48-bit heap
MAX_LIST = 1 << 20   # span list walks stop here (corrupt cycles)

SPAN_MEMBERS = [
    ("start", "startAddr"), ("npages", "npages"), ("freeindex", "freeindex"), ("nelems", "nelems"),
    ("alloc_bits", "allocBits"), ("gcmark_bits", "gcmarkBits"), ("alloc_count", "allocCount"),
    ("spanclass", "spanclass"), ("state", "state.s.value"),
    ("alloc_count_before_cache", "allocCountBeforeCache"), ("elemsize", "elemsize"), ("limit", "limit"),
    ("large_type", "largeType"),
]

# mSpanState values (mheap.go) and the names gdbgomem gives them.
STATE_NAMES = [(SPAN_DEAD, "free"), (SPAN_IN_USE, "inuse"), (SPAN_MANUAL, "manual")]


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
    manual_use: Optional[str] = None  # for manual spans: "stack", "workbuf" or "gcprog"
    heap_bits_bytes: int = 0     # reserved at the span's end for its objects' pointer bits (span_reserve)
    inline_mark_bytes: int = 0   # reserved after them for the Green Tea GC's inline mark bits

    @property
    def free_slots(self) -> int:
        return max(0, self.nelems - self.alloc_count)

    @property
    def tail_bytes(self) -> int:
        """The true tail: bytes past the last slot that no slot fits in and the runtime does not
        use either (the heap bits and inline mark bits kept at the span's end are not counted)."""
        if self.state != "inuse":
            return 0
        return max(0, self.bytes - self.nelems * self.elemsize - self.heap_bits_bytes - self.inline_mark_bytes)

    @property
    def used_bytes(self) -> int:
        return self.alloc_count * self.elemsize

    @property
    def utilization(self) -> float:
        return self.used_bytes / self.bytes if self.bytes else 0.0

    @property
    def end(self) -> int:
        return self.base + self.bytes

    @property
    def flaws(self) -> Dict[str, str]:
        """Fields that contradict each other (a corrupt core), field -> why."""
        return span_flaws(self.bytes, self.nelems, self.elemsize, self.alloc_count, self.freeindex,
                          self.state == "inuse")


@per_binary
def span_decoder(rt: GoRuntime) -> StructDecoder:
    return StructDecoder(rt.layout("runtime.mspan"), SPAN_MEMBERS)


@per_binary
def state_names(rt: GoRuntime) -> Dict[int, str]:
    return {rt.constant(constant): label for constant, label in STATE_NAMES}


@per_stop
def spans_by_address(rt: GoRuntime) -> Dict[int, Span]:
    """mspan address -> Span (arena page tables point at mspans)."""
    return {s.address: s for s in all_spans(rt)}


def allspans_length(rt: GoRuntime) -> int:
    """len(mheap_.allspans), without reading the slice."""
    return rt.read_slice_header(_allspans(rt), MAX_SPANS, "mheap_.allspans")[1]


def allspans_addresses(rt: GoRuntime) -> List[int]:
    """The mspan addresses of mheap_.allspans."""
    return rt.read_word_slice(_allspans(rt), MAX_SPANS, "mheap_.allspans")


def _allspans(rt: GoRuntime) -> int:
    return rt.global_address("runtime.mheap_") + rt.layout("runtime.mheap").offset("allspans")


@per_stop
def all_spans(rt: GoRuntime) -> List[Span]:
    """Every span of mheap_.allspans."""
    addresses = allspans_addresses(rt)
    make = span_maker(rt)
    blobs = rt.target.read_many([(a, make.size) for a in addresses])
    out = [span for span in (make(a, blob) for a, blob in zip(addresses, blobs)) if span is not None]
    workbufs = workbuf_spans(rt)
    program_bits = {s.large_type for s in out if s.state == "inuse" and s.large_type}
    for span in out:
        if span.state == "manual":
            span.manual_use = "workbuf" if span.address in workbufs else \
                "gcprog" if span.base in program_bits else "stack"
    return out


def class_totals(spans: List[Span]) -> Dict[tuple, list]:
    """In-use spans per (size class, noscan): [elemsize of the first, spans, bytes, objects, slots,
    bytes in use, free slot bytes, tail, heap bits, inline mark bits]."""
    totals: Dict[tuple, list] = {}
    for s in spans:
        if s.state != "inuse":
            continue
        t = totals.get((s.sizeclass, s.noscan))
        if t is None:
            t = totals[(s.sizeclass, s.noscan)] = [s.elemsize, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        free = s.nelems - s.alloc_count
        t[1] += 1
        t[2] += s.bytes
        t[3] += s.alloc_count
        t[4] += s.nelems
        t[5] += s.alloc_count * s.elemsize
        t[6] += (free if free > 0 else 0) * s.elemsize
        t[7] += s.tail_bytes
        t[8] += s.heap_bits_bytes
        t[9] += s.inline_mark_bytes
    return totals


def group_totals(spans: List[Span]) -> Dict[str, tuple]:
    """(spans, bytes) per group as go-heap shows them: in use, stacks, GC work buffers, unrolled
    GC programs, free."""
    totals: Dict[str, list] = {}
    for s in spans:
        t = totals.setdefault(s.manual_use or s.state, [0, 0])
        t[0] += 1
        t[1] += s.bytes
    return {group: tuple(t) for group, t in totals.items()}


def object_totals(spans: List[Span], cached: Set[int]) -> Tuple[int, int]:
    """(objects in in-use spans, those of them in spans cached by a P (mcache_spans)): runtime.MemStats
    counts a small object only when its span leaves a P's mcache (mcache.go refill/releaseAll)."""
    inuse = [s for s in spans if s.state == "inuse"]
    return (sum(s.alloc_count for s in inuse),
            sum(s.alloc_count - s.alloc_count_before_cache for s in inuse if s.address in cached))


class SpanMaker:
    """Decodes mspan structs into Spans, with the per-binary lookups done once
    (they would otherwise cost more than the decoding, at 150 000 spans)."""

    def __init__(self, rt: GoRuntime):
        self.decoder = span_decoder(rt)
        self.size = self.decoder.size
        self.page = page_size(rt)
        self.states = state_names(rt)
        self.reserve = span_reserve(rt)

    def __call__(self, address: int, data: Optional[bytes]) -> Optional[Span]:
        values = self.decoder.decode_ordered(data) if data is not None else None
        if values is None:
            return None
        (start, npages, freeindex, nelems, alloc_bits, gcmark_bits, alloc_count, spanclass, state,
         before_cache, elemsize, limit, large_type) = values
        span = Span(address, start, npages, npages * self.page, self.states.get(state, f"state({state})"),
                    spanclass, spanclass >> 1, bool(spanclass & 1), elemsize, nelems, alloc_count, freeindex,
                    alloc_bits, gcmark_bits, before_cache or 0, limit, large_type)
        if span.state == "inuse":
            span.heap_bits_bytes, span.inline_mark_bytes = self.reserve.reserved(span)
        return span


@per_binary
def span_maker(rt: GoRuntime) -> SpanMaker:
    return SpanMaker(rt)


def workbuf_spans(rt: GoRuntime) -> Set[int]:
    """Addresses of the manual spans holding GC work buffers (work.wbufSpans.free and .busy)."""
    work = rt.optional_layout("runtime.workType")
    address = rt.symbol_address("runtime.work")
    if work is None or address is None or not work.has("wbufSpans"):
        return set()
    found: Set[int] = set()
    next_offset = rt.layout("runtime.mspan").offset("next")
    for which in ("free", "busy"):
        path = f"wbufSpans.{which}.first"
        if not work.has(path):
            continue
        span = rt.target.try_read(address + work.offset(path), 8)
        span = struct.unpack("<Q", span)[0] if span else 0
        while span and span not in found and len(found) < MAX_LIST:
            found.add(span)
            raw = rt.target.try_read(span + next_offset, 8)
            span = struct.unpack("<Q", raw)[0] if raw else 0
    return found


def mcache_spans(rt: GoRuntime) -> Set[int]:
    """Spans cached right now in some P's mcache (p.mcache.alloc[spanclass])."""
    p_layout, mcache = rt.layout("runtime.p"), rt.layout("runtime.mcache")
    alloc = mcache.member("alloc")
    count = alloc.size // 8
    cached: Set[int] = set()
    for p in rt.all_p():
        raw = rt.target.try_read(p + p_layout.offset("mcache"), 8) if p else None
        cache = struct.unpack("<Q", raw)[0] if raw else 0
        spans = rt.target.try_read(cache + alloc.offset, 8 * count) if cache else None
        if spans:
            cached.update(s for s in struct.unpack(f"<{count}Q", spans) if s)
    return cached


@dataclass(frozen=True)
class SpanParts:
    """An in-use span's bytes as the runtime lays them out (mheap.go initSpan): the object slots
    from the base, then the true tail no slot fits in, then what the runtime reserves at the end:
    heap bits (1 bit a word, objects of at most 512 B with pointers, 1.22+) and, last, the inline
    mark bits of the Green Tea GC (objects of 16 to 512 B)."""

    slots: int
    tail: int
    heap_bits: int
    inline_marks: int


@dataclass(frozen=True)
class SpanReserve:
    """What this binary's initSpan reserves at the end of a small-object span, decided once per
    binary by what it has: no heapArena.bitmap means heap bits in the span (1.22+), objects of at
    most header_from bytes; a spanInlineMarkBits type means Green Tea's inline marks."""

    header_from: int   # minSizeForMallocHeader; 0 when the arena keeps the bitmap (1.21)
    inline_marks: int  # sizeof(spanInlineMarkBits); 0 without the Green Tea GC

    def reserved(self, span: Span) -> Tuple[int, int]:
        """(heap bits, inline mark bits) bytes at the end of this in-use span."""
        if not span.sizeclass or span.elemsize > self.header_from:
            return 0, 0
        heap_bits = 0 if span.noscan else span.bytes // 64  # 1 bit per 8-byte word
        return heap_bits, self.inline_marks if span.elemsize >= 16 else 0


@per_binary
def span_reserve(rt: GoRuntime) -> SpanReserve:
    if rt.layout("runtime.heapArena").has("bitmap"):
        return SpanReserve(0, 0)
    inline = rt.optional_layout("runtime.spanInlineMarkBits")
    return SpanReserve(rt.constant(MIN_SIZE_FOR_MALLOC_HEADER), inline.size if inline is not None else 0)


def span_parts(span: Span) -> SpanParts:
    """The span's bytes split as initSpan split them (only in-use spans have slots)."""
    return SpanParts(span.nelems * span.elemsize, span.tail_bytes, span.heap_bits_bytes, span.inline_mark_bytes)


def pointer_bits_location(rt: GoRuntime, span: Span) -> str:
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
    if rt.layout("runtime.heapArena").has("bitmap"):
        return "arena bitmap"
    if span.sizeclass == 0:
        return "largeType"
    header_from = rt.constant(MIN_SIZE_FOR_MALLOC_HEADER)
    if span.elemsize > header_from:
        return "malloc header"
    if green_tea(rt) and span.npages == 1 and span.elemsize >= 16:
        return "span heap bits + inline marks"
    return "span heap bits"


@per_binary
def green_tea(rt: GoRuntime) -> bool:
    """True when the binary was built with the Green Tea GC (its inline mark bits type exists)."""
    return rt.optional_layout("runtime.spanInlineMarkBits") is not None
