"""Roots the GC finds through the specials of spans (markrootSpans, mgcmark.go): an object
with a finalizer, and what a cleanup or a weak handle keeps.

A span with specials has the bit of its first page set in its arena's pageSpecials; its
mspan.specials is a list sorted by offset. For a finalizer the GC scans the object (not
marking it, or it would never be finalized) and the finalizer's closure: everything the
object reaches survives the next GC, and the object itself too, since the GC queues its
finalizer instead of freeing it. So here the object is a root word of its own, named
"finalizer of 0x…". A cleanup (Go 1.24+) keeps its closure and argument, a weak handle
(1.24+) its handle: roots of kind "finalizer" and "runtime". Lists are walked with a
bound, so a corrupt or cyclic list ends.
"""

from __future__ import annotations

import struct
from typing import List, Set

import numpy as np

from gdbgomem.runtime.arenas import all_arenas
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.roots import RootWords
from gdbgomem.runtime.manifest import (
    KIND_SPECIAL_CLEANUP, KIND_SPECIAL_FINALIZER, KIND_SPECIAL_WEAK_HANDLE, PAGES_PER_ARENA,
)
from gdbgomem.runtime.spans import spans_by_address

MAX_SPECIALS = 1 << 20   # specials read in all; a longer walk is a corrupt (or cyclic) list


def special_roots(rt: GoRuntime) -> List[RootWords]:
    """One RootWords per finalizer, cleanup and weak handle."""
    special = rt.optional_layout("runtime.special")
    if special is None:
        return []
    kinds = {rt.constant(KIND_SPECIAL_FINALIZER): "finalizer", rt.constant(KIND_SPECIAL_CLEANUP): "cleanup",
             rt.constant(KIND_SPECIAL_WEAK_HANDLE): "weak handle"}
    words = {kind: _root_offsets(rt, kind) for kind in ("finalizer", "cleanup", "weak handle")}
    offset_format = "<Q" if special.member("offset").size == 8 else "<H"   # uint16 up to Go 1.22
    spans = spans_by_address(rt)
    with_specials = [spans[a] for a in _spans_with_specials(rt) if a in spans]
    specials_at = rt.layout("runtime.mspan").offset("specials")
    heads = rt.target.read_many([(span.address + specials_at, 8) for span in with_specials])
    roots: List[RootWords] = []
    seen: Set[int] = set()
    for span, raw in zip(with_specials, heads):
        at = struct.unpack("<Q", raw)[0] if raw else 0
        while at and at not in seen and len(seen) < MAX_SPECIALS:
            seen.add(at)
            head = rt.target.try_read(at, special.size)
            if head is None:
                break
            kind = kinds.get(head[special.offset("kind")])
            if kind is not None and span.elemsize:
                offset = struct.unpack_from(offset_format, head, special.offset("offset"))[0]
                # offset is where the pointer given to SetFinalizer points (past a malloc header)
                roots.append(_root(rt, at, kind, span.base + offset, words[kind]))
            at = struct.unpack_from("<Q", head, special.offset("next"))[0]
    return roots


def _spans_with_specials(rt: GoRuntime) -> List[int]:
    """The mspans whose first page has its pageSpecials bit set, in every arena."""
    pages = rt.constant(PAGES_PER_ARENA)
    at = rt.layout("runtime.heapArena").offset("pageSpecials")
    arenas = [a for a in all_arenas(rt) if a.address and a.page_spans]
    bitmaps = rt.target.read_many([(a.address + at, pages // 8) for a in arenas])
    found = []
    for arena, bits in zip(arenas, bitmaps):
        if bits is None:
            continue
        for page in np.flatnonzero(np.unpackbits(np.frombuffer(bits, np.uint8), bitorder="little")).tolist():
            if page < len(arena.page_spans) and arena.page_spans[page]:
                found.append(arena.page_spans[page])
    return found


def _root_offsets(rt: GoRuntime, kind: str) -> List[int]:
    """Where in its special struct a kind keeps the words the GC scans as roots."""
    if kind == "finalizer":
        layout = rt.optional_layout("runtime.specialfinalizer")
        return [layout.offset("fn")] if layout is not None else []
    if kind == "weak handle":
        layout = rt.optional_layout("runtime.specialWeakHandle")
        return [layout.offset("handle")] if layout is not None else []
    layout = rt.optional_layout("runtime.specialCleanup")   # fn (1.24-1.25) or a cleanupFn (1.26+)
    if layout is None:
        return []
    first = layout.offset("cleanup") if layout.has("cleanup") else layout.offset("fn")
    return list(range(first, layout.offset("id"), 8))


def _root(rt: GoRuntime, at: int, kind: str, obj: int, word_offsets: List[int]) -> RootWords:
    """The root words of one special: those the GC scans, and for a finalizer the object itself
    (obj: the pointer to it, in its slot)."""
    raw = rt.target.read_many([(at + o, 8) for o in word_offsets])
    addresses = [at + o for o, r in zip(word_offsets, raw) if r]
    values = [struct.unpack("<Q", r)[0] for r in raw if r]
    types = [0] * len(values)
    if kind == "finalizer":  # ot, the object's pointer type, names what the object is
        ot = rt.target.try_read(at + rt.layout("runtime.specialfinalizer").offset("ot"), 8)
        addresses.append(at)
        values.append(obj)
        types.append(struct.unpack("<Q", ot)[0] if ot else 0)
    return RootWords("runtime" if kind == "weak handle" else "finalizer", f"{kind} of 0x{obj:x}",
                     np.array(addresses, np.uint64), np.array(values, np.uint64), precise=True,
                     pointer_types=np.array(types, np.uint64))
