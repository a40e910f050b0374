"""go-bt: the backtrace of one goroutine, or of every goroutine grouped by identical stacks."""

from __future__ import annotations

from collections import OrderedDict
from typing import List

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.commands.stack import TEXT_FRAMES_HEAD, TEXT_FRAMES_TAIL
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled
from gdbgomem.runtime.frames import Frame
from gdbgomem.runtime.goroutines import Goroutine, all_goroutines, find_goroutine
from gdbgomem.runtime.stacks import stack_of_goroutine
from gdbgomem.runtime.threads import attach_threads, thread_of_goroutine

GOIDS_SHOWN = 12  # goids listed per group in text


def frames_of(proc, g: Goroutine) -> List[Frame]:
    return stack_of_goroutine(proc, g, thread_of_goroutine(proc, g)).frames


def frame_lines(frames: List[Frame]) -> list:
    """Function and file:line of each frame; long stacks keep their first and last frames."""
    out: list = []
    cut = len(frames) > TEXT_FRAMES_HEAD + TEXT_FRAMES_TAIL + 1
    shown = frames[:TEXT_FRAMES_HEAD] + [None] + frames[-TEXT_FRAMES_TAIL:] if cut else frames
    for frame in shown:
        if frame is None:
            hidden = len(frames) - TEXT_FRAMES_HEAD - TEXT_FRAMES_TAIL
            out.append(Styled(f"  ... {hidden} more frames (--json has them all)", "muted"))
            continue
        out.append(f"  {frame.function or '?'}")
        out.append(f"      {frame.file}:{frame.line}" if frame.file else "      ?")
    return out


def _state(g: Goroutine) -> str:
    return g.status + (f", {g.wait_reason}" if g.wait_reason else "") + (", locked to thread" if g.lockedm else "")


class BacktraceCommand(Command):
    name = "go-bt"
    summary = "backtrace of a goroutine, or of all of them grouped by identical stacks (--all)"
    description = ("Print a goroutine's stack, unwound from its saved state with the binary's\n"
                   "pclntab (or from its thread's registers while it runs), the same way on a live\n"
                   "process and on a core. --all prints every goroutine, goroutines with identical\n"
                   "stacks and states shown once with their count and goids.")

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="the goroutine id")
        parser.add_argument("--all", action="store_true", help="every goroutine, grouped by identical stacks")

    def run(self, proc, args):
        goroutines = all_goroutines(proc)
        attach_threads(proc, goroutines)
        if args.all == (args.goid is not None):
            raise GoMemError("go-bt: give a GOID or --all", "see go-bt --help")
        if args.goid is not None:
            g = find_goroutine(proc, args.goid)
            frames = frames_of(proc, g)
            report = Report({"goid": g.goid, "status": g.status, "wait_reason": g.wait_reason,
                             "frames": [f.to_json() for f in frames]})
            report.add(Styled(f"goroutine {g.goid} [{_state(g)}]:", "heading"))
            report.blocks.extend(frame_lines(frames))
            return report
        groups: "OrderedDict[tuple, dict]" = OrderedDict()
        for g in goroutines:
            if g.is_dead:
                continue
            frames = frames_of(proc, g)
            key = (_state(g), tuple((f.function, f.file, f.line) for f in frames))
            group = groups.get(key)
            if group is None:
                group = groups[key] = {"status": g.status, "wait_reason": g.wait_reason, "goids": [],
                                       "frames": frames}
            group["goids"].append(g.goid)
        ordered = sorted(groups.items(), key=lambda item: -len(item[1]["goids"]))
        report = Report({"groups": [{"count": len(v["goids"]), "goids": v["goids"], "status": v["status"],
                                     "wait_reason": v["wait_reason"], "frames": [f.to_json() for f in v["frames"]]}
                                    for _, v in ordered],
                         "goroutines": sum(len(v["goids"]) for v in groups.values())})
        if args.json:
            return report
        for (state, _), group in ordered:
            goids = group["goids"]
            listed = ", ".join(map(str, goids[:GOIDS_SHOWN])) + (f", ... ({len(goids) - GOIDS_SHOWN} more)"
                                                                   if len(goids) > GOIDS_SHOWN else "")
            report.add(Styled(f"{len(goids)} goroutine{'s' if len(goids) > 1 else ''} [{state}]: {listed}", "heading"))
            report.blocks.extend(frame_lines(group["frames"]))
            report.add("")
        report.add(f"{report.data['goroutines']} goroutines in {len(ordered)} groups")
        return report
