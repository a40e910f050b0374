"""Objects and bytes per type, for the reachable objects and for the garbage apart.

An object's type is known where the runtime keeps it (1.22+): the malloc header of an
object over 512 bytes with pointers, or mspan.largeType of a large one. The header names
the element type, so a slot holding two or more whole values of it is the backing array
of a slice and is named []T, as Go prints it. Other objects are grouped by size class
and scan/noscan. Bytes are slot bytes (the size class), what the object costs the heap.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.graph import HeapGraph, heap_graph
from gdbgomem.runtime.abi_types import MALLOC_HEADER, type_name



@dataclass
class TypeRow:
    """Objects of one type (or of one untyped size class)."""

    name: str
    type_name: Optional[str]    # None: untyped
    size_class: Optional[int]   # untyped rows: the size class (0: large objects)
    noscan: Optional[bool]
    objects: int = 0
    bytes: int = 0

    def to_json(self) -> dict:
        out = {"type": self.type_name, "objects": self.objects, "bytes": self.bytes}
        if self.type_name is None:
            out.update(size_class=self.size_class, noscan=self.noscan)
        return out


@dataclass
class TypeCensus:
    """The heap's objects per type: reachable ones, and the garbage apart."""

    graph: HeapGraph
    live: List[TypeRow]
    garbage: List[TypeRow]


@per_stop
def type_census(rt: GoRuntime) -> TypeCensus:
    graph = heap_graph(rt)
    return TypeCensus(graph, tally(rt, graph, graph.reached), tally(rt, graph, graph.unreached))


def tally(rt: GoRuntime, graph: HeapGraph, which: np.ndarray) -> List[TypeRow]:
    """Rows for the slots where `which` is set, most bytes first."""
    slots = graph.slots
    ids = np.flatnonzero(which)
    span = slots.span_of_slot(ids)
    typ = graph.pointers.slot_type[ids]
    elemsize = slots.elemsize[span]
    sizeclass = slots.sizeclass
    untyped = typ == 0
    # untyped objects group by span class (size class and noscan); typed ones by type and slot size
    spanclass = (2 * sizeclass + slots.noscan)[span[untyped]]
    groups: List[Tuple[int, int, int, bool, int, int]] = []  # typ, elemsize, sizeclass, noscan, objects, bytes
    counts = np.bincount(spanclass)
    sizes = np.bincount(spanclass, weights=elemsize[untyped])
    for key in np.flatnonzero(counts).tolist():
        groups.append((0, int(sizes[key] // counts[key]), key // 2, bool(key % 2), int(counts[key]), int(sizes[key])))
    if (~untyped).any():
        types, type_index = np.unique(typ[~untyped], return_inverse=True)
        sizes_seen, size_index = np.unique(elemsize[~untyped], return_inverse=True)
        large = sizeclass[span[~untyped]] == 0
        pair = (type_index.ravel() * len(sizes_seen) + size_index.ravel()) * 2 + large
        pairs, pair_count = np.unique(pair, return_counts=True)
        for p, n in zip(pairs.tolist(), pair_count.tolist()):
            size = int(sizes_seen[(p // 2) % len(sizes_seen)])
            groups.append((int(types[p // 2 // len(sizes_seen)]), size, 0 if p % 2 else 1, False, n, n * size))
    rows: Dict[str, TypeRow] = {}
    names = TypeNames(rt)
    for t, size, cls, nos, n, nbytes in groups:
        row = names.row(t, size, cls, nos)
        row = rows.setdefault(row.name, row)
        row.objects += n
        row.bytes += nbytes
    return sorted(rows.values(), key=lambda r: (-r.bytes, r.name))


class TypeNames:
    """Type names and sizes, each *abi.Type read once."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.types: Dict[int, Tuple[Optional[str], int]] = {}

    def row(self, typ: int, elemsize: int, sizeclass: int, noscan: bool) -> TypeRow:
        if typ:
            name, size = self.info(typ)
            if name is not None:
                room = elemsize - (MALLOC_HEADER if sizeclass else 0)
                if size and room // size >= 2:
                    name = f"[]{name}"
                return TypeRow(name, name, None, None)
        kind = "noscan" if noscan else "scan"
        label = f"({elemsize} B objects, {kind})" if sizeclass else f"(large objects, {kind})"
        return TypeRow(label, None, sizeclass, noscan)

    def info(self, typ: int) -> Tuple[Optional[str], int]:
        """(name, size) of a type."""
        if typ not in self.types:
            layout = self.rt.layout("internal/abi.Type")
            raw = self.rt.target.try_read(typ + layout.offset("Size_"), 8)
            size = struct.unpack("<Q", raw)[0] if raw else 0
            self.types[typ] = (type_name(self.rt, typ), size)
        return self.types[typ]


ARRAY_FLAG = 1 << 62   # set in a type key when the slot holds a slice's backing array of the type


def type_keys(rt: GoRuntime, graph: HeapGraph) -> Tuple[np.ndarray, Dict[int, str]]:
    """Per slot, a key equal for objects printed as one type (the *abi.Type, flagged for []T;
    minus the span class plus one for untyped objects), and the name of each key in use."""
    slots = graph.slots
    span = slots.span_of_slot(np.arange(slots.count))
    sizeclass = slots.sizeclass[span]
    elemsize = slots.elemsize[span].astype(np.int64)
    typ = graph.pointers.slot_type.astype(np.int64)
    keys = np.where(typ != 0, typ, -(2 * sizeclass + slots.noscan[span] + 1))
    names = TypeNames(rt)
    typed = np.flatnonzero(typ)
    if len(typed):
        kinds, which = np.unique(typ[typed], return_inverse=True)
        sizes = np.array([names.info(int(t))[1] for t in kinds.tolist()], dtype=np.int64)[which.ravel()]
        room = elemsize[typed] - np.where(sizeclass[typed] != 0, MALLOC_HEADER, 0)
        array = (sizes > 0) & (room // np.maximum(sizes, 1) >= 2)
        keys[typed[array]] |= ARRAY_FLAG
    first = {int(k): int(s) for k, s in zip(*np.unique(keys, return_index=True))}
    label = {}
    for key, slot in first.items():
        t = key & ~ARRAY_FLAG if key > 0 else 0
        label[key] = names.row(t, int(elemsize[slot]), int(sizeclass[slot]), bool(slots.noscan[span[slot]])).name
    return keys, label
