"""Many records read in bulk, their bytes handed over a chunk of windows at a time.

Target.read_many returns a bytes object per region: at 100 000 goroutines the
Python work around each region (sorting, merging, slicing) costs more than the
reads. Here the merging into windows is an array operation, with read_many's
rules (gaps up to MERGE_GAP merged, reads of at most MAX_WINDOW, a window that
cannot be read whole retried record by record), and no bytes object is made per
record: the windows are read into chunks of about CHUNK_BYTES (Target.read_into),
and each record is an offset into its chunk, from which callers gather the words they need
(words()) for all the chunk's records at once. A live local process is read a thousand
windows a call (Target.read_scattered), windows then merged over small gaps only.
"""

from __future__ import annotations

from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gdbgomem.runtime.struct_decoder import StructDecoder
from gdbgomem.runtime.target import MAX_WINDOW, MERGE_GAP, Target

CHUNK_BYTES = 16 << 20  # bytes of windows joined before their records are handed over
# Where the target reads scattered regions in one call (Target.read_scattered, Linux's
# process_vm_readv), only gaps this small merge: 100 035 stack tops of 256 bytes, 2 KiB
# apart, read so in 0.074 s, where the 260 MiB around them took 0.14 s through
# /proc/PID/mem (measured at 100 000 goroutines).
SCATTER_GAP = 512
IOV_MAX = 1024  # regions a process_vm_readv call takes

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


class RecordColumns:
    """Records of one struct as columns: addresses (of the records read), members: member name ->
    uint64 array over them, None for a member this release's layout lacks."""

    def __init__(self, addresses: np.ndarray, members: Dict[str, Optional[np.ndarray]]):
        self.addresses = addresses
        self.members = members

    def __len__(self) -> int:
        return len(self.addresses)

    def member(self, name: str) -> np.ndarray:
        """A member's column, zeros where this release lacks it."""
        column = self.members[name]
        return column if column is not None else np.zeros(len(self.addresses), dtype=np.uint64)


def read_columns(target: Target, addresses: Sequence[int], decoder: StructDecoder,
                 names: Sequence[str]) -> Tuple[np.ndarray, Dict[str, Optional[np.ndarray]]]:
    """(the addresses of the records that could be read, their members named: name -> uint64 array,
    None where decoder's layout lacks it): RecordColumns' parts."""
    addresses = np.array(addresses, dtype=np.uint64)
    members: Dict[str, Optional[np.ndarray]] = {
        name: None if name not in decoder.fields else np.zeros(len(addresses), dtype=np.uint64) for name in names}
    readable = np.zeros(len(addresses), dtype=bool)
    for chunk in read_chunks(target, addresses, np.full(len(addresses), decoder.size)):
        readable[chunk.indices] = True
        for name, (offset, size) in decoder.fields.items():
            if name in members:
                members[name][chunk.indices] = chunk.words(offset, size)
    return addresses[readable], {name: None if column is None else column[readable] for name, column in members.items()}


def read_chunks(target: Target, addresses: np.ndarray, sizes: np.ndarray) -> Iterator[Chunk]:
    """The records (addresses[i], sizes[i]) that could be read, a Chunk at a time; those with
    no address or no size are not read."""
    addresses = np.asarray(addresses, dtype=np.uint64)
    sizes = np.asarray(sizes, dtype=np.int64)
    wanted = np.flatnonzero((addresses > 0) & (sizes > 0))
    if not len(wanted):
        return
    pad = -(-int(sizes.max()) // 8) * 8
    order = wanted[np.argsort(addresses[wanted], kind="stable")]
    starts = addresses[order]
    reach = np.maximum.accumulate(starts + sizes[order].astype(np.uint64))
    scattered = _scatter_works(target, int(starts[0]))
    firsts = np.array(_windows(starts, reach, SCATTER_GAP if scattered else MERGE_GAP))
    bounds = np.append(firsts, len(order))
    window_of = np.repeat(np.arange(len(firsts)), np.diff(bounds))
    in_window = (starts - starts[firsts][window_of]).astype(np.int64)  # where a record starts in its window
    window_start = starts[firsts]
    lengths = (reach[bounds[1:] - 1] - window_start).astype(np.int64)
    # windows start 8-aligned in a chunk, as in memory: see Chunk.words
    at = np.concatenate(([0], np.cumsum(-(-lengths // 8) * 8)))
    first = 0
    while first < len(firsts):
        stop = max(int(np.searchsorted(at, at[first] + CHUNK_BYTES, side="left")), first + 1)
        stop = min(stop, len(firsts))
        base = at[first:stop] - at[first]
        buffer = np.empty(int(at[stop] - at[first]) + pad, dtype=np.uint8)  # each chunk has its own
        read = _read_windows(target, scattered, buffer, base, window_start[first:stop], lengths[first:stop])
        for w in np.flatnonzero(~read).tolist():
            yield from _one_by_one(target, addresses, sizes, order[bounds[first + w]:bounds[first + w + 1]])
        records = np.arange(bounds[first], bounds[stop])
        records = records[read[window_of[records] - first]]
        if len(records):
            buffer[-pad:] = 0
            yield Chunk(order[records], buffer, base[window_of[records] - first] + in_window[records])
        first = stop


def _scatter_works(target: Target, address: int) -> bool:
    """Whether the target reads scattered regions in one call (Target.read_scattered): tried on
    the first record's first byte, since only a call says whether it is allowed."""
    byte = np.zeros(1, dtype=np.uint8)
    iov = np.array([[byte.ctypes.data, 1], [address, 1]], dtype=np.uint64)
    return target.read_scattered(iov.ctypes.data, iov.ctypes.data + 16, 1) == 1


def _read_windows(target: Target, scattered: bool, buffer: np.ndarray, base: np.ndarray, starts: np.ndarray,
                  lengths: np.ndarray) -> np.ndarray:
    """Each window (starts[i], lengths[i]) read into buffer at base[i]: whether it was, per window.
    Scattered: IOV_MAX windows a call, a call that falls short redone window by window."""
    read = np.zeros(len(starts), dtype=bool)
    view = memoryview(buffer)
    todo = range(len(starts))
    if scattered:
        local = np.stack([base.astype(np.uint64) + np.uint64(buffer.ctypes.data), lengths.astype(np.uint64)], axis=1)
        remote = np.stack([starts, lengths.astype(np.uint64)], axis=1)
        todo = []
        for first in range(0, len(starts), IOV_MAX):
            count = min(IOV_MAX, len(starts) - first)
            wanted = int(lengths[first:first + count].sum())
            if target.read_scattered(local.ctypes.data + 16 * first, remote.ctypes.data + 16 * first, count) == wanted:
                read[first:first + count] = True
            else:
                todo.extend(range(first, first + count))
    for i in todo:
        at = int(base[i])
        read[i] = target.read_into(int(starts[i]), view[at:at + int(lengths[i])])
    return read


def _windows(starts: np.ndarray, reach: np.ndarray, gap: int) -> List[int]:
    """The first record of each window: a new one where the gap to every record before is
    larger than gap, or where the window would grow beyond MAX_WINDOW."""
    breaks = (np.flatnonzero(starts[1:] > reach[:-1] + np.uint64(gap)) + 1).tolist()
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
