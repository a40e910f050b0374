"""go-stack (one stack in detail: guard, prologue rules, every frame) and go-bt (a goroutine's
backtrace, or every goroutine's grouped by identical stacks)."""

from __future__ import annotations

import argparse
from collections import OrderedDict
from typing import List, Optional

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.commands.explain import add_explain_argument, add_explanation, explain_stack
from gdbgomem.commands.goroutine_rows import created_by, status_key
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.goroutines import Goroutine, all_goroutines, decoded_goroutines, find_goroutine, locate_code
from gdbgomem.runtime.labels import goroutine_labels
from gdbgomem.runtime.plausible import stack_flaw, stack_flaws
from gdbgomem.runtime.stack_view import StackView, stack_of_goroutine, stack_of_system
from gdbgomem.runtime.stack_walks import walk_all
from gdbgomem.runtime.threads import all_threads, attach_threads, selected_thread, thread_of_goroutine
from gdbgomem.runtime.unwinder import Frame, shown_frames

TEXT_FRAMES_HEAD = 20  # frames shown before the elision line in text
TEXT_FRAMES_TAIL = 5   # and after it
GOIDS_SHOWN = 12       # goids listed per group by go-bt --all in text


def choose_stack(rt, goid: Optional[int], m_id: Optional[int]) -> StackView:
    """The stack the user asked for; by default what gdb's selected thread runs on."""
    goroutines = all_goroutines(rt)
    attach_threads(rt, goroutines)
    if goid is not None:
        g = find_goroutine(rt, goid)
        return stack_of_goroutine(rt, g, thread_of_goroutine(rt, g))
    if m_id is not None:
        for thread in all_threads(rt):
            if thread.id == m_id:
                return stack_of_system(rt, thread, "g0")
        raise GoMemError(f"no M {m_id}", "list them with go-threads")
    thread = selected_thread(rt)
    if thread is None:
        raise GoMemError("gdb's selected thread is not a Go M", "pick a goroutine: go-stack GOID")
    on = thread.running_on()
    if on in ("g0", "gsignal"):
        return stack_of_system(rt, thread, on)
    if not thread.curg_address:
        return stack_of_system(rt, thread, "g0")
    g = next((x for x in goroutines if x.address == thread.curg_address), None)
    if g is None:
        raise GoMemError(f"M {thread.id} runs a goroutine missing from allgs", "go-stack --m ID shows its g0")
    return stack_of_goroutine(rt, g, thread)


def stack_json(view: StackView, verdict) -> dict:
    data = {
        "kind": view.kind, "goid": view.g.goid, "g_address": view.g.address,
        "m_id": view.thread.id if view.thread else None,
        "thread_id": view.thread.procid if view.thread else None,
        "stack_lo": view.lo, "stack_hi": view.hi, "stack_size": view.hi - view.lo,
        "sp": view.sp, "pc": view.pc, "sp_source": view.sp_source,
        "used": view.used, "free": view.free,
        "stackguard0": view.g.stackguard0, "stackguard1": view.g.stackguard1,
        "preempt_requested": view.preempt_requested, "guard": view.guard, "headroom": view.headroom,
        "stack_guard": view.rules.stack_guard, "stack_small": view.rules.stack_small,
        "stack_big": view.rules.stack_big,
        "frames": [f.to_json() for f in view.frames], "stop_reason": view.stop_reason,
        "corrupt": stack_flaws(view.lo, view.hi),
    }
    if verdict is not None:
        data["frame_check"] = {"frame_size": verdict.frame_size, "rule": verdict.rule,
                               "compared": verdict.compared, "morestack": verdict.morestack,
                               "why": verdict.why}
    return data


def diagram(view: StackView) -> List[str]:
    """A vertical picture of the stack, highest address on top, gaps labelled in bytes."""
    marks = [(view.hi, "hi", "stack.hi"), (view.sp, "sp", f"{view.sp_source}"),
             (view.guard, "guard", "stackguard0" if not view.preempt_requested
              else "lo + StackGuard (stackguard0 holds the preempt marker)"),
             (view.lo, "lo", "stack.lo")]
    marks.sort(key=lambda m: -m[0])
    gap_names = {("hi", "sp"): "in use", ("sp", "guard"): "headroom", ("guard", "lo"): "guard zone",
                 ("sp", "lo"): "free", ("guard", "sp"): "past the guard: morestack on next check"}
    out = []
    for i, (address, label, note) in enumerate(marks):
        glyph = "┬" if i == 0 else ("┴" if i == len(marks) - 1 else "┼")
        out.append(f"  {label:>5}  {hexaddr(address):>18} {glyph}  {note}")
        if i + 1 < len(marks):
            gap = address - marks[i + 1][0]
            name = gap_names.get((label, marks[i + 1][1]), "")
            out.append(f"  {'':>5}  {'':>18} │  {humanize(gap)} {name}".rstrip())
    return out


class StackCommand(Command):
    name = "go-stack"
    summary = "one stack in detail: bounds, sp, stackguard0, headroom, prologue rules, frames"
    description = ("Show a stack: bounds, SP, used and free bytes, stackguard0 (lo + StackGuard, or\n"
                   "the preempt marker), headroom (SP - guard), the function prologue's stack\n"
                   "check rules, a diagram, and every frame unwound with the binary's pclntab.\n"
                   "Default: what gdb's selected thread runs on (its goroutine, or its g0 when\n"
                   "it is on the system stack). Works the same on core files.\n"
                   "FRAME is the compiler's frame size, the one its stack check compares with\n"
                   "(the locals the prologue's SUB RSP allocates plus the caller's BP it pushes),\n"
                   "not counting the 8-byte return address above it: --frame-size FRAME repeats\n"
                   "that function's own check. JSON frames[]: function, file, line, pc, sp,\n"
                   "frame_size (as FRAME), size_on_stack (frame_size + the return address: the\n"
                   "caller's frame starts at sp + size_on_stack), entry, inlined, wrapper.")

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="goroutine id (default: selected thread's)")
        parser.add_argument("--m", type=positive_int, metavar="ID", dest="m_id", help="the g0 stack of M number ID")
        parser.add_argument("--frame-size", type=positive_int, metavar="N",
                            help="would a call with an N-byte frame (the compiler's frame size, as FRAME shows "
                                 "it) take the morestack path now?")
        add_explain_argument(parser)

    def run(self, rt, args):
        if args.goid is not None and args.m_id is not None:
            raise GoMemError("go-stack: give a GOID or --m ID, not both", "see go-stack --help")
        view = choose_stack(rt, args.goid, args.m_id)
        verdict = view.check_frame(args.frame_size) if args.frame_size is not None else None
        report = Report(stack_json(view, verdict))
        explained = explain_stack(rt, view.lo, view.g.stackguard0, view.kind != "goroutine", view.frames) \
            if args.explain else None
        if args.json:
            if explained:
                report.data["explain"] = explained[0]
            return report
        owner = f"goroutine {view.g.goid}" if view.kind == "goroutine" else \
            f"{view.kind} of M {view.thread.id if view.thread else '?'}"
        where = f" on M {view.thread.id}, thread {view.thread.procid}" if view.thread and view.kind == "goroutine" \
            and view.g.m_address else ""
        flaw = stack_flaw(view.lo, view.hi)
        report.add(Styled(f"{owner}{where}: stack [{hexaddr(view.lo)}, {hexaddr(view.hi)}) "
                          f"{f'corrupt: {flaw}' if flaw else humanize(view.hi - view.lo)}",
                          "warning" if flaw else "heading"))
        report.add(f"sp {hexaddr(view.sp)} ({view.sp_source})   used {humanize(view.used)}   "
                   f"free {humanize(view.free)}")
        if view.preempt_requested:
            report.add(Styled(f"stackguard0 {hexaddr(view.g.stackguard0)} = stackPreempt: the next "
                              "prologue check calls morestack, which yields to the scheduler", "warning"))
        else:
            report.add(f"stackguard0 {hexaddr(view.g.stackguard0)} = lo + {view.g.stackguard0 - view.lo}"
                       f" (StackGuard {view.rules.stack_guard})   headroom {humanize(view.headroom)}")
        report.add(f"prologue: frame <= {view.rules.stack_small} B: morestack if SP <= stackguard0;  "
                   f"<= {view.rules.stack_big} B: if SP-(frame-{view.rules.stack_small}) <= stackguard0;  "
                   f"larger: also if that subtraction wraps")
        if verdict is not None:
            report.add(Styled(f"--frame-size {verdict.frame_size}: {verdict.rule}: "
                              f"{'MORESTACK' if verdict.morestack else 'no morestack'}: {verdict.why}",
                              "warning" if verdict.morestack else "heading"))
        report.add("")
        report.blocks.extend(diagram(view))
        report.add("")
        frames = view.frames
        shown = frames if len(frames) <= TEXT_FRAMES_HEAD + TEXT_FRAMES_TAIL + 1 else \
            frames[:TEXT_FRAMES_HEAD] + [None] + frames[-TEXT_FRAMES_TAIL:]
        rows = []
        for i, frame in enumerate(shown):
            if frame is None:
                rows.append(["", Styled(f"... {len(frames) - TEXT_FRAMES_HEAD - TEXT_FRAMES_TAIL} more",
                                        "muted"), "", "", ""])
                continue
            index = i if i < TEXT_FRAMES_HEAD else len(frames) - (len(shown) - i)
            rows.append([f"#{index}", Styled((frame.function or "?") + (" (wrapper)" if frame.wrapper else ""), "function"),
                         f"{frame.file}:{frame.line}" if frame.file else "-",
                         Styled(hexaddr(frame.sp), "address"),
                         humanize(frame.frame_size) if frame.frame_size is not None
                         else ("inlined" if frame.inlined else "-")])
        report.add(Table(["#", "FUNCTION", "FILE:LINE", "SP", "FRAME"], rows, cut_front=["FILE:LINE"]))
        hidden = len(frames) - (len(shown) - 1) if None in shown else 0
        report.add(f"{len(frames)} frames" + (f", {hidden} not shown (--json has them all)" if hidden else "")
                   + f"; unwinding stopped: {view.stop_reason}")
        if explained:
            add_explanation(report, explained)
        return report


def frames_of(rt, g: Goroutine) -> List[Frame]:
    return stack_of_goroutine(rt, g, thread_of_goroutine(rt, g)).frames


def frame_lines(all_frames: List[Frame]) -> list:
    """Function and file:line of each frame the runtime's traceback would show (no wrappers),
    inlined calls marked; long stacks keep their first and last frames."""
    out: list = []
    frames = shown_frames(all_frames)
    cut = len(frames) > TEXT_FRAMES_HEAD + TEXT_FRAMES_TAIL + 1
    shown = frames[:TEXT_FRAMES_HEAD] + [None] + frames[-TEXT_FRAMES_TAIL:] if cut else frames
    for frame in shown:
        if frame is None:
            hidden = len(frames) - TEXT_FRAMES_HEAD - TEXT_FRAMES_TAIL
            out.append(Styled(f"  ... {hidden} more frames (--json has them all)", "muted"))
            continue
        out.append(f"  {frame.function or '?'}" + ("  (inlined)" if frame.inlined else ""))
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
                   "stacks and states shown once with their count and goids; --group groups them\n"
                   "by something else, showing the stack of each group's first goroutine.")

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="the goroutine id")
        parser.add_argument("--all", action="store_true", help="every goroutine, grouped by identical stacks")
        parser.add_argument("--group", type=_grouping, default="stack", metavar="BY",
                            help="with --all, group by: stack (identical stacks and states, the default), user "
                                 "(first non-runtime frame), go (the go statement), start (start function), "
                                 "wait (status and wait reason), label:KEY (a pprof label's value)")

    def run(self, rt, args):
        goroutines = decoded_goroutines(rt)  # where each one's code is: only to group by user frame
        attach_threads(rt, goroutines)
        if args.all == (args.goid is not None):
            raise GoMemError("go-bt: give a GOID or --all", "see go-bt --help")
        if args.goid is not None:
            g = find_goroutine(rt, args.goid)
            frames = frames_of(rt, g)
            report = Report({"goid": g.goid, "status": status_key(g.status), "wait_reason": g.wait_reason,
                             "frames": [f.to_json() for f in frames]})
            report.add(Styled(f"goroutine {g.goid} [{_state(g)}]:", "heading"))
            report.blocks.extend(frame_lines(frames))
            return report
        groups: "OrderedDict[object, dict]" = OrderedDict()
        live = [g for g in goroutines if not g.is_dead]
        if args.group == "user":
            locate_code(rt, live)
        keys: dict = {}  # the group key of each distinct state, made once
        for g, walk in zip(live, walk_all(rt, live, [thread_of_goroutine(rt, g) for g in live])):
            state = (g.status, g.wait_reason, bool(g.lockedm)) if args.group in ("stack", "wait") else None
            key = keys.get(state) if state is not None else None
            if key is None:
                key = _group_key(rt, g, args.group)
                if state is not None:
                    keys[state] = key
            # identical stacks: the frames are part of what is shared
            identity = (key, walk.lines) if args.group == "stack" else key
            group = groups.get(identity)
            if group is None:
                group = groups[identity] = {"key": key, "status": status_key(g.status), "wait_reason": g.wait_reason,
                                            "goids": [], "walk": walk}
            group["goids"].append(g.goid)
        for group in groups.values():
            group["frames"] = group.pop("walk").frames()
        ordered = sorted(groups.values(), key=lambda group: -len(group["goids"]))
        report = Report({"group_by": args.group,
                         "groups": [{"key": v["key"], "count": len(v["goids"]), "goids": v["goids"],
                                     "status": v["status"], "wait_reason": v["wait_reason"],
                                     "frames": [f.to_json() for f in v["frames"]]} for v in ordered],
                         "goroutines": sum(len(v["goids"]) for v in groups.values())})
        if args.json:
            return report
        for group in ordered:
            goids = group["goids"]
            listed = ", ".join(map(str, goids[:GOIDS_SHOWN])) + (f", ... ({len(goids) - GOIDS_SHOWN} more)"
                                                                   if len(goids) > GOIDS_SHOWN else "")
            what = f"[{group['key']}]" if args.group == "stack" else f"{args.group} {group['key']}"
            report.add(Styled(f"{len(goids)} goroutine{'s' if len(goids) > 1 else ''} {what}: {listed}", "heading"))
            if args.group != "stack":
                report.add(Styled(f"  goroutine {goids[0]} [{_state(find_goroutine(rt, goids[0]))}]:", "muted"))
            report.blocks.extend(frame_lines(group["frames"]))
            report.add("")
        report.add(f"{report.data['goroutines']} goroutines in {len(ordered)} groups")
        return report


GROUPINGS = ("stack", "user", "go", "start", "wait")


def _grouping(text: str) -> str:
    """argparse type of --group: one of GROUPINGS, or label:KEY."""
    if text in GROUPINGS or (text.startswith("label:") and len(text) > len("label:")):
        return text
    raise argparse.ArgumentTypeError(f"not a grouping: {text!r} (choose {', '.join(GROUPINGS)} or label:KEY)")


def _group_key(rt, g: Goroutine, by: str) -> str:
    """What goroutines of one group share, in words (for stacks, the state they share besides)."""
    if by in ("stack", "wait"):
        return _state(g)
    if by == "user":
        return f"{g.user_function} {g.user_file}:{g.user_line}" if g.user_function else "(no user frame)"
    if by == "go":
        made = created_by(rt, g)
        return f"{made['function']} {made['file']}:{made['line']}" if made else "(no go statement)"
    if by == "start":
        return (rt.function_at(g.startpc) if g.startpc else None) or "?"
    key = by[len("label:"):]
    return f"{key}={goroutine_labels(rt, g.labels_address).get(key, '(none)')}"
