"""Marking over a hand-made slot table: interior pointers resolve to their slot, cycles end,
what no root reaches stays unmarked, a pointer past the slots goes nowhere."""

from __future__ import annotations

import numpy as np

from gdbgomem.runtime.heapgraph.graph import _mark
from gdbgomem.runtime.heapgraph.slots import HeapSlots
from gdbgomem.runtime.heapgraph.walk import SHARED, owners, reach
from gdbgomem.runtime.heapgraph.roots import RootWords


def table() -> HeapSlots:
    """Two spans: 4 slots of 32 B at 0x1000 (slot 2 free), 2 slots of 1024 B at 0x4000."""
    base = np.array([0x1000, 0x4000], dtype=np.uint64)
    elemsize = np.array([32, 1024], dtype=np.uint64)
    nelems = np.array([4, 2], dtype=np.uint64)
    return HeapSlots([], base, base + nelems * elemsize, elemsize, np.array([0, 4, 6], dtype=np.int64),
                     np.array([True, True, False, True, True, True]), np.array([False, False]),
                     np.array([5, 30], dtype=np.int64))


def edges(slots: HeapSlots, pairs):
    source = np.array([s for s, _ in pairs], dtype=np.int64)
    order = np.argsort(source, kind="stable")
    target = np.array([t for _, t in pairs], dtype=np.int64)[order]
    row_start = np.zeros(slots.count + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=slots.count), out=row_start[1:])
    return row_start, target


def root(*values: int) -> RootWords:
    v = np.array(values, dtype=np.uint64)
    return RootWords("global", ".data", np.zeros(len(v), np.uint64), v, precise=True)


def test_addresses_resolve_to_their_slot_interior_pointers_included():
    slots = table()
    found = slots.slot_of(np.array([0xFFF, 0x1000, 0x101F, 0x1020, 0x107F, 0x1080, 0x4000, 0x47FF, 0x4800]))
    assert found.tolist() == [-1, 0, 0, 1, 3, -1, 4, 5, -1]
    assert slots.slot_address(np.array([3, 5])).tolist() == [0x1060, 0x4400]


def test_marking_ends_on_cycles_and_leaves_the_unreached_unmarked():
    slots = table()
    row_start, target = edges(slots, [(0, 1), (1, 0), (1, 1), (1, 4), (3, 5), (5, 3)])
    reached = _mark(slots, row_start, target, [root(0x1008, 0x9999)])
    assert reached.tolist() == [True, True, False, False, True, False]
    assert not _mark(slots, row_start, target, [root(0x1040)]).any()  # into the free slot: not followed


def csr(count, pairs):
    source = np.array([s for s, _ in pairs], dtype=np.int64)
    order = np.argsort(source, kind="stable")
    row_start = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=count), out=row_start[1:])
    return row_start, np.array([t for _, t in pairs], dtype=np.int64)[order]


def test_a_chain_a_hundred_thousand_deep_is_walked_to_its_end_with_shortest_parents():
    n = 100_000
    row_start, target = csr(n, [(i, i + 1) for i in range(n - 1)] + [(n - 1, 0)])
    reached, parent = np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    reach(row_start, target, np.array([0]), reached, parent)
    assert reached.all() and parent[n - 1] == n - 2 and parent[0] == -1


def test_owners_retain_what_only_they_reach_through_wide_and_narrow_frontiers():
    fan = 2000  # wider than one narrow walk: the numpy path runs too
    shared, only_b, b = fan + 1, fan + 2, fan + 3
    pairs = [(0, i) for i in range(1, fan + 1)] + [(i, shared) for i in range(1, fan + 1)]
    pairs += [(b, shared), (b, only_b), (only_b, b)]
    row_start, target = csr(fan + 4, pairs)
    label = owners(row_start, target, np.array([0, b]), np.array([0, 1]), fan + 4)
    assert (label[:fan + 1] == 0).all()
    assert label[shared] == SHARED and label[only_b] == 1 and label[b] == 1
