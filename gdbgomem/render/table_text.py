"""A Table as fixed-width text lines that fit the width the terminal or debugger allows.

Columns are as wide as their widest cell, two spaces apart, and a line carries no
trailing blanks. When a table is wider than the allowed width, its widest text
columns give way first, never below MIN_SHRUNK characters or their heading, and
never a column of numbers or addresses (a cut address is a wrong address): their
cells are cut with "..." or, in tables of fields and values, wrapped; a table may name
columns to leave out before its cells get too short to read (a note says which).

Made for 100 000-row listings: the work is done a column at a time (one regex over a
column's joined text finds control characters, or tells a column of numbers), and a
line is one join.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import cached_property
from typing import List, Optional, Sequence

from gdbgomem.render.report import Column, Styled, Table
from gdbgomem.render.terminal import RESET, STYLE_SGR, UNSAFE, paint, sanitize

GAP = "  "
ELLIPSIS = "..."
MIN_SHRUNK = 12
LAST_RESORT = 6  # a text column's width when nothing else makes the table fit
COMFORTABLE = 20  # a column cut narrower than this says too little: tables with a drop_order drop columns first
_NUMBER = r"(?:-|[-+]?(?:0x[0-9a-fA-F]+|[0-9][0-9.,%]*)(?:-0x[0-9a-fA-F]+)?)"
NUMBERS = re.compile(rf"{_NUMBER}(?:\t{_NUMBER})*")  # a column's cells joined by tabs: all numbers?


def plain(cell) -> str:
    if cell is None:
        return "-"
    if type(cell) is Styled:
        return cell.text
    return str(cell)


@dataclass(eq=False)
class _Column:
    header: str
    styles: Optional[List[Optional[str]]]  # each cell's style name, None for none at all
    texts: List[str]      # as shown: sanitized
    joined: str           # texts joined by tabs, for one-pass checks
    right: bool           # aligned right
    cut_front: bool       # keeps its end when cut (file paths)
    natural: int          # the widest cell or header
    width: int = 0        # as shown

    @cached_property
    def fixed(self) -> bool:
        """Numbers and addresses: never cut."""
        return bool(NUMBERS.fullmatch(self.joined))

    @property
    def floor(self) -> int:
        """How narrow the column may become while it still reads well."""
        return self.natural if self.fixed else min(self.natural, max(MIN_SHRUNK, len(self.header)))

    @property
    def last_resort(self) -> int:
        """How narrow it may become when the table fits no other way."""
        return self.natural if self.fixed else min(self.natural, LAST_RESORT)


def _given(cells: list) -> Column:
    """A column of cells (str, int, None or Styled) as texts and styles."""
    texts = [c if type(c) is str else c.text if type(c) is Styled else plain(c) for c in cells]
    styled = any(type(c) is Styled for c in cells)
    return Column(texts, [c.style if type(c) is Styled else None for c in cells] if styled else None)


def _column(header: str, given: Column, right: bool, cut_front: bool) -> _Column:
    texts, styles = given
    if type(styles) is str:
        styles = [styles] * len(texts)
    joined = "\t".join(texts)
    if UNSAFE.search(joined):
        texts = [sanitize(t) for t in texts]
        joined = "\t".join(texts)
    natural = max(len(header), max(map(len, texts), default=0))
    return _Column(header, styles, texts, joined, right, cut_front, natural, natural)


def table_lines(table: Table, color: bool, width: int = 0) -> List[str]:
    """The table's lines, fitted to width columns when width > 0."""
    count = len(table.headers)
    given = table.columns
    if given is None:
        rows = [list(row) + [""] * (count - len(row)) if len(row) < count else row for row in table.rows]
        given = [_given([row[j] for row in rows]) for j in range(count)]
    show_headers = any(table.headers)
    align = list(table.align) if table.align else ["left"] * count
    columns = [_column(sanitize(h) if show_headers else "", c, a == "right", h in table.cut_front)
               for h, c, a in zip(table.headers, given, align)]
    height = len(columns[0].texts) if columns else 0
    dropped = []
    if width > 0:
        kept = _kept_columns(table, columns, width)
        dropped = [c.header for c in columns if c not in kept]
        columns = kept
        _fit(columns, width)
    lines = []
    if show_headers:
        heads = [_cut(c.header, c.width) for c in columns]
        lines.append(_line([paint(h, "heading") if color else h for h in heads], [len(h) for h in heads], columns))
    if table.wrap or any("\n" in c.joined for c in columns):
        for i in range(height):
            lines.extend(_cell_lines(columns, i, color, table.wrap))
    else:
        # one %-format per line: the padding of plain cells is done by the format, in C
        fields, texts = [], []
        for j, column in enumerate(columns):
            cut = _cut_all(column)
            if color and column.styles is not None:
                fields.append("%s")
                texts.append(_painted(column, cut))
            else:
                last = j == len(columns) - 1
                fields.append("%s" if last and not column.right else f"%{'' if column.right else '-'}{column.width}s")
                texts.append(cut)
        line = GAP.join(fields)
        lines.extend((line % parts).rstrip() for parts in zip(*texts))
    if dropped:
        note = f"(left out to fit {width} columns: {', '.join(dropped)}; --json has every column)"
        lines.extend(paint(part, "muted") if color else part for part in textwrap.wrap(note, width))
    return lines


def _cut_all(column: _Column) -> List[str]:
    """A column's cells cut to its width: the one-line-per-row path."""
    width, front = column.width, column.cut_front
    texts = column.texts
    if column.natural > width:  # _cut inlined for the common case: 100 000 rows at a narrow width
        keep = max(0, width - len(ELLIPSIS))
        texts = [t if len(t) <= width else _cut(t, width, front) for t in texts] if front or not keep \
            else [t if len(t) <= width else t[:keep] + ELLIPSIS for t in texts]
    return texts


def _painted(column: _Column, texts: List[str]) -> List[str]:
    """Cells padded to the column's width, then painted: colors take no room on screen."""
    width, out = column.width, []
    for text, style in zip(texts, column.styles):
        sgr = STYLE_SGR.get(style) if style and text else None
        pad = " " * (width - len(text))
        shown = f"\x1b[{sgr}m{text}{RESET}" if sgr else text
        out.append(pad + shown if column.right else shown + pad)
    return out


def _span(widths: Sequence[int]) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _kept_columns(table: Table, columns: List[_Column], width: int) -> List[_Column]:
    """The columns shown: all, unless they fit only with cells cut below COMFORTABLE
    characters; then columns go in drop_order until the rest fits that way."""
    kept = list(columns)
    for header in table.drop_order:
        comfortable = [c.natural if c.floor == c.natural else max(c.floor, min(c.natural, COMFORTABLE))
                       for c in kept]
        if _span(comfortable) <= width:
            break
        kept = [c for c in kept if c.header != header]
    return kept


def _fit(columns: List[_Column], width: int) -> None:
    """Narrow the widest columns that may give way, one character at a time, until the table fits:
    down to their floors first, then, if that is not enough, to LAST_RESORT characters."""
    excess = _span([c.width for c in columns]) - width
    for floors in ([c.floor for c in columns], [c.last_resort for c in columns]):
        while excess > 0:
            room = [(c.width, j) for j, (c, f) in enumerate(zip(columns, floors)) if c.width > f]
            if not room:
                break
            columns[max(room)[1]].width -= 1
            excess -= 1


def _cut(text: str, width: int, front: bool = False) -> str:
    if len(text) <= width:
        return text
    keep = max(0, width - len(ELLIPSIS))
    if front:
        return ELLIPSIS[:width] + (text[-keep:] if keep else "")
    return text[:keep] + ELLIPSIS[:width]


def _pieces(text: str, width: int, wrap: bool, front: bool) -> List[str]:
    pieces = []
    for part in text.split("\n"):
        if wrap and len(part) > width:
            pieces.extend(textwrap.wrap(part, width, break_on_hyphens=False) or [""])
        else:
            pieces.append(_cut(part, width, front))
    return pieces


def _cell_lines(columns: List[_Column], row: int, color: bool, wrap: bool) -> List[str]:
    """One row as one or more lines: for cells that wrap or hold line breaks."""
    pieces = [_pieces(c.texts[row], c.width, wrap, c.cut_front) for c in columns]
    styles: List[Optional[str]] = [c.styles[row] if color and c.styles is not None else None for c in columns]
    out = []
    for k in range(max(map(len, pieces))):
        texts = [p[k] if k < len(p) else "" for p in pieces]
        out.append(_line([paint(t, s) for t, s in zip(texts, styles)], [len(t) for t in texts], columns))
    return out


def _line(cells: Sequence[str], visible: Sequence[int], columns: Sequence[_Column]) -> str:
    parts = []
    for cell, seen, column in zip(cells, visible, columns):
        pad = " " * (column.width - seen)
        parts.append(pad + cell if column.right else cell + pad)
    return GAP.join(parts).rstrip()
