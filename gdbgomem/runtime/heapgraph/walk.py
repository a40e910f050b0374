"""Walks over the heap graph's edges (compressed rows: the targets of slot s are
target[row_start[s]:row_start[s + 1]]): what a set of slots reaches, and which root owns
each slot alone.

Both walk whole frontiers with numpy while a frontier is wide, and slot by slot in Python
while it is narrow: a linked list of a million nodes is a million levels deep, and a
numpy pass per level would cost seconds per thousand levels. Every slot enters a
frontier a bounded number of times, so a cyclic or corrupt graph ends.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

NARROW = 256        # a frontier this small is walked slot by slot
WIDE = 1 << 14      # a slot-by-slot walk hands back to numpy when its queue grows this long
UNOWNED, SHARED = -1, -2


def reach(row_start: np.ndarray, target: np.ndarray, start: np.ndarray, reached: np.ndarray,
          parent: Optional[np.ndarray] = None, order: Optional[List[Tuple[np.ndarray, bool]]] = None) -> None:
    """Set reached[s] for every slot reachable from start (start included). With parent, record
    for each slot newly reached through an edge the slot it was reached from (a shortest path);
    with order, append (slots, chained) batches where every slot's parent is in an earlier
    batch, or, when chained, earlier in the same batch."""
    frontier = _fresh(reached, np.asarray(start, dtype=np.int64))
    while len(frontier):
        if order is not None:
            order.append((frontier, False))
        if len(frontier) < NARROW:
            frontier = _reach_narrow(row_start, target, frontier, reached, parent, order)
            continue
        children, sources = _edges(row_start, target, frontier)
        if parent is not None:
            new = ~reached[children]
            parent[children[new]] = sources[new]
        frontier = _fresh(reached, children)


def _reach_narrow(row_start, target, frontier, reached, parent, order) -> np.ndarray:
    queue, i = frontier.tolist(), 0
    start = len(queue)  # the frontier itself is in order already
    while i < len(queue):
        if len(queue) - i > WIDE:
            if order is not None:
                order.append((np.array(queue[start:i], dtype=np.int64), True))
            return np.array(queue[i:], dtype=np.int64)
        s = queue[i]
        i += 1
        for c in target[row_start[s]:row_start[s + 1]].tolist():
            if not reached[c]:
                reached[c] = True
                if parent is not None:
                    parent[c] = s
                queue.append(c)
    if order is not None:
        order.append((np.array(queue[start:], dtype=np.int64), True))
    return np.zeros(0, np.int64)


def owners(row_start: np.ndarray, target: np.ndarray, seeds: np.ndarray, seed_owner: np.ndarray,
           count: int) -> np.ndarray:
    """For each slot: the one owner (an index) whose seeds reach it, SHARED where several do,
    UNOWNED where none does. A slot owned alone is retained by its owner: it would be garbage
    if that owner let go (the owner dominates it). Each slot changes label at most twice."""
    label = np.full(count, UNOWNED, dtype=np.int64)
    frontier = _merge(label, np.asarray(seeds, dtype=np.int64), np.asarray(seed_owner, dtype=np.int64))
    while len(frontier):
        if len(frontier) < NARROW:
            frontier = _own_narrow(row_start, target, frontier, label)
            continue
        children, sources = _edges(row_start, target, frontier)
        frontier = _merge(label, children, label[sources])
    return label


def _own_narrow(row_start, target, frontier, label) -> np.ndarray:
    queue, i = frontier.tolist(), 0
    while i < len(queue):
        if len(queue) - i > WIDE:
            return np.unique(np.array(queue[i:], dtype=np.int64))
        s = queue[i]
        i += 1
        mine = int(label[s])
        for c in target[row_start[s]:row_start[s + 1]].tolist():
            theirs = label[c]
            if theirs == UNOWNED or (theirs != mine and theirs != SHARED):
                label[c] = mine if theirs == UNOWNED else SHARED
                queue.append(c)
    return np.zeros(0, np.int64)


def _merge(label: np.ndarray, slots: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """Combine incoming owner labels into label; the slots whose label changed."""
    if not len(slots):
        return slots
    order = np.argsort(slots, kind="stable")
    slots, incoming = slots[order], incoming[order]
    starts = np.flatnonzero(np.concatenate(([True], slots[1:] != slots[:-1])))
    unique = slots[starts]
    low, high = np.minimum.reduceat(incoming, starts), np.maximum.reduceat(incoming, starts)
    batch = np.where((low == high) & (low >= 0), low, SHARED)
    old = label[unique]
    new = np.where(old == UNOWNED, batch, np.where(old == batch, old, SHARED))
    changed = new != old
    label[unique[changed]] = new[changed]
    return unique[changed]


def _fresh(reached: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """The slots not reached before, each once, now reached: a mask over the heap for a wide
    batch (no sort), a sort of the batch itself for a narrow one."""
    if len(slots) * 64 < len(reached):
        slots = np.unique(slots)
        slots = slots[~reached[slots]]
        reached[slots] = True
        return slots
    fresh = np.zeros_like(reached)
    fresh[slots] = True
    fresh &= ~reached
    reached |= fresh
    return np.flatnonzero(fresh)


def _edges(row_start: np.ndarray, target: np.ndarray, nodes: np.ndarray):
    """(targets, sources) of every edge out of nodes (duplicates kept)."""
    begin, end = row_start[nodes], row_start[nodes + 1]
    lengths = end - begin
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    offsets = np.repeat(begin - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return target[np.arange(total, dtype=np.int64) + offsets], np.repeat(nodes, lengths)
