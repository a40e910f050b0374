"""Every g of runtime.allgs decoded as numpy columns, and where each parked one's code is.

The listing of 100 000 goroutines as Goroutine objects spends most of its time making
them (goroutines.decoded_goroutines): here each member of runtime.g is one array over
all the gs, read with record_reads.read_chunks, and the walks to the first user
frame (goroutines.locate_code) go through the same trie a group of goroutines at a
time: those at one node read their next return address together, so the Python work
is per node of the trie, not per goroutine. Only numpy-built views import this module.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goroutines import (G_MEMBERS, STACK_TOP_BYTES, _factory, _walks, locate_code, read_allgs,
                                         read_goroutine)
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import G_DEAD, G_SYSCALL, G_WAITING
from gdbgomem.runtime.record_reads import RecordColumns, read_chunks, read_columns


class GoroutineColumns(RecordColumns):
    """The readable gs in allgs order, a column per member of goroutines.G_MEMBERS. status_code,
    scan: as on Goroutine. function and user: an index per g into functions and users (-1: none),
    filled for the parked gs as goroutines.locate_code fills Goroutine.function and the user frame."""

    def __init__(self, addresses: np.ndarray, members: Dict[str, Optional[np.ndarray]], scan_bit: int):
        super().__init__(addresses, members)
        status = members["status"] if members["status"] is not None else np.zeros(len(addresses), np.uint64)
        self.status_code = status & np.uint64(~scan_bit & 0xFFFFFFFFFFFFFFFF)
        self.scan = (status & np.uint64(scan_bit)) != 0
        self.function = np.full(len(addresses), -1, dtype=np.int64)
        self.user = np.full(len(addresses), -1, dtype=np.int64)
        self.functions: List[Optional[str]] = []
        self.users: List[tuple] = []

    def saved_position(self):
        """(pc, sp) columns where each traceback starts (Goroutine.saved_position)."""
        syscall_sp = self.member("syscall_sp")
        in_syscall = (self.status_code == G_SYSCALL) & (syscall_sp != 0)
        return (np.where(in_syscall, self.member("syscall_pc"), self.member("sched_pc")),
                np.where(in_syscall, syscall_sp, self.member("sched_sp")))

    def wait_reason_code(self) -> np.ndarray:
        """g.waitreason where the goroutine waits, 0 elsewhere (goroutines._Factory.make)."""
        return np.where(self.status_code == G_WAITING, self.member("waitreason"), np.uint64(0))


@per_stop
def goroutine_columns(rt: GoRuntime) -> GoroutineColumns:
    """Every readable g in allgs, decoded, its parked code located (see the module doc)."""
    factory = _factory(rt)
    addresses, members = read_columns(rt.target, read_allgs(rt), factory.decoder, [name for name, _ in G_MEMBERS])
    columns = GoroutineColumns(addresses, members, factory.scan_bit)
    _locate(rt, columns)
    return columns


def _locate(rt: GoRuntime, columns: GoroutineColumns) -> None:
    """goroutines.locate_code over columns: the same functions and user frames."""
    statuses = np.unique(columns.status_code, return_counts=True)[0]  # (a plain np.unique imports numpy.ma: 0.03 s)
    running = [code for code in statuses.tolist() if rt.status_name(code) == "running"]
    pc, sp = columns.saved_position()
    parked = np.flatnonzero((columns.status_code != G_DEAD) & (columns.member("sched_pc") != 0)
                            & ~np.isin(columns.status_code, running))
    hi = columns.member("stack_hi")[parked]
    top_sp = sp[parked]
    room = np.where(hi > top_sp, hi - top_sp, np.uint64(0)).astype(np.int64)
    sizes = np.minimum(room, STACK_TOP_BYTES)
    walks = _walks(rt)
    functions: Dict[Optional[str], int] = {}
    users: Dict[tuple, int] = {}
    starts = pc[parked]
    unique_pcs, inverse = np.unique(starts, return_inverse=True)
    inverse = inverse.ravel()
    roots = [walks.roots.get(start) or walks.root(start) for start in unique_pcs.tolist()]
    codes = np.array([functions.setdefault(node.function, len(functions)) for node in roots], dtype=np.int64)
    columns.function[parked] = codes[inverse]
    slow: List[int] = []  # walks that run past the stack top read: goroutine by goroutine
    for chunk in read_chunks(rt.target, top_sp, sizes):
        # pending: (node, positions in chunk) still to walk
        pending = [(roots[root], group) for root, group in _groups(inverse[chunk.indices])]
        while pending:
            node, here = pending.pop()
            offset = node.offset
            if not offset:
                if node.user is not None:
                    columns.user[parked[chunk.indices[here]]] = users.setdefault(node.user, len(users))
                continue
            which = chunk.indices[here]
            short = sizes[which] < offset
            slow.extend(which[short & (room[which] > sizes[which])].tolist())
            here = here[~short]
            if not len(here):
                continue
            words = chunk.words(offset - 8, 8, here)
            for word, part in _groups(words):
                pending.append((node.children.get(word) or walks.child(node, word), here[part]))
    for i in slow:
        g = read_goroutine(rt, int(columns.addresses[parked[i]]))
        if g is not None:
            locate_code(rt, [g])
            if g.user_function is not None:
                user = (g.user_function, g.user_file, g.user_line)
                columns.user[parked[i]] = users.setdefault(user, len(users))
    columns.functions = list(functions)
    columns.users = list(users)


def _groups(values: np.ndarray):
    """(value, positions of it in values) for each distinct value. Most goroutines share a
    value, so only the others are sorted."""
    common = values[len(values) // 2]
    same = values == common
    groups = [(int(common), np.flatnonzero(same))]
    others = np.flatnonzero(~same)
    if len(others):
        order = others[np.argsort(values[others], kind="stable")]
        bounds = np.flatnonzero(np.diff(values[order])) + 1
        groups += [(int(values[group[0]]), group) for group in np.split(order, bounds)]
    return groups
