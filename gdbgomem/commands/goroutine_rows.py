"""go-goroutines' rows: one goroutine as JSON (goroutine_json, RowEncoder) and as table cells
(TextRows, table_report), shared by the listing made of Goroutine objects (commands.goroutines)
and the one made from columns (commands.goroutines_columns)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Iterator, List, Optional

from gdbgomem.render.report import CORRUPT, Column, RawJsonArray, Report, Styled, Table
from gdbgomem.render.text import humanize
from gdbgomem.runtime.goroutines import Goroutine
from gdbgomem.runtime.manifest import G_SYSCALL
from gdbgomem.runtime.labels import goroutine_labels
from gdbgomem.runtime.plausible import MAX_STACK_BYTES
from gdbgomem.runtime.goruntime import GoRuntime

TEXT_LIMIT = 200  # text rows shown when --limit is not given; JSON holds every row
# the columns a narrow terminal loses first: go-g GOID shows them all
NARROW_DROPS = ("STACK LO", "CREATED BY", "LABELS", "M/TID", "FUNCTION", "USED")


def status_cell(g: Goroutine) -> Styled:
    style = f"status.{g.status}" if g.status in ("running", "runnable", "syscall", "waiting", "dead") \
        else "status.other"
    return Styled(g.status + (" (scan)" if g.scan else ""), style)


def clock_now(rt: GoRuntime) -> Optional[int]:
    """The runtime's nanotime() now: on a live process on this machine CLOCK_MONOTONIC is the
    same clock. A core has no "now": None."""
    return None if rt.target.is_core else time.monotonic_ns()


def waited_ns(g: Goroutine, now: Optional[int]) -> Optional[int]:
    """How long the goroutine has waited, where the runtime recorded when it began
    (g.waitsince, only set by the GC: mgcmark.go); None without a now (clock_now)."""
    if not g.waitsince or now is None or g.status not in ("waiting", "syscall"):
        return None
    return max(0, now - g.waitsince)


def created_by(rt: GoRuntime, g: Goroutine) -> Optional[dict]:
    """The `go` statement that started g; none for goroutine 1, which rt0_go starts
    (the runtime's own traceback leaves it out too: traceback.go printcreatedby)."""
    position = rt.position_of_call(g.gopc) if g.gopc and g.goid != 1 else None
    if position is None:
        return None
    return {"function": position[0], "file": position[1], "line": position[2]}


def status_key(status: str) -> str:
    """A status as JSON and --status name it: the runtime's name, lower case, _ for spaces."""
    return status.lower().replace(" ", "_")


def goroutine_json(rt: GoRuntime, g: Goroutine) -> dict:
    return {
        "goid": g.goid, "g_address": g.address, "status": status_key(g.status),
        "status_code": g.status_code, "scan": g.scan, "wait_reason": g.wait_reason,
        "waitsince": g.waitsince or None, "waited_ns": waited_ns(g, clock_now(rt)),
        "stack_lo": g.stack_lo, "stack_hi": g.stack_hi, "stack_size": g.stack_size,
        "stack_used": (g.stack_hi - g.sp) if g.stack_lo <= g.sp <= g.stack_hi else None,
        "sp": g.sp, "pc": g.pc, "function": g.function,
        "user_function": g.user_function, "user_file": g.user_file, "user_line": g.user_line,
        "start_function": rt.function_at(g.startpc) if g.startpc else None,
        "created_by": created_by(rt, g), "parent_goid": g.parent_goid,
        "m_id": g.m_id, "thread_id": g.thread_id, "locked_to_thread": bool(g.lockedm),
        "labels": goroutine_labels(rt, g.labels_address), "corrupt": g.flaws,
    }


class RowEncoder:
    """go-goroutines rows as JSON text, the same keys and values as goroutine_json.

    Thousands of goroutines usually share everything but their numbers (the
    same code, wait, creator), so the non-numeric part of a row is encoded
    once per distinct combination and each row is one f-string of integers
    plus that cached tail: several times faster than json.dumps over dicts
    at 100 000 rows.
    """

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.now = clock_now(rt)
        self._tails: dict = {}

    def tail(self, g: Goroutine) -> str:
        key = (g.status, g.status_code, g.scan, g.wait_reason, g.function, g.user_function, g.user_file,
               g.user_line, g.startpc, g.gopc, g.goid == 1, bool(g.lockedm))
        try:
            return self._tails[key]
        except KeyError:
            made = created_by(self.rt, g)
            fields = {
                "status": status_key(g.status), "status_code": g.status_code, "scan": g.scan,
                "wait_reason": g.wait_reason, "function": g.function, "user_function": g.user_function,
                "user_file": g.user_file, "user_line": g.user_line,
                "start_function": self.rt.function_at(g.startpc) if g.startpc else None,
                "created_by": made, "locked_to_thread": bool(g.lockedm)}
            encoded = self._tails[key] = json.dumps(fields, separators=(",", ":"))[1:-1]
            return encoded

    def labels(self, g: Goroutine) -> str:
        if not g.labels_address:
            return "{}"
        return json.dumps(goroutine_labels(self.rt, g.labels_address), separators=(",", ":"))

    def rows(self, goroutines: List[Goroutine]) -> RawJsonArray:
        """The rows, made as the output is written (RawJsonArray)."""
        return RawJsonArray(self._rows(goroutines))

    def _rows(self, goroutines: List[Goroutine]) -> Iterator[str]:
        """One loop with everything inlined: at 100 000 rows each call or property saved counts."""
        tails, tail, labels = self._tails, self.tail, self.labels
        now = self.now
        waiting = ("waiting", "syscall")
        for g in goroutines:
            lo, hi, since = g.stack_lo, g.stack_hi, g.waitsince
            if g.live_sp is not None:
                sp, pc = g.live_sp, g.live_pc
            elif g.status_code == G_SYSCALL and g.syscall_sp:
                sp, pc = g.syscall_sp, g.syscall_pc
            else:
                sp, pc = g.sched_sp, g.sched_pc
            waited = "null" if not since or now is None or g.status not in waiting else max(0, now - since)
            key = (g.status, g.status_code, g.scan, g.wait_reason, g.function, g.user_function, g.user_file,
                   g.user_line, g.startpc, g.gopc, g.goid == 1, bool(g.lockedm))
            fixed = tails.get(key) or tail(g)
            yield (f'{{"goid":{g.goid},"g_address":{g.address},"waitsince":{since or "null"},'
                   f'"waited_ns":{waited},"stack_lo":{lo},"stack_hi":{hi},"stack_size":{hi - lo},'
                   f'"stack_used":{hi - sp if lo <= sp <= hi else "null"},"sp":{sp},"pc":{pc},'
                   f'"parent_goid":{"null" if g.parent_goid is None else g.parent_goid},'
                   f'"m_id":{"null" if g.m_id is None else g.m_id},'
                   f'"thread_id":{"null" if g.thread_id is None else g.thread_id},'
                   f'"labels":{labels(g) if g.labels_address else "{}"},'
                   f'"corrupt":{"{}" if 0 <= hi - lo <= MAX_STACK_BYTES else json.dumps(g.flaws, separators=(",", ":"))},'
                   f'{fixed}}}')


class TextRows:
    """go-goroutines table rows. As with RowEncoder, the cells that goroutines parked at the
    same place share (status, wait, function, user frame, creator) are made once per place,
    and sizes once per size: the whole table of 100 000 goroutines is then mostly lookups."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.now = clock_now(rt)
        self._places: dict = {}
        self._sizes: dict = {}
        self._waits: dict = {}

    def size(self, n: int) -> str:
        text = self._sizes.get(n)
        if text is None:
            text = self._sizes[n] = humanize(n)
        return text

    def place(self, g: Goroutine) -> tuple:
        key = (g.status, g.scan, g.wait_reason, g.function, g.user_function, g.user_file, g.user_line, g.gopc,
               g.goid == 1)
        cells = self._places.get(key)
        if cells is None:
            where = f"{g.user_function} {short_path(g.user_file)}:{g.user_line}" if g.user_function and g.user_line \
                else (g.user_function or "-")
            made = created_by(self.rt, g)
            cells = self._places[key] = (
                status_cell(g), g.function or "-", where,
                f"{made['function']} {short_path(made['file'])}:{made['line']}" if made else "-")
        return cells

    def wait(self, g: Goroutine) -> str:
        if not g.wait_reason:
            return "-"
        waited = waited_ns(g, self.now)
        if waited is None:
            return g.wait_reason
        return self.waited(g.wait_reason, waited // 1_000_000)  # shown in tenths of seconds at most

    def waited(self, reason: str, ms: int) -> str:
        """The wait reason and how long, for a wait begun ms milliseconds ago."""
        key = (reason, ms)
        text = self._waits.get(key)
        if text is None:
            text = self._waits[key] = f"{reason}, {_duration(ms * 1_000_000)}"
        return text

    def columns(self, goroutines: List[Goroutine], labeled: bool) -> List[Column]:
        """The table's columns: a tuple of texts per row in one loop, turned into columns at
        once; styles only where they differ from cell to cell (status, a corrupt size)."""
        rows, statuses, corrupt = [], [], False
        append, add_status, place, wait, size = rows.append, statuses.append, self.place, self.wait, self.size
        places, waits, sizes, now, waiting = self._places, self._waits, self._sizes, self.now, ("waiting", "syscall")
        for g in goroutines:  # place, wait and size inlined where their caches answer
            status, function, where, made = places.get(
                (g.status, g.scan, g.wait_reason, g.function, g.user_function, g.user_file, g.user_line, g.gopc,
                 g.goid == 1)) or place(g)
            reason, since = g.wait_reason, g.waitsince
            if not reason:
                waited = "-"
            elif not since or now is None or g.status not in waiting:
                waited = reason
            else:
                waited = waits.get((reason, max(0, now - since) // 1_000_000)) or wait(g)
            lo, hi = g.stack_lo, g.stack_hi
            if g.live_sp is not None:
                sp = g.live_sp
            else:
                sp = g.syscall_sp if g.status_code == G_SYSCALL and g.syscall_sp else g.sched_sp
            whole = 0 <= hi - lo <= MAX_STACK_BYTES
            corrupt = corrupt or not whole
            add_status(status)
            row = (str(g.goid), status.text, waited, f"{g.m_id}/{g.thread_id}" if g.m_id is not None else "-",
                   f"0x{lo:x}", (sizes.get(hi - lo) or size(hi - lo)) if whole else CORRUPT.text,
                   (sizes.get(hi - sp) or size(hi - sp)) if lo <= sp <= hi else "-", function, where, made)
            if labeled:
                row += (_labels_text(self.rt, g) if g.labels_address else "-",)
            append(row)
        texts = [list(column) for column in zip(*rows)] if rows else [[] for _ in range(10 + labeled)]
        sizes = [CORRUPT.style if t == CORRUPT.text else None for t in texts[5]] if corrupt else None
        styles = [None, [s.style for s in statuses], None, None, "address", sizes, None, "function", None, None]
        return [Column(t, s) for t, s in zip(texts, styles + [None])]



LABELS_SHOWN = 40  # characters of labels in a table cell


def _labels_text(rt: GoRuntime, g: Goroutine) -> str:
    text = ",".join(f"{k}={v}" for k, v in goroutine_labels(rt, g.labels_address).items())
    return (text[:LABELS_SHOWN - 3] + "...") if len(text) > LABELS_SHOWN else (text or "-")


def _duration(ns: int) -> str:
    seconds = ns / 1e9
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def table_report(report: Report, columns: List[Column], labeled: bool, chosen: int, shown: int,
                 corrupt: List[int], totals: Counter) -> Report:
    """go-goroutines' text view after its data: the table (columns, from TextRows), what is
    not shown, the goids of stacks that cannot be true, the count of each status."""
    report.add(Table(["GOID", "STATUS", "WAIT", "M/TID", "STACK LO", "SIZE", "USED", "FUNCTION",
                      "USER FRAME", "CREATED BY"] + (["LABELS"] if labeled else []),
                     [], drop_order=NARROW_DROPS, columns=columns))
    if shown < chosen:
        report.add(Styled(f"... {chosen - shown} more not shown (--limit 0 shows all)", "muted"))
    if corrupt:
        report.add(Styled(f"{len(corrupt)} with a stack that cannot be true (a corrupt core?): go-g "
                          f"{corrupt[0]} says why", "warning"))
    summary = ", ".join(f"{n} {status}" for status, n in totals.most_common())
    report.add(f"{chosen} goroutines: {summary}" if chosen else "no goroutines match")
    return report



def short_path(path: Optional[str]) -> Optional[str]:
    """Last two path elements: enough to recognize a file in a table."""
    if not path:
        return path
    return "/".join(path.split("/")[-2:])
