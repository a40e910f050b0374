"""Address -> span -> object: which heap object holds an address, and its pointer words.

The span is found in O(1) as the runtime's spanOf does (mheap.go): arena
index -> mheap_.arenas[l1][l2] -> heapArena.spans[page]. The object's pointer
bitmap is read where the binary keeps it (see spans.pointer_bits_location).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Optional

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.abi_types import is_unrolled_stand_in, type_name, type_pointer_mask
from gdbgomem.runtime.arena_index import arena_index
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import (ARENA_L1_BITS, ARENA_L2_BITS, HEAP_ARENA_BYTES,
                                       PAGES_PER_ARENA)
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.spans import Span, green_tea, pointer_bits_location, span_maker

INLINE_MARK_BYTES = 128   # sizeof(spanInlineMarkBits), Green Tea GC (mgcmark_greenteagc.go)
# pointer words decoded per object: a 512 KiB prefix says what the object holds; a list for
# every word of a 1 GiB object (or of a corrupt elemsize) would cost seconds and say no more
MAX_POINTER_WORDS = 1 << 16


@dataclass
class HeapObject:
    """The object slot of a span that holds an address."""

    span: Span
    index: int
    base: int
    offset: int               # of the address inside the object
    allocated: bool
    marked: bool
    type_address: Optional[int] = None   # *abi.Type from a malloc header or largeType
    type_name: Optional[str] = None
    pointer_words: Optional[List[bool]] = None  # one per word: True = pointer (None: unknown here)
    pointer_source: str = "-"
    notes: List[str] = field(default_factory=list)


def arena_of(rt: GoRuntime, address: int) -> Optional[int]:
    """The *heapArena covering address (mheap_.arenas[l1][l2]), None outside the heap."""
    l1_bits = rt.constant(ARENA_L1_BITS)
    l2_bits = rt.constant(ARENA_L2_BITS)
    index = arena_index(rt, address)
    l1, l2 = index >> l2_bits, index & ((1 << l2_bits) - 1)
    if l1 >= 1 << l1_bits:
        return None
    mheap = rt.layout("runtime.mheap")
    l2_table = rt.target.try_read(rt.global_address("runtime.mheap_") + mheap.offset("arenas") + 8 * l1, 8)
    l2_table = struct.unpack("<Q", l2_table)[0] if l2_table else 0
    if not l2_table:
        return None
    raw = rt.target.try_read(l2_table + 8 * l2, 8)
    return struct.unpack("<Q", raw)[0] if raw else None


def span_of(rt: GoRuntime, address: int) -> Optional[Span]:
    """The span whose pages hold address (any state), as runtime.spanOf finds it."""
    arena = arena_of(rt, address)
    if not arena:
        return None
    pages_per_arena = rt.constant(PAGES_PER_ARENA)
    spans_at = arena + rt.layout("runtime.heapArena").offset("spans")
    page = page_size(rt)
    raw = rt.target.try_read(spans_at + 8 * ((address // page) % pages_per_arena), 8)
    span_address = struct.unpack("<Q", raw)[0] if raw else 0
    if not span_address:
        return None
    make = span_maker(rt)
    return make(span_address, rt.target.try_read(span_address, make.size))


def object_at(rt: GoRuntime, span: Span, address: int) -> Optional[HeapObject]:
    """The object slot of an in-use span holding address; None past the last slot."""
    if span.state != "inuse" or not span.elemsize or not span.base <= address < span.base + span.nelems * span.elemsize:
        return None
    broken = [why for field_name, why in span.flaws.items() if field_name in ("nelems", "bytes")]
    if broken:  # slots computed from these fields would lie anywhere
        raise GoMemError(f"the mspan at 0x{span.address:x} is corrupt: {'; '.join(broken)}",
                         "the memory of the process or core is damaged here; go-spans lists the other spans")
    index = (address - span.base) // span.elemsize
    base = span.base + index * span.elemsize
    allocated = index < span.freeindex or _bit(rt, span.alloc_bits, index)
    obj = HeapObject(span, index, base, address - base, allocated, _bit(rt, span.gcmark_bits, index))
    _pointer_words(rt, obj)
    return obj


def _bit(rt: GoRuntime, bitmap: int, index: int) -> bool:
    raw = rt.target.try_read(bitmap + index // 8, 1) if bitmap else None
    return bool(raw and raw[0] & (1 << (index % 8)))


def _pointer_words(rt: GoRuntime, obj: HeapObject) -> None:
    span, words = obj.span, min(obj.span.elemsize // 8, MAX_POINTER_WORDS)
    if words < obj.span.elemsize // 8:
        obj.notes.append(f"pointer words of the first {8 * words // 1024} KiB only")
    where = pointer_bits_location(rt, span)
    obj.pointer_source = where
    if where.startswith("none"):
        obj.pointer_words = [False] * words
    elif where.startswith("span heap bits"):
        bitmap_size = span.bytes // 64
        bitmap = span.base + span.bytes - bitmap_size - (INLINE_MARK_BYTES if green_tea(rt) and span.elemsize >= 16 else 0)
        data = rt.target.try_read(bitmap, bitmap_size)
        if data is not None:
            first = (obj.base - span.base) // 8
            bits = int.from_bytes(data, "little")
            obj.pointer_words = [bool(bits >> (first + i) & 1) for i in range(words)]
    elif where in ("malloc header", "largeType"):
        raw = rt.target.try_read(obj.base, 8) if where == "malloc header" else None
        typ = struct.unpack("<Q", raw)[0] if raw else span.large_type
        header = 8 if where == "malloc header" else 0
        if typ:
            obj.type_address, obj.type_name = typ, type_name(rt, typ)
            if not header and is_unrolled_stand_in(rt, typ):
                obj.notes.append("the runtime keeps no type for this object: largeType is a stand-in holding "
                                 "the pointer mask its type's GC program unrolls to (Go 1.22-1.23)")
            mask = type_pointer_mask(rt, typ, (span.elemsize - header) // 8)
            if mask is not None:
                obj.pointer_words = ([False] if header else []) + mask
        if header:
            obj.notes.append("the first word is the malloc header (*abi.Type); the object's data follows it")
    elif where == "arena bitmap":
        obj.pointer_words = _arena_bitmap_words(rt, obj.base, words)
        if obj.pointer_words is not None and not obj.allocated:
            obj.notes.append("the arena bitmap of a free slot is not maintained: its bits may be junk")


def _arena_bitmap_words(rt: GoRuntime, base: int, words: int) -> Optional[List[bool]]:
    """Up to Go 1.21: heapArena.bitmap holds one bit per heap word of the arena,
    little-endian within each uintptr (mbitmap.go header comment)."""
    arena = arena_of(rt, base)
    if not arena:
        return None
    arena_words = rt.constant(HEAP_ARENA_BYTES) // 8
    first = (base // 8) % arena_words
    start, end = first // 8, (first + words + 7) // 8
    data = rt.target.try_read(arena + rt.layout("runtime.heapArena").offset("bitmap") + start, end - start)
    if data is None:
        return None
    bits = int.from_bytes(data, "little") >> (first % 8)
    return [bool(bits >> i & 1) for i in range(words)]
