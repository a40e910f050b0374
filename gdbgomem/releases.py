"""The Go releases gdbgomem is tested on (releases.txt), and which release built a target."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import List, Optional, Tuple

LIST_FILE = Path(__file__).with_name("releases.txt")
OLDEST_SUPPORTED = (1, 21)  # older runtimes lay out g, m and the heap differently; not read at all

_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")


@functools.lru_cache(maxsize=None)
def _read_list() -> Tuple[str, ...]:
    lines = (line.strip() for line in LIST_FILE.read_text().splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def tested_releases() -> List[str]:
    """The tested releases, oldest first ('1.21.13', ...), from releases.txt."""
    return list(_read_list())


def newest_release() -> str:
    return tested_releases()[-1]


def supported_range() -> str:
    """'1.21-1.27': the minor releases from the oldest supported to the newest tested."""
    newest = parse_go_version("go" + newest_release())
    return f"{OLDEST_SUPPORTED[0]}.{OLDEST_SUPPORTED[1]}-{newest[0]}.{newest[1]}"


def parse_go_version(text: str) -> Optional[Tuple[int, int, int]]:
    """'go1.21.13' -> (1, 21, 13); 'go1.22rc1' -> (1, 22, 0); 'devel go1.23-abc' -> (1, 23, 0)."""
    match = _VERSION.search(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def is_supported(version: Tuple[int, int, int]) -> bool:
    return version[:2] >= OLDEST_SUPPORTED


def is_tested(version: Tuple[int, int, int]) -> bool:
    """Within the tested releases (any patch release of a tested minor release counts)."""
    newest = parse_go_version("go" + newest_release())
    return OLDEST_SUPPORTED <= version[:2] <= newest[:2]
