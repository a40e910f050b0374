"""go-maps: the process's address space, each mapping with what the Go program keeps there."""

from __future__ import annotations

from gdbgomem.commands.base import Command
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.address_space import Region, address_space, region_of, totals


def region_json(r: Region) -> dict:
    m = r.mapping
    return {"start": m.start, "end": m.end, "size": m.size, "perms": m.perms, "path": m.path or None,
            "role": r.roles[0], "roles": r.roles, "rss": m.rss, "anonymous": m.anonymous, "swap": m.swap,
            "saved": m.saved}


class MapsCommand(Command):
    name = "go-maps"
    summary = "every mapping of the process (VSZ, RSS) labelled with its Go role: program, heap, stacks..."
    description = ("List the process's mappings, live from /proc/PID/smaps or from a core's segments,\n"
                   "each with its role: the program's sections (.text, .rodata, .data, .bss), Go heap\n"
                   "arenas (objects and goroutine stacks), heapArena metadata, the page allocator's\n"
                   "summaries, thread stacks, the main thread's stack, shared libraries, the kernel's\n"
                   "vdso, address space reserved but not usable yet. SIZE adds up to VmSize (VSZ),\n"
                   "RSS to VmRSS: a 64 MiB arena costs RAM only for the pages touched. A debugger's\n"
                   "reads map pages in too (the binary's data read the first time), so RSS can grow a\n"
                   "little while the process is stopped; each go-maps reads it afresh.")

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="?", metavar="ADDR",
                            help="only the mapping holding ADDR (a number, symbol or $register)")
        parser.add_argument("--role", metavar="TEXT", help="only mappings whose role contains TEXT")

    def run(self, rt, args):
        regions = address_space(rt)
        sums = totals(regions)
        kernel = rt.target.kernel_sizes()
        shown = regions
        if args.address is not None:
            address = rt.address_of(args.address)
            found = region_of(regions, address)
            shown = [found] if found else []
        if args.role:
            shown = [r for r in shown if args.role.lower() in r.role.lower()]
        report = Report({"mappings": [region_json(r) for r in shown], "totals": sums,
                         "kernel": {"vm_size": kernel[0], "vm_rss": kernel[1]} if kernel else None})
        if args.json:
            return report
        on_core = rt.target.is_core
        rows = [[Styled(hexaddr(r.mapping.start), "address"), Styled(hexaddr(r.mapping.end), "address"),
                 humanize(r.mapping.size), humanize(r.mapping.saved if on_core else r.mapping.rss), r.mapping.perms,
                 r.role + (f" ({r.mapping.path})" if r.mapping.path and not r.mapping.path.startswith("[") else "")]
                for r in shown]
        if rows:
            report.add(Table(["START", "END", "SIZE", "SAVED" if on_core else "RSS", "PERMS", "ROLE"], rows,
                             drop_order=("END", "PERMS")))
        if args.address is not None and not shown:
            report.add(Styled(f"0x{address:x} is in no mapping: not an address of this process", "warning"))
        line = (f"{len(shown)} of {len(regions)} mappings shown; all of them: " if len(shown) < len(regions)
                else f"{len(regions)} mappings: ") + f"VSZ {humanize(sums['vsz'])}"
        if sums["rss"] is not None:
            line += f", RSS {humanize(sums['rss'])} (anonymous {humanize(sums['anonymous'])}, " \
                    f"swapped {humanize(sums['swap'])})"
        if kernel:
            line += f"; the kernel counts VmSize {humanize(kernel[0])}, VmRSS {humanize(kernel[1])}"
        if on_core:
            line += "; a core keeps no resident counts: SAVED is what it holds of each mapping"
        report.add(line)
        return report
