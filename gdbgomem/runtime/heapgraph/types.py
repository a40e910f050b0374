"""Objects and bytes per type, for the reachable objects and for the garbage apart.

An object's type is the runtime's own label where it keeps one (a malloc header or
mspan.largeType, 1.22+), else what propagation along typed pointers gave it (type_flow).
A slot holding two or more whole values of its type is the backing array of a slice and
is named []T, as Go prints it. Objects no typed pointer reaches are grouped by size class
and scan/noscan. Bytes are slot bytes (the size class), what the object costs the heap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.graph import HeapGraph, heap_graph
from gdbgomem.runtime.heapgraph.type_flow import SlotTypes, slot_types
from gdbgomem.runtime.heapgraph.type_plans import TypePlans
from gdbgomem.runtime.abi_types import MALLOC_HEADER


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
    types: SlotTypes
    live: List[TypeRow]
    garbage: List[TypeRow]


@per_stop
def type_census(rt: GoRuntime) -> TypeCensus:
    graph, types = heap_graph(rt), slot_types(rt)
    return TypeCensus(graph, types, tally(graph, types, graph.reached), tally(graph, types, graph.unreached))


def tally(graph: HeapGraph, types: SlotTypes, which: np.ndarray) -> List[TypeRow]:
    """Rows for the slots where `which` is set, most bytes first."""
    slots = graph.slots
    ids = np.flatnonzero(which)
    span = slots.span_of_slot(ids)
    typ = types.key[ids]
    elemsize = slots.elemsize[span]
    headed = types.headed[span]
    sizeclass = slots.sizeclass
    untyped = typ == 0
    # untyped objects group by span class (size class and noscan); typed ones by type and slot size
    spanclass = (2 * sizeclass + slots.noscan)[span[untyped]]
    groups: List[Tuple[int, int, int, int, bool, int, int]] = []  # typ, elemsize, header, class, noscan, n, bytes
    counts = np.bincount(spanclass)
    sizes = np.bincount(spanclass, weights=elemsize[untyped])
    for key in np.flatnonzero(counts).tolist():
        groups.append((0, int(sizes[key] // counts[key]), 0, key // 2, bool(key % 2), int(counts[key]),
                       int(sizes[key])))
    if (~untyped).any():
        kinds, type_index = np.unique(typ[~untyped], return_inverse=True)
        sizes_seen, size_index = np.unique(elemsize[~untyped], return_inverse=True)
        large = sizeclass[span[~untyped]] == 0
        pair = ((type_index.ravel() * len(sizes_seen) + size_index.ravel()) * 2 + headed[~untyped]) * 2 + large
        pairs, pair_count = np.unique(pair, return_counts=True)
        for p, n in zip(pairs.tolist(), pair_count.tolist()):
            size = int(sizes_seen[(p // 4) % len(sizes_seen)])
            groups.append((int(kinds[p // 4 // len(sizes_seen)]), size, MALLOC_HEADER if p // 2 % 2 else 0,
                           0 if p % 2 else 1, False, n, n * size))
    rows: Dict[str, TypeRow] = {}
    for t, size, header, cls, nos, n, nbytes in groups:
        row = type_row(types.plans, t, size, header, cls, nos)
        row = rows.setdefault(row.name, row)
        row.objects += n
        row.bytes += nbytes
    return sorted(rows.values(), key=lambda r: (-r.bytes, r.name))


def type_row(plans: TypePlans, typ: int, elemsize: int, header: int, sizeclass: int, noscan: bool) -> TypeRow:
    """The row of a slot's object: its type's (TypePlans.shown_name), else its size class's."""
    name = plans.shown_name(typ, elemsize - header) if typ else None
    if name is not None:
        return TypeRow(name, name, None, None)
    kind = "noscan" if noscan else "scan"
    label = f"({elemsize} B objects, {kind})" if sizeclass else f"(large objects, {kind})"
    return TypeRow(label, None, sizeclass, noscan)


ARRAY_FLAG = 1 << 62   # set in a type key when the slot holds a slice's backing array of the type


def type_keys(graph: HeapGraph, types: SlotTypes) -> Tuple[np.ndarray, Dict[int, str]]:
    """Per slot, a key equal for objects printed as one type (the type key, flagged for []T;
    minus the span class plus one for untyped objects), and the name of each key in use."""
    slots = graph.slots
    span = slots.span_of_slot(np.arange(slots.count))
    sizeclass = slots.sizeclass[span]
    elemsize = slots.elemsize[span].astype(np.int64)
    header = np.where(types.headed[span], MALLOC_HEADER, 0)
    typ = types.key.astype(np.int64)
    keys = np.where(typ != 0, typ, -(2 * sizeclass + slots.noscan[span] + 1))
    typed = np.flatnonzero(typ)
    if len(typed):
        kinds, which = np.unique(typ[typed], return_inverse=True)
        sizes = np.array([types.plans.size(int(t)) for t in kinds.tolist()], dtype=np.int64)[which.ravel()]
        room = elemsize[typed] - header[typed]
        array = (sizes > 0) & (room // np.maximum(sizes, 1) >= 2)
        keys[typed[array]] |= ARRAY_FLAG
    first = {int(k): int(s) for k, s in zip(*np.unique(keys, return_index=True))}
    label = {}
    for key, slot in first.items():
        t = key & ~ARRAY_FLAG if key > 0 else 0
        label[key] = type_row(types.plans, t, int(elemsize[slot]), int(header[slot]), int(sizeclass[slot]),
                              bool(slots.noscan[span[slot]])).name
    return keys, label
