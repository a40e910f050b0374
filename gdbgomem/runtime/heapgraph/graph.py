"""The heap as a graph of objects, marked from the roots the way the GC marks it.

Every allocated slot is a node; every pointer word of an allocated object that lands in
an allocated slot (interior pointers included) is an edge. Edges are kept as one sorted
array (compressed rows), and marking is a breadth-first walk over whole frontiers with
numpy, so a heap of millions of objects costs a few array passes per level, and a cyclic
or corrupt graph ends (walk.py). A precise pointer that lands in the heap's
spans but not in an allocated slot is counted as dangling, never followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.pointers import HeapPointers, heap_pointers
from gdbgomem.runtime.heapgraph.slots import HeapSlots, heap_slots
from gdbgomem.runtime.heapgraph.walk import reach
from gdbgomem.runtime.heapgraph.roots import RootWords, global_roots, stack_roots
from gdbgomem.runtime.heapgraph.special_roots import special_roots


@dataclass
class HeapGraph:
    slots: HeapSlots
    pointers: HeapPointers
    roots: List[RootWords]
    row_start: np.ndarray    # int64 per slot + 1: edges of slot s are target[row_start[s]:row_start[s+1]]
    target: np.ndarray       # int64 slot ids
    reached: np.ndarray      # bool per slot: allocated and reachable from a root
    dangling: int            # precise pointers of reached objects into a span but no allocated slot

    @property
    def unreached(self) -> np.ndarray:
        """Allocated slots no root reaches: garbage the next GC frees."""
        return self.slots.allocated & ~self.reached


@per_stop
def heap_graph(rt: GoRuntime) -> HeapGraph:
    slots = heap_slots(rt)
    pointers = heap_pointers(rt, slots)
    target = slots.slot_of(pointers.value)
    in_span = target >= 0
    followed = in_span.copy()
    followed[in_span] = slots.allocated[target[in_span]]
    source, target = pointers.source[followed], target[followed]  # sorted by source, as pointers are
    row_start = np.zeros(slots.count + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=slots.count), out=row_start[1:])
    roots = global_roots(rt) + stack_roots(rt) + special_roots(rt)
    reached = _mark(slots, row_start, target, roots)
    dangling_sources = pointers.source[in_span & ~followed]
    dangling = int(reached[dangling_sources].sum())
    return HeapGraph(slots, pointers, roots, row_start, target, reached, dangling)


def root_hits(slots: HeapSlots, root: RootWords):
    """(the allocated slots a root's words point into, the addresses of those words)."""
    hit = slots.slot_of(root.values)
    keep = hit >= 0
    keep[keep] = slots.allocated[hit[keep]]
    return hit[keep], root.addresses[keep]


def _mark(slots: HeapSlots, row_start: np.ndarray, target: np.ndarray, roots: List[RootWords]) -> np.ndarray:
    reached = np.zeros(slots.count, dtype=bool)
    reach(row_start, target, np.concatenate([root_hits(slots, r)[0] for r in roots] or [np.zeros(0, np.int64)]),
          reached)
    return reached
