"""go-stack: one stack in detail, with its guard, the prologue rules and every frame."""

from __future__ import annotations

from typing import List, Optional

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.goroutines import all_goroutines, find_goroutine
from gdbgomem.runtime.stacks import StackView, stack_of_goroutine, stack_of_system
from gdbgomem.runtime.threads import all_threads, attach_threads, selected_thread, thread_of_goroutine

TEXT_FRAMES_HEAD = 20  # frames shown before the elision line in text
TEXT_FRAMES_TAIL = 5   # and after it


def choose_stack(proc, goid: Optional[int], m_id: Optional[int]) -> StackView:
    """The stack the user asked for; by default what gdb's selected thread runs on."""
    goroutines = all_goroutines(proc)
    attach_threads(proc, goroutines)
    if goid is not None:
        g = find_goroutine(proc, goid)
        return stack_of_goroutine(proc, g, thread_of_goroutine(proc, g))
    if m_id is not None:
        for thread in all_threads(proc):
            if thread.id == m_id:
                return stack_of_system(proc, thread, "g0")
        raise GoMemError(f"no M {m_id}", "list them with go-threads")
    thread = selected_thread(proc)
    if thread is None:
        raise GoMemError("gdb's selected thread is not a Go M", "pick a goroutine: go-stack GOID")
    on = thread.running_on()
    if on in ("g0", "gsignal"):
        return stack_of_system(proc, thread, on)
    if not thread.curg_address:
        return stack_of_system(proc, thread, "g0")
    g = next((x for x in goroutines if x.address == thread.curg_address), None)
    if g is None:
        raise GoMemError(f"M {thread.id} runs a goroutine missing from allgs", "go-stack --m ID shows its g0")
    return stack_of_goroutine(proc, g, thread)


def stack_json(view: StackView, verdict) -> dict:
    data = {
        "kind": view.kind, "goid": view.g.goid, "g": view.g.address,
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
                   "it is on the system stack). Works the same on core files.")

    def add_arguments(self, parser):
        parser.add_argument("goid", nargs="?", type=positive_int, help="goroutine id (default: selected thread's)")
        parser.add_argument("--m", type=positive_int, metavar="ID", dest="m_id", help="the g0 stack of M number ID")
        parser.add_argument("--frame-size", type=positive_int, metavar="N",
                            help="would a call with an N-byte frame take the morestack path now?")

    def run(self, proc, args):
        if args.goid is not None and args.m_id is not None:
            raise GoMemError("go-stack: give a GOID or --m ID, not both", "see go-stack --help")
        view = choose_stack(proc, args.goid, args.m_id)
        verdict = view.check_frame(args.frame_size) if args.frame_size is not None else None
        report = Report(stack_json(view, verdict))
        if args.json:
            return report
        owner = f"goroutine {view.g.goid}" if view.kind == "goroutine" else \
            f"{view.kind} of M {view.thread.id if view.thread else '?'}"
        where = f" on M {view.thread.id}, thread {view.thread.procid}" if view.thread and view.kind == "goroutine" \
            and view.g.m_address else ""
        report.add(Styled(f"{owner}{where}: stack [{hexaddr(view.lo)}, {hexaddr(view.hi)}) "
                          f"{humanize(view.hi - view.lo)}", "heading"))
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
            rows.append([f"#{index}", Styled(frame.function or "?", "function"),
                         f"{frame.file}:{frame.line}" if frame.file else "-",
                         Styled(hexaddr(frame.sp), "address"),
                         humanize(frame.frame_size) if frame.frame_size is not None else "-"])
        report.add(Table(["#", "FUNCTION", "FILE:LINE", "SP", "FRAME"], rows))
        hidden = len(frames) - (len(shown) - 1) if None in shown else 0
        report.add(f"{len(frames)} frames" + (f", {hidden} not shown (--json has them all)" if hidden else "")
                   + f"; unwinding stopped: {view.stop_reason}")
        return report
