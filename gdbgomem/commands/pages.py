"""go-pages: the page allocator (mheap_.pages): ranges, summaries, free and scavenged pages."""

from __future__ import annotations

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table, fields_table
from gdbgomem.render.text import hexaddr, humanize
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
                   "--chunk ADDR draws that chunk's allocation and scavenged bitmaps.")

    def add_arguments(self, parser):
        parser.add_argument("--level", type=positive_int, metavar="N",
                            help="show every entry of summary level N (0-4) and no other level")
        parser.add_argument("--chunk", metavar="ADDR", help="draw the bitmaps of the chunk holding ADDR")

    def run(self, rt, args):
        if args.level is not None and args.level >= SUMMARY_LEVELS:
            raise GoMemError(f"go-pages: no summary level {args.level}", "levels are 0 (root) to 4 (chunks)")
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
        for level in levels:
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
