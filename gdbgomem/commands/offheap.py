"""go-offheap: the runtime's memory outside the heap's objects, beside the MemStats field it adds to."""

from __future__ import annotations

from gdbgomem.commands.base import Command
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.offheap import off_heap


class OffHeapCommand(Command):
    name = "go-offheap"
    summary = "runtime memory outside the heap (span structs, mcaches, stacks, GC metadata...) as MemStats counts it"
    description = ("What the runtime holds outside the heap's objects, each figure beside the\n"
                   "runtime.MemStats field it is, and read from where runtime.ReadMemStats reads it:\n"
                   "the mspan and mcache structs (mheap_.spanalloc, mheap_.cachealloc: fixalloc),\n"
                   "goroutine stacks and GC work buffers (manual spans), and runtime.memstats'\n"
                   "counters of memory mapped for stacks, span structs, profiling buckets, GC\n"
                   "metadata (heapArena structs, page allocator summaries) and the rest. Equal to\n"
                   "the program's own MemStats while it is stopped.")

    def run(self, rt, args):
        o = off_heap(rt)
        figures = o.memstats()
        structures = {
            "mspan_structs": o.mspan_inuse // o.mspan_size if o.mspan_size else None, "mspan_size": o.mspan_size,
            "mcache_structs": o.mcache_inuse // o.mcache_size if o.mcache_size else None,
            "mcache_size": o.mcache_size, "heap_arenas": o.arenas, "heap_arena_size": o.heap_arena_size,
            "heap_arena_metadata_bytes": o.arenas * o.heap_arena_size, "os_stacks_bytes": o.counters["stacks_sys"],
            "gc_misc_bytes": o.counters["gcMiscSys"], "gc_workbuf_bytes": o.workbufs,
            "gc_program_bits_bytes": o.gcprog_bits,
        }
        report = Report({"memstats": figures, "structures": structures, "memstats_address": o.memstats_address})
        if args.json:
            return report
        rows = [
            ["MSpanInuse", figures["MSpanInuse"], f"{structures['mspan_structs']} mspan structs x {o.mspan_size} B "
                                                  "(mheap_.spanalloc.inuse)"],
            ["MSpanSys", figures["MSpanSys"], "mapped for mspan structs, in 16 KiB fixalloc chunks"],
            ["MCacheInuse", figures["MCacheInuse"], f"{structures['mcache_structs']} mcache structs x "
                                                    f"{o.mcache_size} B, one per P and more (mheap_.cachealloc)"],
            ["MCacheSys", figures["MCacheSys"], "mapped for mcache structs"],
            ["StackInuse", figures["StackInuse"], "goroutine stacks: manual spans of the heap's pages"],
            ["StackSys", figures["StackSys"], f"StackInuse + {humanize(o.counters['stacks_sys'])} of stacks the "
                                              "runtime mapped itself (memstats.stacks_sys)"],
            ["GCSys", figures["GCSys"], f"GC metadata {humanize(o.counters['gcMiscSys'])} (of which "
                                        f"{o.arenas} heapArena structs x {humanize(o.heap_arena_size)}, and the "
                                        f"page allocator's summaries and chunks) + GC work buffers "
                                        f"{humanize(o.workbufs)}" + (f" + unrolled GC programs of large objects' "
                                                                     f"types {humanize(o.gcprog_bits)}"
                                                                     if o.gcprog_bits else "")],
            ["BuckHashSys", figures["BuckHashSys"], "profiling bucket hash table (memstats.buckhash_sys)"],
            ["OtherSys", figures["OtherSys"], "everything else persistentalloc'd (memstats.other_sys)"],
            ["HeapSys", figures["HeapSys"], "the heap's pages, less stacks, work buffers and unrolled GC programs"
             if o.gcprog_bits else "the heap's pages, less stacks and work buffers"],
            ["Sys", figures["Sys"], "all of the above *Sys: what the runtime has mapped"],
        ]
        report.add(Table(["MEMSTATS", "BYTES", "", "WHERE IT IS"],
                         [[Styled(name, "heading"), value, humanize(value), where] for name, value, where in rows],
                         wrap=True))
        report.add(f"runtime.memstats at {hexaddr(o.memstats_address)} (found through mheap_.spanalloc.stat)")
        return report
