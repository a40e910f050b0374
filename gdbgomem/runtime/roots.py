"""Where marking starts: the words outside the heap that may hold heap pointers, as the GC's
markroot sees them (mgcmark.go).

  - globals: each module's data and bss, the words the runtime's own pointer masks
    (moduledata.gcdatamask / gcbssmask, built from the binary's gcdata/gcbss) say hold
    pointers: precise;
  - goroutine stacks: every word from the goroutine's stack pointer up to stack.hi (the
    thread's register while it runs, its saved sp otherwise). The compiler's stack maps
    are not read yet, so stacks are scanned conservatively (every word that lands in an
    allocated slot counts), which can only keep more alive, never less.
Finalizers and other specials are not roots yet.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from gdbgomem.runtime.goroutines import decoded_goroutines
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.threads import attach_threads

MAX_MODULES = 64                 # moduledata.next chain (plugins); a cycle stops here
MAX_GLOBALS_BYTES = 1 << 30      # a data or bss section larger than this is a corrupt moduledata
MAX_STACK_BYTES = 1 << 30        # the runtime's maxstacksize on 64-bit


@dataclass
class RootWords:
    """Root words of one kind and owner: the addresses they sit at and the values they hold."""

    kind: str                 # "global" or "stack"
    name: str                 # ".data", ".bss", "goroutine 42"
    addresses: np.ndarray     # uint64
    values: np.ndarray        # uint64
    precise: bool
    goid: Optional[int] = None


def all_roots(rt: GoRuntime) -> List[RootWords]:
    return global_roots(rt) + stack_roots(rt)


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
    return RootWords("global", name, addresses, words[keep], precise=True)


def stack_roots(rt: GoRuntime) -> List[RootWords]:
    goroutines = [g for g in decoded_goroutines(rt) if not g.is_dead]
    attach_threads(rt, goroutines)
    regions = []
    for g in goroutines:
        low = g.sp if g.stack_lo <= g.sp < g.stack_hi else g.stack_lo
        low -= low % 8
        regions.append((low, g.stack_hi - low if 0 < g.stack_hi - low <= MAX_STACK_BYTES else 0))
    blobs = rt.target.read_many(regions)
    roots = []
    for g, (low, size), blob in zip(goroutines, regions, blobs):
        if not blob:
            continue
        words = np.frombuffer(blob[:len(blob) - len(blob) % 8], dtype=np.uint64)
        keep = words != 0
        addresses = np.uint64(low) + np.flatnonzero(keep).astype(np.uint64) * np.uint64(8)
        roots.append(RootWords("stack", f"goroutine {g.goid}", addresses, words[keep], precise=False, goid=g.goid))
    return roots
