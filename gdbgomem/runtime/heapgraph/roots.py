"""Where marking starts: the words outside the heap that may hold heap pointers, as the GC's
markroot sees them (mgcmark.go).

  - globals: each module's data and bss, the words the runtime's own pointer masks
    (moduledata.gcdatamask / gcbssmask, built from the binary's gcdata/gcbss) say hold
    pointers: precise;
  - goroutine stacks, frame by frame from the goroutine's stack pointer (the thread's
    register while it runs, its saved sp otherwise): the words the compiler's stack maps
    say hold live pointers (stack_maps.py). A frame without maps, the innermost frame of a
    running goroutine and a frame interrupted by asynchronous preemption are scanned word
    by word (as the GC does for the last two), and said to be.
  - specials: finalizers, cleanups and weak handles (special_roots.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from gdbgomem.runtime.goroutines import decoded_goroutines
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.stack_maps import frame_pointer_offsets
from gdbgomem.runtime.stack_view import stack_of_goroutine
from gdbgomem.runtime.threads import attach_threads, thread_of_goroutine

MAX_MODULES = 64                 # moduledata.next chain (plugins); a cycle stops here
MAX_GLOBALS_BYTES = 1 << 30      # a data or bss section larger than this is a corrupt moduledata
MAX_STACK_BYTES = 1 << 30        # the runtime's maxstacksize on 64-bit
# a frame that was interrupted rather than calling: the frame above it holds no call site's
# map, and the runtime scans it word by word too (mgcmark.go scanframeworker, asyncPreempt)
PREEMPTED = frozenset({"runtime.asyncPreempt"})


@dataclass
class RootWords:
    """Root words of one kind and owner: the addresses they sit at and the values they hold."""

    kind: str                 # "global", "stack", "finalizer" or "runtime"
    name: str                 # ".data", ".bss", "goroutine 42"
    addresses: np.ndarray     # uint64
    values: np.ndarray        # uint64
    precise: bool
    goid: Optional[int] = None
    pointer_types: Optional[np.ndarray] = None   # uint64 per value: its pointer type (*T) where known, else 0
    frame: Optional[Tuple[str, int, int]] = None  # a stack frame's (function symbol, pc to look up, CFA)
    section_start: Optional[int] = None           # a global's: where its section (.data, .bss) begins


def global_roots(rt: GoRuntime) -> List[RootWords]:
    md = rt.layout("runtime.moduledata")
    module = rt.global_address("runtime.firstmoduledata")
    roots: List[RootWords] = []
    seen = set()
    while module and module not in seen and len(seen) < MAX_MODULES:
        seen.add(module)
        raw = rt.target.try_read(module, md.size)
        if raw is None:
            break
        word = lambda path, fmt="<Q": struct.unpack_from(fmt, raw, md.offset(path))[0]  # noqa: E731
        for name, start, end, mask in ((".data", "data", "edata", "gcdatamask"), (".bss", "bss", "ebss", "gcbssmask")):
            root = _masked_words(rt, name, word(start), word(end), word(f"{mask}.n", "<i"),
                                 word(f"{mask}.bytedata"))
            if root is not None:
                roots.append(root)
        module = word("next")
    return roots


def _masked_words(rt: GoRuntime, name: str, start: int, end: int, nbits: int, bytedata: int) -> Optional[RootWords]:
    size = end - start
    if not 0 < size <= MAX_GLOBALS_BYTES or not bytedata or not 0 < nbits <= size // 8:
        return None
    memory = rt.target.try_read(start, size - size % 8)
    mask = rt.target.try_read(bytedata, (nbits + 7) // 8)
    if memory is None or mask is None:
        return None
    bits = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), bitorder="little")[:nbits].astype(bool)
    words = np.frombuffer(memory, dtype=np.uint64)[:nbits]
    keep = bits & (words != 0)
    addresses = np.uint64(start) + np.flatnonzero(keep).astype(np.uint64) * np.uint64(8)
    return RootWords("global", name, addresses, words[keep], precise=True, section_start=start)


def stack_roots(rt: GoRuntime) -> List[RootWords]:
    """One RootWords per frame of each goroutine that is not dead, named after the function
    the frame runs (an inlined call's own name)."""
    goroutines = [g for g in decoded_goroutines(rt) if not g.is_dead]
    attach_threads(rt, goroutines)
    roots: List[RootWords] = []
    for g in goroutines:
        view = stack_of_goroutine(rt, g, thread_of_goroutine(rt, g))
        low = view.sp - view.sp % 8 if g.stack_lo <= view.sp < g.stack_hi else g.stack_lo
        size = g.stack_hi - low
        blob = rt.target.try_read(low, size) if 0 < size <= MAX_STACK_BYTES else None
        if not blob:
            continue
        words = np.frombuffer(blob[:len(blob) - len(blob) % 8], dtype=np.uint64)
        for name, offsets, precise, frame in _frames(rt, view, low, g.stack_hi):
            index = offsets // 8
            index = index[(index >= 0) & (index < len(words))]
            values = words[index]
            keep = values != 0
            roots.append(RootWords("stack", f"goroutine {g.goid} {name}",
                                   np.uint64(low) + index[keep].astype(np.uint64) * np.uint64(8), values[keep],
                                   precise, goid=g.goid, frame=frame))
    return roots


def _frames(rt: GoRuntime, view, low: int, high: int):
    """(name, offsets from low of the pointer words, precise, (function, pc, CFA)) per physical frame;
    the words past the last frame the walk reached are one more conservative region. The pc is the
    one a call site's variables are described at: a return address less one."""
    names, out = {}, []
    for frame in view.frames:
        names.setdefault(frame.sp, frame.function or hex(frame.pc))
    physical = [f for f in view.frames if not f.inlined]
    conservative_next = view.sp_source == "thread registers"  # the innermost frame of a running goroutine
    end = low
    for depth, frame in enumerate(physical):
        func = rt.pclntab.find_func(frame.pc)
        size = frame.size_on_stack  # up to the caller's sp: the frame and the return address
        if func is None or size is None:
            break
        offsets = None if conservative_next else frame_pointer_offsets(rt, func, frame.pc, size)
        conservative_next = func.name in PREEMPTED  # the frame it interrupted is scanned word by word
        base = frame.sp - low
        where = (func.name, frame.pc - (1 if depth else 0), frame.sp + size)
        if offsets is None:
            out.append((names[frame.sp], base + np.arange(0, size, 8, dtype=np.int64), False, where))
        else:
            out.append((names[frame.sp], base + offsets, True, where))
        end = frame.sp + size
    if view.stop_reason not in ("goexit", "top frame") and end < high:
        out.append(("(beyond the last frame)", np.arange(end - low, high - low, 8, dtype=np.int64), False, None))
    return out
