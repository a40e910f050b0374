"""Marking over a hand-made slot table: interior pointers resolve to their slot, cycles end,
what no root reaches stays unmarked, a pointer past the slots goes nowhere."""

from __future__ import annotations

import numpy as np

from gdbgomem.runtime.heap_graph import _mark
from gdbgomem.runtime.heap_slots import HeapSlots
from gdbgomem.runtime.roots import RootWords


def table() -> HeapSlots:
    """Two spans: 4 slots of 32 B at 0x1000 (slot 2 free), 2 slots of 1024 B at 0x4000."""
    base = np.array([0x1000, 0x4000], dtype=np.uint64)
    elemsize = np.array([32, 1024], dtype=np.uint64)
    nelems = np.array([4, 2], dtype=np.uint64)
    return HeapSlots([], base, base + nelems * elemsize, elemsize, np.array([0, 4, 6], dtype=np.int64),
                     np.array([True, True, False, True, True, True]), np.array([False, False]))


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
