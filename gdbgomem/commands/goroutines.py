"""go-goroutines (the list) and go-g (one goroutine in full)."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import List, Optional, Tuple

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.commands.goroutine_rows import (
    TEXT_LIMIT, RowEncoder, TextRows, goroutine_json, short_path, status_cell, status_key, table_report,
)
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, fields_table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.goroutines import Goroutine, allgs_length, decoded_goroutines, find_goroutine, locate_code
from gdbgomem.runtime.manifest import G_DEAD, G_DEAD_EXTRA
from gdbgomem.runtime.labels import goroutine_labels
from gdbgomem.runtime.plausible import MAX_STACK_BYTES
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.threads import all_threads, attach_threads, thread_of_goroutine


def listing(rt: GoRuntime) -> List[Goroutine]:
    """Every goroutine, with the thread of those running. Where each one's code is, the
    caller looks up (locate_code) for the goroutines it filters on or shows."""
    goroutines = decoded_goroutines(rt)
    attach_threads(rt, goroutines)
    return goroutines


def longest_waits(rt: GoRuntime, n: int) -> List[dict]:
    """The n goroutines waiting longest, as go-goroutines --json shows them: those whose wait
    began first (g.waitsince, which only the GC stamps), so a core, which has no "now", can
    rank them too."""
    stamped = sorted((g for g in listing(rt) if g.waitsince and g.status in ("waiting", "syscall")),
                     key=lambda g: g.waitsince)[:n]
    locate_code(rt, stamped)
    return [goroutine_json(rt, g) for g in stamped]


_DEAD = (G_DEAD, G_DEAD_EXTRA)  # Goroutine.is_dead, inlined in loops over every goroutine


def _matches(rt: GoRuntime, g: Goroutine, args) -> bool:
    if not args.all and g.is_dead:
        return False
    if args.label:
        labels = goroutine_labels(rt, g.labels_address)
        if any(labels.get(key) != value for key, value in args.label):
            return False
    if args.status and status_key(g.status) not in args.status:
        return False
    if args.wait and (g.wait_reason is None or args.wait.lower() not in g.wait_reason.lower()):
        return False
    if args.func:
        names = (g.function or "", g.user_function or "")
        if not any(args.func in name for name in names):
            return False
    return True


def _label(text: str) -> Tuple[str, str]:
    """argparse type of --label: KEY=VALUE."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"not KEY=VALUE: {text!r}")
    return key, value


class GoroutinesCommand(Command):
    name = "go-goroutines"
    summary = "list goroutines from runtime.allgs: status, wait reason, stack, function"
    description = ("List every goroutine the runtime knows (runtime.allgs), one row each:\n"
                   "goid, status, wait reason, M and thread when running, stack bounds and use,\n"
                   "current function, first non-runtime frame, and the `go` statement that made it.\n"
                   "Dead goroutines are left out unless --all is given.")

    def add_arguments(self, parser):
        parser.add_argument("--status", type=lambda s: [status_key(x.strip()) for x in s.split(",")],
                            help="only these statuses, comma separated (running,runnable,waiting,syscall,...)")
        parser.add_argument("--wait", metavar="TEXT", help="only goroutines whose wait reason contains TEXT")
        parser.add_argument("--func", metavar="TEXT", help="only goroutines in a function whose name contains TEXT")
        parser.add_argument("--label", type=_label, action="append", metavar="KEY=VALUE",
                            help="only goroutines with this pprof label (repeat for several, all must match)")
        parser.add_argument("--all", action="store_true", help="include dead goroutines")
        parser.add_argument("--limit", type=positive_int, metavar="N",
                            help=f"show at most N rows (0 = all; text default {TEXT_LIMIT}, JSON default all)")

    def run(self, rt, args):
        if args.status:
            known = {status_key(name) for name in rt.name_table("runtime.gStatusStrings") if name}
            unknown = sorted(set(args.status) - known)
            if unknown:
                raise GoMemError(f"go-goroutines: no status {', '.join(unknown)}",
                                 f"statuses are {', '.join(sorted(known))}")
        if not (args.label or args.status or args.wait or args.func):
            report = _from_columns(rt, args)
            if report is not None:
                return report
        everything = listing(rt)
        if args.func:
            locate_code(rt, everything)
        if args.label or args.status or args.wait or args.func:
            chosen = [g for g in everything if _matches(rt, g, args)]
        else:  # the common case, without a call per goroutine
            chosen = everything if args.all else [g for g in everything if g.status_code not in _DEAD]
        limit = args.limit if args.limit is not None else (0 if args.json else TEXT_LIMIT)
        shown = chosen[:limit] if limit else chosen
        locate_code(rt, shown)
        totals: Counter = Counter()
        for status, count in Counter(g.status for g in chosen).items():  # status_key once per status
            totals[status_key(status)] += count
        data = {"goroutines": RowEncoder(rt).rows(shown) if args.json else [],
                "total": len(chosen), "shown": len(shown), "by_status": dict(totals),
                "allglen": len(everything)}
        report = Report(data)
        if args.json:
            return report
        labeled = any(g.labels_address for g in shown)  # a LABELS column only where some have labels
        corrupt = [g.goid for g in shown if not 0 <= g.stack_hi - g.stack_lo <= MAX_STACK_BYTES]  # g.flaws, inlined
        return table_report(report, TextRows(rt).columns(shown, labeled), labeled, len(chosen), len(shown),
                            corrupt, totals)


# goroutines from which the listing is made from columns: below, importing numpy (about 0.2 s, once
# per debugger session) costs more than the Goroutine path takes (about 10 us a goroutine)
COLUMNS_FROM = 20_000


def _from_columns(rt: GoRuntime, args) -> Optional[Report]:
    """The unfiltered listing made from columns (commands.goroutines_columns), None where there
    are too few goroutines for it to pay, numpy cannot be imported, or the columns leave it to
    the Goroutine path."""
    if allgs_length(rt) < COLUMNS_FROM:
        return None
    try:
        from gdbgomem.commands.goroutines_columns import listing_report
    except ImportError:
        return None
    return listing_report(rt, args)


class GoroutineCommand(Command):
    name = "go-g"
    summary = "one goroutine in full: status, stack guard, saved registers, M, panic/defer"

    def add_arguments(self, parser):
        parser.add_argument("goid", type=positive_int, help="the goroutine id")

    def run(self, rt, args):
        listing(rt)
        g = find_goroutine(rt, args.goid)
        thread = thread_of_goroutine(rt, g)
        preempt = g.stackguard0 == rt.stack_preempt
        data = goroutine_json(rt, g)
        data.update({
            "stackguard0": g.stackguard0, "stackguard1": g.stackguard1, "preempt_requested": preempt,
            "sched": {"sp": g.sched_sp, "pc": g.sched_pc, "bp": g.sched_bp},
            "syscall": {"sp": g.syscall_sp, "pc": g.syscall_pc},
            "locked_m_address": g.lockedm or None, "panic": bool(g.panic), "defer": bool(g.defer),
            "m_address": g.m_address or None,
        })
        report = Report(data)
        made = data["created_by"]
        fields = [
            ("goroutine", f"{g.goid} at {hexaddr(g.address)}"),
            ("status", status_cell(g)),
            ("wait reason", TextRows(rt).wait(g)),
            ("function", g.function or "-"),
            ("user frame", f"{g.user_function or '-'} {short_path(g.user_file) or ''}:{g.user_line or ''}"
             if g.user_function else "-"),
            ("started at", data["start_function"] or "-"),
            ("created by", f"{made['function']} {made['file']}:{made['line']}" if made else "-"),
            ("parent goid", g.parent_goid if g.parent_goid else "-"),
            ("stack", Styled(f"[{hexaddr(g.stack_lo)}, {hexaddr(g.stack_hi)}) corrupt: {g.flaws['stack_size']}",
                             "warning") if g.flaws
             else f"[{hexaddr(g.stack_lo)}, {hexaddr(g.stack_hi)}) {humanize(g.stack_size)}"),
            ("stackguard0", Styled(f"{hexaddr(g.stackguard0)} (stackPreempt: preemption requested)", "warning")
             if preempt else f"{hexaddr(g.stackguard0)} (lo + {g.stackguard0 - g.stack_lo})"),
            ("stackguard1", hexaddr(g.stackguard1)),
            ("sched", f"sp {hexaddr(g.sched_sp)}  pc {hexaddr(g.sched_pc)}  bp {hexaddr(g.sched_bp)}"),
            ("syscall", f"sp {hexaddr(g.syscall_sp)}  pc {hexaddr(g.syscall_pc)}"),
            ("m", f"M {thread.id}, thread {thread.procid}" if thread else "-"),
            ("locked to M", _locked_text(rt, g)),
            ("panic / defer", f"{'yes' if g.panic else 'no'} / {'yes' if g.defer else 'no'}"),
            ("pprof labels", ", ".join(f"{k}={v}" for k, v in data["labels"].items()) or "-"),
        ]
        report.add(fields_table(fields, ("FIELD", "VALUE")))
        return report


def _locked_text(rt: GoRuntime, g: Goroutine) -> str:
    if not g.lockedm:
        return "no"
    thread = next((t for t in all_threads(rt) if t.address == g.lockedm), None)
    return f"M {thread.id}, thread {thread.procid}" if thread else hexaddr(g.lockedm)