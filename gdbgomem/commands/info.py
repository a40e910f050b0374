"""go-info: which Go built the target, where layouts come from, and how big the scheduler is."""

from __future__ import annotations

import struct

from gdbgomem.commands.base import Command
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.runtime import version as goversion
from gdbgomem.runtime.goroutines import all_goroutines
from gdbgomem.runtime.threads import all_threads

KEY_TYPES = ("runtime.g", "runtime.m", "runtime.p", "runtime.moduledata")


class InfoCommand(Command):
    name = "go-info"
    summary = "Go version, pointer size, layout source, counts of goroutines, Ms and Ps"

    def run(self, proc, args):
        target = proc.target
        goroutines = all_goroutines(proc)
        threads = all_threads(proc)
        nprocs = len(proc.all_p())
        gomaxprocs_at = target.symbol_address("runtime.gomaxprocs")
        raw = target.try_read(gomaxprocs_at, 4) if gomaxprocs_at is not None else None
        gomaxprocs = struct.unpack("<i", raw)[0] if raw else None
        layouts = {name: proc.layout(name).size for name in KEY_TYPES}
        live = [g for g in goroutines if not g.is_dead]
        data = {
            "go_version": proc.version_string, "tested": goversion.is_tested(proc.version),
            "pointer_size": proc.pointer_size, "executable": target.executable, "pid": target.pid,
            "core": target.is_core, "layout_source": "DWARF",
            "layouts": {name: {"size": size} for name, size in layouts.items()},
            "goroutines": len(live), "allglen": len(goroutines), "ms": len(threads), "ps": nprocs,
            "gomaxprocs": gomaxprocs,
        }
        report = Report(data)
        version = proc.version_string + ("" if data["tested"] else " (newer than the releases gdbgomem was tested on)")
        rows = [
            ["Go version", Styled(version, "heading" if data["tested"] else "warning")],
            ["target", f"{'core file' if target.is_core else 'live process'}, pid {target.pid}"],
            ["executable", target.executable or "-"],
            ["pointer size", proc.pointer_size],
            ["layouts", "DWARF of the binary: " + ", ".join(f"{n} {s} B" for n, s in layouts.items())],
            ["goroutines", f"{len(live)} (allgs holds {len(goroutines)}, dead ones included)"],
            ["Ms (threads)", len(threads)],
            ["Ps", nprocs],
            ["GOMAXPROCS", gomaxprocs if gomaxprocs is not None else "-"],
        ]
        report.add(Table(["", ""], [[Styled(k, "heading"), v] for k, v in rows]))
        return report
