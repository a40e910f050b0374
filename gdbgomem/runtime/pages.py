"""The page allocator, mheap_.pages (runtime.pageAlloc, mpagealloc.go): which heap
pages are allocated and which free pages were returned to the OS (scavenged).

Each 4 MiB chunk of heap address space has a pallocData: 512 bits "page in
use" and 512 bits "page scavenged". Only chunks inside pageAlloc.inUse (the
address ranges the heap has grown into) are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.arena_index import ARENA_BASE_OFFSET, MASK64, arena_index, arena_indexes
from gdbgomem.runtime.cache import per_binary, per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import HEAP_ADDR_BITS, PALLOC_CHUNK_PAGES, SUMMARY_LEVEL_BITS, SUMMARY_LEVELS
from gdbgomem.runtime.sizeclasses import page_size

MAX_RANGES = 1 << 16
MAX_SUMMARY_ENTRIES = 1 << 26  # level 4 of a 48-bit address space


@dataclass
class PageCounts:
    """Pages of the heap's address ranges, from the page allocator's bitmaps."""

    ranges: List[Tuple[int, int]]  # [base, limit) address ranges the heap has grown into
    total_pages: int
    in_use_pages: int
    free_pages: int
    scavenged_pages: int
    unreadable_pages: int  # in chunks whose bitmaps could not be read (counted neither used nor free)
    padding_pages: int = 0           # allocated and scavenged: never used (1.26+ randomized heap base padding)
    cached_free_pages: int = 0       # "in use" for the page allocator, but free in a P's page cache
    cached_scavenged_pages: int = 0  # of those, scavenged


class PageAllocator:
    """Geometry of mheap_.pages and access to its per-chunk bitmaps."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.layout = rt.layout("runtime.pageAlloc")
        self.address = rt.global_address("runtime.mheap_") + rt.layout("runtime.mheap").offset("pages")
        self.page = page_size(rt)
        self.chunk_pages = rt.constant(PALLOC_CHUNK_PAGES)
        self.chunk_bytes = self.chunk_pages * self.page
        self.log_chunk_bytes = self.chunk_bytes.bit_length() - 1
        heap_bits = rt.constant(HEAP_ADDR_BITS)
        self.l1_entries = self.layout.member("chunks").size // 8
        self.l2_bits = heap_bits - self.log_chunk_bytes - (self.l1_entries.bit_length() - 1)
        self.palloc_size = rt.layout("runtime.pallocData").size

    def chunk_index(self, address: int) -> int:
        return ((address - ARENA_BASE_OFFSET) & MASK64) >> self.log_chunk_bytes

    def chunk_base(self, index: int) -> int:
        return ((index << self.log_chunk_bytes) + ARENA_BASE_OFFSET) & MASK64

    def ranges(self) -> List[Tuple[int, int]]:
        """pageAlloc.inUse: the heap's address ranges, sorted (mranges.go addrRanges)."""
        array, length = self.rt.read_slice_header(self.address + self.layout.offset("inUse.ranges"),
                                                    MAX_RANGES, "pageAlloc.inUse")
        data = self.rt.target.read(array, 16 * length) if length else b""
        ranges = [struct.unpack_from("<QQ", data, 16 * i) for i in range(length)]
        why = self._flaw(ranges)
        if why:
            raise GoMemError(f"pageAlloc.inUse is corrupt: {why}",
                             "the memory of the process or core is damaged here; go-spans and go-goroutines do not read it")
        return ranges

    def _flaw(self, ranges: List[Tuple[int, int]]) -> Optional[str]:
        """Why these cannot be the heap's ranges: the runtime keeps them sorted and disjoint, inside
        the heap's arenas, and allocates the chunk table of every chunk in them when it grows the
        heap (mpagealloc.go grow)."""
        l1_table = self.rt.target.read(self.address + self.layout.offset("chunks"), 8 * self.l1_entries)
        arenas = set(arena_indexes(self.rt)) if ranges else set()
        previous = 0
        for base, limit in ranges:
            if not previous <= base < limit:
                return f"range [0x{base:x}, 0x{limit:x}) is empty or out of order"
            previous = limit
            first, last = arena_index(self.rt, base), arena_index(self.rt, limit - 1)
            if last - first >= len(arenas) or any(i not in arenas for i in range(first, last + 1)):
                return f"range [0x{base:x}, 0x{limit:x}) reaches past the heap's {len(arenas)} arenas"
            first, last = self.chunk_index(base) >> self.l2_bits, self.chunk_index(limit - 1) >> self.l2_bits
            for l1 in range(first, last + 1):
                if l1 >= self.l1_entries or not struct.unpack_from("<Q", l1_table, 8 * l1)[0]:
                    return f"range [0x{base:x}, 0x{limit:x}) has chunks without a chunk table"
        return None

    def chunks(self, base: int, limit: int) -> Iterator[Tuple[int, bytes]]:
        """(chunk index, pallocData bytes or b"" if unreadable) for every chunk overlapping [base, limit)."""
        first, last = self.chunk_index(base), self.chunk_index(limit - 1)
        l1_table = self.rt.target.read(self.address + self.layout.offset("chunks"), 8 * self.l1_entries)
        mask = (1 << self.l2_bits) - 1
        index = first
        while index <= last:
            l1, l2 = index >> self.l2_bits, index & mask
            run = min(last - index + 1, mask + 1 - l2)  # chunks left in this L2 block
            l2_table = struct.unpack_from("<Q", l1_table, 8 * l1)[0] if l1 < self.l1_entries else 0
            data = self.rt.target.try_read(l2_table + l2 * self.palloc_size, run * self.palloc_size) \
                if l2_table else None
            for i in range(run):
                yield index + i, data[i * self.palloc_size:(i + 1) * self.palloc_size] if data else b""
            index += run


@per_binary
def page_allocator(rt: GoRuntime) -> PageAllocator:
    return PageAllocator(rt)


@per_stop
def page_counts(rt: GoRuntime) -> PageCounts:
    """In-use, free and scavenged pages over the heap's ranges."""
    counts = _count(page_allocator(rt))
    counts.cached_free_pages, counts.cached_scavenged_pages = page_caches(rt)
    return counts


def page_caches(rt: GoRuntime) -> Tuple[int, int]:
    """Free and scavenged pages held in the Ps' page caches (p.pcache, mpagecache.go).

    A P takes up to 64 pages at once from the page allocator, which marks them
    in use; the cache's bitmap says which of them are still free.
    """
    p_layout = rt.layout("runtime.p")
    cache = rt.layout("runtime.pageCache")
    free = scavenged = 0
    for p in rt.all_p():
        data = rt.target.try_read(p + p_layout.offset("pcache"), cache.size) if p else None
        if data is None:
            continue
        bits = struct.unpack_from("<Q", data, cache.offset("cache"))[0]
        scav = struct.unpack_from("<Q", data, cache.offset("scav"))[0]
        free += bits.bit_count()
        scavenged += (bits & scav).bit_count()
    return free, scavenged


def _count(pa: PageAllocator) -> PageCounts:
    ranges = pa.ranges()
    total = in_use = scavenged = unreadable = padding = 0
    words = pa.chunk_pages // 64
    for base, limit in ranges:
        for index, data in pa.chunks(base, limit):
            chunk_base = pa.chunk_base(index)
            lo = max(0, (base - chunk_base) // pa.page)
            hi = min(pa.chunk_pages, (limit - chunk_base) // pa.page)
            if hi <= lo:
                continue
            total += hi - lo
            if len(data) < 16 * words:
                unreadable += hi - lo
                continue
            wanted = ((1 << hi) - 1) ^ ((1 << lo) - 1)  # pages of this chunk inside the range
            alloc = int.from_bytes(data[:8 * words], "little") & wanted
            scav = int.from_bytes(data[8 * words:16 * words], "little") & wanted
            in_use += alloc.bit_count()
            scavenged += scav.bit_count()
            padding += (alloc & scav).bit_count()
    return PageCounts(ranges, total, in_use, total - in_use - unreadable, scavenged, unreadable, padding)


@dataclass
class Summary:
    """One packed pallocSum of the radix tree: free pages at the start of its
    region, the longest free run in it, and free pages at its end."""

    level: int
    index: int
    base: int
    start: int
    max: int
    end: int


def unpack_summary(value: int, log_max: int) -> Tuple[int, int, int]:
    """pallocSum -> (start, max, end) (mpagealloc.go): 21 bits each, bit 63 = all free."""
    if value >> 63:
        return (1 << log_max,) * 3
    mask = (1 << log_max) - 1
    return value & mask, (value >> log_max) & mask, (value >> 2 * log_max) & mask


def summaries(rt: GoRuntime, level: int) -> List[Summary]:
    """Entries of summary level `level` covering the heap's ranges (0 = root, 4 = one per chunk)."""
    pa = page_allocator(rt)
    levels = rt.constant(SUMMARY_LEVELS)
    level_bits = rt.constant(SUMMARY_LEVEL_BITS)
    heap_bits = rt.constant(HEAP_ADDR_BITS)
    l0_bits = heap_bits - pa.log_chunk_bytes - (levels - 1) * level_bits
    shift = heap_bits - l0_bits - level * level_bits
    log_max = (pa.chunk_pages.bit_length() - 1) + (levels - 1) * level_bits
    array, length = rt.read_slice_header(pa.address + pa.layout.offset("summary") + 24 * level,
                                           MAX_SUMMARY_ENTRIES, f"pageAlloc.summary[{level}]")
    out: List[Summary] = []
    for base, limit in pa.ranges():
        lo = ((base - ARENA_BASE_OFFSET) & MASK64) >> shift
        hi = (((limit - 1 - ARENA_BASE_OFFSET) & MASK64) >> shift) + 1
        hi = min(hi, length)
        data = rt.target.try_read(array + 8 * lo, 8 * (hi - lo)) if hi > lo else None
        if data is None:
            continue
        for i, value in enumerate(struct.unpack(f"<{hi - lo}Q", data)):
            index = lo + i
            if out and out[-1].index == index:
                continue  # two ranges in one entry
            start, longest, end = unpack_summary(value, log_max)
            out.append(Summary(level, index, ((index << shift) + ARENA_BASE_OFFSET) & MASK64, start, longest, end))
    return out


def search_address(rt: GoRuntime) -> int:
    """pageAlloc.searchAddr: no free page lies below it (the allocator starts looking there)."""
    pa = page_allocator(rt)
    raw = rt.target.read(pa.address + pa.layout.offset("searchAddr"), 8)
    return struct.unpack("<Q", raw)[0]


def chunk_bits(rt: GoRuntime, address: int) -> Optional[Tuple[int, int, int]]:
    """(chunk base, allocated bits, scavenged bits) of the 4 MiB chunk holding address."""
    pa = page_allocator(rt)
    index = pa.chunk_index(address)
    base = pa.chunk_base(index)
    for _, data in pa.chunks(base, base + 1):
        words = pa.chunk_pages // 64
        if len(data) < 16 * words:
            return None
        return base, int.from_bytes(data[:8 * words], "little"), int.from_bytes(data[8 * words:16 * words], "little")
    return None


def largest_free_run(rt: GoRuntime) -> Tuple[int, int]:
    """(pages, start address) of the longest run of free pages, from the chunk bitmaps;
    runs continue across chunk boundaries inside a range, as the allocator's search does."""
    pa = page_allocator(rt)
    best, best_at = 0, 0
    for base, limit in pa.ranges():
        run, run_at = 0, base
        for index, data in pa.chunks(base, limit):
            words = pa.chunk_pages // 64
            alloc = int.from_bytes(data[:8 * words], "little") if len(data) >= 16 * words else (1 << pa.chunk_pages) - 1
            chunk_base = pa.chunk_base(index)
            for i in range(pa.chunk_pages):
                address = chunk_base + i * pa.page
                if not base <= address < limit:
                    continue
                if alloc >> i & 1:
                    run = 0
                    continue
                if run == 0:
                    run_at = address
                run += 1
                if run > best:
                    best, best_at = run, run_at
    return best, best_at
