"""Runtime memory outside the heap's objects, by structure, added up as runtime.MemStats does.

runtime.ReadMemStats (mstats.go readmemstats_m) takes each off-heap figure from one place:
MSpanInuse is mheap_.spanalloc.inuse (the fixalloc of mspan structs), MCacheInuse
mheap_.cachealloc.inuse, the *Sys figures are sysMemStat counters in runtime.memstats,
StackInuse, the GC work buffers and (1.22-1.23) unrolled GC programs are manual spans, HeapSys
is the heap's pages less those.
The same sums are made here from the same places, so each figure equals the program's own
MemStats while the program is stopped. runtime.memstats is found through the spanalloc's
stat pointer (&memstats.mspan_sys), so a stripped binary needs no symbol for it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.arena_index import arena_indexes
from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.pages import page_counts
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.span_totals import group_totals

SYS_COUNTERS = ("stacks_sys", "mspan_sys", "mcache_sys", "buckhash_sys", "gcMiscSys", "other_sys")


@dataclass
class OffHeap:
    memstats_address: int
    counters: Dict[str, int]      # runtime.memstats' sysMemStat counters, by field name
    mspan_inuse: int              # mheap_.spanalloc.inuse
    mcache_inuse: int             # mheap_.cachealloc.inuse
    mspan_size: int               # sizeof(mspan), sizeof(mcache), sizeof(heapArena)
    mcache_size: int
    heap_arena_size: int
    arenas: int
    stack_inuse: int              # manual spans holding goroutine stacks
    workbufs: int                 # manual spans holding GC work buffers
    gcprog_bits: int              # manual spans holding unrolled GC programs (1.22-1.23: inPtrScalarBits)
    heap_pages_bytes: int         # every page in the heap's ranges

    def memstats(self) -> Dict[str, int]:
        """The runtime.MemStats fields of memory outside the heap's objects, and Sys."""
        c = self.counters
        heap_sys = self.heap_pages_bytes - self.stack_inuse - self.workbufs - self.gcprog_bits
        figures = {
            "HeapSys": heap_sys,
            "StackInuse": self.stack_inuse, "StackSys": self.stack_inuse + c["stacks_sys"],
            "MSpanInuse": self.mspan_inuse, "MSpanSys": c["mspan_sys"],
            "MCacheInuse": self.mcache_inuse, "MCacheSys": c["mcache_sys"],
            "BuckHashSys": c["buckhash_sys"], "GCSys": c["gcMiscSys"] + self.workbufs + self.gcprog_bits,
            "OtherSys": c["other_sys"],
        }
        figures["Sys"] = sum(figures[k] for k in ("HeapSys", "StackSys", "MSpanSys", "MCacheSys", "BuckHashSys",
                                                  "GCSys", "OtherSys"))
        return figures


@per_stop
def off_heap(rt: GoRuntime) -> OffHeap:
    mheap, fixalloc, mstats = rt.layout("runtime.mheap"), rt.layout("runtime.fixalloc"), rt.layout("runtime.mstats")
    base = rt.global_address("runtime.mheap_")
    spanalloc = _fixalloc(rt, base + mheap.offset("spanalloc"), fixalloc)
    cachealloc = _fixalloc(rt, base + mheap.offset("cachealloc"), fixalloc)
    memstats = spanalloc[1] - mstats.offset("mspan_sys")
    if cachealloc[1] != memstats + mstats.offset("mcache_sys"):
        raise GoMemError("runtime.memstats not found: mheap_'s spanalloc and cachealloc count into different places",
                         "the memory of the process or core is damaged here")
    counters = {}
    for name in SYS_COUNTERS:
        raw = rt.target.read(memstats + mstats.offset(name), 8)
        counters[name] = struct.unpack("<Q", raw)[0]
    groups = group_totals(rt)  # (spans, bytes) per group, as go-heap has them
    return OffHeap(
        memstats_address=memstats, counters=counters, mspan_inuse=spanalloc[0], mcache_inuse=cachealloc[0],
        mspan_size=rt.layout("runtime.mspan").size, mcache_size=rt.layout("runtime.mcache").size,
        heap_arena_size=rt.layout("runtime.heapArena").size, arenas=len(arena_indexes(rt)),
        stack_inuse=groups.get("stack", (0, 0))[1], workbufs=groups.get("workbuf", (0, 0))[1],
        gcprog_bits=groups.get("gcprog", (0, 0))[1],
        heap_pages_bytes=page_counts(rt).total_pages * page_size(rt))


def _fixalloc(rt: GoRuntime, address: int, layout) -> tuple:
    """(inuse, stat) of a fixalloc: bytes of its structs in use, and the counter it adds to."""
    raw = rt.target.read(address, layout.size)
    inuse = struct.unpack_from("<Q", raw, layout.offset("inuse"))[0]
    stat = struct.unpack_from("<Q", raw, layout.offset("stat"))[0]
    return inuse, stat
