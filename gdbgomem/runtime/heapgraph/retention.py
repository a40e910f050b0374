"""Who holds the heap: per root, the bytes it retains (what would become garbage if it let
go: the objects it alone reaches, which it dominates) and the bytes it reaches; and one
shortest chain from a root to any object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.graph import HeapGraph, heap_graph
from gdbgomem.runtime.heapgraph.walk import reach, owners
from gdbgomem.runtime.heapgraph.root_units import RootUnit, root_units


@dataclass
class RootHold:
    unit: RootUnit
    retained_objects: int
    retained_bytes: int
    reachable_objects: Optional[int] = None   # filled in by reachable(), on demand
    reachable_bytes: Optional[int] = None


@dataclass
class Retention:
    graph: HeapGraph
    holds: List[RootHold]          # most retained bytes first
    owner: np.ndarray              # per slot: the index in holds' units of its one owner, or SHARED/UNOWNED
    slot_bytes: np.ndarray         # int64 per slot


@per_stop
def retention(rt: GoRuntime) -> Retention:
    graph = heap_graph(rt)
    units = root_units(rt, graph)
    slots = graph.slots
    slot_bytes = slots.elemsize[slots.span_of_slot(np.arange(slots.count))].astype(np.int64)
    seeds, seed_owner = _seeds(units)
    owner = owners(graph.row_start, graph.target, seeds, seed_owner, slots.count)
    owned = owner >= 0
    count = np.bincount(owner[owned], minlength=len(units))
    size = np.bincount(owner[owned], weights=slot_bytes[owned], minlength=len(units))
    holds = [RootHold(u, int(count[i]), int(size[i])) for i, u in enumerate(units)]
    order = sorted(range(len(holds)), key=lambda i: (-holds[i].retained_bytes, holds[i].unit.name))
    remap = np.full(len(units) + 2, -1, dtype=np.int64)
    remap[np.array(order, dtype=np.int64)] = np.arange(len(order))
    owner = np.where(owned, remap[np.maximum(owner, 0)], owner)
    return Retention(graph, [holds[i] for i in order], owner, slot_bytes)


def _seeds(units: List[RootUnit]):
    """(every unit's slots, end to end; the index of the unit each came from)."""
    seeds = np.concatenate([u.slots for u in units] or [np.zeros(0, np.int64)])
    return seeds, np.repeat(np.arange(len(units)), [len(u.slots) for u in units]).astype(np.int64)


def fill_reachable(r: Retention, hold: RootHold) -> None:
    """What the root reaches at all, shared or not (a walk of its own)."""
    reached = np.zeros(r.graph.slots.count, dtype=bool)
    reach(r.graph.row_start, r.graph.target, hold.unit.slots, reached)
    hold.reachable_objects = int(reached.sum())
    hold.reachable_bytes = int(r.slot_bytes[reached].sum())


@dataclass
class Chain:
    """The root, and the slots from the one its word points into down to the object asked about."""

    hold: RootHold
    root_address: int         # where the root's word is
    slots: List[int]


def chain_to(r: Retention, slot: int) -> Optional[Chain]:
    """One shortest chain of pointers from a root to slot; None when no root reaches it."""
    graph = r.graph
    if not graph.reached[slot]:
        return None
    seeds, seed_hold = _seeds([h.unit for h in r.holds])
    reached = np.zeros(graph.slots.count, dtype=bool)
    parent = np.full(graph.slots.count, -1, dtype=np.int64)
    reach(graph.row_start, graph.target, seeds, reached, parent)
    path = [slot]
    while parent[path[-1]] >= 0 and len(path) <= graph.slots.count:
        path.append(int(parent[path[-1]]))
    first = np.flatnonzero(seeds == path[-1])
    if not len(first):
        return None
    hold = r.holds[int(seed_hold[first[0]])]
    at = np.flatnonzero(hold.unit.slots == path[-1])[0]
    return Chain(hold, int(hold.unit.addresses[at]), path[::-1])


@dataclass
class TypeChains:
    """Reachable objects grouped by owner and by the chain of types that leads to them.

    links[c] = (the chain it extends, -1 for a chain's first type; the type key of its last
    hop); per slot, chain[s] is the chain of the path to s along a shortest-path tree, a run
    of one type (a linked list) counted once."""

    links: List[Tuple[int, int]]
    chain: np.ndarray    # int64 per slot, -1 unreached


def type_chains(r: Retention, type_key: np.ndarray) -> TypeChains:
    """type_key: int64 per slot, equal for objects that should print as one type."""
    graph = r.graph
    seeds, _ = _seeds([h.unit for h in r.holds])
    reached = np.zeros(graph.slots.count, dtype=bool)
    parent = np.full(graph.slots.count, -1, dtype=np.int64)
    order: List[Tuple[np.ndarray, bool]] = []
    reach(graph.row_start, graph.target, seeds, reached, parent, order)
    chain = np.full(graph.slots.count, -1, dtype=np.int64)
    interned: Dict[Tuple[int, int], int] = {}
    for level, chained in order:
        if chained:  # parents earlier in the same batch (a narrow walk): one slot after the other
            for s, up in zip(level.tolist(), parent[level].tolist()):
                key = int(type_key[s])
                if up >= 0 and key == type_key[up]:
                    chain[s] = chain[up]
                else:
                    chain[s] = interned.setdefault((int(chain[up]) if up >= 0 else -1, key), len(interned))
            continue
        up = parent[level]
        prior = np.where(up >= 0, chain[np.maximum(up, 0)], -1)
        keys = type_key[level]
        same = (up >= 0) & (keys == type_key[np.maximum(up, 0)])
        chain[level[same]] = prior[same]
        rest = ~same
        if not rest.any():
            continue
        kinds, key_index = np.unique(keys[rest], return_inverse=True)  # 1-D: sorts fast
        combined = (prior[rest] + 1) * len(kinds) + key_index.ravel()
        unique, inverse = np.unique(combined, return_inverse=True)
        ids = np.array([interned.setdefault((int(c // len(kinds)) - 1, int(kinds[c % len(kinds)])), len(interned))
                        for c in unique.tolist()], dtype=np.int64)
        chain[level[rest]] = ids[inverse.ravel()]
    return TypeChains(list(interned), chain)
