"""Every object slot of the heap's in-use spans, as numpy arrays: which slots hold an
allocated object, and which slot an address falls in.

A slot is numbered once for the whole heap (the span's first slot number plus its index
in the span), so that marks, types and graph edges are flat arrays indexed by slot. A
slot is allocated as the runtime's mspan.isFree says: below freeindex, or its allocBits
bit set (mbitmap.go). Addresses are resolved as the GC's findObject does, interior
pointers included, with one binary search over the spans sorted by base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.spans import Span, all_spans

# a span whose nelems would put more slots in the table than its bytes could hold is corrupt
MAX_SLOTS = 1 << 31


@dataclass
class HeapSlots:
    """The in-use spans, sorted by base, and one entry per object slot."""

    spans: List[Span]
    base: np.ndarray        # uint64, per span: its first slot
    end: np.ndarray         # uint64, per span: past its last slot (base + nelems * elemsize)
    elemsize: np.ndarray    # uint64, per span
    first: np.ndarray       # int64, per span: the number of its slot 0 (one past the end: total)
    allocated: np.ndarray   # bool, per slot
    noscan: np.ndarray      # bool, per span
    sizeclass: np.ndarray   # int64, per span (0: a large object)

    @property
    def count(self) -> int:
        return int(self.first[-1])

    def slot_of(self, addresses: np.ndarray) -> np.ndarray:
        """The slot holding each address (int64), -1 where no in-use span's slots hold it."""
        addresses = addresses.astype(np.uint64, copy=False)
        at = np.searchsorted(self.base, addresses, side="right").astype(np.int64) - 1
        inside = at >= 0
        at = np.where(inside, at, 0)
        inside &= addresses < self.end[at]
        index = (addresses - self.base[at]) // np.maximum(self.elemsize[at], 1)
        return np.where(inside, self.first[at] + index.astype(np.int64), -1)

    def span_of_slot(self, slots: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.first, slots, side="right") - 1

    def slot_address(self, slots: np.ndarray) -> np.ndarray:
        span = self.span_of_slot(slots)
        return self.base[span] + (slots - self.first[span]).astype(np.uint64) * self.elemsize[span]

    def slot_size(self, slots: np.ndarray) -> np.ndarray:
        return self.elemsize[self.span_of_slot(slots)]


@per_stop
def heap_slots(rt: GoRuntime) -> HeapSlots:
    # (a corrupt core can give any of these: the graph reads slots as whole words, below 2^64)
    spans = sorted((s for s in all_spans(rt) if s.state == "inuse" and s.elemsize and s.nelems and not s.flaws
                    and s.elemsize % 8 == 0 and s.nelems * s.elemsize <= s.bytes and s.base + s.bytes < 1 << 64),
                   key=lambda s: s.base)
    spans = _without_overlaps(spans)
    nelems = np.array([s.nelems for s in spans], dtype=np.int64)
    first = np.zeros(len(spans) + 1, dtype=np.int64)
    np.cumsum(nelems, out=first[1:])
    if first[-1] > MAX_SLOTS:
        spans, nelems, first = [], nelems[:0], first[:1]
    base = np.array([s.base for s in spans], dtype=np.uint64)
    elemsize = np.array([s.elemsize for s in spans], dtype=np.uint64)
    allocated = _allocated(rt, spans, nelems, first)
    return HeapSlots(spans, base, base + nelems.astype(np.uint64) * elemsize, elemsize, first, allocated,
                     np.array([s.noscan for s in spans], dtype=bool),
                     np.array([s.sizeclass for s in spans], dtype=np.int64))


def _without_overlaps(spans: List[Span]) -> List[Span]:
    """Spans sorted by base whose slots overlap an earlier span's are dropped (a corrupt core):
    the binary search needs disjoint ranges."""
    kept: List[Span] = []
    for span in spans:
        if not kept or span.base >= kept[-1].base + kept[-1].nelems * kept[-1].elemsize:
            kept.append(span)
    return kept


def _allocated(rt: GoRuntime, spans: List[Span], nelems: np.ndarray, first: np.ndarray) -> np.ndarray:
    """One bool per slot: below freeindex or marked in allocBits. An unreadable allocBits
    counts its slots as free beyond freeindex."""
    nbytes = [(n + 7) // 8 for n in nelems.tolist()]
    blobs = rt.target.read_many([(s.alloc_bits, n) for s, n in zip(spans, nbytes)])
    raw = b"".join(b if b is not None else bytes(n) for b, n in zip(blobs, nbytes))
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    byte_start = np.zeros(len(spans) + 1, dtype=np.int64)
    np.cumsum(np.array(nbytes, dtype=np.int64), out=byte_start[1:])
    total = int(first[-1])
    span_of = np.repeat(np.arange(len(spans)), nelems)
    index = np.arange(total, dtype=np.int64) - first[:-1][span_of]
    allocated = bits[8 * byte_start[:-1][span_of] + index].astype(bool)
    freeindex = np.array([s.freeindex for s in spans], dtype=np.int64)
    allocated |= index < freeindex[span_of]
    return allocated
