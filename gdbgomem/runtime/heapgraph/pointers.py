"""The pointers held by every allocated heap object, read where each release keeps its
pointer/scalar bits (see spans.pointer_bits_location), for whole spans at once.

  - span heap bits (1.22+, objects of at most 512 B) and the arena bitmap (1.21): one bit
    per word of the span, read in bulk and expanded with numpy;
  - malloc header (1.22+, larger objects) and largeType (large objects): the object's
    *abi.Type, whose GCData mask is tiled over the object (objects.type_pointer_mask),
    once per (type, slot size) pair.
Where a type's mask cannot be read, every word of the object is taken as a possible
pointer (conservative) and counted as such. Spans are taken in batches of about
BATCH_BYTES so that a heap of gigabytes never sits in memory whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.slots import HeapSlots
from gdbgomem.runtime.manifest import HEAP_ARENA_BYTES
from gdbgomem.runtime.abi_types import type_pointer_mask
from gdbgomem.runtime.objects import arena_of
from gdbgomem.runtime.spans import Span, pointer_bits_location, span_parts

BATCH_BYTES = 16 << 20
BITMAP_KINDS = ("span heap bits", "span heap bits + inline marks", "arena bitmap")
TYPED_KINDS = ("malloc header", "largeType")


@dataclass
class HeapPointers:
    """Every pointer word of every allocated object: edges source slot -> value."""

    source: np.ndarray              # int64 slot ids, ascending (one object's words in order)
    offset: np.ndarray              # uint32: the word's byte offset in its slot
    value: np.ndarray               # uint64 word values (non-zero)
    before: np.ndarray              # uint64: the word before each (an interface's type word, which no mask marks)
    slot_type: np.ndarray           # uint64 per slot: *abi.Type from a malloc header or largeType, 0 unknown
    headed: np.ndarray              # bool per span: its objects start past a malloc header
    conservative_objects: int = 0   # objects scanned word by word: no readable pointer mask
    unreadable_spans: int = 0
    notes: List[str] = field(default_factory=list)


def heap_pointers(rt: GoRuntime, slots: HeapSlots) -> HeapPointers:
    out = HeapPointers(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint64), np.zeros(0, np.uint64),
                       np.zeros(slots.count, np.uint64), np.zeros(len(slots.spans), bool))
    sources: List[np.ndarray] = []
    offsets: List[np.ndarray] = []
    values: List[np.ndarray] = []
    befores: List[np.ndarray] = []
    by_kind: Dict[str, List[int]] = {}
    kind_of_shape: Dict[Tuple[int, int, int], str] = {}  # what the location depends on, per span
    for i, span in enumerate(slots.spans):
        if not span.noscan:
            shape = (span.sizeclass, span.elemsize, span.npages)
            if shape not in kind_of_shape:
                kind_of_shape[shape] = pointer_bits_location(rt, span)
            by_kind.setdefault(kind_of_shape[shape], []).append(i)
    masks: Dict[Tuple[int, int, int], Optional[np.ndarray]] = {}
    for kind, members in by_kind.items():
        out.headed[members] = kind == "malloc header"
        for batch in _batches(slots, members):
            memory = _Memory(rt, slots, batch)
            out.unreadable_spans += memory.unreadable
            if kind in BITMAP_KINDS:
                bits = _bitmap_bits(rt, slots, batch, memory, kind)
                src, off, val, bef = memory.pointers(bits)
            else:
                src, off, val, bef = _typed_pointers(rt, slots, batch, memory, kind, masks, out)
            sources.append(src)
            offsets.append(off)
            values.append(val)
            befores.append(bef)
    if sources:
        source = np.concatenate(sources)
        order = np.argsort(source, kind="stable")  # each batch is in slot order already
        out.source, out.offset = source[order], np.concatenate(offsets)[order]
        out.value, out.before = np.concatenate(values)[order], np.concatenate(befores)[order]
    return out


def _batches(slots: HeapSlots, members: List[int]) -> Iterator[List[int]]:
    batch: List[int] = []
    size = 0
    for i in members:
        batch.append(i)
        size += int(slots.end[i] - slots.base[i])
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class _Memory:
    """The slot bytes of a batch of spans as one array of words, with each word's slot."""

    def __init__(self, rt: GoRuntime, slots: HeapSlots, batch: List[int]):
        self.batch = np.array(batch, dtype=np.int64)
        lengths = [int(slots.end[i] - slots.base[i]) for i in batch]
        blobs = rt.target.read_many([(int(slots.base[i]), n) for i, n in zip(batch, lengths)])
        self.unreadable = sum(b is None for b in blobs)
        self.words = np.frombuffer(b"".join(b if b is not None else bytes(n) for b, n in zip(blobs, lengths)),
                                   dtype=np.uint64)
        counts = np.array(lengths, dtype=np.int64) // 8
        self.word_start = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.word_start[1:])
        self.span_words = counts
        self.slots = slots

    def pointers(self, bits: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(source slot, offset in it, value, the word before) of the words whose bit is set, in
        allocated slots, non-zero."""
        span_of_word = np.repeat(np.arange(len(self.batch)), self.span_words)
        index = np.arange(len(self.words), dtype=np.int64) - self.word_start[:-1][span_of_word]
        span = self.batch[span_of_word]
        elemsize = self.slots.elemsize[span].astype(np.int64)
        slot = self.slots.first[span] + (index * 8 // elemsize)
        keep = bits & self.slots.allocated[slot] & (self.words != 0)
        at = np.flatnonzero(keep)
        return (slot[at], (index[at] * 8 % elemsize[at]).astype(np.uint32), self.words[at],
                self.words[np.maximum(at - 1, 0)])


def _bitmap_bits(rt: GoRuntime, slots: HeapSlots, batch: List[int], memory: _Memory, kind: str) -> np.ndarray:
    """One bool per word of the batch: its pointer bit, from the span's end or the arena."""
    regions: List[List[Tuple[int, int]]] = []
    for i, words in zip(batch, memory.span_words.tolist()):
        span = slots.spans[i]
        nbytes = (words + 7) // 8
        if kind == "arena bitmap":
            regions.append(_arena_bitmap_regions(rt, span, words))
        else:
            parts = span_parts(span)
            regions.append([(span.base + span.bytes - parts.inline_marks - parts.heap_bits, nbytes)])
    flat = [r for span_regions in regions for r in span_regions]
    blobs = rt.target.read_many(flat)
    chunks, at = [], 0
    for span_regions, words in zip(regions, memory.span_words.tolist()):
        raw = b"".join(b if b is not None else bytes(n) for b, (_, n) in zip(blobs[at:at + len(span_regions)],
                                                                           span_regions))
        at += len(span_regions)
        chunks.append(np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:words])
    return np.concatenate(chunks).astype(bool) if chunks else np.zeros(0, bool)


def _arena_bitmap_regions(rt: GoRuntime, span: Span, words: int) -> List[Tuple[int, int]]:
    """Up to Go 1.21: heapArena.bitmap, one bit per word of the arena (mbitmap.go); a span
    that crosses into the next arena continues in that arena's bitmap. Spans start on a
    page, so each piece starts on a whole byte."""
    arena_bytes = rt.constant(HEAP_ARENA_BYTES)
    bitmap_offset = rt.layout("runtime.heapArena").offset("bitmap")
    regions, address, left = [], span.base, words
    while left > 0:
        in_arena = min(left, (arena_bytes - address % arena_bytes) // 8)
        arena = arena_of(rt, address)
        first = (address % arena_bytes) // 8
        regions.append((arena + bitmap_offset + first // 8 if arena else 0, (in_arena + 7) // 8))
        address += 8 * in_arena
        left -= in_arena
    return regions


def _typed_pointers(rt: GoRuntime, slots: HeapSlots, batch: List[int], memory: _Memory, kind: str,
                    masks: Dict[Tuple[int, int, int], Optional[np.ndarray]],
                    out: HeapPointers) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pointers of objects that name their type: the *abi.Type in the object's first word
    (malloc header) or in mspan.largeType, its mask tiled over the rest of the slot."""
    header = 1 if kind == "malloc header" else 0
    batch_spans = memory.batch
    counts = (slots.first[batch_spans + 1] - slots.first[batch_spans])
    span_of_slot = np.repeat(np.arange(len(batch)), counts)
    slot = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(slots.first[batch_spans] - np.concatenate(
        ([0], np.cumsum(counts)[:-1])), counts)
    keep = slots.allocated[slot]
    slot, span_of_slot = slot[keep], span_of_slot[keep]
    elem_words = (slots.elemsize[batch_spans[span_of_slot]] // 8).astype(np.int64)
    start = memory.word_start[span_of_slot] + (slot - slots.first[batch_spans[span_of_slot]]) * elem_words
    if header:
        types = memory.words[start]
    else:
        types = np.array([slots.spans[i].large_type or 0 for i in batch], dtype=np.uint64)[span_of_slot]
    out.slot_type[slot] = types
    sources, offsets, values, befores = [], [], [], []
    kinds, kind_of = np.unique(types, return_inverse=True)
    stride = int(elem_words.max()) + 1 if len(slot) else 1
    group_of = kind_of.ravel() * stride + elem_words  # one group per (type, slot size)
    for group in np.unique(group_of).tolist():
        members = group_of == group
        typ, words = int(kinds[group // stride]), group % stride
        key = (typ, words, header)
        if key not in masks:
            mask = type_pointer_mask(rt, typ, words - header) if typ else None
            masks[key] = None if mask is None else np.flatnonzero(np.array(mask, dtype=bool)) + header
        words_at = masks[key]
        if words_at is None:  # no readable mask: every word but the header may be a pointer
            words_at = np.arange(header, words)
            out.conservative_objects += int(members.sum())
        positions = (start[members][:, None] + words_at[None, :]).ravel()
        value = memory.words[positions]
        nonzero = value != 0
        sources.append(np.repeat(slot[members], len(words_at))[nonzero])
        offsets.append(np.tile((words_at * 8).astype(np.uint32), int(members.sum()))[nonzero])
        values.append(value[nonzero])
        befores.append(memory.words[np.maximum(positions[nonzero] - 1, 0)])
    if not sources:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    return np.concatenate(sources), np.concatenate(offsets), np.concatenate(values), np.concatenate(befores)
