"""Type propagation over a hand-made heap: a long list typed from its head, an interface's
data typed by its type word, and the rules that keep a wrong claim out (a pointer into an
object's middle, a type larger than the slot, pointers into a noscan span, an object the
runtime labelled already)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gdbgomem.runtime.heapgraph.pointers import HeapPointers
from gdbgomem.runtime.heapgraph.slots import HeapSlots
from gdbgomem.runtime.heapgraph.type_flow import infer_types
from gdbgomem.runtime.heapgraph.type_plans import EFACE, POINTER, Plan

NODE, LEAF, PTR_TO_LEAF, HOLDER, BIG, LABELLED = 0x5000, 0x5100, 0x5200, 0x6000, 0x7000, 0x8000
LIST = 10_000
SMALL, NOSCAN, LARGE = 0x100000, 0x200000, 0x300000   # 16-B scan slots, 16-B noscan slots, 1 KiB headed


class Plans:
    """The descriptors of a hand-made program: node{next *node; v int}, leaf{p *node; v int},
    holder{head *node; any interface{}; b *big; n, m *node; ...} (1016 B), big (64 B, with pointers);
    a labelled object (its malloc header's type) has no plan."""

    swiss = False
    sizes = {NODE: 16, LEAF: 16, HOLDER: 1016, BIG: 64, LABELLED: 16}

    def plan(self, key):
        if key in (NODE, LEAF):
            return Plan(np.array([POINTER, 0], np.uint8), np.array([NODE, 0], np.uint64), 16)
        if key == HOLDER:
            actions, targets = np.zeros(127, np.uint8), np.zeros(127, np.uint64)
            actions[0], targets[0] = POINTER, NODE
            actions[2] = EFACE
            actions[3], targets[3] = POINTER, BIG
            actions[4], targets[4] = POINTER, NODE
            actions[5], targets[5] = POINTER, NODE
            return Plan(actions, targets, 1016)
        return None

    def size(self, key):
        return self.sizes.get(key, 0)

    def has_pointers(self, key):
        return key in self.sizes

    def data_target(self, dynamic):
        return LEAF if dynamic == PTR_TO_LEAF else 0


def heap():
    """LIST+100 small slots, 8 noscan slots, 2 headed 1 KiB slots (the holder first)."""
    small, noscan = LIST + 100, 8
    base = np.array([SMALL, NOSCAN, LARGE], dtype=np.uint64)
    elemsize = np.array([16, 16, 1024], dtype=np.uint64)
    nelems = np.array([small, noscan, 2], dtype=np.uint64)
    first = np.array([0, small, small + noscan, small + noscan + 2], dtype=np.int64)
    slots = HeapSlots([], base, base + nelems * elemsize, elemsize, first, np.ones(int(first[-1]), bool),
                      np.array([False, True, False]), np.array([2, 2, 0], dtype=np.int64))
    holder = int(first[2])
    node = lambda i: SMALL + 16 * i  # noqa: E731
    edges = [(i, 0, node(i + 1)) for i in range(LIST - 1)] + [(LIST - 1, 0, node(0))]  # a cycle
    leaf = LIST + 1
    edges += [(leaf, 0, node(LIST + 2))]                 # the leaf's own pointer: types slot LIST+2
    edges += [(holder, 8, node(0)),                      # head: the list
              (holder, 8 + 16, node(leaf), PTR_TO_LEAF), # interface data: the leaf, its type word before it
              (holder, 8 + 24, node(LIST + 3)),          # a big: does not fit a 16 B slot
              (holder, 8 + 32, node(LIST + 4) + 8),      # into the middle of an object: no claim
              (holder, 8 + 40, NOSCAN)]                  # a node (with pointers) in a noscan span: no claim
    source = np.array([e[0] for e in edges], np.int64)
    order = np.argsort(source, kind="stable")
    slot_type = np.zeros(slots.count, np.uint64)
    slot_type[holder], slot_type[holder + 1] = HOLDER, LABELLED
    column = lambda i: np.array([e[i] if len(e) > i else 0 for e in edges], np.uint64)[order]  # noqa: E731
    pointers = HeapPointers(source[order], column(1).astype(np.uint32), column(2), column(3), slot_type,
                            np.array([False, False, True]))
    return SimpleNamespace(), slots, pointers, holder


def test_a_long_list_is_typed_from_its_head_and_an_interface_names_its_data():
    rt, slots, pointers, holder = heap()
    types = infer_types(rt, slots, pointers, [], plans=Plans())
    assert (types.key[:LIST] == NODE).all() and types.inferred[:LIST].all()
    assert types.key[LIST + 1] == LEAF and types.key[LIST + 2] == NODE  # through the leaf's own field
    assert types.key[holder] == HOLDER and not types.inferred[holder]


def test_a_claim_that_does_not_fit_is_refused():
    rt, slots, pointers, holder = heap()
    types = infer_types(rt, slots, pointers, [], plans=Plans())
    assert types.key[LIST + 3] == 0    # a 64-B type in a 16-B slot
    assert types.key[LIST + 4] == 0    # pointed into, not at its start
    assert types.key[LIST + 100] == 0  # the noscan slot
    assert types.key[holder + 1] == LABELLED
    assert not types.key[LIST + 5:LIST + 100].any()
