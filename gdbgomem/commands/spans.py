"""go-spans (every mspan, or a summary per size class) and go-span ADDR (the span and object
holding an address, with its pointer words)."""

from __future__ import annotations

import argparse
import sys
from typing import Dict, List, Optional

from gdbgomem.commands.base import Command, numpy_function, positive_int
from gdbgomem.commands.explain import add_explain_argument, add_explanation, explain_span
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import CORRUPT, Report, Styled, Table, fields_table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.address_space import address_space, program_section, region_of
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.objects import object_at, span_of
from gdbgomem.runtime.owners import stack_owner
from gdbgomem.runtime.residency import HeapResidency, heap_residency, span_residency
from gdbgomem.runtime.sizeclasses import size_classes
from gdbgomem.runtime import span_totals
from gdbgomem.runtime.spans import Span, all_spans, class_totals, pointer_bits_location, span_parts

TEXT_LIMIT = 200
HEXDUMP_DEFAULT = 256
HEXDUMP_MAX = 64 * 1024
SORT_KEYS = {
    "base": lambda s: s.base, "npages": lambda s: -s.npages, "elemsize": lambda s: -s.elemsize,
    "free": lambda s: -s.free_slots, "util": lambda s: s.utilization, "class": lambda s: s.sizeclass,
    "tail": lambda s: -s.tail_bytes,
}


def span_json(rt: GoRuntime, s: Span, residency: Optional[HeapResidency] = None) -> dict:
    resident = _resident(s, residency)
    return {"mspan_address": s.address, "base": s.base, "npages": s.npages, "bytes": s.bytes, "state": s.state,
            "manual_use": s.manual_use, "spanclass": s.spanclass, "sizeclass": s.sizeclass, "noscan": s.noscan,
            "elemsize": s.elemsize, "nelems": s.nelems, "alloc_count": s.alloc_count, "free_slots": s.free_slots,
            "freeindex": s.freeindex, "utilization": round(s.utilization, 4), "tail_bytes": s.tail_bytes,
            "heap_bits_bytes": s.heap_bits_bytes, "inline_mark_bytes": s.inline_mark_bytes,
            "pointer_bits": pointer_bits_location(rt, s), "large_type": s.large_type or None,
            "alloc_bits": s.alloc_bits, "gcmark_bits": s.gcmark_bits, "corrupt": s.flaws,
            "resident_bytes": resident[0] if resident else None,
            "scavenged_resident_bytes": resident[1] if resident else None}


def _resident(s: Span, residency: Optional[HeapResidency]) -> Optional[tuple]:
    """(bytes in RAM, of them in pages marked scavenged) of a live span; None when unknown."""
    if residency is None or s.state == "free":
        return None
    return residency.resident_bytes(s.base, s.end), residency.scavenged_resident_bytes(s.base, s.end)


def _resident_cell(resident: Optional[tuple]) -> str:
    if resident is None:
        return "-"
    return humanize(resident[0]) + (" *" if resident[1] else "")


def _class_text(s: Span) -> str:
    if s.state != "inuse":
        return "-"
    return f"{s.sizeclass}{' noscan' if s.noscan else ''}" if s.sizeclass else f"large{' noscan' if s.noscan else ''}"


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text}")
    return value


class SpansCommand(Command):
    name = "go-spans"
    summary = "list mspans from mheap_.allspans: class, objects, free slots, waste, pointer bits"
    description = ("List the heap's spans (mheap_.allspans), one row each: base, pages, state\n"
                   "(inuse, manual = stacks and GC work buffers, free), size class and noscan bit,\n"
                   "element size, slots, objects allocated, free slots, utilization, TAIL (the\n"
                   "true tail: bytes past the last slot that nothing uses), RESERVED (what the\n"
                   "runtime keeps at the span's end: heap bits, 1 bit a word, for objects of at\n"
                   "most 512 B with pointers, Go 1.22+; and the Green Tea GC's inline mark bits),\n"
                   "and where the pointer bits of the objects live. Slots + TAIL + RESERVED = the\n"
                   "span's bytes. RESIDENT: how much of the span is in RAM now (/proc/PID/pagemap\n"
                   "of a live process; '-' on a core), '*' where pages the runtime scavenged\n"
                   "(returned with MADV_FREE) are still in RAM. --summary groups in-use spans by\n"
                   "size class.\n"
                   "JSON: spans[] with mspan_address, base, npages, bytes, state, manual_use,\n"
                   "spanclass, sizeclass, noscan, elemsize, nelems, alloc_count, free_slots,\n"
                   "freeindex, utilization, tail_bytes (true tail), heap_bits_bytes,\n"
                   "inline_mark_bytes, pointer_bits, large_type, alloc_bits, gcmark_bits, corrupt,\n"
                   "resident_bytes, scavenged_resident_bytes (both null when unknown); total,\n"
                   "shown.")

    def add_arguments(self, parser):
        parser.add_argument("--class", dest="klass", type=positive_int, metavar="N", help="only size class N (0 = large)")
        scan = parser.add_mutually_exclusive_group()
        scan.add_argument("--noscan", action="store_true", help="only spans of pointer-free objects")
        scan.add_argument("--scan", action="store_true", help="only spans of objects with pointers")
        parser.add_argument("--state", choices=["inuse", "manual", "free"],
                            help="only spans in this state (free: span structs of dead spans, kept for reuse; "
                                 "left out unless asked for)")
        parser.add_argument("--min-free", type=_fraction, metavar="F",
                            help="only in-use spans with at least this fraction of free slots (0..1)")
        parser.add_argument("--sort", choices=sorted(SORT_KEYS), default="base", help="order of the rows")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help=f"at most N rows (0 = all; text default {TEXT_LIMIT}, JSON default all)")
        parser.add_argument("--summary", action="store_true", help="one row per size class instead of per span")

    def run(self, rt, args):
        classes = len(size_classes(rt))
        if args.klass is not None and args.klass >= classes:
            raise GoMemError(f"go-spans: no size class {args.klass}", f"classes are 0 (large objects) to {classes - 1}")
        if args.summary:
            filtered = args.state or args.klass is not None or args.noscan or args.scan or args.min_free is not None
            totals = class_totals([s for s in all_spans(rt) if self._wanted(s, args)]) if filtered else \
                span_totals.class_totals(rt)
            return summary_report(totals, args.json)
        spans = [s for s in all_spans(rt) if self._wanted(s, args)]
        spans.sort(key=SORT_KEYS[args.sort])
        limit = args.limit if args.limit is not None else (0 if args.json else TEXT_LIMIT)
        shown = spans[:limit] if limit else spans
        residency = heap_residency(rt)
        report = Report({"spans": [span_json(rt, s, residency) for s in shown] if args.json else [],
                         "total": len(spans), "shown": len(shown)})
        if args.json:
            return report
        resident = [_resident(s, residency) for s in shown]
        rows = [[Styled(hexaddr(s.base), "address"), s.npages, s.state if s.state != "manual" else f"manual ({s.manual_use})",
                 _class_text(s), s.elemsize or "-", s.nelems or "-", *_use_cells(s),
                 _bytes_cell(s.tail_bytes), _bytes_cell(s.heap_bits_bytes + s.inline_mark_bytes),
                 _resident_cell(r), pointer_bits_location(rt, s)] for s, r in zip(shown, resident)]
        report.add(Table(["BASE", "PAGES", "STATE", "CLASS", "ELEMSIZE", "SLOTS", "ALLOC", "FREE", "UTIL", "TAIL",
                          "RESERVED", "RESIDENT", "POINTER BITS"], rows,
                         drop_order=("FREE", "RESERVED", "TAIL", "ELEMSIZE", "SLOTS")))
        if residency is None:
            report.add(Styled("RESIDENT unknown: a core keeps no record of what was in RAM, and /proc/PID/pagemap "
                              "is read only for a live process on this machine", "muted"))
        elif any(r and r[1] for r in resident):
            report.add("* pages the runtime scavenged (madvise MADV_FREE) that the kernel has not taken back yet")
        if len(shown) < len(spans):
            report.add(Styled(f"... {len(spans) - len(shown)} more not shown (--limit 0 shows all)", "muted"))
        corrupt = [s for s in shown if s.flaws]
        if corrupt:
            report.add(Styled(f"{len(corrupt)} with fields that contradict each other (a corrupt core?): go-span "
                              f"{hexaddr(corrupt[0].base)} says why", "warning"))
        report.add(f"{len(spans)} spans, {humanize(sum(s.bytes for s in spans))}")
        return report

    @staticmethod
    def _wanted(s: Span, args) -> bool:
        if args.state and s.state != args.state or not args.state and s.state == "free":
            return False
        if args.klass is not None and (s.state != "inuse" or s.sizeclass != args.klass):
            return False
        if (args.noscan or args.scan) and (s.state != "inuse" or s.noscan != args.noscan):
            return False
        if args.min_free is not None and (s.state != "inuse" or not s.nelems
                                          or s.free_slots / s.nelems < args.min_free):
            return False
        return True


def _bytes_cell(count: int):
    return humanize(count) if count else "-"


def _use_cells(s: Span) -> list:
    """ALLOC, FREE, UTIL: only an in-use span has objects; a stack's span (manual) keeps stale counts."""
    if s.flaws:
        return [s.alloc_count, s.free_slots, CORRUPT]
    if s.state != "inuse":
        return ["-", "-", "-"]
    return [s.alloc_count, s.free_slots, f"{100 * s.utilization:.0f}%"]


def summary_report(totals: Dict[tuple, list], as_json: bool) -> Report:
    """In-use spans grouped by size class (spans.class_totals): how full they are and what they waste."""
    rows_json = [{"sizeclass": klass, "noscan": noscan, "elemsize": t[0] if klass else None, "spans": t[1],
                  "bytes": t[2], "objects": t[3], "capacity": t[4], "bytes_in_use": t[5], "free_slot_bytes": t[6],
                  "tail_bytes": t[7], "heap_bits_bytes": t[8], "inline_mark_bytes": t[9]}
                 for (klass, noscan), t in sorted(totals.items())]
    report = Report({"classes": rows_json, "total_spans": sum(r["spans"] for r in rows_json),
                     "note": "slot waste inside an allocated object (elemsize minus the size asked for) is not "
                             "recorded by the runtime; free_slot_bytes are unallocated slots, tail_bytes the span "
                             "bytes past the last slot that nothing uses, heap_bits_bytes and inline_mark_bytes "
                             "what the runtime keeps at the spans' ends"})
    if as_json:
        return report
    rows = [[f"{r['sizeclass']}" if r["sizeclass"] else "large", "noscan" if r["noscan"] else "scan",
             r["elemsize"] or "-", r["spans"], f"{r['objects']}/{r['capacity']}", humanize(r["bytes_in_use"]),
             humanize(r["bytes"]), humanize(r["free_slot_bytes"]), humanize(r["tail_bytes"]),
             humanize(r["heap_bits_bytes"] + r["inline_mark_bytes"])] for r in rows_json]
    report.add(Table(["CLASS", "KIND", "ELEMSIZE", "SPANS", "OBJECTS/SLOTS", "IN USE", "SPAN BYTES", "FREE SLOTS",
                      "TAIL", "RESERVED"], rows, drop_order=("RESERVED", "TAIL", "FREE SLOTS", "ELEMSIZE")))
    report.add("FREE SLOTS: bytes of unallocated slots; TAIL: span bytes past the last slot that nothing uses; "
               "RESERVED: heap bits and inline mark bits the runtime keeps at the spans' ends. The waste inside an "
               "allocated slot (elemsize minus the size asked for) is not recorded by the runtime.")
    return report


def _mapping_role(rt: GoRuntime, address: int) -> str:
    """"; it is in <the program's section, or the role of its mapping in go-maps>"."""
    section = program_section(rt, address)
    if section:
        return f"; it is in the program's {section}"
    try:
        region = region_of(address_space(rt), address)
    except GoMemError:
        return ""
    return f"; it is in {region.role}" if region else "; no mapping of the process holds it"


def _end_part(span: Span, address: int) -> str:
    """Which part past the slots holds the address: the true tail or what the runtime keeps there."""
    parts, offset = span_parts(span), address - span.base
    if offset < parts.slots + parts.tail:
        return "the span's tail, which nothing uses"
    if offset < parts.slots + parts.tail + parts.heap_bits:
        return "the span's heap bits (1 bit per word of its slots)"
    return "the span's inline mark bits (Green Tea GC)"


POINTER_WORDS_SHOWN = 64  # P or . each; a huge object's bitmap is summarized, not drawn


def pointer_words_text(pointers: Optional[List[bool]], words: int) -> str:
    """The object's first words as P (pointer) or . (scalar), and how many of each were read."""
    if pointers is None:
        return "unknown"
    drawn = "".join("P" if p else "." for p in pointers[:POINTER_WORDS_SHOWN])
    if len(pointers) <= POINTER_WORDS_SHOWN:
        return drawn
    read = f"the first {len(pointers)} of {words} words" if len(pointers) < words else f"{words} words"
    return f"{drawn}... ({read}: {sum(pointers)} pointers)"


def hexdump(data: bytes, base: int, pointers) -> list:
    """16 bytes a line; words the bitmap marks as pointers are flagged with '*'."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        words = []
        for w in range(0, len(chunk), 8):
            index = (off + w) // 8
            flag = "*" if pointers and index < len(pointers) and pointers[index] else " "
            words.append(chunk[w:w + 8].hex(" ") + flag)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"  {hexaddr(base + off)}  {'  '.join(words):<50} {text}")
    return lines


class SpanCommand(Command):
    name = "go-span"
    summary = "the span and object holding an address: slot, allocated/marked, pointer words, hexdump"
    description = ("Find the span that holds ADDR through the arena's span table (O(1), like the\n"
                   "runtime's spanOf), then the object slot: index, base, offset of ADDR in it,\n"
                   "allocated (allocBits / freeindex), marked (gcmarkBits), its pointer words\n"
                   "(heap bits, malloc header type or largeType, with the type's name) and a\n"
                   "hexdump (* marks pointer words). ADDR is a number, a Go symbol or a register\n"
                   "($rsp), with + or - a number: gdbgomem reads it, no debugger evaluates it.")

    def add_arguments(self, parser):
        parser.add_argument("address", metavar="ADDR", help="0x..., a Go symbol or $register, +/- a number")
        parser.add_argument("--bytes", type=positive_int, default=HEXDUMP_DEFAULT, metavar="N",
                            help=f"hexdump at most N bytes of the object (default {HEXDUMP_DEFAULT}, 0 = none)")
        parser.add_argument("--infer", action="store_true",
                            help="type an object the runtime keeps no type for through the typed pointers "
                                 "that reach it (marks the whole heap, as go-types does: seconds on a large heap)")
        add_explain_argument(parser)

    def run(self, rt, args):
        address = rt.address_of(args.address)
        span = span_of(rt, address)
        if span is None or not span.base <= address < span.end or span.state == "free":
            owner = stack_owner(rt, address)
            where = f"; it is on {owner}" if owner else _mapping_role(rt, address)
            raise GoMemError(f"0x{address:x} is not in the Go heap{where}",
                             "go-heap shows the heap's address ranges, go-maps the whole address space")
        residency = span_residency(rt, span.base, span.end)
        if span.state == "manual":
            owner = stack_owner(rt, address)
            what = owner if owner else "memory the runtime manages by hand (a free stack or GC work buffer)"
            report = Report({"address": address, "span": span_json(rt, span, residency), "object": None, "manual_owner": owner})
            report.add(f"0x{address:x} is in a manual span [{hexaddr(span.base)}, {hexaddr(span.end)}): {what}")
            return report
        obj = object_at(rt, span, address)
        if obj is None:
            report = Report({"address": address, "span": span_json(rt, span, residency), "object": None})
            report.add(f"0x{address:x} is in span [{hexaddr(span.base)}, {hexaddr(span.end)}) past its last slot "
                       f"({span.nelems} x {span.elemsize} B): {_end_part(span, address)}")
            return report
        inferred = _inferred_type(self.name, rt, obj, args.infer)
        dump_size = min(args.bytes, span.elemsize, HEXDUMP_MAX)
        data = rt.target.try_read(obj.base, dump_size) if dump_size else b""
        object_json = {
            "base": obj.base, "index": obj.index, "offset": obj.offset, "size": span.elemsize,
            "allocated": obj.allocated, "marked": obj.marked, "type_address": obj.type_address,
            "type_name": obj.type_name or inferred, "type_inferred": inferred is not None,
            "pointer_bits": obj.pointer_source, "pointer_words": obj.pointer_words, "notes": obj.notes,
            "bytes": data.hex() if data else None}
        report = Report({"address": address, "span": span_json(rt, span, residency), "object": object_json})
        explained = explain_span(rt, span, address, obj.index) if args.explain else None
        if args.json:
            if explained:
                report.data["explain"] = explained[0]
            return report
        kind = "noscan" if span.noscan else "scan"
        klass = f"size class {span.sizeclass}" if span.sizeclass else "a large object"
        pointers = obj.pointer_words
        rows = [
            ["span", f"[{hexaddr(span.base)}, {hexaddr(span.end)}) {span.npages} pages, {klass} ({kind}), "
                     f"{span.alloc_count}/{span.nelems} slots allocated, mspan at {hexaddr(span.address)}"],
            ["object", f"#{obj.index} at {hexaddr(obj.base)}, {span.elemsize} B; 0x{address:x} is at offset {obj.offset}"],
            ["allocated", Styled("yes", "status.running") if obj.allocated else Styled("no (free slot)", "warning")],
            ["marked", "yes" if obj.marked else "no"],
            ["type", f"{obj.type_name or '?'} at {hexaddr(obj.type_address)}" if obj.type_address else
             f"{inferred} (inferred: typed pointers lead to it)" if inferred else
             "- (--infer types it through the pointers that reach it)" if obj.allocated else "-"],
            ["pointer bits", obj.pointer_source],
            ["pointer words", pointer_words_text(pointers, span.elemsize // 8)],
        ]
        report.add(fields_table(rows))
        for why in span.flaws.values():
            report.add(Styled(f"corrupt span: {why}", "warning"))
        for note in obj.notes:
            report.add(Styled(note, "muted"))
        if data:
            report.add(f"first {humanize(len(data))} of the object (* = pointer word):")
            report.blocks.extend(hexdump(data, obj.base, pointers))
        if explained:
            add_explanation(report, explained)
        return report


def _inferred_type(command: str, rt, obj, compute: bool):
    """The type propagation gives an allocated object the runtime keeps no type for: from this
    stop's analysis when a command made one already, or made now with --infer (numpy)."""
    if obj.type_address is not None or not obj.allocated:
        return None
    if not compute and "gdbgomem.runtime.heapgraph.type_flow" not in sys.modules:
        return None  # nothing could have been computed yet: no need to import numpy
    return numpy_function(command, "gdbgomem.runtime.heapgraph.type_flow", "inferred_type_name")(rt, obj.base, compute)
