"""Which heap arenas the heap has (mheap_.allArenas), and the arena index of an address.

Kept apart from arenas.py (the arenas' contents) so that the page allocator can check its
ranges against the arenas without the two modules importing each other.
"""

from __future__ import annotations

from typing import List

from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import LOG_HEAP_ARENA_BYTES

# arenaBaseOffset (malloc.go) on linux/amd64: addresses are shifted by it so the
# two halves of the 48-bit address space form one contiguous index range. It
# does not fit in DWARF's int64 constants, so it is kept here, per architecture.
ARENA_BASE_OFFSET = 0xFFFF800000000000
MASK64 = (1 << 64) - 1
MAX_ARENAS = 1 << 22


def arena_indexes(rt: GoRuntime) -> List[int]:
    """mheap_.heapArenas (1.25+) or mheap_.allArenas: the indexes of the heap's arenas."""
    mheap = rt.layout("runtime.mheap")
    field = "heapArenas" if mheap.has("heapArenas") else "allArenas"
    return rt.read_word_slice(rt.global_address("runtime.mheap_") + mheap.offset(field), MAX_ARENAS,
                              f"mheap_.{field}")


def arena_index(rt: GoRuntime, address: int) -> int:
    """mheap.go arenaIndex."""
    return ((address - ARENA_BASE_OFFSET) & MASK64) >> rt.constant(LOG_HEAP_ARENA_BYTES)
