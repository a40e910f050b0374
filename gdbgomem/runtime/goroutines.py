"""Goroutines: every runtime.g reachable from runtime.allgs (runtime2.go, rt.go).

allgs is read as one array of pointers, the g structs in merged blocks, and
each g decoded with one unpack. Where a goroutine is parked, its stack top is
read in bulk too and unwound with the pclntab to find its first non-runtime
frame; results are cached per pc, since thousands of goroutines usually park
at the same few places.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.cache import per_binary, per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import G_DEAD, G_DEAD_EXTRA, G_SYSCALL, G_WAITING, SCAN_BIT
from gdbgomem.runtime.plausible import stack_flaws
from gdbgomem.runtime.struct_decoder import StructDecoder
from gdbgomem.runtime.unwinder import FUNC_FLAG_SPWRITE, FUNC_FLAG_TOPFRAME, is_runtime_function

# allglen is bounded by memory: a g is at least 400 bytes, and no process has
# a terabyte of them. Anything larger is a corrupt core.
MAX_GOROUTINES = 50_000_000
# How much of a parked goroutine's stack top is read in bulk to find its user
# frame; the runtime's park path (gopark + chanrecv + ...) takes a few hundred bytes.
STACK_TOP_BYTES = 512
MAX_USER_WALK = 64                 # runtime frames walked before giving up on a user frame
MAX_STACK_WALK_READ = 1 << 20      # bytes read for a walk that runs past STACK_TOP_BYTES

G_MEMBERS = [
    ("stack_lo", "stack.lo"), ("stack_hi", "stack.hi"),
    ("stackguard0", "stackguard0"), ("stackguard1", "stackguard1"),
    ("panic", "_panic"), ("defer", "_defer"), ("m", "m"),
    ("sched_sp", "sched.sp"), ("sched_pc", "sched.pc"), ("sched_bp", "sched.bp"),
    ("syscall_sp", "syscallsp"), ("syscall_pc", "syscallpc"),
    ("status", "atomicstatus.value"), ("goid", "goid"), ("waitsince", "waitsince"),
    ("waitreason", "waitreason"), ("lockedm", "lockedm"),
    ("parent_goid", "parentGoid"), ("gopc", "gopc"), ("startpc", "startpc"), ("labels", "labels"),
]


@dataclass(slots=True)
class Goroutine:
    """One runtime.g, decoded. Addresses and sizes are plain integers."""

    address: int
    goid: int
    status_code: int          # atomicstatus without the scan bit
    scan: bool                # the _Gscan bit: the GC owns the stack right now
    status: str               # the runtime's own name (gStatusStrings)
    wait_reason: Optional[str]
    waitsince: int
    stack_lo: int
    stack_hi: int
    stackguard0: int
    stackguard1: int
    sched_sp: int
    sched_pc: int
    sched_bp: int
    syscall_sp: int
    syscall_pc: int
    m_address: int
    lockedm: int
    panic: int
    defer: int
    parent_goid: Optional[int]
    gopc: int
    startpc: int
    labels_address: int       # g.labels: the pprof labels set on it (runtime/pprof), 0 for none
    # filled in by the listing
    m_id: Optional[int] = None
    thread_id: Optional[int] = None
    function: Optional[str] = None
    user_function: Optional[str] = None
    user_file: Optional[str] = None
    user_line: Optional[int] = None
    live_sp: Optional[int] = None  # from the thread's registers, while the goroutine runs
    live_pc: Optional[int] = None
    located: bool = False          # function and user frame looked up (locate_code)

    @property
    def saved_position(self) -> Tuple[int, int]:
        """(pc, sp) where the runtime's traceback of a goroutine that is not running starts:
        g.syscallpc/sp in a system call (traceback.go traceback1), g.sched otherwise."""
        if self.status_code == G_SYSCALL and self.syscall_sp:
            return self.syscall_pc, self.syscall_sp
        return self.sched_pc, self.sched_sp

    @property
    def sp(self) -> int:
        return self.live_sp if self.live_sp is not None else self.saved_position[1]

    @property
    def pc(self) -> int:
        return self.live_pc if self.live_pc is not None else self.saved_position[0]

    @property
    def stack_size(self) -> int:
        """hi - lo as read: negative or absurd in a corrupt core (see flaws)."""
        return self.stack_hi - self.stack_lo

    @property
    def flaws(self) -> Dict[str, str]:
        """Fields that cannot be true (a corrupt core), field -> why."""
        return stack_flaws(self.stack_lo, self.stack_hi)

    @property
    def is_dead(self) -> bool:
        """Dead, or the placeholder g of an extra M waiting for a cgo callback (1.26+, _Gdeadextra):
        not a goroutine of the program; runtime.NumGoroutine and its tracebacks leave both out."""
        return self.status_code == G_DEAD or self.status_code == G_DEAD_EXTRA


@per_binary
def g_decoder(rt: GoRuntime) -> StructDecoder:
    layout = rt.layout("runtime.g")
    members = list(G_MEMBERS)
    if not layout.has("atomicstatus.value"):
        members = [(n, "atomicstatus" if n == "status" else p) for n, p in members]
    return StructDecoder(layout, members)


def allgs_length(rt: GoRuntime) -> int:
    """How many gs runtime.allgs holds, from its slice header alone."""
    return rt.read_slice_header(rt.global_address("runtime.allgs"), MAX_GOROUTINES, "runtime.allgs")[1]


def read_allgs(rt: GoRuntime) -> List[int]:
    """Addresses of every g the runtime has ever created (runtime.allgs)."""
    array, length = rt.read_slice_header(rt.global_address("runtime.allgs"), MAX_GOROUTINES, "runtime.allgs")
    allglen = rt.symbol_address("runtime.allglen")
    raw = rt.target.try_read(allglen, 8) if allglen else None
    recorded = struct.unpack("<Q", raw)[0] if raw else length
    # allgadd appends to allgs, then stores allglen: a stop in between leaves them one apart
    if abs(recorded - length) > 1:
        raise GoMemError(f"runtime.allgs looks corrupt: it holds {length} gs but runtime.allglen says {recorded}",
                         "the process may be changing it right now, or the core is damaged")
    return list(struct.unpack(f"<{length}Q", rt.target.read(array, 8 * length))) if length else []


def read_goroutine(rt: GoRuntime, address: int, data: Optional[bytes] = None) -> Optional[Goroutine]:
    factory = _factory(rt)
    if data is None:
        data = rt.target.try_read(address, factory.decoder.size)
    return factory.make(address, data)


class _Factory:
    """Turns the bytes of a g into a Goroutine, with the per-binary lookups done once."""

    def __init__(self, rt: GoRuntime):
        self.decoder = g_decoder(rt)
        self.unpack = self.decoder.ordered_unpacker()
        self.scan_bit = rt.constant(SCAN_BIT)
        self.rt = rt
        self._status: dict = {}  # code -> name, memoized: looked up once per goroutine
        self._wait: dict = {}

    def make(self, address: int, data: Optional[bytes]) -> Optional[Goroutine]:
        """The goroutine in data (the g's bytes, or None where they could not be read)."""
        if data is None or len(data) < self.decoder.needed:
            return None
        (lo, hi, guard0, guard1, panic, defer, m, sched_sp, sched_pc, sched_bp, syscall_sp, syscall_pc,
         raw_status, goid, waitsince, waitreason, lockedm, parent_goid, gopc, startpc, labels) = self.unpack(data)
        raw_status = raw_status or 0
        code = raw_status & ~self.scan_bit
        status = self._status.get(code)
        if status is None:
            status = self._status[code] = self.rt.status_name(code)
        # the runtime leaves g.waitreason stale once a goroutine runs again; like its own
        # traceback (traceback.go goroutineheader), show it only while the goroutine waits
        waitreason = waitreason or 0 if code == G_WAITING else 0
        wait = self._wait.get(waitreason, 0)
        if wait == 0:
            wait = self._wait[waitreason] = self.rt.wait_reason(waitreason)
        return Goroutine(address, goid, code, bool(raw_status & self.scan_bit), status,
                         wait, waitsince or 0, lo, hi, guard0, guard1,
                         sched_sp, sched_pc, sched_bp or 0, syscall_sp, syscall_pc, m, lockedm or 0,
                         panic, defer, parent_goid, gopc, startpc, labels or 0)


@per_binary
def _factory(rt: GoRuntime) -> _Factory:
    return _Factory(rt)


@per_stop
def decoded_goroutines(rt: GoRuntime) -> List[Goroutine]:
    """Every g in allgs (dead ones included), decoded; where their code is, not yet looked up
    (locate_code): a view that shows 200 of 100 000 goroutines walks 200 stacks."""
    addresses = read_allgs(rt)
    factory = _factory(rt)
    size = factory.decoder.size
    blobs = rt.target.read_many([(a, size) for a in addresses])
    return [g for g in map(factory.make, addresses, blobs) if g is not None]


@per_stop
def all_goroutines(rt: GoRuntime) -> List[Goroutine]:
    """Every g in allgs (dead ones included), decoded, each with its function and user frame."""
    goroutines = decoded_goroutines(rt)
    locate_code(rt, goroutines)
    return goroutines


def locate_code(rt: GoRuntime, goroutines: List[Goroutine]) -> None:
    """Current function and first non-runtime frame of each parked goroutine not yet located.

    A parked goroutine's saved pc is a return address (runtime.mcall saved it),
    so every pc of the walk is one, and lines are looked up at pc-1. The top
    STACK_TOP_BYTES of each stack are read in bulk; the rare walk that runs past
    them reads the rest of its stack on its own. The walks go through a trie of
    the walks seen before (_Walks), so each goroutine costs a lookup per frame.
    """
    parked, starts, regions = [], [], []
    for g in goroutines:
        if g.located:
            continue
        g.located = True
        code = g.status_code
        if code == G_DEAD or not g.sched_pc or g.status == "running":
            continue
        if code == G_SYSCALL and g.syscall_sp:
            pc, sp = g.syscall_pc, g.syscall_sp
        else:
            pc, sp = g.sched_pc, g.sched_sp
        room = g.stack_hi - sp
        parked.append(g)
        starts.append(pc)
        regions.append((sp, STACK_TOP_BYTES if room > STACK_TOP_BYTES else (room if room > 0 else 0)))
    tops = rt.target.read_many(regions)
    walks = _walks(rt)
    roots, root, unpack = walks.roots, walks.root, _WORD.unpack_from
    for g, pc, top in zip(parked, starts, tops):
        node = roots.get(pc) or root(pc)
        g.function = node.function
        if top is None:
            continue
        size = len(top)
        while node.offset:
            offset = node.offset
            if offset > size:
                more = _rest_of_stack(rt, g, size)
                if more is None or offset > len(more):
                    node = None
                    break
                top, size = more, len(more)
            pc = unpack(top, offset - 8)[0]
            node = node.children.get(pc) or walks.child(node, pc)
        if node is not None and node.user is not None:
            g.user_function, g.user_file, g.user_line = node.user


def _rest_of_stack(rt: GoRuntime, g: Goroutine, have: int) -> Optional[bytes]:
    """The whole used part of a stack, when its top was not enough (bounded)."""
    sp = g.saved_position[1]
    room = min(g.stack_hi - sp, MAX_STACK_WALK_READ)
    return rt.target.try_read(sp, room) if room > have else None


_WORD = struct.Struct("<Q")


class _Node:
    """A point of a walk from a saved pc: the walk so far is known (its pcs), so where the
    next return address sits is known too. offset: bytes above the saved sp at which the
    next return address ends (0: the walk ends here); user: the first non-runtime frame
    as (name, file, line), where the walk ends on one; children: the next node by the
    return address read."""

    __slots__ = ("offset", "user", "children", "depth", "function")

    def __init__(self, offset: int, user, depth: int, function: Optional[str] = None):
        self.offset, self.user, self.depth, self.function = offset, user, depth, function
        self.children: Dict[int, "_Node"] = {}


class _Walks:
    """The walks to the first non-runtime frame, as a trie from the saved pc through each
    return address read, filled on demand. Parked goroutines sit at a handful of distinct
    stacks, so at 100 000 goroutines nearly every step is a dict lookup. Inlined calls
    count: a user function inlined into a runtime one (or the reverse) is seen as the
    runtime's traceback shows it."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.table = rt.pclntab
        self.inline = rt.inline_trees()
        self.roots: Dict[int, _Node] = {}

    def root(self, pc: int) -> _Node:
        node = self.roots.get(pc)
        if node is None:
            node = self.roots[pc] = self._node(pc, 0, 1)
            node.function = self.rt.function_at(pc)
        return node

    def child(self, node: _Node, pc: int) -> _Node:
        made = node.children[pc] = self._node(pc, node.offset, node.depth + 1)
        return made

    def _node(self, pc: int, offset: int, depth: int) -> _Node:
        """The walk at pc, offset bytes above the saved sp, its depth-th frame."""
        if depth > MAX_USER_WALK:
            return _Node(0, None, depth)
        func = self.table.find_func(pc) if pc else None
        delta = self.table.sp_delta(func, pc) if func is not None else None
        if delta is None or delta < 0:
            return _Node(0, None, depth)
        user = next(((f.function, f.file, f.line) for f in self.inline.logical_frames(func, pc - 1)
                     if not is_runtime_function(f.function, f.file)), None)
        if user is not None or func.flag & (FUNC_FLAG_TOPFRAME | FUNC_FLAG_SPWRITE):
            return _Node(0, user, depth)
        return _Node(offset + delta + 8, None, depth)


@per_binary
def _walks(rt: GoRuntime) -> _Walks:
    return _Walks(rt)


def find_goroutine(rt: GoRuntime, goid: int) -> Goroutine:
    for g in decoded_goroutines(rt):
        if g.goid == goid:
            locate_code(rt, [g])
            return g
    raise GoMemError(f"no goroutine {goid}", "list them with go-goroutines --all")
