"""Which heap pages sit in RAM now, read once per stop over the heap's ranges.

The kernel gives a page RAM when it is first touched (demand paging) and takes it back when
the runtime's scavenger returns it (mem_linux.go sysUnusedOS: madvise MADV_DONTNEED, at once;
MADV_FREE with GODEBUG=madvdontneed=0, only under memory pressure, so a scavenged page can stay
resident). One pagemap read per range of pageAlloc.inUse covers every span of the heap; spans
and arenas then count their pages in that map instead of asking the kernel each.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import List, Optional, Tuple

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.pages import page_allocator

OS_PAGE = 4096


@dataclass
class HeapResidency:
    """One byte per 4 KiB page of each heap range (1: in RAM), and the Go pages that the page
    allocator marks scavenged although some of their bytes are still in RAM."""

    maps: List[Tuple[int, int, bytes]]  # (base, limit, residency) per range of pageAlloc.inUse
    scavenged_resident: List[int]       # sorted addresses of those Go pages
    go_page: int

    def resident_bytes(self, start: int, end: int) -> int:
        """Bytes of [start, end) in RAM (what lies outside the heap's ranges counts as not)."""
        total = 0
        for base, limit, pages in self.maps:
            lo, hi = max(start, base), min(end, limit)
            if lo < hi:
                total += pages.count(1, (lo - base) // OS_PAGE, (hi - base + OS_PAGE - 1) // OS_PAGE)
        return total * OS_PAGE

    def scavenged_resident_bytes(self, start: int, end: int) -> int:
        """Bytes of [start, end) in Go pages marked scavenged that are still (partly) in RAM."""
        first = bisect_left(self.scavenged_resident, start)
        last = bisect_left(self.scavenged_resident, end)
        return sum(self.resident_bytes(page, page + self.go_page) for page in self.scavenged_resident[first:last])


@per_stop
def heap_residency(rt: GoRuntime) -> Optional[HeapResidency]:
    """The heap's residency, None where the OS cannot be asked (a core, a remote process)."""
    return _residency(rt, page_allocator(rt).ranges())


def span_residency(rt: GoRuntime, base: int, limit: int) -> Optional[HeapResidency]:
    """The residency of one span's pages [base, limit), the same counts heap_residency gives
    for them: go-span asks for one span, and the heap's whole map (a pagemap entry per 4 KiB
    of a GiB heap) would cost it more than everything else it does."""
    return _residency(rt, [(base, limit)])


def _residency(rt: GoRuntime, ranges) -> Optional[HeapResidency]:
    """Residency of the [base, limit) ranges (within the heap's), scavenged pages included."""
    pa = page_allocator(rt)
    maps = []
    for base, limit in ranges:
        pages = rt.target.page_residency(base, limit)
        if pages is None:
            return None
        maps.append((base, limit, pages))
    found = HeapResidency(maps, [], pa.page)
    words = pa.chunk_pages // 64
    for base, limit, _ in maps:
        for index, data in pa.chunks(base, limit):
            if len(data) < 16 * words:
                continue
            scavenged = int.from_bytes(data[8 * words:16 * words], "little")
            chunk_base = pa.chunk_base(index)
            while scavenged:
                low = scavenged & -scavenged
                page = chunk_base + (low.bit_length() - 1) * pa.page
                scavenged ^= low
                if base <= page < limit and found.resident_bytes(page, page + pa.page):
                    found.scavenged_resident.append(page)
    found.scavenged_resident.sort()
    return found
