"""Many records read in bulk, their bytes handed over a chunk of windows at a time.

Target.read_many returns a bytes object per region: at 100 000 goroutines the
Python work around each region (sorting, merging, slicing) costs more than the
reads. Here the merging into windows is an array operation, with read_many's
rules (gaps up to MERGE_GAP merged, reads of at most MAX_WINDOW, a window that
cannot be read whole retried record by record), and no bytes object is made per
record: the windows are read into chunks of about CHUNK_BYTES (Target.read_into),
and each record is an offset into its chunk, from which callers gather the words they need
(words()) for all the chunk's records at once.
"""

from __future__ import annotations

from typing import Iterator, List, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gdbgomem.runtime.target import MAX_WINDOW, MERGE_GAP, Target

CHUNK_BYTES = 16 << 20  # bytes of windows joined before their records are handed over

_DTYPE_BY_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


class Chunk(NamedTuple):
    """Records read: indices (into the addresses asked for), data (the bytes of their
    windows, padded so that a record's whole size can be gathered), offsets (where each
    record starts in data)."""

    indices: np.ndarray
    data: np.ndarray
    offsets: np.ndarray

    def words(self, at: int, size: int, rows=slice(None)) -> np.ndarray:
        """The little-endian unsigned integer of `size` bytes at `at` in each record (of rows),
        as uint64. Aligned words, the common case, are read as one array of words."""
        where = self.offsets[rows] + at
        if size == 8 and not (where & 7).any() and len(self.data) % 8 == 0:
            return self.data.view(np.uint64)[where >> 3]
        gathered = sliding_window_view(self.data, size)[where]
        return gathered.view(_DTYPE_BY_SIZE[size]).ravel().astype(np.uint64)


def read_chunks(target: Target, addresses: np.ndarray, sizes: np.ndarray) -> Iterator[Chunk]:
    """The records (addresses[i], sizes[i]) that could be read, a Chunk at a time; those with
    no address or no size are not read."""
    addresses = np.asarray(addresses, dtype=np.uint64)
    sizes = np.asarray(sizes, dtype=np.int64)
    wanted = np.flatnonzero((addresses > 0) & (sizes > 0))
    if not len(wanted):
        return
    largest = int(sizes.max())
    pad = -(-largest // 8) * 8
    order = wanted[np.argsort(addresses[wanted], kind="stable")]
    starts = addresses[order]
    reach = np.maximum.accumulate(starts + sizes[order].astype(np.uint64))
    firsts = _windows(starts, reach)
    bounds = firsts + [len(order)]
    # where each record starts in its window; each window's start in its chunk comes below
    window_of = np.repeat(np.arange(len(firsts)), np.diff(bounds))
    in_window = (starts - starts[np.array(firsts)][window_of]).astype(np.int64)
    base = np.full(len(firsts), -1, dtype=np.int64)
    capacity = CHUNK_BYTES + max(MAX_WINDOW, largest) + 8 + pad  # a window never spans more
    buffer = np.empty(capacity, dtype=np.uint8)
    view = memoryview(buffer)
    held, chunk_start = 0, 0
    reach_list, start_list = reach.tolist(), starts.tolist()
    for w, (first, stop) in enumerate(zip(firsts, bounds[1:])):
        start = start_list[first]
        length = reach_list[stop - 1] - start
        if target.read_into(start, view[held:held + length]):
            base[w] = held
            held += -(-length // 8) * 8  # windows start 8-aligned in the chunk, as in memory: see Chunk.words
        else:
            yield from _one_by_one(target, addresses, sizes, order[first:stop])
        if held >= CHUNK_BYTES or (stop == len(order) and held):
            at = np.arange(chunk_start, stop)
            at = at[base[window_of[at]] >= 0]
            buffer[held:held + pad] = 0
            yield Chunk(order[at], buffer[:held + pad], base[window_of[at]] + in_window[at])
            buffer = np.empty(capacity, dtype=np.uint8)  # the chunk handed over keeps its own
            view = memoryview(buffer)
            held, chunk_start = 0, stop


def _windows(starts: np.ndarray, reach: np.ndarray) -> List[int]:
    """The first record of each window: a new one where the gap to every record before is
    larger than MERGE_GAP, or where the window would grow beyond MAX_WINDOW."""
    breaks = (np.flatnonzero(starts[1:] > reach[:-1] + np.uint64(MERGE_GAP)) + 1).tolist()
    bounds = [0] + breaks + [len(starts)]
    extents = reach[np.array(bounds[1:]) - 1] - starts[np.array(bounds[:-1])]
    if not (extents > np.uint64(MAX_WINDOW)).any():
        return bounds[:-1]
    firsts = []
    for first, last in zip(bounds[:-1], bounds[1:]):
        while first < last:
            firsts.append(first)
            limit = starts[first] + np.uint64(MAX_WINDOW)
            first += max(int(np.searchsorted(reach[first:last], limit, side="right")), 1)
    return firsts


def _one_by_one(target: Target, addresses: np.ndarray, sizes: np.ndarray, members: np.ndarray) -> Iterator[Chunk]:
    """A window that could not be read whole: each of its records on its own."""
    for i in members.tolist():
        one = target.try_read(int(addresses[i]), int(sizes[i]))
        if one is not None and len(one) == sizes[i]:
            yield Chunk(np.array([i]), np.frombuffer(one + bytes(int(sizes.max())), dtype=np.uint8),
                        np.zeros(1, dtype=np.int64))
