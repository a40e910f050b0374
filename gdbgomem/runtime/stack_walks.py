"""Every goroutine's stack unwound at once (go-bt --all), each walk a path through a trie.

A walk from (pc, sp) is decided by the pcs it meets (unwinder.unwind): each pc
gives the frame's functions and size, the size where the next return address
sits. Goroutines parked at the same place meet the same pcs, so the walks are
kept as a trie from the first pc through each return address read: a node holds
what one pc adds to a traceback, made once, and a goroutine costs a word read
and a dict lookup per frame. Frames with their stack addresses are made only
for the stacks shown (Walk.frames). The stacks are read in bulk, a batch at a time.
"""

from __future__ import annotations

import struct
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from gdbgomem.runtime.goroutines import Goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.cache import per_binary
from gdbgomem.runtime.stack_view import MAX_STACK_READ, start_of
from gdbgomem.runtime.threads import Thread
from gdbgomem.runtime.unwinder import (_TRAP_FUNCTIONS, FUNC_FLAG_SPWRITE, FUNC_FLAG_TOPFRAME, MAX_FRAMES,
                                       RETURN_ADDRESS, Frame)

_WORD = struct.Struct("<Q")
BATCH = 4096  # goroutines whose stacks are read and walked together: bounds the bytes held at once


class Node:
    """One physical frame of a walk: pc, its offset above the walk's first sp, the functions it
    runs as (function, file, line, frame size, entry, inlined, wrapper), and how the walk goes on:
    stop (why it ends here) or the offset of the caller's sp and whether the caller's pc is exact."""

    __slots__ = ("pc", "offset", "logical", "stop", "caller_offset", "caller_exact", "children", "parent", "_lines")

    def __init__(self, pc: int, offset: int, parent: Optional["Node"]):
        self.pc, self.offset, self.parent = pc, offset, parent
        self.logical: List[tuple] = []
        self.stop: Optional[str] = None
        self.caller_offset = 0
        self.caller_exact = False
        self.children: Dict[int, "Node"] = {}  # by the return address read (caller_exact is this node's)
        self._lines: Optional[str] = None

    @property
    def lines(self) -> str:
        """Function and file:line of every frame from the first to this one, a line each: what
        identical stacks share (go-bt groups by it)."""
        if self._lines is None:
            own = "\n".join(f"{f[0]} {f[1]}:{f[2]}" for f in self.logical)
            above = self.parent.lines if self.parent is not None else ""
            self._lines = above + "\n" + own if above and own else above or own
        return self._lines


class Walk(NamedTuple):
    """One goroutine's walk: its last node (None: nothing to walk), the sp it started from, and why
    it ended."""

    last: Optional[Node]
    sp: int
    stop_reason: str

    @property
    def lines(self) -> str:
        return self.last.lines if self.last is not None else ""

    def frames(self) -> List[Frame]:
        """The frames as unwinder.unwind gives them, with this walk's stack addresses."""
        nodes = []
        node = self.last
        while node is not None:
            nodes.append(node)
            node = node.parent
        out = []
        for node in reversed(nodes):
            sp = self.sp + node.offset
            for function, file, line, size, entry, inlined, wrapper in node.logical:
                out.append(Frame(node.pc, sp, function, file, line, size, entry, inlined, wrapper))
        return out


class _Trie:
    """The nodes of every walk seen, by first (pc, exact) and then by (return address, exact)."""

    def __init__(self, rt: GoRuntime):
        self.table = rt.pclntab
        self.inline = rt.inline_trees()
        self.roots: Dict[Tuple[int, bool], Node] = {}

    def root(self, pc: int, exact: bool) -> Node:
        node = self.roots.get((pc, exact))
        if node is None:
            node = self.roots[(pc, exact)] = self._fill(Node(pc, 0, None), exact)
        return node

    def child(self, node: Node, pc: int) -> Node:
        made = node.children[pc] = self._fill(Node(pc, node.caller_offset, node), node.caller_exact)
        return made

    def _fill(self, node: Node, exact: bool) -> Node:
        """What unwinder.unwind does at one pc, kept."""
        pc, table = node.pc, self.table
        func = table.find_func(pc) if pc else None
        if func is None:
            node.stop = "unknown pc" if pc else "pc is zero"
            return node
        delta = table.sp_delta(func, pc)
        frame_size = delta if delta is not None and delta >= 0 else None  # the compiler's, as Frame has it
        lookup = pc if exact or pc <= func.entry else pc - 1
        node.logical = [(f.function, f.file, f.line, None, None, True, f.wrapper) if f.inlined
                        else (f.function, f.file, f.line, frame_size, func.entry, False, f.wrapper)
                        for f in self.inline.logical_frames(func, lookup)]
        if func.name == "runtime.goexit":
            node.stop = "goexit"
        elif func.flag & FUNC_FLAG_TOPFRAME:
            node.stop = "top frame"
        elif func.flag & FUNC_FLAG_SPWRITE:
            node.stop = "stack switch"
        elif frame_size is None:
            node.stop = "no frame size"
        else:
            node.caller_offset = node.offset + frame_size + RETURN_ADDRESS
            node.caller_exact = func.name in _TRAP_FUNCTIONS
        return node


@per_binary
def _trie(rt: GoRuntime) -> _Trie:
    return _Trie(rt)


def walk_all(rt: GoRuntime, goroutines: Sequence[Goroutine], threads: Sequence[Optional[Thread]]) -> List[Walk]:
    """Each goroutine's walk from where its traceback starts (stack_view.start_of), its thread
    given (None when it has none)."""
    trie = _trie(rt)
    out: List[Walk] = []
    for first in range(0, len(goroutines), BATCH):
        batch = goroutines[first:first + BATCH]
        starts = [start_of(g, t) for g, t in zip(batch, threads[first:first + BATCH])]
        regions = [(sp, min(g.stack_hi - sp, MAX_STACK_READ)) if sp and pc and g.stack_lo <= sp <= g.stack_hi
                   else None for g, (sp, pc, _, _) in zip(batch, starts)]
        stacks = rt.target.read_many([r or (0, 0) for r in regions])
        for g, (sp, pc, _, exact), region, data in zip(batch, starts, regions, stacks):
            if region is None:
                out.append(Walk(None, sp, "no saved position" if not sp else "sp outside the stack"))
            else:
                out.append(_walk(trie, data or b"", rt.target.try_read, pc, sp, g.stack_hi, exact))
    return out


def _walk(trie: _Trie, data: bytes, read, pc: int, sp: int, hi: int, exact: bool) -> Walk:
    """unwinder.unwind through the trie: the same frames and the same reason to stop. data: the
    stack from sp up, as far as it was read; read(address, size) for words beyond it."""
    node = trie.root(pc, exact)
    size, unpack = len(data), _WORD.unpack_from
    for _ in range(MAX_FRAMES):
        if node.stop is not None:
            return Walk(node, sp, node.stop)
        offset = node.caller_offset
        if sp + offset > hi:
            return Walk(node, sp, "stack end")
        if offset <= size:
            return_pc = unpack(data, offset - 8)[0]
        else:
            raw = read(sp + offset - 8, 8)
            if raw is None or len(raw) != 8:
                return Walk(node, sp, "unreadable stack")
            return_pc = unpack(raw)[0]
        if sp + offset >= hi:
            return Walk(node, sp, "stack end")
        last = node
        node = node.children.get(return_pc) or trie.child(node, return_pc)
    return Walk(last, sp, "frame limit")
