"""What text for a terminal needs: target strings made safe, colors that switch off, the width to fit."""

from __future__ import annotations

import os
import re
import shutil
from typing import Optional

# Semantic style -> ANSI SGR parameters.
STYLE_SGR = {
    "status.running": "32", "status.runnable": "36", "status.syscall": "35",
    "status.waiting": "33", "status.dead": "37", "status.other": "91",
    "address": "34", "heading": "1", "warning": "91", "muted": "37",
    "selected": "92", "function": "96",
}
RESET = "\x1b[0m"
NARROWEST = 40  # a width below this is taken as a mistake: text is fitted to this many columns

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize(text: str) -> str:
    """Escape control characters (ANSI escapes included) in strings read from the target."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def paint(text: str, style: Optional[str]) -> str:
    sgr = STYLE_SGR.get(style) if style else None
    return f"\x1b[{sgr}m{text}{RESET}" if sgr and text else text


def color_wanted(setting: str = "auto", is_tty: bool = False) -> bool:
    """on/off force it; auto colors only a terminal, and never when NO_COLOR is set."""
    if setting == "on":
        return True
    if setting == "off" or os.environ.get("NO_COLOR"):
        return False
    return is_tty


def output_width(is_tty: bool) -> int:
    """Columns to fit text into where the debugger has no width setting of its own:
    COLUMNS when set, else the terminal's width; 0 (no limit) when writing to a file or pipe."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return fitted(int(columns))
    return fitted(shutil.get_terminal_size().columns) if is_tty else 0


def fitted(width: Optional[int]) -> int:
    """A width setting as the column count to fit: 0 or None is no limit."""
    return max(NARROWEST, width) if width else 0
