"""Where the page allocator would put an N-page request now: pageAlloc.alloc and find
(mpagealloc.go), replayed over the target's summaries and bitmaps without changing them.

alloc first tries the chunk searchAddr is in, when that chunk's summary says a run of N fits
there. Otherwise find walks the radix tree from the root: at each level it scans the 8 entries
below the one chosen above (16384 at the root), starting at searchAddr's, and either sees a
run of N free pages across neighbouring entries (end of one, whole free ones, start of the
next: the answer, found above the chunks) or descends into the first entry whose longest run
(max) holds N. In the chunk it reaches, the bitmap's first fit is the answer.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from gdbgomem.runtime.arena_index import ARENA_BASE_OFFSET, MASK64
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import HEAP_ADDR_BITS, SUMMARY_LEVEL_BITS, SUMMARY_LEVELS
from gdbgomem.runtime.pages import page_allocator, search_address, unpack_summary

OS_PAGE = 4096


@dataclass
class FindStep:
    """One level of the walk: the entry chosen and why."""

    level: int
    index: int        # the entry's index in its level
    base: int         # the first address it covers
    start: int
    max: int
    end: int
    scanned_from: int  # the first entry of the block looked at (searchAddr's, or the block's first)
    choice: str        # "descend" (its max holds N) or "run" (a run across entries ends here)


@dataclass
class FindResult:
    npages: int
    search_address: int
    fast_path: bool                 # alloc found it in searchAddr's chunk, before find
    steps: List[FindStep] = field(default_factory=list)
    chunk_base: Optional[int] = None
    address: Optional[int] = None   # None: no run of N pages is free; the heap would grow


class SummaryTree:
    """The geometry of pageAlloc.summary (mpagealloc.go levelBits, levelShift, levelLogPages)."""

    def __init__(self, rt: GoRuntime):
        self.rt, self.pa = rt, page_allocator(rt)
        levels, level_bits = rt.constant(SUMMARY_LEVELS), rt.constant(SUMMARY_LEVEL_BITS)
        heap_bits = rt.constant(HEAP_ADDR_BITS)
        log_chunk_pages = self.pa.chunk_pages.bit_length() - 1
        self.bits = [heap_bits - self.pa.log_chunk_bytes - (levels - 1) * level_bits] + [level_bits] * (levels - 1)
        self.shift = [heap_bits - sum(self.bits[:l + 1]) for l in range(levels)]
        self.log_pages = [log_chunk_pages + (levels - 1 - l) * level_bits for l in range(levels)]
        self.log_max = log_chunk_pages + (levels - 1) * level_bits

    def index_of(self, level: int, address: int) -> int:
        return ((address - ARENA_BASE_OFFSET) & MASK64) >> self.shift[level]

    def address_of(self, level: int, index: int) -> int:
        return ((index << self.shift[level]) + ARENA_BASE_OFFSET) & MASK64

    def entries(self, level: int, first: int, count: int) -> List[Tuple[int, int, int]]:
        """(start, max, end) of entries [first, first + count) of a level; memory the runtime
        never mapped (no heap there) reads as empty summaries."""
        array, length = self.rt.read_slice_header(self.pa.address + self.pa.layout.offset("summary") + 24 * level,
                                                  1 << 26, f"pageAlloc.summary[{level}]")
        count = max(0, min(count, length - first))
        data = self.rt.target.try_read(array + 8 * first, 8 * count) if count else b""
        if data is None:
            parts = [self.rt.target.try_read(array + 8 * first + at, min(OS_PAGE, 8 * count - at))
                     for at in range(0, 8 * count, OS_PAGE)]
            data = b"".join(p if p is not None else bytes(min(OS_PAGE, 8 * count - at))
                            for p, at in zip(parts, range(0, 8 * count, OS_PAGE)))
        return [unpack_summary(v, self.log_max) for v in struct.unpack(f"<{count}Q", data)]


def first_fit(alloc: int, pages: int, npages: int, search_index: int) -> Optional[int]:
    """pallocBits.find: the first run of npages clear bits, scanning from searchIndex's word."""
    run = 0
    for i in range(search_index // 64 * 64, pages):
        if alloc >> i & 1:
            run = 0
            continue
        run += 1
        if run == npages:
            return i - npages + 1
    return None


def find_pages(rt: GoRuntime, npages: int) -> FindResult:
    """The address pageAlloc.alloc(npages) would return now, and how it gets there."""
    tree, pa = SummaryTree(rt), page_allocator(rt)
    search = search_address(rt)
    result = FindResult(npages, search, False)
    chunk_pages = pa.chunk_pages
    search_chunk = pa.chunk_base(pa.chunk_index(search))
    in_chunk = (search - search_chunk) // pa.page
    if chunk_pages - in_chunk >= npages:  # alloc's fast path: searchAddr's own chunk
        leaf = len(tree.bits) - 1
        found = tree.entries(leaf, tree.index_of(leaf, search), 1)
        if found and found[0][1] >= npages:
            j = _fit_in_chunk(rt, search_chunk, npages, in_chunk)
            if j is not None:
                result.fast_path, result.chunk_base = True, search_chunk
                result.address = search_chunk + j * pa.page
                return result
    return _walk(tree, pa, result)


def _walk(tree: SummaryTree, pa, result: FindResult) -> FindResult:
    npages, i = result.npages, 0
    for level in range(len(tree.bits)):
        per_block = 1 << tree.bits[level]
        i <<= tree.bits[level]
        search_index = tree.index_of(level, result.search_address)
        j0 = search_index & (per_block - 1) if search_index & ~(per_block - 1) == i else 0
        entries = tree.entries(level, i, per_block)
        base = size = 0
        descended = False
        for j in range(j0, len(entries)):
            start, longest, end = entries[j]
            whole = 1 << tree.log_pages[level]
            if (start, longest, end) == (0, 0, 0):
                size = 0
                continue
            if size + start >= npages:
                if size == 0:
                    base = j << tree.log_pages[level]
                size += start
                result.steps.append(FindStep(level, i + j, tree.address_of(level, i + j), start, longest, end,
                                             i + j0, "run"))
                break
            if longest >= npages:
                i += j
                result.steps.append(FindStep(level, i, tree.address_of(level, i), start, longest, end, i - j + j0,
                                             "descend"))
                descended = True
                break
            if size == 0 or start < whole:
                size = end
                base = ((j + 1) << tree.log_pages[level]) - size
                continue
            size += whole
        if descended:
            continue
        if size >= npages:
            result.address = tree.address_of(level, i) + base * pa.page
        return result  # found above the chunks, or nothing fits anywhere (level 0)
    chunk = tree.address_of(len(tree.bits) - 1, i)
    j = _fit_in_chunk(tree.rt, chunk, npages, 0)
    result.chunk_base = chunk
    result.address = chunk + j * pa.page if j is not None else None
    return result


def _fit_in_chunk(rt: GoRuntime, chunk: int, npages: int, search_index: int) -> Optional[int]:
    pa = page_allocator(rt)
    for _, data in pa.chunks(chunk, chunk + 1):
        words = pa.chunk_pages // 64
        if len(data) >= 8 * words:
            return first_fit(int.from_bytes(data[:8 * words], "little"), pa.chunk_pages, npages, search_index)
    return None
