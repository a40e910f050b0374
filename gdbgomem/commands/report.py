"""go-report FILE: one self-contained HTML page of the process or core, made of the very JSON
the other commands print (each is run here as with --json), so the page and the commands never
disagree and nothing is decoded twice. Read-only, like every command: only FILE is written."""

from __future__ import annotations

from gdbgomem.commands.arenas import ArenasCommand
from gdbgomem.commands.base import Command, writable_path
from gdbgomem.commands.goroutines import GoroutinesCommand, longest_waits
from gdbgomem.commands.info import InfoCommand
from gdbgomem.commands.maps import MapsCommand
from gdbgomem.commands.offheap import OffHeapCommand
from gdbgomem.commands.pages import PagesCommand
from gdbgomem.commands.roots import RootsCommand
from gdbgomem.commands.spans import SpansCommand
from gdbgomem.commands.stacks import BacktraceCommand
from gdbgomem.commands.types import TypesCommand
from gdbgomem.errors import GoMemError
from gdbgomem.render.html_report import report_html
from gdbgomem.render.report import Report
from gdbgomem.render.text import humanize

LONGEST_WAITS = 15
ROOTS_SHOWN = 20


def command_json(rt, command: Command, *argv: str):
    """What `command ARGV --json` prints, as a dict; or, when it fails, its one-line reason."""
    args = command.parser().parse_args([*argv, "--json"])
    args.width = 0
    try:
        return command.run(rt, args).data
    except GoMemError as exc:
        return f"{command.name} could not be run: {exc}"


def gather(rt) -> dict:
    """Every command's data the report draws. The process map comes last: a debugger's reads
    page in memory, and go-maps then counts the RSS that the other commands' reads left."""
    live = not rt.target.is_core
    got = {"info": command_json(rt, InfoCommand()),
           "goroutines": command_json(rt, GoroutinesCommand(), "--limit", "1"),
           "bt": command_json(rt, BacktraceCommand(), "--all"),
           "arenas": command_json(rt, ArenasCommand(), "--map"),
           "pages": command_json(rt, PagesCommand(), "--level", "0"),
           "spans": command_json(rt, SpansCommand(), "--summary"),
           "offheap": command_json(rt, OffHeapCommand()),
           "types": command_json(rt, TypesCommand()),
           "roots": command_json(rt, RootsCommand(), "--top", str(ROOTS_SHOWN), "--chains")}
    try:
        got["longest"] = longest_waits(rt, LONGEST_WAITS)
    except GoMemError as exc:
        got["longest"] = str(exc)
    resident = command_json(rt, ArenasCommand(), "--map", "--resident") if live else None
    known = isinstance(resident, dict) and all(a.get("resident_bytes") is not None for a in resident["arenas"])
    got["resident"] = resident if known else None
    got["maps"] = command_json(rt, MapsCommand())
    return got


class ReportCommand(Command):
    name = "go-report"
    summary = "write one self-contained HTML report: process map, arenas, spans, goroutines, MemStats, types, roots"
    description = ("Write FILE, one HTML page that opens from disk with no network: the process map\n"
                   "to scale (go-maps), heap arenas and the page allocator as page maps (go-arenas\n"
                   "--map, go-pages), span utilization by size class (go-spans --summary),\n"
                   "goroutines by wait reason and identical stacks with the longest waits (go-bt\n"
                   "--all), MemStats beside the off-heap breakdown (go-offheap) and objects per type\n"
                   "(go-types) and who holds them (go-roots; both need numpy). Each figure has its numbers in a table beside it, the\n"
                   "same numbers those commands print with --json. Large processes are drawn in\n"
                   "aggregate (groups, classes, a page map at a bounded resolution).")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="the HTML file to write (overwritten)")

    def run(self, rt, args):
        path = writable_path(self.name, args.file, "report.html")
        gathered = gather(rt)
        info = gathered["info"]
        target = (f"core of pid {info['pid']}" if rt.target.is_core else f"pid {info['pid']}") \
            if isinstance(info, dict) else "?"
        html = report_html(gathered, target, rt.target.is_core).encode()
        try:
            with open(path, "wb") as out:
                out.write(html)
        except OSError as exc:
            raise GoMemError(f"go-report: cannot write {path}: {exc.strerror or exc}", "give a path you can write") \
                from None
        missing = {name: why for name, why in gathered.items() if isinstance(why, str)}
        report = Report({"path": path, "bytes": len(html), "missing": missing})
        report.add(f"wrote {path} ({humanize(len(html))}, {len(html)} bytes)")
        for why in missing.values():
            report.add(f"left out: {why}")
        return report
