"""Every mspan of mheap_.allspans decoded as numpy columns, for the heap's totals.

At 150 000 spans, making a Span object of each (spans.all_spans) takes most of a
second; go-spans --summary and go-heap want only sums over them. Here each member
of runtime.mspan is one array over all the spans, read with record_reads.read_chunks,
and the derived figures (bytes, size class, what initSpan reserves, the tail) are
array operations following the rules of spans.Span and spans.SpanReserve. Only
numpy-built views import this module.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.record_reads import RecordColumns, read_columns
from gdbgomem.runtime.sizeclasses import page_size
from gdbgomem.runtime.spans import SPAN_MEMBERS, allspans_addresses, span_decoder, span_reserve, state_names, \
    workbuf_spans


class SpanColumns(RecordColumns):
    """The readable spans in allspans order, a column per member of spans.SPAN_MEMBERS. group:
    per span, an index into labels,
    the groups as go-heap has them ("inuse", "free", "stack", "workbuf" or "gcprog" for a manual
    span, "state(N)")."""

    def __init__(self, rt: GoRuntime, addresses: np.ndarray, members: Dict[str, Optional[np.ndarray]]):
        super().__init__(addresses, members)
        self.bytes = self.member("npages") * np.uint64(page_size(rt))
        self.sizeclass = self.member("spanclass") >> np.uint64(1)
        self.noscan = (self.member("spanclass") & np.uint64(1)) != 0
        # go-heap's group of each span: its state's label, "stack", "workbuf" or "gcprog" for a manual one
        names = state_names(rt)
        states = self.member("state")
        codes = np.unique(states, return_counts=True)[0]  # (a plain np.unique imports numpy.ma: 0.03 s)
        self.labels = [names.get(code, f"state({code})") for code in codes.tolist()]
        self.group = np.searchsorted(codes, states)
        manual = self.group == (self.labels.index("manual") if "manual" in self.labels else -1)
        self.inuse = self.group == (self.labels.index("inuse") if "inuse" in self.labels else -1)
        if manual.any():
            workbufs = np.isin(addresses, np.array(sorted(workbuf_spans(rt)), dtype=np.uint64)) & manual
            large_type = self.member("large_type")
            program_bits = large_type[self.inuse & (large_type != 0)]
            gcprog = np.isin(self.member("start"), program_bits) & manual & ~workbufs
            self.labels[self.labels.index("manual")] = "stack"
            self.labels += ["workbuf", "gcprog"]
            self.group[workbufs] = len(self.labels) - 2
            self.group[gcprog] = len(self.labels) - 1
        self.heap_bits, self.inline_marks = self._reserved(rt)
        nelems, elemsize = self.member("nelems").astype(np.int64), self.member("elemsize").astype(np.int64)
        tail = self.bytes.astype(np.int64) - nelems * elemsize - self.heap_bits - self.inline_marks
        self.tail = np.where(self.inuse, np.maximum(tail, 0), 0)

    def _reserved(self, rt: GoRuntime):
        """(heap bits, inline mark bits) bytes at each in-use span's end: SpanReserve.reserved."""
        reserve = span_reserve(rt)
        elemsize = self.member("elemsize")
        small = self.inuse & (self.sizeclass != 0) & (elemsize <= np.uint64(reserve.header_from))
        heap_bits = np.where(small & ~self.noscan, self.bytes // np.uint64(64), np.uint64(0)).astype(np.int64)
        inline = np.where(small & (elemsize >= np.uint64(16)), reserve.inline_marks, 0).astype(np.int64)
        return heap_bits, inline


@per_stop
def span_columns(rt: GoRuntime) -> SpanColumns:
    """Every readable span of mheap_.allspans, decoded (see the module doc)."""
    addresses, members = read_columns(rt.target, allspans_addresses(rt), span_decoder(rt),
                                      [name for name, _ in SPAN_MEMBERS])
    return SpanColumns(rt, addresses, members)


def class_totals(columns: SpanColumns) -> Dict[tuple, list]:
    """spans.class_totals over columns: the same sums per (size class, noscan) of in-use spans."""
    rows = np.flatnonzero(columns.inuse)
    if not len(rows):
        return {}
    key = (columns.sizeclass[rows] << np.uint64(1)) | columns.noscan[rows].astype(np.uint64)
    keys, first = np.unique(key, return_index=True)
    order = np.argsort(key, kind="stable")
    starts = np.searchsorted(key[order], keys)
    nelems, alloc = (columns.member(name)[rows].astype(np.int64) for name in ("nelems", "alloc_count"))
    elemsize = columns.member("elemsize")[rows].astype(np.int64)
    sums = [np.ones(len(rows), dtype=np.int64), columns.bytes[rows].astype(np.int64), alloc, nelems,
            alloc * elemsize, np.maximum(nelems - alloc, 0) * elemsize, columns.tail[rows],
            columns.heap_bits[rows], columns.inline_marks[rows]]
    totals = [np.add.reduceat(values[order], starts).tolist() for values in sums]
    return {(k >> 1, bool(k & 1)): [e] + [column[i] for column in totals]
            for i, (k, e) in enumerate(zip(keys.tolist(), elemsize[first].tolist()))}


def group_totals(columns: SpanColumns) -> Dict[str, tuple]:
    """spans.group_totals over columns: (spans, bytes) per go-heap group of spans."""
    counts = np.bincount(columns.group, minlength=len(columns.labels)).tolist()
    return {label: (counts[g], int(columns.bytes[columns.group == g].sum()))
            for g, label in enumerate(columns.labels) if counts[g]}


def object_totals(columns: SpanColumns, cached: set) -> tuple:
    """spans.object_totals over columns: (objects in in-use spans, those of them in spans cached
    by a P that runtime.MemStats does not count yet)."""
    alloc = columns.member("alloc_count").astype(np.int64)
    before = columns.member("alloc_count_before_cache").astype(np.int64)
    in_cache = columns.inuse & np.isin(columns.addresses, np.array(sorted(cached), dtype=np.uint64))
    return int(alloc[columns.inuse].sum()), int((alloc - before)[in_cache].sum())
