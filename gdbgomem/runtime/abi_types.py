"""Go type descriptors (internal/abi.Type) read from memory: a type's name, size, pointer
mask and fields, as the runtime and reflect read them (type.go, internal/abi/type.go).

A malloc header or mspan.largeType points at one of these; so do the interface words of
a value. Names are nameOffs into the module's types section (resolveNameOff); pointer
masks are GCData, or, for types with over 1 KiB of pointer data since Go 1.24, a mask
the runtime builds on first use from the array element or the struct fields. Up to 1.23,
a type with over 16 384 words of pointer data has a GC program in GCData instead
(gc_program), and 1.22-1.23 give a large object of such a type a stand-in type, without a
name, whose GCData is the program unrolled (TFlagUnrolledBitmap).
"""

from __future__ import annotations

import struct
from typing import List, NamedTuple, Optional, Tuple

from gdbgomem.runtime.cache import per_binary
from gdbgomem.runtime.gc_program import read_gc_program, run_gc_program
from gdbgomem.runtime.goruntime import GoRuntime

MALLOC_HEADER = 8  # the *abi.Type before a typed object of a size class (Go 1.22+)
MAX_TYPE_NAME = 1 << 12
TFLAG_EXTRA_STAR = 1 << 1        # abi.TFlagExtraStar: the name is stored with a leading '*'
# one TFlag bit, two meanings: abi.TFlagGCMaskOnDemand (1.24+): GCData points to a pointer to
# the mask, built on first use; abi.TFlagUnrolledBitmap (1.22-1.23): a large object's stand-in type
TFLAG_BIT_4 = 1 << 4
KIND_GC_PROG = 1 << 6  # abi.KindGCProg in Kind_ (to 1.23): GCData is a GC program
DIRECT_IFACE = 1 << 5  # abi.KindDirectIface in Kind_ (to 1.25), abi.TFlagDirectIface in TFlag (1.26+)
# abi.Kind values (reflect.Kind's, fixed by Go's API) and the mask of Kind_ that holds them
KIND_ARRAY, KIND_INTERFACE, KIND_STRUCT, KIND_MASK = 17, 20, 25, 31
MAX_MASK_STEPS = 1 << 16   # types read while building one mask (a corrupt type graph ends)
MAX_STRUCT_FIELDS = 1 << 16
MAX_FIELD_DEPTH = 32       # nested structs and arrays followed to name one offset


def type_pointer_mask(rt: GoRuntime, typ: int, words: int) -> Optional[List[bool]]:
    """Pointer words of `words` words of memory holding values of type typ (its mask, tiled)."""
    one = _type_mask(rt, typ)
    if one is None:
        return None
    if not one:
        return [False] * words
    whole = (words // len(one)) * len(one)  # only whole values of the type fit; the rest is slack
    return [one[i % len(one)] if i < whole else False for i in range(words)]


class TypeHead(NamedTuple):
    size: int
    ptrbytes: int
    gcdata: int
    tflag: int
    kind: int        # the abi.Kind, flags masked off
    direct: bool     # a value of it is stored in an interface's data word itself (pointer-shaped)
    mask_form: str   # what GCData holds: "mask", "on demand", "program" or "unrolled" (see the module doc)


def _type_mask(rt: GoRuntime, typ: int) -> Optional[List[bool]]:
    """One bool per word of a value of type typ; [] for a pointer-free or empty type."""
    head = _type_head(rt, typ)
    if head is None:
        return None
    size, ptrbytes, gcdata = head.size, head.ptrbytes, head.gcdata
    if ptrbytes == 0 or not size:
        return []
    if size % 8:
        return None
    if head.mask_form == "on demand":  # GCData points at where the runtime keeps the mask once built
        inner = rt.target.try_read(gcdata, 8)
        gcdata = struct.unpack("<Q", inner)[0] if inner else 0
        if not gcdata:  # not built yet (no GC has needed it): build it as runtime.buildGCMask does
            mask = [False] * (size // 8)
            return mask if _build_mask(rt, typ, mask, 0, [MAX_MASK_STEPS]) else None
    if not gcdata:
        return None
    if head.mask_form == "program":
        return _program_mask(rt, gcdata, size // 8)
    type_words = min(ptrbytes // 8, size // 8)
    raw = rt.target.try_read(gcdata, (type_words + 7) // 8)
    if raw is None:
        return None
    bits = int.from_bytes(raw, "little")
    return [bool(bits >> i & 1) if i < type_words else False for i in range(size // 8)]


def _program_mask(rt: GoRuntime, gcdata: int, words: int) -> Optional[List[bool]]:
    """The mask a GC program emits, padded to the type's words (it stops at the last pointer)."""
    program = read_gc_program(rt.target, gcdata)
    bits = run_gc_program(program, words) if program is not None else None
    return bits + [False] * (words - len(bits)) if bits is not None else None


def _type_head(rt: GoRuntime, typ: int) -> Optional[TypeHead]:
    """The fields of an abi.Type that say how big it is, where its pointers are and what it is."""
    layout = rt.layout("internal/abi.Type")
    raw = rt.target.try_read(typ, layout.size)
    if raw is None:
        return None
    word = lambda name: struct.unpack_from("<Q", raw, layout.offset(name))[0]  # noqa: E731
    tflag, kind = raw[layout.offset("TFlag")], raw[layout.offset("Kind_")]
    direct = bool((tflag | kind) & DIRECT_IFACE)
    return TypeHead(word("Size_"), word("PtrBytes"), word("GCData"), tflag, kind & KIND_MASK, direct,
                    _mask_form(rt, tflag, kind))


def _mask_form(rt: GoRuntime, tflag: int, kind: int) -> str:
    if mask_on_demand(rt):
        return "on demand" if tflag & TFLAG_BIT_4 else "mask"
    if tflag & TFLAG_BIT_4:
        return "unrolled"
    return "program" if kind & KIND_GC_PROG else "mask"


@per_binary
def mask_on_demand(rt: GoRuntime) -> bool:
    """Go 1.24+: TFlag bit 4 means the mask is built on demand (and no type has a GC program)."""
    return rt.version >= (1, 24)


def is_unrolled_stand_in(rt: GoRuntime, typ: int) -> bool:
    """Go 1.22-1.23: typ is the nameless type the runtime made for one large object of a type with
    a GC program, to hold that program unrolled (its GCData is the mask)."""
    head = _type_head(rt, typ)
    return head is not None and head.mask_form == "unrolled"


def _build_mask(rt: GoRuntime, typ: int, mask: List[bool], at: int, budget: List[int]) -> bool:
    """Set the pointer words of a value of typ at word `at` of mask, from the type's own mask or,
    for a type whose mask is built on demand, from its array element or struct fields
    (runtime.buildGCMask, 1.24+). False when a type cannot be read or the budget runs out."""
    budget[0] -= 1
    head = _type_head(rt, typ)
    if head is None or budget[0] < 0:
        return False
    size, ptrbytes, kind = head.size, head.ptrbytes, head.kind
    if ptrbytes == 0:
        return True
    if head.mask_form != "on demand":
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
        if elem_head is None or not elem_head.size or elem_head.size * count != size:
            return False
        step = elem_head.size // 8
        first = [False] * step
        if not _build_mask(rt, elem, first, 0, budget):
            return False
        for i in range(count):  # the element's mask, once per element
            mask[at + i * step:at + (i + 1) * step] = first
        return True
    if kind == KIND_STRUCT:
        fields = _struct_fields(rt, typ)
        if fields is None:
            return False
        for _name, ftyp, offset in fields:
            # a field without pointers may sit at any offset; one with pointers is word-aligned
            if offset >= size or not _build_mask(rt, ftyp, mask, at + offset // 8, budget):
                return False
        return True
    return False


def _struct_fields(rt: GoRuntime, typ: int) -> Optional[List[Tuple[int, int, int]]]:
    """(address of the name, type, offset) of each field of an abi.StructType."""
    struct_type, field = rt.layout("internal/abi.StructType"), rt.layout("internal/abi.StructField")
    raw = rt.target.try_read(typ + struct_type.offset("Fields"), 16)
    if raw is None:
        return None
    fields, count = struct.unpack("<QQ", raw)
    table = rt.target.try_read(fields, count * field.size) if count <= MAX_STRUCT_FIELDS else None
    if table is None:
        return None
    word = lambda i, name: struct.unpack_from("<Q", table, i * field.size + field.offset(name))[0]  # noqa: E731
    return [(word(i, "Name"), word(i, "Typ"), word(i, "Offset")) for i in range(count)]


def type_name(rt: GoRuntime, typ: int) -> Optional[str]:
    """The name of an abi.Type: Str is a nameOff into the module's types section (type.go, resolveNameOff)."""
    layout = rt.layout("internal/abi.Type")
    raw = rt.target.try_read(typ, layout.size)
    if raw is None:
        return None
    name_off = struct.unpack_from("<i", raw, layout.offset("Str"))[0]
    tflag = raw[layout.offset("TFlag")]
    if _mask_form(rt, tflag, raw[layout.offset("Kind_")]) == "unrolled":  # a stand-in: it has no name
        return None
    types = rt.moduledata_word("types")
    if types is None:
        return None
    text = _read_name(rt, types + name_off)
    if text is None:
        return None
    return text[1:] if tflag & TFLAG_EXTRA_STAR and text.startswith("*") else text


def _read_name(rt: GoRuntime, at: int) -> Optional[str]:
    """An abi.Name: one flag byte, then a uvarint length, then the bytes."""
    head = rt.target.try_read(at, 11)
    if not head:
        return None
    length, shift, i = 0, 0, 1
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
    return name.decode("utf-8", "replace") if name is not None else None


def field_path(rt: GoRuntime, typ: int, offset: int) -> str:
    """Where offset lies in a value of type typ, as Go source would reach it: ".payload",
    "[3].next", ".extra" for an interface's data word; "+0x18" past what the type says (or
    for a type that cannot be read)."""
    path = ""
    for _ in range(MAX_FIELD_DEPTH):
        head = _type_head(rt, typ)
        if head is None:
            break
        kind = head.kind
        if kind == KIND_INTERFACE and offset == 8:  # the data word: Go source reaches it by the field
            return path
        if kind == KIND_ARRAY:
            array = rt.layout("internal/abi.ArrayType")
            raw = rt.target.try_read(typ + array.offset("Elem"), 8)
            elem = struct.unpack("<Q", raw)[0] if raw else 0
            elem_head = _type_head(rt, elem) if elem else None
            if elem_head is None or not elem_head.size:
                break
            path += f"[{offset // elem_head.size}]"
            typ, offset = elem, offset % elem_head.size
            continue
        found = _field_at(rt, typ, offset) if kind == KIND_STRUCT else None
        if found is None:
            break
        name, typ, offset = found
        path += f".{name}"
    return path + (f"+0x{offset:x}" if offset else "")


def _field_at(rt: GoRuntime, typ: int, offset: int) -> Optional[Tuple[str, int, int]]:
    """(name, type, offset within it) of the struct field holding offset."""
    for i, (name, ftyp, start) in enumerate(_struct_fields(rt, typ) or []):
        head = _type_head(rt, ftyp)
        if head is not None and start <= offset < start + head.size:
            return _read_name(rt, name) or f"field{i}", ftyp, offset - start
    return None
