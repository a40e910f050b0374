"""go-goroutines without filters, made from columns (runtime.goroutine_columns): no object per goroutine.

Most goroutines are plain: no M, no pprof labels, a stack that can be true. What their
rows show is computed for all of them at once; the texts many share (RowEncoder.tail,
TextRows.place, sizes, waits) are made once per distinct combination by the Goroutine
path's own code, from a goroutine that has it. JSON rows are then put together by
render.row_matrix, text cells by a lookup per row. The few special goroutines go
through the Goroutine path as before (decoded, threads attached, code located), so both
give the same text. commands.goroutines uses this where numpy imports.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, Iterator, List, Optional

import numpy as np

from gdbgomem.commands.goroutine_rows import TEXT_LIMIT, RowEncoder, TextRows, status_key, table_report
from gdbgomem.render.report import CORRUPT, Column, RawJsonArray, Report
from gdbgomem.render.row_matrix import RowMatrix
from gdbgomem.runtime.goroutine_columns import GoroutineColumns, goroutine_columns
from gdbgomem.runtime.goroutines import Goroutine, locate_code, read_goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import G_DEAD, G_DEAD_EXTRA
from gdbgomem.runtime.plausible import MAX_STACK_BYTES
from gdbgomem.runtime.threads import attach_threads

BATCH = 8192  # JSON rows made together: bounds the matrix held at once
MAX_SPECIAL = 4096  # more goroutines than this that need the Goroutine path: take it for all


def listing_report(rt: GoRuntime, args) -> Optional[Report]:
    """go-goroutines [--json] [--all] [--limit N] as goroutines.GoroutinesCommand makes it, or
    None where the Goroutine path is to be taken: too many goroutines need it, or one could
    not be read again."""
    columns = goroutine_columns(rt)
    chosen = np.arange(len(columns)) if args.all else \
        np.flatnonzero(~np.isin(columns.status_code, (G_DEAD, G_DEAD_EXTRA)))
    limit = args.limit if args.limit is not None else (0 if args.json else TEXT_LIMIT)
    shown = chosen[:limit] if limit else chosen
    lo, hi = columns.member("stack_lo"), columns.member("stack_hi")
    plausible = (hi >= lo) & (hi - lo <= np.uint64(MAX_STACK_BYTES))  # Goroutine.flaws, inverted
    special = ((columns.member("m") != 0) | (columns.member("labels") != 0) | ~plausible)[shown]
    specials, plain = shown[special], shown[~special]
    if len(specials) > MAX_SPECIAL:
        return None
    goroutines = [read_goroutine(rt, address) for address in columns.addresses[specials].tolist()]
    if any(g is None for g in goroutines):
        return None
    attach_threads(rt, goroutines)
    locate_code(rt, goroutines)
    totals = _by_status(rt, columns, chosen)
    data = {"goroutines": [], "total": len(chosen), "shown": len(shown), "by_status": dict(totals),
            "allglen": len(columns)}
    if args.json:
        encoder = RowEncoder(rt)
        matrix = _plain_matrix(rt, columns, plain, encoder)
        if matrix is None:
            return None
        special_rows = dict(zip(specials.tolist(), encoder.rows(goroutines)))
        data["goroutines"] = RawJsonArray(_rows(matrix, plain, special_rows), rows_per_text=BATCH)
        return Report(data)
    labeled = any(g.labels_address for g in goroutines)
    table = _text_columns(rt, columns, shown, np.flatnonzero(special), goroutines, labeled)
    if table is None:
        return None
    corrupt = [g.goid for g in goroutines if not 0 <= g.stack_hi - g.stack_lo <= MAX_STACK_BYTES]
    return table_report(Report(data), table, labeled, len(chosen), len(shown), corrupt, totals)


def _by_status(rt: GoRuntime, columns: GoroutineColumns, chosen: np.ndarray) -> Counter:
    """Goroutines per status_key, in the order their statuses first appear (as a Counter of them)."""
    codes, first, counts = np.unique(columns.status_code[chosen], return_index=True, return_counts=True)
    order = np.argsort(first)
    totals: Counter = Counter()
    for code, count in zip(codes[order].tolist(), counts[order].tolist()):
        totals[status_key(rt.status_name(code))] += count
    return totals


def _rows(matrix: RowMatrix, plain: np.ndarray, special_rows: Dict[int, str]) -> Iterator[str]:
    """The JSON rows in listing order: the plain ones between two special ones BATCH at a time
    (plain and the special rows' keys are row numbers, ascending)."""
    start = 0
    for row, text in special_rows.items():
        stop = int(np.searchsorted(plain, row))
        yield from _batches(matrix, start, stop)
        yield text
        start = stop
    yield from _batches(matrix, start, len(plain))


def _batches(matrix: RowMatrix, start: int, stop: int) -> Iterator[str]:
    for first in range(start, stop, BATCH):
        yield matrix.render(first, min(first + BATCH, stop))


def _plain_matrix(rt: GoRuntime, columns: GoroutineColumns, rows: np.ndarray, encoder) -> Optional[RowMatrix]:
    """RowEncoder's rows of goroutines without an M or labels and with a true stack (None
    where one whose text the others share could not be read again)."""
    member = columns.member
    lo, hi = member("stack_lo")[rows], member("stack_hi")[rows]
    pc, sp = (c[rows] for c in columns.saved_position())
    since = member("waitsince")[rows]
    matrix = RowMatrix(len(rows))
    matrix.text('{"goid":')
    matrix.numbers(member("goid")[rows])
    matrix.text(',"g_address":')
    matrix.numbers(columns.addresses[rows])
    matrix.text(',"waitsince":')
    matrix.numbers(since, since == 0)
    matrix.text(',"waited_ns":')
    waited, no_wait = _waited(rt, columns, rows, encoder.now)
    if waited is None:
        matrix.text("null")
    else:
        matrix.numbers(waited, no_wait)
    matrix.text(',"stack_lo":')
    matrix.numbers(lo)
    matrix.text(',"stack_hi":')
    matrix.numbers(hi)
    matrix.text(',"stack_size":')
    matrix.numbers(hi - lo)
    matrix.text(',"stack_used":')
    inside = (lo <= sp) & (sp <= hi)
    matrix.numbers(np.where(inside, hi - sp, np.uint64(0)), ~inside)
    matrix.text(',"sp":')
    matrix.numbers(sp)
    matrix.text(',"pc":')
    matrix.numbers(pc)
    matrix.text(',"parent_goid":')
    if columns.members["parent_goid"] is None:
        matrix.text("null")
    else:
        matrix.numbers(member("parent_goid")[rows])
    matrix.text(',"m_id":null,"thread_id":null,"labels":{},"corrupt":{},')
    codes, goroutines = _distinct(rt, columns, rows, [member("startpc"), (member("lockedm") != 0)])
    if goroutines is None:
        return None
    matrix.choices(codes, [encoder.tail(g) for g in goroutines])
    matrix.text("}")
    return matrix


def _waited(rt: GoRuntime, columns: GoroutineColumns, rows: np.ndarray, now: Optional[int]):
    """(ns, none): how long each goroutine has waited (goroutines.waited_ns) and where it is
    None; (None, None) without a now."""
    if now is None:
        return None, None
    code, since = columns.status_code[rows], columns.member("waitsince")[rows]
    statuses = np.unique(code, return_counts=True)[0]  # (a plain np.unique imports numpy.ma: 0.03 s)
    waiting = np.isin(code, [c for c in statuses.tolist() if rt.status_name(c) in ("waiting", "syscall")])
    now64 = np.uint64(now)
    return np.where(since > now64, np.uint64(0), now64 - since), (since == 0) | ~waiting


def _distinct(rt: GoRuntime, columns: GoroutineColumns, rows: np.ndarray, more: List[np.ndarray]):
    """(code per row, goroutines): the distinct combinations, over rows, of where a goroutine is
    (status, scan, wait reason, function, user frame, creator, goid 1) and the columns more,
    each as a goroutine that has it; goroutines None where one could not be read again."""
    member = columns.member
    keys = [columns.status_code, columns.scan, columns.wait_reason_code(), columns.function, columns.user,
            member("gopc"), member("goid") == 1] + more
    if not len(rows):
        return np.zeros(0, dtype=np.int64), []
    codes = np.zeros(len(rows), dtype=np.int64)
    for key in keys:
        values, inverse = _factorize(np.asarray(key)[rows])
        codes = _factorize(codes * len(values) + inverse)[1]
    first = np.zeros(codes.max() + 1, dtype=np.int64)
    first[codes] = np.arange(len(codes))  # a row of each code (which one does not matter)
    goroutines = [_representative(rt, columns, row) for row in rows[first].tolist()]
    return codes, None if any(g is None for g in goroutines) else goroutines


def _representative(rt: GoRuntime, columns: GoroutineColumns, row: int) -> Optional[Goroutine]:
    """The goroutine of a row, its code as the columns located it."""
    g = read_goroutine(rt, int(columns.addresses[row]))
    if g is None:
        return None
    function, user = int(columns.function[row]), int(columns.user[row])
    g.function = columns.functions[function] if function >= 0 else None
    if user >= 0:
        g.user_function, g.user_file, g.user_line = columns.users[user]
    g.located = True
    return g


def _text_columns(rt: GoRuntime, columns: GoroutineColumns, rows: np.ndarray, at: np.ndarray,
                  specials: List[Goroutine], labeled: bool) -> Optional[List[Column]]:
    """TextRows.columns of rows, the special goroutines (at those positions) made by it."""
    text = TextRows(rt)
    member = columns.member
    codes, goroutines = _distinct(rt, columns, rows, [])
    if goroutines is None:
        return None
    places = [text.place(g) for g in goroutines]
    status, function, where, made = ([cells[j] for cells in places] for j in range(4))
    lo, hi = member("stack_lo")[rows], member("stack_hi")[rows]
    sp = columns.saved_position()[1][rows]
    inside = (lo <= sp) & (sp <= hi)
    styles = _take([cell.style for cell in status], codes)
    texts = [list(map(str, member("goid")[rows].tolist())), _take([cell.text for cell in status], codes),
             _wait_texts(rt, columns, rows, text), ["-"] * len(rows), list(map("0x{:x}".format, lo.tolist())),
             _size_texts(hi - lo, np.ones(len(rows), dtype=bool), text), _size_texts(hi - sp, inside, text),
             _take(function, codes), _take(where, codes), _take(made, codes)] + ([["-"] * len(rows)] if labeled else [])
    if len(at):
        special = text.columns(specials, labeled)
        for j, position in enumerate(at.tolist()):
            styles[position] = special[1].styles[j]
            for column, given in zip(texts, special):
                column[position] = given.texts[j]
    sizes = [CORRUPT.style if t == CORRUPT.text else None for t in texts[5]] if any(
        not 0 <= g.stack_hi - g.stack_lo <= MAX_STACK_BYTES for g in specials) else None
    kinds = [None, styles, None, None, "address", sizes, None, "function", None, None, None]
    return [Column(t, s) for t, s in zip(texts, kinds)]


def _wait_texts(rt: GoRuntime, columns: GoroutineColumns, rows: np.ndarray, text: TextRows) -> List[str]:
    """TextRows' WAIT cell of each row: "-", the reason, or the reason and how long."""
    reason = columns.wait_reason_code()[rows]
    waited, none = _waited(rt, columns, rows, text.now)
    ms = np.full(len(rows), -1, dtype=np.int64) if waited is None else \
        np.where(none, -1, (waited // np.uint64(1_000_000)).astype(np.int64))
    # one integer per (reason, ms): a reason is a byte, and no wait lasts 2**40 ms (35 years)
    keys, codes = _factorize((reason.astype(np.int64) << 41) + np.minimum(ms, 1 << 40) + 1)
    cells = []
    for key in keys:
        code, millis = key >> 41, (key & ((1 << 41) - 1)) - 1
        name = rt.wait_reason(code)
        cells.append("-" if not name else name if millis < 0 else text.waited(name, millis))
    return _take(cells, codes)


def _size_texts(sizes: np.ndarray, shown: np.ndarray, text: TextRows) -> List[str]:
    """TextRows.size of each size where shown, "-" elsewhere."""
    values, codes = _factorize(np.where(shown, sizes, np.uint64(0)))
    return _take([text.size(v) for v in values] + ["-"], np.where(shown, codes, len(values)))


def _factorize(values: np.ndarray):
    """(the distinct values, as a list; the position of each value's among them). Most
    goroutines share a value, so only the others are sorted."""
    if not len(values):
        return [], np.zeros(0, dtype=np.int64)
    common = values[len(values) // 2]
    other = values != common
    distinct, codes = np.unique(values[other], return_inverse=True)
    positions = np.zeros(len(values), dtype=np.int64)
    positions[other] = codes.ravel() + 1
    return [common.item()] + distinct.tolist(), positions


def _take(cells: list, codes: np.ndarray) -> list:
    """cells[c] for each code: one array take, not a Python step per row."""
    table = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):  # one by one: a cell may be a tuple, which numpy would unpack
        table[i] = cell
    return table[codes].tolist()
