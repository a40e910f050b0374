"""Types for the objects the runtime does not label: propagated along typed pointers.

The runtime keeps an object's type only in a malloc header (objects over 512 bytes with
pointers, Go 1.22+) or mspan.largeType. Every other object gets its type from whoever
points to it, when that referrer's type is known: a *T field says T, a []T field says an
array of T, an interface's type word names the value behind its data word, a map field
leads through the runtime's map structures to buckets or groups of the map's types.
Typed roots start it: the malloc-headed objects, the globals and the stack frames'
variables the binary's DWARF types (each DWARF type carries the address of its runtime
descriptor; a variable's place in its frame at the frame's pc comes from its location
list), and the objects with a finalizer (whose record keeps the object's pointer type). Each round types
the objects the previous round typed point to, for every (type, slot) group at once
with numpy, until nothing new is typed; every slot is typed at most once, so cyclic or
corrupt graphs end. A type that points to its own kind (a list node's next) would type a
long list one node per round; when such a type keeps coming back in small frontiers, its
chains are followed to their ends in one walk (walk.reach) over the edges that type's
plan would follow.

A pointer only types the object it points to the start of, and only when the type fits
there: no larger than the slot, with pointers exactly when the span is scanned. A first
claim wins; the runtime's own label (a malloc header) always wins.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from gdbgomem.runtime.abi_types import MALLOC_HEADER
from gdbgomem.runtime.cache import already_known, per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.graph import heap_graph
from gdbgomem.elf.dwarf_locals import POINTER_TO, VALUE
from gdbgomem.runtime.heapgraph.pointers import HeapPointers
from gdbgomem.runtime.heapgraph.roots import RootWords
from gdbgomem.runtime.heapgraph.slots import HeapSlots
from gdbgomem.runtime.heapgraph.type_plans import (
    ADDRESS_MASK, EFACE, IFACE, KIND_POINTER, MAP_DIRECTORY, MAP_HEADER, NONE, POINTER, SLICE, TAG_MASK, Plan,
    TypePlans,
)
from gdbgomem.runtime.heapgraph.walk import reach

MAX_GLOBAL_BYTES = 64 << 20   # a typed global larger than this is not read (a corrupt DWARF size)
MAX_LOCAL_WORDS = 1 << 12      # words of one stack variable followed (a larger one: its first 32 KiB)
NARROW = 16     # a type with fewer objects than this in a round's frontier...
STREAK = 3      # ...this many rounds in a row has its chains followed whole


@dataclass
class SlotTypes:
    """The type key of every slot (0 unknown): a *abi.Type, or a tagged map structure (type_plans)."""

    key: np.ndarray        # uint64 per slot
    inferred: np.ndarray   # bool per slot: typed by propagation, not by the runtime's own label
    headed: np.ndarray     # bool per span: its objects start past a malloc header
    plans: TypePlans
    typed_globals: int     # globals whose DWARF type seeded the propagation
    typed_locals: int = 0  # stack variables whose DWARF type seeded it

    def header_bytes(self, slots: HeapSlots, ids: np.ndarray) -> np.ndarray:
        """Bytes before each object in its slot: the malloc header, where its span has them."""
        return np.where(self.headed[slots.span_of_slot(ids)], MALLOC_HEADER, 0).astype(np.int64)


@per_stop
def slot_types(rt: GoRuntime) -> SlotTypes:
    graph = heap_graph(rt)
    typed_roots = [r for r in graph.roots if r.pointer_types is not None]
    pointers = (np.concatenate([r.values for r in typed_roots] or [np.zeros(0, np.uint64)]),
                np.concatenate([r.pointer_types for r in typed_roots] or [np.zeros(0, np.uint64)]))
    return infer_types(rt, graph.slots, graph.pointers, typed_globals(rt), pointers, typed_locals(rt, graph.roots))


def inferred_type_name(rt: GoRuntime, address: int, compute: bool) -> Optional[str]:
    """The type propagation gives the object holding address (None when it gives none): from
    the analysis an earlier command of this stop made, or made now when compute is set."""
    if not compute and not already_known(rt, slot_types):
        return None
    types, slots = slot_types(rt), heap_graph(rt).slots
    slot = int(slots.slot_of(np.array([address], dtype=np.uint64))[0])
    if slot < 0 or not types.inferred[slot]:
        return None
    return types.plans.shown_name(int(types.key[slot]), int(slots.slot_size(np.array([slot]))[0]))  # no header


@dataclass
class TypedLocal:
    """A stack variable the DWARF types: where its words are in memory."""

    kind: int                 # dwarf_locals.VALUE, POINTER_TO or SLICE_OF
    typ: int                  # *abi.Type
    words: Dict[int, int]     # word index -> address, for a variable in pieces
    whole: Optional[int]      # or the address of the whole variable

    def address(self, word: int) -> Optional[int]:
        return self.whole + 8 * word if self.whole is not None else self.words.get(word)


def typed_locals(rt: GoRuntime, roots: Sequence[RootWords]) -> List[TypedLocal]:
    """The typed variables the binary's DWARF places in stack memory in each frame root, at the
    frame's pc; none without DWARF."""
    binary = rt.target.binary
    reader = binary.frame_locals() if binary is not None else None
    types = rt.moduledata_word("types")
    if reader is None or types is None:
        return []
    bias = rt.target.load_bias()
    found = []
    for root in roots:
        if root.frame is None:
            continue
        function, pc, cfa = root.frame
        for local in reader.locals_at(function, pc - bias):
            found.append(TypedLocal(local.kind, types + local.runtime_type,
                                    {w: cfa + offset for w, offset in local.words.items()},
                                    cfa + local.whole if local.whole is not None else None))
    return found


def typed_globals(rt: GoRuntime) -> List[Tuple[int, int]]:
    """(address, *abi.Type) of each global the binary's DWARF types; none without DWARF."""
    binary = rt.target.binary
    types = rt.moduledata_word("types")
    if binary is None or types is None:
        return []
    bias = rt.target.load_bias()
    return [(address + bias, types + offset) for address, offset in binary.typed_globals()]


def infer_types(rt: GoRuntime, slots: HeapSlots, pointers: HeapPointers, globals_: List[Tuple[int, int]],
                typed_roots: Tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64)),
                locals_: Sequence["TypedLocal"] = (),
                plans: Optional[TypePlans] = None) -> SlotTypes:
    """Types for every slot: the runtime's labels, then what typed globals (address, *abi.Type),
    typed root words (values, their pointer types) and typed stack variables lead to."""
    plans = plans or TypePlans(rt)
    key = pointers.slot_type.copy()
    out = SlotTypes(key, np.zeros(slots.count, bool), pointers.headed, plans, 0)
    flow = _Flow(rt, slots, pointers, out)
    frontier = np.concatenate([np.flatnonzero(key), flow.seed_from_globals(globals_),
                               flow.seed_from_pointers(*typed_roots), flow.seed_from_locals(locals_)])
    while len(frontier):
        frontier = flow.round(frontier)
    return out


class _Flow:
    """One propagation: the edges as rows per source slot, and the candidates of each round."""

    def __init__(self, rt: GoRuntime, slots: HeapSlots, pointers: HeapPointers, out: SlotTypes):
        self.rt, self.slots, self.pointers, self.out = rt, slots, pointers, out
        self.row_start = np.zeros(slots.count + 1, dtype=np.int64)
        np.cumsum(np.bincount(pointers.source, minlength=slots.count), out=self.row_start[1:])
        # per slot, its span and header bytes: looked up by index, not searched, in every round
        self.span_of = np.repeat(np.arange(len(slots.base), dtype=np.int32), np.diff(slots.first))
        self.header = np.where(out.headed[self.span_of], MALLOC_HEADER, 0).astype(np.int64)
        self.streak: Dict[int, int] = {}   # key -> rounds in a row it came with a narrow frontier

    def seed_from_globals(self, globals_: List[Tuple[int, int]]) -> np.ndarray:
        """Type what the DWARF-typed globals point to; the newly typed slots."""
        plans = self.out.plans
        wanted = [(address, typ, plans.plan(typ)) for address, typ in globals_]
        wanted = [(a, t, p) for a, t, p in wanted if p is not None and p.size <= MAX_GLOBAL_BYTES]
        if not wanted:
            return np.zeros(0, np.int64)
        blobs = self.rt.target.read_many([(a, p.size) for a, _t, p in wanted])
        values, type_words, actions, targets = [], [], [], []
        for (_address, _typ, plan), raw in zip(wanted, blobs):
            if raw is None:
                continue
            words = np.frombuffer(raw, dtype=np.uint64)
            at = np.flatnonzero(plan.actions)
            values.append(words[at])
            type_words.append(words[np.maximum(at - 1, 0)])
            actions.append(plan.actions[at])
            targets.append(plan.targets[at])
        self.out.typed_globals = sum(raw is not None for raw in blobs)
        if not values:
            return np.zeros(0, np.int64)
        return self._claim(np.concatenate(values), np.concatenate(type_words), np.concatenate(actions),
                           np.concatenate(targets))

    def seed_from_locals(self, locals_: Sequence[TypedLocal]) -> np.ndarray:
        """Type what typed stack variables point to; the newly typed slots. A variable of a pointer
        or slice type without a descriptor of its own is one word pointing to its element type."""
        wanted: List[Tuple[int, int, int, int]] = []   # (word address, action, target, word before's address)
        for local in locals_:
            if local.kind != VALUE:
                if local.address(0) is not None:
                    wanted.append((local.address(0), POINTER if local.kind == POINTER_TO else SLICE, local.typ, 0))
                continue
            plan = self.out.plans.plan(local.typ)
            if plan is None:
                continue
            for w in np.flatnonzero(plan.actions[:MAX_LOCAL_WORDS]).tolist():
                if local.address(w) is not None:
                    wanted.append((local.address(w), int(plan.actions[w]), int(plan.targets[w]),
                                   local.address(w - 1) or 0))
        self.out.typed_locals = len(locals_)
        if not wanted:
            return np.zeros(0, np.int64)
        raw = self.rt.target.read_many([(a, 8) for a, _act, _t, _b in wanted] + [(b, 8) for *_, b in wanted])
        word = lambda r: struct.unpack("<Q", r)[0] if r else 0  # noqa: E731
        values = np.array([word(r) for r in raw[:len(wanted)]], np.uint64)
        befores = np.array([word(r) for r in raw[len(wanted):]], np.uint64)
        return self._claim(values, befores, np.array([w[1] for w in wanted], np.uint8),
                           np.array([w[2] for w in wanted], np.uint64))

    def seed_from_pointers(self, values: np.ndarray, pointer_types: np.ndarray) -> np.ndarray:
        """Type what root words of a known pointer type (*T) point to as T; the newly typed slots."""
        known = pointer_types != 0
        elems = [self.out.plans.info(int(t)) for t in pointer_types[known].tolist()]
        targets = np.array([e.elem if e is not None and e.kind == KIND_POINTER else 0 for e in elems], np.uint64)
        return self._claim(values[known], np.zeros(len(targets), np.uint64), np.full(len(targets), POINTER, np.uint8),
                           targets)

    def round(self, frontier: np.ndarray) -> np.ndarray:
        """Type what the frontier's objects point to; the newly typed slots."""
        key = self.out.key[frontier]
        order = np.argsort(key, kind="stable")
        key = key[order]
        cuts = np.concatenate(([0], np.flatnonzero(key[1:] != key[:-1]) + 1, [len(key)]))
        edges, actions, targets, chained = [], [], [], []
        streak = {}
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            k = int(key[lo])
            plan = self.out.plans.plan(k)
            if plan is None:
                continue
            members = frontier[order[lo:hi]]
            if len(members) < NARROW:
                streak[k] = self.streak.get(k, 0) + 1
                if streak[k] >= STREAK:
                    chained.append(self._follow_chains(k, plan, members))
            idx, rel, src = self._edges_of(members)
            if not len(idx):
                continue
            room = self.slots.elemsize[self.span_of[src]].astype(np.int64) - self.header[src]
            word = (rel // 8) % len(plan.actions)
            inside = (rel >= 0) & (rel // plan.size < room // plan.size)
            act = np.where(inside, plan.actions[word], NONE)
            keep = act != NONE
            tgt = plan.targets[word[keep]]
            if k & ~ADDRESS_MASK == MAP_HEADER and self.out.plans.swiss:
                tgt = self._swiss_directory(k, idx[keep], tgt)
            edges.append(idx[keep])
            actions.append(act[keep])
            targets.append(tgt)
        self.streak = streak
        if not edges:
            return np.concatenate(chained or [np.zeros(0, np.int64)])
        idx, actions = np.concatenate(edges), np.concatenate(actions)
        claimed = self._claim(self.pointers.value[idx], self.pointers.before[idx], actions, np.concatenate(targets))
        return np.concatenate([claimed] + chained)

    def _follow_chains(self, key: int, plan: Plan, members: np.ndarray) -> np.ndarray:
        """Type key along its own pointers from members to the chains' ends at once: through the
        words where its plan points to its own kind, into untyped objects it fits, at their start."""
        own = np.flatnonzero((plan.targets == key) & (plan.actions != NONE)) * 8
        if not len(own):
            return np.zeros(0, np.int64)
        p, slots = self.pointers, self.slots
        candidate = (self.out.key == 0) & slots.allocated
        candidate[members] = True
        sources = candidate[p.source]
        sources[sources] = np.isin(p.offset[sources].astype(np.int64) - self.header[p.source[sources]], own)
        at = np.flatnonzero(sources)
        target = slots.slot_of(p.value[at])
        ok = target >= 0
        hit = target[ok]
        ok[ok] = candidate[hit] & (self.out.key[hit] == 0) & (self._start(hit) == p.value[at][ok])
        source, target = p.source[at][ok], target[ok]
        fits = self._fits(target, np.full(len(target), key, np.uint64))
        source, target = source[fits], target[fits]
        row_start = np.zeros(slots.count + 1, dtype=np.int64)
        np.cumsum(np.bincount(source, minlength=slots.count), out=row_start[1:])
        reached = np.zeros(slots.count, bool)
        reach(row_start, target, members, reached)
        reached[members] = False
        typed = np.flatnonzero(reached)
        self.out.key[typed] = key
        self.out.inferred[typed] = True
        return typed

    def _edges_of(self, members: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edge index, its byte offset from the object's start, its source slot) of members' edges."""
        starts, ends = self.row_start[members], self.row_start[members + 1]
        counts = ends - starts
        total = int(counts.sum())
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        first = np.concatenate(([0], np.cumsum(counts)[:-1]))
        idx = np.arange(total, dtype=np.int64) + np.repeat(starts - first, counts)
        src = np.repeat(members, counts)
        rel = self.pointers.offset[idx].astype(np.int64) - self.header[src]
        return idx, rel, src

    def _swiss_directory(self, key: int, idx: np.ndarray, tgt: np.ndarray) -> np.ndarray:
        """A swiss map's dirPtr is a directory of tables, or its only group when dirLen is 0."""
        layout = self.rt.layout("internal/runtime/maps.Map")
        src = self.pointers.source[idx]
        header = self.slots.slot_address(src) + self.header[src].astype(np.uint64)
        lengths = self.rt.target.read_many([(int(a) + layout.offset("dirLen"), 8) for a in header.tolist()])
        single = np.array([raw is not None and struct.unpack("<q", raw)[0] == 0 for raw in lengths], dtype=bool)
        group = self.out.plans.map_part(key & ADDRESS_MASK, 2)
        return np.where((tgt & np.uint64(TAG_MASK)) == MAP_DIRECTORY,
                        np.where(single, np.uint64(group), tgt), tgt).astype(np.uint64)

    def _claim(self, values: np.ndarray, type_words: np.ndarray, actions: np.ndarray,
               targets: np.ndarray) -> np.ndarray:
        """Give each untyped object a pointer points to the start of its claimed type; the slots typed."""
        plans = self.out.plans
        iface = (actions == EFACE) | (actions == IFACE)
        if iface.any():  # the type word names the dynamic type of what the data word points to
            dynamic = type_words[iface].copy()
            itab = actions[iface] == IFACE
            if itab.any():  # each distinct itab read once, not once per interface
                itabs, at = np.unique(dynamic[itab], return_inverse=True)
                dynamic[itab] = np.array([plans.itab_type(int(t)) for t in itabs.tolist()], np.uint64)[at.ravel()]
            kinds, which = np.unique(dynamic, return_inverse=True)
            data_types = np.array([plans.data_target(int(t)) for t in kinds.tolist()], dtype=np.uint64)
            targets = targets.copy()
            targets[iface] = data_types[which.ravel()]
        keep = (targets != 0) & (values != 0)
        values, targets = values[keep], targets[keep]
        slot = self.slots.slot_of(values)
        ok = slot >= 0
        slot, values, targets = slot[ok], values[ok], targets[ok]
        ok = self.slots.allocated[slot] & (self.out.key[slot] == 0) & (self._start(slot) == values)
        slot, targets = slot[ok], targets[ok]
        if not len(slot):
            return np.zeros(0, np.int64)
        slot, first = np.unique(slot, return_index=True)
        targets = targets[first]
        fits = self._fits(slot, targets)
        slot, targets = slot[fits], targets[fits]
        self.out.key[slot] = targets
        self.out.inferred[slot] = True
        return slot

    def _start(self, slot: np.ndarray) -> np.ndarray:
        """The address each slot starts at."""
        span = self.span_of[slot]
        return self.slots.base[span] + (slot - self.slots.first[span]).astype(np.uint64) * self.slots.elemsize[span]

    def _fits(self, slot: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """A type fits a slot when one value of it (a slice's array: its first) fits in the slot,
        and the type has pointers exactly when the slot's span is scanned."""
        plans = self.out.plans
        kinds, which = np.unique(targets, return_inverse=True)
        sizes = np.array([plans.size(int(k)) for k in kinds.tolist()], dtype=np.int64)[which.ravel()]
        scanned = np.array([bool(k & ~ADDRESS_MASK) or plans.has_pointers(k) for k in kinds.tolist()],
                           dtype=bool)[which.ravel()]
        span = self.span_of[slot]
        room = self.slots.elemsize[span].astype(np.int64)
        return (sizes > 0) & (sizes <= room) & (scanned == ~self.slots.noscan[span])
