"""Report -> terminal text: tabulate tables, pygments colors, target strings made safe."""

from __future__ import annotations

import json
import os
import re
from gdbgomem.render.report import RawJsonArray, Report, Styled, Table

# Semantic style -> pygments console color.
STYLE_COLORS = {
    "status.running": "green", "status.runnable": "cyan", "status.syscall": "magenta",
    "status.waiting": "yellow", "status.dead": "gray", "status.other": "brightred",
    "address": "blue", "heading": "bold", "warning": "brightred", "muted": "gray",
    "selected": "brightgreen", "function": "brightcyan",
}

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize(text: str) -> str:
    """Escape control characters (ANSI escapes included) in strings read from the target."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def color_wanted(setting: str = "auto", is_tty: bool = False) -> bool:
    """on/off force it; auto colors only a terminal, and never when NO_COLOR is set."""
    if setting == "on":
        return True
    if setting == "off" or os.environ.get("NO_COLOR"):
        return False
    return is_tty


def render_text(report: Report, color: bool) -> str:
    return "\n".join(_block(block, color) for block in report.blocks)


def render_json(report: Report) -> str:
    parts = ["{"]
    for key, value in report.json_object().items():
        if len(parts) > 1:
            parts.append(",")
        parts.append(json.dumps(key) + ":")
        if isinstance(value, RawJsonArray):
            parts.append("[")
            parts.append(",".join(value))
            parts.append("]")
        else:
            parts.append(json.dumps(value, separators=(",", ":")))
    parts.append("}")
    return "".join(parts)


def _cell(value, color: bool) -> str:
    from pygments.console import colorize  # imported on use: JSON output never needs it
    if value is None:
        return "-"
    if isinstance(value, Styled):
        text = sanitize(value.text)
        name = STYLE_COLORS.get(value.style)
        return colorize(name, text) if color and name and text else text
    return sanitize(str(value))


def _block(block, color: bool) -> str:
    if isinstance(block, Table):
        from tabulate import tabulate  # imported on use: it pulls in importlib.metadata (30 ms)
        rows = [[_cell(c, color) for c in row] for row in block.rows]
        headers = [_cell(Styled(h, "heading"), color) for h in block.headers] if any(block.headers) else ()
        align = list(block.align) if block.align else None
        return tabulate(rows, headers=headers, tablefmt="plain", colalign=align, disable_numparse=True)
    if isinstance(block, list):
        return "".join(_cell(c, color) for c in block)
    return _cell(block, color)


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
