"""Figures for the HTML report as plain SVG text, drawn here so the report needs no charting
library and no network: bars, a strip to scale, and page maps. Colors are CSS classes
(html_page's style sheet), so a figure and its legend agree. Sizes stay bounded whatever
the process: callers aggregate, and page maps merge runs of equal cells into one rectangle."""

from __future__ import annotations

from html import escape
from typing import List, Sequence, Tuple

BAR_WIDTH = 560      # pixels of the longest bar
LABEL_WIDTH = 230    # pixels of text before a bar
ROW_HEIGHT = 18

# (value, css class, tooltip) of one piece of a stacked bar
Piece = Tuple[int, str, str]


def _svg(width: int, height: int, body: List[str], label: str) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "\u2026"


def stacked_bars(rows: Sequence[Tuple[str, Sequence[Piece]]], label: str, scale: int = 0) -> str:
    """One horizontal bar a row, its pieces side by side, every bar on one scale
    (the largest row's total unless scale is given), so bars compare by length."""
    top = scale or max((sum(v for v, _c, _t in pieces) for _n, pieces in rows), default=0) or 1
    body = []
    for i, (name, pieces) in enumerate(rows):
        y = i * ROW_HEIGHT
        body.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end" class="t">'
                    f'{escape(_cut(name, 34))}<title>{escape(name)}</title></text>')
        x = float(LABEL_WIDTH)
        for value, css, tip in pieces:
            w = BAR_WIDTH * value / top
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{ROW_HEIGHT - 5}" '
                            f'class="{css}"><title>{escape(tip)}</title></rect>')
            x += w
    return _svg(LABEL_WIDTH + BAR_WIDTH + 10, max(1, len(rows)) * ROW_HEIGHT + 4, body, label)


def strip(segments: Sequence[Tuple[int, int, str, str]], label: str, width: int = 900) -> str:
    """Segments (size, inner size, css class, tooltip) side by side, each as long as its share of
    the total: the outer bar the size, the darker inner bar (its lower half) the inner size."""
    total = sum(size for size, _i, _c, _t in segments) or 1
    body, x = [], 0.0
    for size, inner, css, tip in segments:
        w = width * size / total
        title = f"<title>{escape(tip)}</title>"
        body.append(f'<rect x="{x:.2f}" y="0" width="{max(w, 0.3):.2f}" height="44" class="{css} light">{title}</rect>')
        if inner:
            body.append(f'<rect x="{x:.2f}" y="22" width="{max(width * inner / total, 0.3):.2f}" height="22" '
                        f'class="{css}">{title}</rect>')
        x += w
    return _svg(width, 46, body, label)


def cells_of(kinds: str, pages_per_cell: int, order: str) -> str:
    """One character a cell: the most common kind among its pages, ties to the first in order."""
    return "".join(max(order, key=kinds[i:i + pages_per_cell].count) for i in range(0, len(kinds), pages_per_cell))


def page_map(rows: Sequence[Tuple[str, str]], classes: dict, columns: int, label: str) -> str:
    """Page maps of several ranges (label, cells), `columns` cells a line, one rectangle per run
    of equal cells in a line; a cell whose kind has no class is left blank."""
    cell_w, cell_h, gap, left = 5, 10, 8, 150
    body, y = [], 0
    for name, cells in rows:
        body.append(f'<text x="{left - 6}" y="{y + 9}" text-anchor="end" class="t mono">{escape(name)}</text>')
        for line in range(0, len(cells), columns):
            part = cells[line:line + columns]
            start = 0
            for i in range(1, len(part) + 1):
                if i == len(part) or part[i] != part[start]:
                    css = classes.get(part[start])
                    if css:
                        body.append(f'<rect x="{left + start * cell_w}" y="{y}" width="{(i - start) * cell_w}" '
                                    f'height="{cell_h - 1}" class="{css}"/>')
                    start = i
            y += cell_h
        y += gap
    return _svg(left + columns * cell_w + 4, max(y, 1), body, label)


FLAME_DEPTH = 24    # rows of a flame graph drawn; deeper chains are summed into their row-24 node


def flame(stacks: Sequence[Tuple[Sequence[str], int]], label: str, width: int = 900) -> str:
    """An icicle flame graph: a stack's first frame on the top row, each frame as wide as the
    bytes of the stacks that pass through it. Only frames a pixel wide or more are drawn, so
    the figure stays bounded however many stacks there are."""
    tree: dict = {}
    total = 0
    for frames, value in stacks:
        total += value
        node = tree
        for name in list(frames)[:FLAME_DEPTH]:
            entry = node.setdefault(name, [0, {}])
            entry[0] += value
            node = entry[1]
    body: List[str] = []
    rows = [0]

    def draw(node: dict, x: float, depth: int) -> None:
        for name, (value, children) in sorted(node.items(), key=lambda item: -item[1][0]):
            w = width * value / (total or 1)
            if w < 1:
                break
            y = depth * ROW_HEIGHT
            tip = f"{name}: {value:,} bytes"
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{w - 0.5:.1f}" height="{ROW_HEIGHT - 1}" class="flame">'
                        f'<title>{escape(tip)}</title></rect>')
            if w > 40:
                body.append(f'<text x="{x + 3:.1f}" y="{y + 13}" class="t">{escape(_cut(name, int(w / 7)))}</text>')
            rows[0] = max(rows[0], depth + 1)
            draw(children, x, depth + 1)
            x += w

    draw(tree, 0.0, 0)
    return _svg(width, rows[0] * ROW_HEIGHT + 2, body, label)
