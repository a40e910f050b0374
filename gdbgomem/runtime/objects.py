"""Address -> span -> object: which heap object holds an address, and its pointer words.

The span is found in O(1) as the runtime's spanOf does (mheap.go): arena
index -> mheap_.arenas[l1][l2] -> heapArena.spans[page]. The object's pointer
bitmap is read where the binary keeps it (see spans.pointer_bits_location).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.arena_index import arena_index
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import (ARENA_L1_BITS, ARENA_L2_BITS, HEAP_ARENA_BYTES,
                                       PAGES_PER_ARENA)
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.spans import Span, green_tea, pointer_bits_location, span_maker

INLINE_MARK_BYTES = 128   # sizeof(spanInlineMarkBits), Green Tea GC (mgcmark_greenteagc.go)
MAX_TYPE_NAME = 1 << 12
# pointer words decoded per object: a 512 KiB prefix says what the object holds; a list for
# every word of a 1 GiB object (or of a corrupt elemsize) would cost seconds and say no more
MAX_POINTER_WORDS = 1 << 16
TFLAG_EXTRA_STAR = 1 << 1        # abi.TFlagExtraStar: the name is stored with a leading '*'
TFLAG_GC_MASK_ON_DEMAND = 1 << 4  # abi.TFlagGCMaskOnDemand (1.24+): GCData points to a pointer
# abi.Kind values (reflect.Kind's, fixed by Go's API) and the mask of Kind_ that holds them
KIND_ARRAY, KIND_STRUCT, KIND_MASK = 17, 25, 31
MAX_MASK_STEPS = 1 << 16   # types read while building one mask (a corrupt type graph ends)
MAX_STRUCT_FIELDS = 1 << 16


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


def type_pointer_mask(rt: GoRuntime, typ: int, words: int) -> Optional[List[bool]]:
    """Pointer words of `words` words of memory holding values of type typ (its mask, tiled)."""
    one = _type_mask(rt, typ)
    if one is None:
        return None
    if not one:
        return [False] * words
    whole = (words // len(one)) * len(one)  # only whole values of the type fit; the rest is slack
    return [one[i % len(one)] if i < whole else False for i in range(words)]


def _type_mask(rt: GoRuntime, typ: int) -> Optional[List[bool]]:
    """One bool per word of a value of type typ; [] for a pointer-free or empty type."""
    head = _type_head(rt, typ)
    if head is None:
        return None
    size, ptrbytes, gcdata, tflag, _kind = head
    if ptrbytes == 0 or not size:
        return []
    if size % 8:
        return None
    if tflag & TFLAG_GC_MASK_ON_DEMAND:  # GCData points at where the runtime keeps the mask once built
        inner = rt.target.try_read(gcdata, 8)
        gcdata = struct.unpack("<Q", inner)[0] if inner else 0
        if not gcdata:  # not built yet (no GC has needed it): build it as runtime.buildGCMask does
            mask = [False] * (size // 8)
            return mask if _build_mask(rt, typ, mask, 0, [MAX_MASK_STEPS]) else None
    if not gcdata:
        return None
    type_words = min(ptrbytes // 8, size // 8)
    raw = rt.target.try_read(gcdata, (type_words + 7) // 8)
    if raw is None:
        return None
    bits = int.from_bytes(raw, "little")
    return [bool(bits >> i & 1) if i < type_words else False for i in range(size // 8)]


def _type_head(rt: GoRuntime, typ: int) -> Optional[Tuple[int, int, int, int, int]]:
    """(Size_, PtrBytes, GCData, TFlag, kind) of an abi.Type."""
    layout = rt.layout("internal/abi.Type")
    raw = rt.target.try_read(typ, layout.size)
    if raw is None:
        return None
    word = lambda name: struct.unpack_from("<Q", raw, layout.offset(name))[0]  # noqa: E731
    return (word("Size_"), word("PtrBytes"), word("GCData"), raw[layout.offset("TFlag")],
            raw[layout.offset("Kind_")] & KIND_MASK)


def _build_mask(rt: GoRuntime, typ: int, mask: List[bool], at: int, budget: List[int]) -> bool:
    """Set the pointer words of a value of typ at word `at` of mask, from the type's own mask or,
    for a type whose mask is built on demand, from its array element or struct fields
    (runtime.buildGCMask, 1.24+). False when a type cannot be read or the budget runs out."""
    budget[0] -= 1
    head = _type_head(rt, typ)
    if head is None or budget[0] < 0:
        return False
    size, ptrbytes, _gcdata, tflag, kind = head
    if ptrbytes == 0:
        return True
    if not tflag & TFLAG_GC_MASK_ON_DEMAND:
        one = _type_mask(rt, typ)
        if one is None or at + len(one) > len(mask):
            return False
        mask[at:at + len(one)] = [a or b for a, b in zip(mask[at:at + len(one)], one)]
        return True
    if kind == KIND_ARRAY:
        array = rt.layout("internal/abi.ArrayType")
        raw = rt.target.try_read(typ + array.offset("Elem"), 8)
        length = rt.target.try_read(typ + array.offset("Len"), 8)
        if raw is None or length is None:
            return False
        elem, count = struct.unpack("<Q", raw)[0], struct.unpack("<Q", length)[0]
        elem_head = _type_head(rt, elem)
        if elem_head is None or not elem_head[0] or elem_head[0] * count != size:
            return False
        step = elem_head[0] // 8
        first = [False] * step
        if not _build_mask(rt, elem, first, 0, budget):
            return False
        for i in range(count):  # the element's mask, once per element
            mask[at + i * step:at + (i + 1) * step] = first
        return True
    if kind == KIND_STRUCT:
        struct_type, field = rt.layout("internal/abi.StructType"), rt.layout("internal/abi.StructField")
        raw = rt.target.try_read(typ + struct_type.offset("Fields"), 16)
        if raw is None:
            return False
        fields, count = struct.unpack("<QQ", raw)
        table = rt.target.try_read(fields, count * field.size) if count <= MAX_STRUCT_FIELDS else None
        if table is None:
            return False
        for i in range(count):
            ftyp = struct.unpack_from("<Q", table, i * field.size + field.offset("Typ"))[0]
            offset = struct.unpack_from("<Q", table, i * field.size + field.offset("Offset"))[0]
            # a field without pointers may sit at any offset; one with pointers is word-aligned
            if offset >= size or not _build_mask(rt, ftyp, mask, at + offset // 8, budget):
                return False
        return True
    return False


def type_name(rt: GoRuntime, typ: int) -> Optional[str]:
    """The name of an abi.Type: Str is a nameOff into the module's types section (type.go, resolveNameOff)."""
    layout = rt.layout("internal/abi.Type")
    raw = rt.target.try_read(typ, layout.size)
    if raw is None:
        return None
    name_off = struct.unpack_from("<i", raw, layout.offset("Str"))[0]
    tflag = raw[layout.offset("TFlag")]
    md = rt.layout("runtime.moduledata")
    types = rt.target.try_read(rt.global_address("runtime.firstmoduledata") + md.offset("types"), 8)
    if types is None:
        return None
    at = struct.unpack("<Q", types)[0] + name_off
    head = rt.target.try_read(at, 11)
    if not head:
        return None
    length, shift, i = 0, 0, 1  # abi.Name: one flag byte, then a uvarint length, then the bytes
    while i < len(head):
        b = head[i]
        length |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    if not 0 < length <= MAX_TYPE_NAME:
        return None
    name = rt.target.try_read(at + i, length)
    if name is None:
        return None
    text = name.decode("utf-8", "replace")
    return text[1:] if tflag & TFLAG_EXTRA_STAR and text.startswith("*") else text
