"""Report -> text for a terminal (tables fitted to its width, colors, safe strings) or JSON."""

from __future__ import annotations

import json
import textwrap
from itertools import islice
from typing import List

from gdbgomem.render.report import RawJsonArray, Report, Styled, Table
from gdbgomem.render.table_text import plain, table_lines
from gdbgomem.render.terminal import paint, sanitize


def render_text(report: Report, color: bool, width: int = 0) -> str:
    """The report's blocks as text; tables fitted to width columns when width > 0."""
    return "\n".join(_block(block, color, width) for block in report.blocks)


def render_json(report: Report) -> str:
    return "".join(json_pieces(report))


PIECE_ROWS = 4096  # rows of a RawJsonArray joined into one piece of json_pieces


def json_pieces(report: Report) -> List[str]:
    """The report's JSON text in pieces (a RawJsonArray's rows a few thousand to a piece), for
    hosts that write as they go: the rows, made as they are joined, are never all held twice."""
    parts: List[str] = ["{"]
    for key, value in report.json_object().items():
        if len(parts) > 1:
            parts.append(",")
        parts.append(json.dumps(key) + ":")
        if isinstance(value, RawJsonArray):
            rows, count = iter(value), max(1, PIECE_ROWS // value.rows_per_text)
            parts.append("[" + ",".join(islice(rows, count)))
            piece = ",".join(islice(rows, count))
            while piece:
                parts.append("," + piece)
                piece = ",".join(islice(rows, count))
            parts.append("]")
        else:
            parts.append(json.dumps(value, separators=(",", ":")))
    parts.append("}")
    return parts


def _block(block, color: bool, width: int) -> str:
    if isinstance(block, Table):
        return "\n".join(table_lines(block, color, width))
    cells = block if isinstance(block, list) else [block]
    texts = [sanitize(plain(c)) for c in cells]
    if width and any(len(line) > width for line in "".join(texts).split("\n")):
        # wrapped as plain text: a long line's colors would not survive the breaks
        joined = "".join(texts).split("\n")
        return "\n".join(wrapped for line in joined for wrapped in (_wrap_line(line, width) or [""]))
    return "".join(paint(t, c.style if type(c) is Styled and color else None) for t, c in zip(texts, cells))


def _wrap_line(line: str, width: int) -> list:
    """A long line broken at spaces, its continuation lines indented like the line plus two."""
    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False,
                         drop_whitespace=True)


def humanize(size: int) -> str:
    """Bytes as B, KiB, MiB or GiB with up to one decimal: 2048 -> '2 KiB'."""
    if size is None:
        return "-"
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def hexaddr(value) -> str:
    return "-" if value is None else f"0x{value:x}"
