"""go-info: which Go built the target, where layouts come from, and how big the scheduler is."""

from __future__ import annotations

import struct

from gdbgomem import releases
from gdbgomem.commands.base import Command
from gdbgomem.render.report import Report, Styled, fields_table
from gdbgomem.runtime.goroutines import decoded_goroutines
from gdbgomem.runtime.threads import all_threads

KEY_TYPES = ("runtime.g", "runtime.m", "runtime.p", "runtime.moduledata")


class InfoCommand(Command):
    name = "go-info"
    summary = "Go version, pointer size, layout source, counts of goroutines, Ms and Ps"

    def run(self, rt, args):
        target = rt.target
        goroutines = decoded_goroutines(rt)  # counted only: no stack walked
        threads = all_threads(rt)
        nprocs = len(rt.all_p())
        gomaxprocs_at = rt.symbol_address("runtime.gomaxprocs")
        raw = target.try_read(gomaxprocs_at, 4) if gomaxprocs_at is not None else None
        gomaxprocs = struct.unpack("<i", raw)[0] if raw else None
        layouts = {name: rt.layout(name).size for name in KEY_TYPES}
        table = rt.layout_table()
        source = "DWARF" if table is None else "table"
        source_text = "DWARF of the binary" if table is None else \
            f"gdbgomem's table for {table.release} (the binary has no DWARF; made from {table.generated_from}'s)"
        live = [g for g in goroutines if not g.is_dead]
        data = {
            "go_version": rt.version_string, "tested": releases.is_tested(rt.version),
            "pointer_size": rt.pointer_size, "executable": target.executable, "pid": target.pid,
            "core": target.is_core, "layout_source": source,
            "layout_table": table.generated_from if table is not None else None,
            "layouts": {name: {"size": size} for name, size in layouts.items()},
            "goroutines": len(live), "allglen": len(goroutines), "ms": len(threads),
            "threads": sum(1 for t in threads if t.procid), "ps": nprocs,
            "gomaxprocs": gomaxprocs,
        }
        report = Report(data)
        version = rt.version_string + ("" if data["tested"] else " (newer than the releases gdbgomem was tested on)")
        rows = [
            ["Go version", Styled(version, "heading" if data["tested"] else "warning")],
            ["target", f"{'core file' if target.is_core else 'live process'}, pid {target.pid}"],
            ["executable", target.executable or "-"],
            ["pointer size", rt.pointer_size],
            ["layouts", f"{source_text}: " + ", ".join(f"{n} {s} B" for n, s in layouts.items())],
            ["goroutines", f"{len(live)} (allgs holds {len(goroutines)}, dead ones included)"],
            ["Ms (threads)", f"{len(threads)}" + (f" ({len(threads) - data['threads']} extra Ms without an OS "
                                                   "thread, kept for cgo callbacks)" if data["threads"] < len(threads)
                                                   else "")],
            ["Ps", nprocs],
            ["GOMAXPROCS", gomaxprocs if gomaxprocs is not None else "-"],
        ]
        report.add(fields_table(rows))
        return report
