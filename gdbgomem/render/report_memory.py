"""The report's memory sections, each from one command's JSON: the process map (go-maps), the
heap's arenas and page allocator (go-arenas --map, go-pages), spans per size class
(go-spans --summary) and MemStats beside the off-heap breakdown (go-offheap)."""

from __future__ import annotations

from typing import Optional

from gdbgomem.render.html_page import count, details, figure, legend, nbytes, section, table
from gdbgomem.render.svg import cells_of, page_map, stacked_bars, strip
from gdbgomem.render.text import hexaddr, humanize

ROLE_CLASSES = (  # (css class, what the role starts with, legend)
    ("heap", ("Go heap arena",), "Go heap arenas"),
    ("meta", ("heapArena metadata", "page allocator"), "runtime metadata"),
    ("stacks", ("thread stack", "main thread's stack"), "thread stacks"),
    ("program", ("program",), "the program"),
    ("libs", ("file ",), "files, shared libraries"),
    ("kernel", ("vdso", "vvar", "vsyscall"), "kernel"),
    ("reserved", ("reserved",), "reserved, no access"),
)
PAGE_KINDS = {"#": "heap", "s": "stacks", ".": "free", "~": "scav", "p": "pad"}
PAGE_LEGEND = [("heap", "heap in use"), ("stacks", "stacks and other manual spans"), ("free", "free"),
               ("scav", "free, returned to the OS"), ("pad", "random padding before the heap (1.26+)")]
KIND_ORDER = "#s~.p "  # a cell shows its most common kind; ties go to the first: in-use pages win
RESIDENCY = {"#": "ram", "+": "part", ".": "noram"}
MAP_COLUMNS = 128
MAP_CELLS = 65536      # at most so many cells in all the arenas' maps: 8 pages a cell up to 32 GiB of arenas
SPAN_KINDS = [("used", "slots in use"), ("slots", "free slots"), ("tail", "tail past the last slot")]
MEMSTATS_PARTS = ("HeapSys", "StackSys", "MSpanSys", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys")


def role_class(role: str) -> str:
    for css, starts, _legend in ROLE_CLASSES:
        if role.startswith(starts):
            return css
    return "other"


def maps_section(data: dict, on_core: bool) -> str:
    inner_name = "saved in the core" if on_core else "RSS"
    inner = (lambda m: m["saved"]) if on_core else (lambda m: m["rss"])
    mappings = data["mappings"]
    segments = [(m["size"], inner(m) or 0, role_class(m["role"]),
                 f"{hexaddr(m['start'])}-{hexaddr(m['end'])} {m['role']}: {humanize(m['size'])}, "
                 f"{inner_name} {humanize(inner(m))}") for m in mappings]
    by_class: dict = {}
    for m in mappings:
        row = by_class.setdefault(role_class(m["role"]), [0, 0, 0])
        row[0] += 1
        row[1] += m["size"]
        row[2] += inner(m) or 0
    names = {css: text for css, _s, text in ROLE_CLASSES} | {"other": "anonymous, other"}
    bars = stacked_bars([(names[css], [(r[2], css, f"{inner_name} {humanize(r[2])}"),
                                       (r[1] - r[2], f"{css} light", f"size {humanize(r[1])}")])
                         for css, r in by_class.items()], "size and " + inner_name + " by role")
    t = data["totals"]
    total_rows = [["VSZ (size)", nbytes(t["vsz"])], ["RSS", nbytes(t["rss"])],
                  ["anonymous", nbytes(t["anonymous"])], ["swapped", nbytes(t["swap"])]]
    keys = ["vsz", "rss", "anonymous", "swap"]
    if on_core:
        saved = [m["saved"] for m in mappings]  # None where the host cannot tell (lldb on a core)
        total_rows.append(["saved in the core", nbytes(None if None in saved else sum(saved))])
        keys.append("saved")
    if data.get("kernel"):
        total_rows += [["kernel VmSize", nbytes(data["kernel"]["vm_size"])],
                       ["kernel VmRSS", nbytes(data["kernel"]["vm_rss"])]]
        keys += ["vm_size", "vm_rss"]
    tables = (table("maps-totals", ["TOTAL", "BYTES"], total_rows, f"{len(mappings)} mappings", keys=keys)
              + table("maps-roles", ["ROLE", "MAPPINGS", "SIZE", inner_name.upper()],
                      [[names[css], count(r[0]), nbytes(r[1]), nbytes(r[2])] for css, r in by_class.items()],
                      keys=list(by_class)))
    body = (legend([(css, text) for css, _s, text in ROLE_CLASSES] + [("other", "anonymous, other")])
            + f'<div class="svg">{strip(segments, "every mapping to scale")}</div>'
            + figure(bars, tables)
            + details(f"every mapping ({len(mappings)})", table("maps-mappings", ["START", "END", "SIZE", inner_name.upper(), "PERMS", "ROLE"],
                    [[hexaddr(m["start"]), hexaddr(m["end"]), nbytes(m["size"]), nbytes(inner(m)), m["perms"],
                      m["role"] + (f" ({m['path']})" if m["path"] and not m["path"].startswith("[") else "")]
                     for m in mappings], keys=[m["start"] for m in mappings])))
    intro = (f"Every mapping in address order, each as wide as its share of the {humanize(t['vsz'])} of address "
             f"space (the gaps between mappings are left out); the darker lower half is its {inner_name}. "
             + ("A core keeps no resident counts: the inner measure is what the core saved." if on_core else ""))
    return section("maps", "Process map", intro, body)


def arenas_section(arenas: dict, resident: Optional[dict], pages: dict) -> str:
    listed = arenas["arenas"]
    total_pages = sum(len(a["map"]) for a in listed)
    per_cell = max(8, -(-total_pages // MAP_CELLS))
    kinds_map = page_map([(hexaddr(a["base"]), cells_of(a["map"], per_cell, KIND_ORDER)) for a in listed],
                         PAGE_KINDS, MAP_COLUMNS, "heap arenas' pages")
    rows = [[hexaddr(a["base"]), count(a["spans"]), count(a["pages_in_use"])]
            + [count(a["map"].count(k)) for k in "#s.~p "] for a in listed]
    rows.append(["all", count(sum(a["spans"] for a in listed)), count(sum(a["pages_in_use"] for a in listed))]
                + [count(sum(a["map"].count(k) for a in listed)) for k in "#s.~p "])
    kinds_table = table("arenas-pages", ["ARENA", "SPANS", "PAGES IN USE", "HEAP", "STACKS", "FREE", "SCAVENGED",
                                         "PADDING", "NOT GROWN INTO"], rows,
                        keys=[a["base"] for a in listed] + ["all"])
    body = legend(PAGE_LEGEND) + figure(kinds_map, kinds_table)
    body += f'<p class="intro">1 cell = {per_cell} pages = {humanize(per_cell * 8192)}, {MAP_COLUMNS} cells a line.</p>'
    if resident is not None:
        res_map = page_map([(hexaddr(a["base"]), cells_of(a["map"], per_cell, "#+.")) for a in resident["arenas"]],
                           RESIDENCY, MAP_COLUMNS, "heap arenas' pages in RAM")
        res_table = table("arenas-resident", ["ARENA", "RESIDENT"],
                          [[hexaddr(a["base"]), nbytes(a["resident_bytes"])] for a in resident["arenas"]],
                          keys=[a["base"] for a in resident["arenas"]])
        body += ("<h3>In RAM (/proc/PID/pagemap)</h3>"
                 + legend([("ram", "in RAM"), ("part", "partly"), ("noram", "not in RAM")]) + figure(res_map, res_table))
    else:
        body += '<p class="intro">Residency is unknown here: a core keeps no record of what was in RAM.</p>'
    p = pages
    page_rows = [["allocated pages", count(p["in_use_pages"])], ["free pages", count(p["free_pages"])],
                 ["scavenged pages", count(p["scavenged_pages"])], ["padding pages", count(p["padding_pages"])],
                 ["chunks in use", count(p["chunks_in_use"])],
                 ["largest free run (pages)", count(p["largest_free_run_pages"])],
                 ["searchAddr", hexaddr(p["search_address"])],
                 ["ranges", ", ".join(_range(r) for r in p["ranges"])]]
    body += "<h3>Page allocator (mheap_.pages)</h3>" + table(
        "pages-summary", ["", "VALUE"], page_rows,
        keys=["in_use_pages", "free_pages", "scavenged_pages", "padding_pages", "chunks_in_use",
              "largest_free_run_pages", "search_address", "ranges"])
    intro = (f"{len(listed)} arenas of 64 MiB, each drawn as lines of cells; a cell shows the most common kind of its "
             "pages, in-use pages winning ties.")
    return section("arenas", "Heap arenas and pages", intro, body)


def _range(r: dict) -> str:
    return f"[{hexaddr(r['base'])}, {hexaddr(r['limit'])})"


def spans_section(summary: dict) -> str:
    classes = summary["classes"]
    names = [f"{c['sizeclass'] or 'large'} {'noscan' if c['noscan'] else 'scan'}"
             + (f" ({c['elemsize']} B)" if c["elemsize"] else "") for c in classes]
    bars = stacked_bars([(name, [(c["bytes_in_use"], "used", f"in use {humanize(c['bytes_in_use'])}"),
                                 (c["free_slot_bytes"], "slots", f"free slots {humanize(c['free_slot_bytes'])}"),
                                 (c["tail_bytes"], "tail", f"tail {humanize(c['tail_bytes'])}")])
                         for name, c in zip(names, classes)], "span bytes by size class")
    rows = [[str(c["sizeclass"] or "large"), "noscan" if c["noscan"] else "scan", count(c["elemsize"]),
             count(c["spans"]), count(c["objects"]), count(c["capacity"]), nbytes(c["bytes"]),
             nbytes(c["bytes_in_use"]), nbytes(c["free_slot_bytes"]), nbytes(c["tail_bytes"])] for c in classes]
    tables = table("spans-classes", ["CLASS", "KIND", "ELEMSIZE", "SPANS", "OBJECTS", "SLOTS", "SPAN BYTES", "IN USE",
                                     "FREE SLOTS", "TAIL"], rows,
                   f"{summary['total_spans']:,} in-use spans in {len(classes)} classes",
                   keys=[f"{c['sizeclass']}-{'noscan' if c['noscan'] else 'scan'}" for c in classes])
    intro = ("In-use spans by size class and scan/noscan: bytes of allocated slots, of free slots and of the tail past "
             "the last slot, on one scale. " + summary["note"] + ".")
    return section("spans", "Span utilization by size class", intro, legend(SPAN_KINDS) + figure(bars, tables))


def offheap_section(data: dict) -> str:
    m, s = data["memstats"], data["structures"]
    palette = dict(zip(MEMSTATS_PARTS, ("heap", "stacks", "meta", "pad", "kernel", "tail", "other")))
    bar = stacked_bars([("Sys", [(m[name], palette[name], f"{name} {humanize(m[name])}") for name in MEMSTATS_PARTS])],
                       "Sys split into its parts")
    order = ("HeapSys", "StackInuse", "StackSys", "MSpanInuse", "MSpanSys", "MCacheInuse", "MCacheSys", "BuckHashSys",
             "GCSys", "OtherSys", "Sys")
    stats = table("offheap-memstats", ["MEMSTATS", "BYTES", ""], [[name, count(m[name]), humanize(m[name])]
                                                                   for name in order], keys=list(order))
    structure_rows = [
        ["mspan structs", count(s["mspan_structs"]), f"x {s['mspan_size']} B"],
        ["mcache structs", count(s["mcache_structs"]), f"x {s['mcache_size']} B"],
        ["heapArena structs", count(s["heap_arenas"]), f"x {humanize(s['heap_arena_size'])}"],
        ["heapArena metadata", nbytes(s["heap_arena_metadata_bytes"]), "in GCSys"],
        ["stacks the runtime mapped itself", nbytes(s["os_stacks_bytes"]), "in StackSys"],
        ["GC metadata", nbytes(s["gc_misc_bytes"]), "in GCSys"],
        ["GC work buffers", nbytes(s["gc_workbuf_bytes"]), "in GCSys"],
        ["unrolled GC programs", nbytes(s["gc_program_bits_bytes"]), "in GCSys"]]
    structures = table("offheap-structures", ["STRUCTURE", "HOW MUCH", ""], structure_rows,
                       keys=["mspan_structs", "mcache_structs", "heap_arenas", "heap_arena_metadata_bytes",
                             "os_stacks_bytes", "gc_misc_bytes", "gc_workbuf_bytes", "gc_program_bits_bytes"])
    intro = ("What runtime.ReadMemStats would report, read from where it reads it, beside the structures behind "
             "each figure. Sys is the sum of the *Sys figures: what the runtime has mapped.")
    return section("offheap", "MemStats and off-heap memory", intro,
                   legend([(palette[n], n) for n in MEMSTATS_PARTS]) + figure(bar, stats + structures))
