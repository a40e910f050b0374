"""go-pages: the page allocator (mheap_.pages): ranges, summaries, free and scavenged pages."""

from __future__ import annotations

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table, fields_table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.page_find import find_pages
from gdbgomem.runtime.pages import (chunk_bits, largest_free_run, page_allocator, page_counts, search_address,
                                    summaries)

SUMMARY_LEVELS = 5
TEXT_ENTRIES = 32  # summary entries shown per level in text unless --level picks one


class PagesCommand(Command):
    name = "go-pages"
    summary = "page allocator (pageAlloc): ranges, summary radix tree, free/scavenged pages, chunk bitmaps"
    description = ("Show mheap_.pages: the heap's address ranges, chunks in use, free and\n"
                   "scavenged pages, searchAddr, the largest free run, and the radix tree of\n"
                   "summaries (start / max / end free pages of each region, unpacked from the\n"
                   "packed pallocSum; level 0 covers 16 GiB an entry, level 4 one 4 MiB chunk).\n"
                   "--chunk ADDR draws that chunk's allocation and scavenged bitmaps.\n"
                   "--find N walks the tree as the allocator would for an N-page request now\n"
                   "(pageAlloc.alloc and find, mpagealloc.go): searchAddr's chunk first, else from\n"
                   "the root down, the entry chosen at each level, and the address it returns.\n"
                   "JSON: ranges, chunks_in_use, in_use_pages, free_pages, scavenged_pages,\n"
                   "padding_pages, search_address, largest_free_run_pages, largest_free_run_address,\n"
                   "levels [{level, entries [{level, index, base, start, max, end}]}], chunk {base,\n"
                   "alloc_bits, scavenged_bits, map} with --chunk, find {npages, search_address,\n"
                   "fast_path, steps [{level, index, base, start, max, end, scanned_from, choice}],\n"
                   "chunk_base, alloc_address (null: nothing fits, the heap would grow)} with --find.")

    def add_arguments(self, parser):
        parser.add_argument("--level", type=positive_int, metavar="N",
                            help="show every entry of summary level N (0-4) and no other level")
        parser.add_argument("--chunk", metavar="ADDR", help="draw the bitmaps of the chunk holding ADDR")
        parser.add_argument("--find", type=positive_int, metavar="N",
                            help="walk the summary tree for an N-page request, as the allocator would now")

    def run(self, rt, args):
        if args.level is not None and args.level >= SUMMARY_LEVELS:
            raise GoMemError(f"go-pages: no summary level {args.level}", "levels are 0 (root) to 4 (chunks)")
        if args.find == 0:
            raise GoMemError("go-pages: --find needs at least 1 page", "give the request's size in pages")
        pa = page_allocator(rt)
        counts = page_counts(rt)
        run, run_at = largest_free_run(rt)
        wanted = [args.level] if args.level is not None else range(SUMMARY_LEVELS)
        levels = [{"level": level, "entries": [vars(s) for s in summaries(rt, level)]} for level in wanted]
        chunks = sum(1 for base, limit in counts.ranges for _ in pa.chunks(base, limit))
        data = {"ranges": [{"base": b, "limit": e} for b, e in counts.ranges], "chunks_in_use": chunks,
                "in_use_pages": counts.in_use_pages, "free_pages": counts.free_pages,
                "scavenged_pages": counts.scavenged_pages, "padding_pages": counts.padding_pages,
                "search_address": search_address(rt), "largest_free_run_pages": run,
                "largest_free_run_address": run_at if run else None, "levels": levels}
        if args.chunk is not None:
            data["chunk"] = self._chunk(rt, args.chunk)
        found = find_pages(rt, args.find) if args.find else None
        if found is not None:
            data["find"] = {"npages": found.npages, "search_address": found.search_address,
                            "fast_path": found.fast_path, "steps": [vars(s) for s in found.steps],
                            "chunk_base": found.chunk_base, "alloc_address": found.address}
        report = Report(data)
        if args.json:
            return report
        rows = [
            ["ranges", ", ".join(f"[{hexaddr(b)}, {hexaddr(e)})" for b, e in counts.ranges)],
            ["chunks", f"{chunks} of {humanize(pa.chunk_bytes)} ({pa.chunk_pages} pages each)"],
            ["pages", f"{counts.in_use_pages} allocated, {counts.free_pages} free, {counts.scavenged_pages} "
                      f"scavenged" + (f", {counts.padding_pages} random padding" if counts.padding_pages else "")],
            ["searchAddr", hexaddr(data["search_address"])],
            ["largest free run", f"{run} pages ({humanize(run * pa.page)}) at {hexaddr(run_at)}" if run else "none"],
        ]
        report.add(fields_table(rows))
        for level in levels if found is None or args.level is not None else []:
            entries = level["entries"]
            shown = entries if args.level is not None else entries[:TEXT_ENTRIES]
            report.add("")
            report.add(Styled(f"summary level {level['level']}: {len(entries)} entries over the heap's ranges", "heading"))
            report.add(Table(["INDEX", "BASE", "START", "MAX", "END"],
                             [[e["index"], hexaddr(e["base"]), e["start"], e["max"], e["end"]] for e in shown]))
            if len(shown) < len(entries):
                report.add(Styled(f"... {len(entries) - len(shown)} more (--level {level['level']} shows all)", "muted"))
        if args.chunk is not None:
            chunk = data["chunk"]
            report.add("")
            report.add(Styled(f"chunk at {hexaddr(chunk['base'])}: # allocated  . free  ~ free and scavenged  "
                              "! allocated and scavenged (padding)", "heading"))
            for row in range(0, len(chunk["map"]), 64):
                report.add(f"{hexaddr(chunk['base'] + row * pa.page)} |{chunk['map'][row:row + 64]}|")
        if found is not None:
            add_find(report, found, pa.page)
        return report

    @staticmethod
    def _chunk(rt, expression: str) -> dict:
        address = rt.address_of(expression)
        found = chunk_bits(rt, address)
        if found is None:
            raise GoMemError(f"no page allocator chunk holds 0x{address:x}", "go-pages lists the heap's ranges")
        base, alloc, scav = found
        pages = page_allocator(rt).chunk_pages
        glyphs = {(0, 0): ".", (0, 1): "~", (1, 0): "#", (1, 1): "!"}
        picture = "".join(glyphs[(alloc >> i & 1, scav >> i & 1)] for i in range(pages))
        return {"base": base, "alloc_bits": f"{alloc:0{pages // 4}x}", "scavenged_bits": f"{scav:0{pages // 4}x}",
                "map": picture}


def add_find(report: Report, found, page: int) -> None:
    """The walk of --find as a table of the entries chosen, and the address it ends at."""
    report.add("")
    report.add(Styled(f"an allocation of {found.npages} pages ({humanize(found.npages * page)}), searchAddr "
                      f"{hexaddr(found.search_address)}:", "heading"))
    if found.fast_path:
        report.add(f"searchAddr's chunk {hexaddr(found.chunk_base)} has a free run of {found.npages} pages "
                   "(its summary's max): alloc takes the bitmap's first fit there, without walking the tree")
    elif found.steps:
        rows = [[s.level, s.index, hexaddr(s.base), s.start, s.max, s.end, s.scanned_from,
                 "max holds N: down" if s.choice == "descend" else "run ends here"] for s in found.steps]
        report.add(Table(["LEVEL", "ENTRY", "BASE", "START", "MAX", "END", "FROM", "CHOICE"], rows,
                         drop_order=("FROM", "END", "START")))
        if found.chunk_base is not None:
            report.add(f"chunk {hexaddr(found.chunk_base)}: the first fit of {found.npages} free pages in its bitmap")
    if found.address is None:
        report.add(Styled(f"no run of {found.npages} free pages: the heap would grow (mheap.grow)", "warning"))
    else:
        report.add(f"address: {hexaddr(found.address)}, to {hexaddr(found.address + found.npages * page)}")
    if found.npages < 16:
        report.add(Styled("(mheap.allocSpan serves requests under 16 pages from the P's page cache first, "
                          "mpagecache.go: this is where the next refill of a cache goes)", "muted"))
