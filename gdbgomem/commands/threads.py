"""go-threads: every M, its OS thread, its g0 and gsignal stacks, and what runs on it."""

from __future__ import annotations

from gdbgomem.commands.base import Command
from gdbgomem.render.report import CORRUPT, Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.plausible import stack_flaws
from gdbgomem.runtime.threads import ORIGIN_KERNEL, ORIGIN_RUNTIME, ORIGIN_SYSTEM, Thread, all_threads

ORIGIN_TEXT = {
    ORIGIN_KERNEL: "kernel (main thread's stack)",
    ORIGIN_RUNTIME: "Go runtime (malg)",
    ORIGIN_SYSTEM: "system (pthread)",
}


def thread_json(t: Thread) -> dict:
    g0, gs = t.g0, t.gsignal
    return {
        "m_id": t.id, "m_address": t.address, "thread_id": t.procid, "selected": t.selected,
        "g0_address": g0.address if g0 else None,
        "g0_stack_lo": g0.stack_lo if g0 else None, "g0_stack_hi": g0.stack_hi if g0 else None,
        "g0_stack_size": g0.stack_size if g0 else None, "g0_origin": t.g0_origin,
        "gsignal_stack_lo": gs.stack_lo if gs else None, "gsignal_stack_hi": gs.stack_hi if gs else None,
        "curg_goid": t.curg_goid, "p_id": t.p_id, "lockedg_goid": t.lockedg_goid,
        "spinning": t.spinning, "blocked": t.blocked, "incgo": t.incgo, "is_m0": t.is_m0,
        "isextra": t.isextra, "running_on": t.running_on(),
        "sp": t.regs.sp if t.regs else None, "pc": t.regs.pc if t.regs else None,
        "corrupt": {**(stack_flaws(g0.stack_lo, g0.stack_hi, "g0_") if g0 else {}),
                    **(stack_flaws(gs.stack_lo, gs.stack_hi, "gsignal_") if gs else {})},
    }


def _state(t: Thread) -> str:
    flags = [name for name, on in (("spinning", t.spinning), ("blocked", t.blocked), ("in cgo", t.incgo),
                                   ("extra", t.isextra)) if on]
    return ",".join(flags) or "-"


class ThreadsCommand(Command):
    name = "go-threads"
    summary = "list Ms (OS threads): thread id, g0 and gsignal stacks, current goroutine, P"
    description = ("List every M on runtime.allm: its OS thread id (procid, * = gdb's selected\n"
                   "thread), its g0 system stack with who allocated it (the kernel for the main\n"
                   "thread, the Go runtime's malg for other threads, the system for cgo/pthread\n"
                   "threads), its gsignal stack, the goroutine it runs, its P, and the goroutine\n"
                   "locked to it.")

    def run(self, rt, args):
        threads = all_threads(rt)
        report = Report({"threads": [thread_json(t) for t in threads]})
        rows = []
        for t in threads:
            gs = t.gsignal
            # an extra M's g0 has no stack until a C thread calls into Go and lends it its own
            g0 = t.g0 if t.g0 is not None and (t.g0.stack_lo or t.g0.stack_hi) else None
            rows.append([
                t.id, Styled(f"*{t.procid}", "selected") if t.selected else (str(t.procid) if t.procid else "-"),
                Styled(f"{hexaddr(g0.stack_lo)}-{hexaddr(g0.stack_hi)}", "address") if g0 else "-",
                (CORRUPT if g0.flaws else humanize(g0.stack_size)) if g0 else "-", ORIGIN_TEXT[t.g0_origin],
                f"{hexaddr(gs.stack_lo)}-{hexaddr(gs.stack_hi)}" if gs else "-",
                t.curg_goid, t.p_id, t.lockedg_goid, t.running_on() or "-", _state(t)])
        report.add(Table(["M", "TID", "G0 STACK", "G0 SIZE", "G0 FROM", "GSIGNAL STACK", "CURG", "P",
                          "LOCKED G", "ON", "STATE"], rows, drop_order=("GSIGNAL STACK", "LOCKED G", "ON", "P", "STATE")))
        without = sum(1 for t in threads if not t.procid)
        report.add(f"{len(threads)} Ms" + (f", {without} of them extra Ms without an OS thread (kept for cgo "
                                           "callbacks)" if without else ""))
        return report
