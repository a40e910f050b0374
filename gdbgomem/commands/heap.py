"""go-heap (the overview) and go-sizeclasses (the size-class table, with live counts)."""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List

from gdbgomem.commands.base import Command
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table, fields_table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.arena_index import arena_indexes
from gdbgomem.runtime.manifest import HEAP_ARENA_BYTES
from gdbgomem.runtime.madvise import madvise_mode
from gdbgomem.runtime.pages import page_counts
from gdbgomem.runtime.residency import heap_residency
from gdbgomem.runtime.sizeclasses import page_size, size_classes
from gdbgomem.runtime import span_totals
from gdbgomem.runtime.spans import Span, all_spans, mcache_spans


class SizeClassesCommand(Command):
    name = "go-sizeclasses"
    summary = "the size-class table of the binary, with live spans and objects per class"
    needs_process = False  # the table is static data of the binary

    def run(self, rt, args):
        table = size_classes(rt)
        spans, unavailable = [], "no process or core" if not rt.target.has_process() else None
        if unavailable is None:
            try:
                spans = [s for s in all_spans(rt) if s.state == "inuse"]
            except GoMemError as exc:  # the table is static data; only the live counts need the heap
                unavailable = str(exc)
        live_spans: Dict[int, int] = defaultdict(int)
        live_objects: Dict[int, int] = defaultdict(int)
        for s in spans:
            live_spans[s.sizeclass] += 1
            live_objects[s.sizeclass] += s.alloc_count
        rows_json = [dict(c.to_json(), live_spans=live_spans.get(c.klass, 0),
                          live_objects=live_objects.get(c.klass, 0)) for c in table]
        report = Report({"classes": rows_json, "page_size": page_size(rt), "live_counts_unavailable": unavailable})
        rows = [[c.klass, c.size, c.span_bytes, c.objects, c.tail_waste, f"{c.max_waste_pct:.2f}%",
                 live_spans.get(c.klass, 0), live_objects.get(c.klass, 0)] for c in table]
        report.add(Table(["CLASS", "BYTES/OBJ", "BYTES/SPAN", "OBJECTS", "TAIL WASTE", "MAX WASTE", "LIVE SPANS",
                          "LIVE OBJECTS"], rows, align=["right"] * 8,
                         drop_order=("MAX WASTE", "TAIL WASTE", "BYTES/SPAN")))
        report.add("class 0 stands for large objects (one per span); max waste: the smallest object of the class in "
                   "every slot, plus the tail")
        fewer = _fewer_slots(table, spans)
        if fewer:
            klass, slots = min(fewer.items())
            c = next(c for c in table if c.klass == klass)
            report.add(f"live spans of {len(fewer)} classes hold fewer objects than OBJECTS (class {klass}: {slots}, "
                       f"not {c.objects}): a span of objects with pointers of at most 512 B keeps their heap bits "
                       f"in its own last {c.span_bytes // 64} B (Go 1.22+)")
        if unavailable and rt.target.has_process():
            report.add(Styled(f"live counts unavailable: {unavailable}", "warning"))
        return report


def _fewer_slots(table, spans: List[Span]) -> Dict[int, int]:
    """Classes whose live spans hold fewer slots than the class table counts: class -> slots."""
    objects = {c.klass: c.objects for c in table}
    return {s.sizeclass: s.nelems for s in spans
            if s.sizeclass and 0 < s.nelems < objects.get(s.sizeclass, 0)}


def _madvise_text(mode) -> str:
    if mode is None:
        return "unknown (runtime.sysUnusedOS is not the shape gdbgomem reads)"
    setting = f"madvdontneed={mode.madvdontneed}" + (" from GODEBUG" if mode.from_godebug else ", the default")
    keep = "the kernel takes them back at once" if mode.advice == "MADV_DONTNEED" else \
        "they stay in RAM until the kernel needs it" if mode.advice == "MADV_FREE" else "the kernel keeps them"
    return f"the scavenger returns pages with {mode.advice} ({setting}): {keep}"


class HeapCommand(Command):
    name = "go-heap"
    summary = "heap overview: arenas, spans by state, bytes in use, stacks, objects, free and scavenged pages"
    description = ("The heap from mheap_: arenas, heap ranges, spans by state, objects, pages allocated,\n"
                   "free and scavenged, and on a live process what the kernel says: the heap's resident\n"
                   "bytes (smaps), scavenged pages still in RAM (pagemap), the process's page faults\n"
                   "(/proc/PID/stat); and how the scavenger returns pages (madvise advice, GODEBUG\n"
                   "madvdontneed, read from the process's memory, so on cores too).\n"
                   "JSON: arenas, arena_bytes, heap_inuse_bytes, stack_inuse_bytes, workbuf_bytes, gcprog_bytes,\n"
                   "heap_objects, objects_not_in_memstats, spans, pages, free_bytes, scavenged_bytes,\n"
                   "heap_ranges, resident_bytes, scavenged_resident_bytes, page_faults {minor, major},\n"
                   "madvise {madvdontneed, advise_unused, advice, from_godebug}; the /proc figures are\n"
                   "null on a core.")

    def run(self, rt, args):
        groups = span_totals.group_totals(rt)  # (spans, bytes) per group
        count_of = {group: groups.get(group, (0, 0))[0] for group in ("inuse", "stack", "workbuf", "gcprog", "free")}
        bytes_of = {group: groups.get(group, (0, 0))[1] for group in count_of}
        heap_objects, not_counted = span_totals.object_totals(rt, mcache_spans(rt))
        pages = page_counts(rt)
        page = page_size(rt)
        arenas = len(arena_indexes(rt))
        arena_bytes = rt.constant(HEAP_ARENA_BYTES)
        resident = rt.target.resident_bytes(pages.ranges)
        residency = heap_residency(rt)
        faults, mode = rt.target.fault_counts(), madvise_mode(rt)
        scavenged_resident = sum(residency.scavenged_resident_bytes(b, e) for b, e in pages.ranges) \
            if residency is not None else None
        data = {
            "arenas": arenas, "arena_bytes": arenas * arena_bytes,
            "heap_inuse_bytes": bytes_of["inuse"], "stack_inuse_bytes": bytes_of["stack"],
            "workbuf_bytes": bytes_of["workbuf"], "gcprog_bytes": bytes_of["gcprog"],
            "heap_objects": heap_objects,
            "objects_not_in_memstats": not_counted,  # allocated, in spans a P caches (spans.object_totals)
            "spans": {group: {"count": count, "bytes": size} for group, (count, size) in sorted(groups.items())},
            "pages": {"total": pages.total_pages, "in_use": pages.in_use_pages, "free": pages.free_pages,
                      "scavenged": pages.scavenged_pages, "unreadable": pages.unreadable_pages,
                      "padding": pages.padding_pages, "cached_free": pages.cached_free_pages,
                      "cached_scavenged": pages.cached_scavenged_pages},
            "free_bytes": pages.free_pages * page, "scavenged_bytes": pages.scavenged_pages * page,
            "heap_ranges": [{"base": b, "limit": e} for b, e in pages.ranges],
            "resident_bytes": resident,
            "scavenged_resident_bytes": scavenged_resident,
            "page_faults": dict(zip(("minor", "major"), faults)) if faults else None,
            "madvise": {"madvdontneed": mode.madvdontneed, "advise_unused": mode.advise_unused,
                        "advice": mode.advice, "from_godebug": mode.from_godebug} if mode else None,
        }
        report = Report(data)
        rows = [
            ["arenas", f"{arenas} x {humanize(arena_bytes)} = {humanize(arenas * arena_bytes)}"],
            ["heap ranges", ", ".join(f"[{hexaddr(b)}, {hexaddr(e)})" for b, e in pages.ranges) or "-"],
            ["in-use spans", f"{_spans(count_of['inuse'], bytes_of['inuse'])}, {data['heap_objects']} objects "
                             f"({data['objects_not_in_memstats']} of them in spans cached by a P, not yet in "
                             "runtime.MemStats)"],
            ["stack spans", _spans(count_of["stack"], bytes_of["stack"])],
            ["GC work buffers", _spans(count_of["workbuf"], bytes_of["workbuf"])],
            *([["GC programs", f"{_spans(count_of['gcprog'], bytes_of['gcprog'])} (the unrolled pointer bitmaps "
                               "of large objects' types)"]] if count_of["gcprog"] else []),
            ["free spans", f"{count_of['free']} span structs kept for reuse"],
            ["pages", f"{pages.total_pages} in the heap's ranges: {pages.in_use_pages} allocated, "
                      f"{pages.free_pages} free ({humanize(data['free_bytes'])}); {pages.scavenged_pages} scavenged "
                      f"({humanize(data['scavenged_bytes'])} returned to the OS)"],
            ["page caches", f"{pages.cached_free_pages} allocated pages still free in the Ps' page caches "
                            f"({pages.cached_scavenged_pages} scavenged)"],
            ["padding", f"{pages.padding_pages} pages allocated but never used (randomized heap base)"
             if pages.padding_pages else "-"],
            ["resident", f"{humanize(resident)} of the heap ranges are in RAM (/proc/PID/smaps)"
             if resident is not None else "- (a core file: no /proc to ask)"],
            ["scavenged", f"{humanize(scavenged_resident)} of the scavenged pages still in RAM (/proc/PID/pagemap: "
                          "returned with MADV_FREE, not yet taken back by the kernel)"
             if scavenged_resident is not None else "-"],
            ["page faults", f"{faults[0]} minor, {faults[1]} major (/proc/PID/stat: a minor fault gives a page "
                            "RAM on first touch, a major one reads it back from disk or swap)"
             if faults else "- (a core file: no /proc to ask)"],
            ["madvise", _madvise_text(mode)],
        ]
        report.add(fields_table(rows))
        return report


def _spans(count: int, size: int) -> str:
    return f"{count} {'span' if count == 1 else 'spans'}, {humanize(size)}"
