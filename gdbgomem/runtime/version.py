"""Which Go release built the target, and whether gdbgomem supports it."""

from __future__ import annotations

import re
from typing import Optional, Tuple

OLDEST_SUPPORTED = (1, 21)
NEWEST_TESTED = (1, 27)

_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?")


def parse_go_version(text: str) -> Optional[Tuple[int, int, int]]:
    """'go1.21.13' -> (1, 21, 13); 'go1.22rc1' -> (1, 22, 0); 'devel go1.23-abc' -> (1, 23, 0)."""
    match = _VERSION.search(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def is_supported(version: Tuple[int, int, int]) -> bool:
    return version[:2] >= OLDEST_SUPPORTED


def is_tested(version: Tuple[int, int, int]) -> bool:
    return OLDEST_SUPPORTED <= version[:2] <= NEWEST_TESTED
