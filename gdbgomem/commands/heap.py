"""go-heap (overview), go-spans (every mspan) and go-sizeclasses (the size-class table)."""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Dict, List, Optional

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.arenas import arena_indexes
from gdbgomem.runtime.pages import page_counts
from gdbgomem.runtime.process import GoProcess
from gdbgomem.runtime.sizeclasses import page_size, size_classes
from gdbgomem.runtime.spans import Span, all_spans, mcache_spans, pointer_bits_location

TEXT_LIMIT = 200
SORT_KEYS = {
    "base": lambda s: s.base, "npages": lambda s: -s.npages, "elemsize": lambda s: -s.elemsize,
    "free": lambda s: -s.free_slots, "util": lambda s: s.utilization, "class": lambda s: s.sizeclass,
    "tail": lambda s: -s.tail_bytes,
}


def span_json(proc: GoProcess, s: Span) -> dict:
    return {"address": s.address, "base": s.base, "npages": s.npages, "bytes": s.bytes, "state": s.state,
            "manual_use": s.manual_use, "spanclass": s.spanclass, "sizeclass": s.sizeclass, "noscan": s.noscan,
            "elemsize": s.elemsize, "nelems": s.nelems, "alloc_count": s.alloc_count, "free_slots": s.free_slots,
            "freeindex": s.freeindex, "utilization": round(s.utilization, 4), "tail_bytes": s.tail_bytes,
            "pointer_bits": pointer_bits_location(proc, s), "large_type": s.large_type or None,
            "alloc_bits": s.alloc_bits, "gcmark_bits": s.gcmark_bits}


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
                   "element size, slots, objects allocated, free slots, utilization, tail bytes\n"
                   "(past the last slot: unused, or heap bits / inline mark bits the runtime keeps\n"
                   "there) and where the pointer bits of the objects live. --summary groups in-use\n"
                   "spans by size class.")

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

    def run(self, proc, args):
        spans = [s for s in all_spans(proc) if self._wanted(s, args)]
        if args.summary:
            return summary_report(proc, spans, args.json)
        spans.sort(key=SORT_KEYS[args.sort])
        limit = args.limit if args.limit is not None else (0 if args.json else TEXT_LIMIT)
        shown = spans[:limit] if limit else spans
        report = Report({"spans": [span_json(proc, s) for s in shown] if args.json else [],
                         "total": len(spans), "shown": len(shown)})
        if args.json:
            return report
        rows = [[Styled(hexaddr(s.base), "address"), s.npages, s.state if s.state != "manual" else f"manual ({s.manual_use})",
                 _class_text(s), s.elemsize or "-", s.nelems or "-", s.alloc_count, s.free_slots,
                 f"{100 * s.utilization:.0f}%", humanize(s.tail_bytes) if s.tail_bytes else "-",
                 pointer_bits_location(proc, s)] for s in shown]
        report.add(Table(["BASE", "PAGES", "STATE", "CLASS", "ELEMSIZE", "SLOTS", "ALLOC", "FREE", "UTIL", "TAIL",
                          "POINTER BITS"], rows))
        if len(shown) < len(spans):
            report.add(Styled(f"... {len(spans) - len(shown)} more not shown (--limit 0 shows all)", "muted"))
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


def summary_report(proc: GoProcess, spans: List[Span], as_json: bool) -> Report:
    """In-use spans grouped by size class: how full they are and what they waste."""
    totals: Dict[tuple, List[int]] = {}
    for s in spans:  # one pass: spans, bytes, objects, slots, bytes in use, free slot bytes, tail bytes
        if s.state != "inuse":
            continue
        t = totals.get((s.sizeclass, s.noscan))
        if t is None:
            t = totals[(s.sizeclass, s.noscan)] = [s.elemsize, 0, 0, 0, 0, 0, 0, 0]
        free = s.nelems - s.alloc_count
        t[1] += 1
        t[2] += s.bytes
        t[3] += s.alloc_count
        t[4] += s.nelems
        t[5] += s.alloc_count * s.elemsize
        t[6] += (free if free > 0 else 0) * s.elemsize
        t[7] += s.tail_bytes
    rows_json = [{"sizeclass": klass, "noscan": noscan, "elemsize": t[0] if klass else None, "spans": t[1],
                  "bytes": t[2], "objects": t[3], "capacity": t[4], "bytes_in_use": t[5], "free_slot_bytes": t[6],
                  "tail_bytes": t[7]} for (klass, noscan), t in sorted(totals.items())]
    report = Report({"classes": rows_json, "total_spans": sum(r["spans"] for r in rows_json),
                     "note": "slot waste inside an allocated object (elemsize minus the size asked for) is not "
                             "recorded by the runtime; free_slot_bytes are unallocated slots, tail_bytes the span "
                             "bytes past the last slot"})
    if as_json:
        return report
    rows = [[f"{r['sizeclass']}" if r["sizeclass"] else "large", "noscan" if r["noscan"] else "scan",
             r["elemsize"] or "-", r["spans"], f"{r['objects']}/{r['capacity']}", humanize(r["bytes_in_use"]),
             humanize(r["bytes"]), humanize(r["free_slot_bytes"]), humanize(r["tail_bytes"])] for r in rows_json]
    report.add(Table(["CLASS", "KIND", "ELEMSIZE", "SPANS", "OBJECTS/SLOTS", "IN USE", "SPAN BYTES", "FREE SLOTS",
                      "TAIL"], rows))
    report.add("FREE SLOTS: bytes of unallocated slots; TAIL: span bytes past the last slot. The waste inside an "
               "allocated slot (elemsize minus the size asked for) is not recorded by the runtime.")
    return report


class SizeClassesCommand(Command):
    name = "go-sizeclasses"
    summary = "the size-class table of the binary, with live spans and objects per class"
    needs_process = False  # the table is static data of the binary

    def run(self, proc, args):
        table = size_classes(proc)
        spans, unavailable = [], "no process or core" if not proc.target.has_process() else None
        if unavailable is None:
            try:
                spans = [s for s in all_spans(proc) if s.state == "inuse"]
            except GoMemError as exc:  # the table is static data; only the live counts need the heap
                unavailable = str(exc)
        live_spans: Dict[int, int] = defaultdict(int)
        live_objects: Dict[int, int] = defaultdict(int)
        for s in spans:
            live_spans[s.sizeclass] += 1
            live_objects[s.sizeclass] += s.alloc_count
        rows_json = [dict(c.to_json(), live_spans=live_spans.get(c.klass, 0),
                          live_objects=live_objects.get(c.klass, 0)) for c in table]
        report = Report({"classes": rows_json, "page_size": page_size(proc), "live_counts_unavailable": unavailable})
        rows = [[c.klass, c.size, c.span_bytes, c.objects, c.tail_waste, f"{c.max_waste_pct:.2f}%",
                 live_spans.get(c.klass, 0), live_objects.get(c.klass, 0)] for c in table]
        report.add(Table(["CLASS", "BYTES/OBJ", "BYTES/SPAN", "OBJECTS", "TAIL WASTE", "MAX WASTE", "LIVE SPANS",
                          "LIVE OBJECTS"], rows, align=["right"] * 8))
        report.add("class 0 stands for large objects (one per span); max waste: the smallest object of the class in "
                   "every slot, plus the tail")
        if unavailable and proc.target.has_process():
            report.add(Styled(f"live counts unavailable: {unavailable}", "warning"))
        return report


class HeapCommand(Command):
    name = "go-heap"
    summary = "heap overview: arenas, spans by state, bytes in use, stacks, objects, free and scavenged pages"

    def run(self, proc, args):
        spans = all_spans(proc)
        by_state: Dict[str, List[Span]] = defaultdict(list)
        for s in spans:
            by_state[s.manual_use or s.state].append(s)
        inuse = by_state.get("inuse", [])
        cached = mcache_spans(proc)
        pages = page_counts(proc)
        page = page_size(proc)
        arenas = len(arena_indexes(proc))
        arena_bytes = proc.constant("runtime.heapArenaBytes", 64 << 20)
        resident = arena_rss(proc, pages.ranges)
        data = {
            "arenas": arenas, "arena_bytes": arenas * arena_bytes,
            "heap_inuse_bytes": sum(s.bytes for s in inuse),
            "stack_inuse_bytes": sum(s.bytes for s in by_state.get("stack", [])),
            "workbuf_bytes": sum(s.bytes for s in by_state.get("workbuf", [])),
            "heap_objects": sum(s.alloc_count for s in inuse),
            # runtime.MemStats counts a small object only when its span leaves a P's mcache
            # (mcache.go refill/releaseAll); these are allocated but not counted there yet
            "objects_not_in_memstats": sum(s.alloc_count - s.alloc_count_before_cache for s in inuse
                                           if s.address in cached),
            "spans": {state: {"count": len(group), "bytes": sum(s.bytes for s in group)}
                      for state, group in sorted(by_state.items())},
            "pages": {"total": pages.total_pages, "in_use": pages.in_use_pages, "free": pages.free_pages,
                      "scavenged": pages.scavenged_pages, "unreadable": pages.unreadable_pages,
                      "padding": pages.padding_pages, "cached_free": pages.cached_free_pages,
                      "cached_scavenged": pages.cached_scavenged_pages},
            "free_bytes": pages.free_pages * page, "scavenged_bytes": pages.scavenged_pages * page,
            "heap_ranges": [{"base": b, "limit": e} for b, e in pages.ranges],
            "resident_bytes": resident,
        }
        report = Report(data)
        rows = [
            ["arenas", f"{arenas} x {humanize(arena_bytes)} = {humanize(arenas * arena_bytes)}"],
            ["heap ranges", ", ".join(f"[{hexaddr(b)}, {hexaddr(e)})" for b, e in pages.ranges) or "-"],
            ["in-use spans", f"{len(inuse)} spans, {humanize(data['heap_inuse_bytes'])}, "
                             f"{data['heap_objects']} objects ({data['objects_not_in_memstats']} of them in spans "
                             "cached by a P, not yet in runtime.MemStats)"],
            ["stack spans", f"{len(by_state.get('stack', []))} spans, {humanize(data['stack_inuse_bytes'])}"],
            ["GC work buffers", f"{len(by_state.get('workbuf', []))} spans, {humanize(data['workbuf_bytes'])}"],
            ["free spans", f"{len(by_state.get('free', []))} span structs kept for reuse"],
            ["pages", f"{pages.total_pages} in the heap's ranges: {pages.in_use_pages} allocated, "
                      f"{pages.free_pages} free ({humanize(data['free_bytes'])}); {pages.scavenged_pages} scavenged "
                      f"({humanize(data['scavenged_bytes'])} returned to the OS)"],
            ["page caches", f"{pages.cached_free_pages} allocated pages still free in the Ps' page caches "
                            f"({pages.cached_scavenged_pages} scavenged)"],
            ["padding", f"{pages.padding_pages} pages allocated but never used (randomized heap base)"
             if pages.padding_pages else "-"],
            ["resident", f"{humanize(resident)} of the heap ranges are in RAM (/proc/PID/smaps)"
             if resident is not None else "- (a core file: no /proc to ask)"],
        ]
        report.add(Table(["", ""], [[Styled(k, "heading"), v] for k, v in rows]))
        return report


def arena_rss(proc: GoProcess, ranges) -> Optional[int]:
    """Bytes of the heap's address ranges resident in RAM, from /proc/PID/smaps (live only)."""
    if proc.target.is_core or not proc.target.pid:
        return None
    try:
        with open(f"/proc/{proc.target.pid}/smaps") as smaps:
            text = smaps.read()
    except OSError:
        return None
    total, start, end = 0, 0, 0
    for line in text.splitlines():
        head = line.split(None, 1)[0]
        if "-" in head and not head.endswith(":"):
            lo, _, hi = head.partition("-")
            start, end = int(lo, 16), int(hi, 16)
        elif head == "Rss:":
            kib = int(line.split()[1])
            for base, limit in ranges:
                overlap = min(end, limit) - max(start, base)
                if overlap > 0 and end > start:
                    total += kib * 1024 * overlap // (end - start)
    return total


