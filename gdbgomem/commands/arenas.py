"""go-arenas: every heap arena, and with --map a picture of its pages."""

from __future__ import annotations

from typing import Optional

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.commands.explain import add_explain_argument, add_explanation, explain_arenas
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.arenas import all_arenas, page_kinds, resident_kinds

MAP_COLUMNS = 128
PAGES_PER_CHAR = 8  # 64 KiB a character: a 64 MiB arena in 8 rows of 128
KIND_ORDER = "#s~.p "     # a map character is its pages' most common kind; ties go to the first
RESIDENCY_ORDER = "#+."


class ArenasCommand(Command):
    name = "go-arenas"
    summary = "heap arenas (heapArena): base, spans, pages in use and marked; --map draws their pages"
    description = ("List every heap arena of mheap_.arenas (the runtime's L1/L2 index, with\n"
                   "arenaBaseOffset applied to get the base address): how many spans own its pages,\n"
                   "pages of in-use spans, and the pageInUse / pageMarks bits. --map draws each\n"
                   "arena as a row: # heap in use, s stacks and other manual spans, . free,\n"
                   "~ free and returned to the OS (scavenged).")

    def add_arguments(self, parser):
        parser.add_argument("--map", action="store_true", help="draw each arena's pages as a row of characters")
        parser.add_argument("--columns", type=positive_int, metavar="N",
                            help=f"characters per map row (default: what fits the terminal, at most {MAP_COLUMNS})")
        parser.add_argument("--pages", type=positive_int, default=PAGES_PER_CHAR, metavar="N",
                            help=f"pages per character (default {PAGES_PER_CHAR}); a character shows the most "
                                 "common kind among its pages, in-use pages winning ties")
        parser.add_argument("--resident", action="store_true",
                            help="how much of each arena is in RAM (/proc/PID/pagemap, live processes); with "
                                 "--map, draw that instead: # in RAM, + partly, . not (demand paging)")
        add_explain_argument(parser)

    def run(self, rt, args):
        arenas = all_arenas(rt)
        resident = {a.index: resident_kinds(rt, a) for a in arenas} if args.resident else {}
        known = args.resident and all(kinds is not None for kinds in resident.values())
        maps = {a.index: resident[a.index] if known else page_kinds(rt, a) for a in arenas} if args.map else {}
        page = 8192
        report = Report({"arenas": [
            {"index": a.index, "l1": a.l1, "l2": a.l2, "base": a.base, "heap_arena_address": a.address, "spans": a.spans,
             "pages_in_use": a.pages_in_use, "span_starts_in_use": a.span_starts_in_use,
             "span_starts_marked": a.span_starts_marked, **({"map": maps[a.index]} if args.map else {}),
             **({"resident_bytes": _resident_bytes(resident[a.index], page)} if args.resident else {})}
            for a in arenas]})
        rows = [[Styled(hexaddr(a.base), "address"), f"{a.l1}/{a.l2}", Styled(hexaddr(a.address), "address"), a.spans,
                 f"{a.pages_in_use} ({humanize(a.pages_in_use * page)})", a.span_starts_in_use, a.span_starts_marked]
                + ([humanize(_resident_bytes(resident[a.index], page))] if args.resident else [])
                for a in arenas]
        report.add(Table(["BASE", "L1/L2", "HEAPARENA", "SPANS", "PAGES IN USE", "PAGEINUSE BITS", "PAGEMARKS BITS"]
                         + (["RESIDENT"] if args.resident else []),
                         rows, drop_order=("PAGEMARKS BITS", "PAGEINUSE BITS", "L1/L2")))
        if args.map:
            group = max(1, args.pages)
            order = RESIDENCY_ORDER if known else KIND_ORDER
            for a in arenas:
                columns = max(1, args.columns) if args.columns else map_columns(a.base, args.width)
                report.add("")
                report.blocks.extend(map_rows(maps[a.index], a.base, group, columns, order))
            report.add(_legend(maps, known) + f"; 1 character = {group} pages = {humanize(group * page)}")
        if args.resident and not known:
            report.add(Styled("residency unknown: a core keeps no record of what was in RAM, and /proc/PID/pagemap "
                              "is only readable for a live process on this machine", "warning"))
        report.add(f"{len(arenas)} arenas")
        if args.explain:
            add_explanation(report, explain_arenas(rt, arenas))
        return report


def map_columns(base: int, width: int) -> int:
    """Map characters per row that fit width beside the row's address: a power of two, so a
    row stays a round share of the arena (64 characters of 8 pages: one 4 MiB pallocChunk)."""
    columns = MAP_COLUMNS
    while width and columns > 16 and len(f"{hexaddr(base)} |") + columns + 1 > width:
        columns //= 2
    return columns


def _resident_bytes(kinds: Optional[str], page: int) -> Optional[int]:
    """'#' a whole page in RAM, '+' half of it (one of its two 4 KiB pages); None: unknown."""
    return None if kinds is None else kinds.count("#") * page + kinds.count("+") * page // 2


def _legend(maps: dict, resident: bool) -> str:
    if resident:
        return "# in RAM  + partly in RAM  . not in RAM (never touched, or returned to the OS)"
    padded = any("p" in kinds for kinds in maps.values())
    return ("# heap in use  s stacks/manual  . free  ~ free, returned to the OS  "
            + ("p random padding before the heap's start (1.26+)  " if padded else "") + "(blank) not grown into")


def map_rows(kinds: str, base: int, group: int, columns: int, order: str = KIND_ORDER) -> list:
    """Rows of the page map, each starting with the address of its first page."""
    chars = []
    for start in range(0, len(kinds), group):
        chunk = kinds[start:start + group]
        chars.append(max(order, key=chunk.count))  # max keeps the first of equal counts: in-use wins ties
    return [f"{hexaddr(base + row * group * 8192)} |{''.join(chars[row:row + columns])}|"
            for row in range(0, len(chars), columns)]
