"""Struct layouts, constants and variable sizes of each Go release, for binaries without DWARF.

Release builds are often linked with -ldflags=-w (no DWARF) or -s -w (no symbols either).
The runtime's structs are the same in every program built by one Go release, so the
answers DWARF would give are shipped as data: one JSON table per minor release in
runtime/layouts/, generated from that release's own DWARF by `devtools/layout_tables.py`
(a test regenerates them and compares). DWARF stays the first source wherever a binary
has it; a table answers only what the binary's DWARF does not.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from gdbgomem.elf.layout import StructLayout, layout_from_json

TABLES = Path(__file__).with_name("layouts")


@dataclass(frozen=True)
class LayoutTable:
    """The answers for one minor release (go1.21), as generated from one of its patch releases."""

    release: str          # "go1.21"
    generated_from: str   # "go1.21.13": the toolchain whose DWARF gave them
    layouts: Dict[str, Optional[dict]]
    constants: Dict[str, Optional[int]]
    variables: Dict[str, Optional[int]]

    def struct_layout(self, type_name: str) -> Optional[StructLayout]:
        return layout_from_json(self.layouts.get(type_name))

    def constant(self, name: str) -> Optional[int]:
        return self.constants.get(name)

    def variable_size(self, name: str) -> Optional[int]:
        return self.variables.get(name)


def table_name(version: Tuple[int, int, int]) -> str:
    return f"go{version[0]}.{version[1]}"


@functools.lru_cache(maxsize=None)
def table_for(version: Tuple[int, int, int]) -> Optional[LayoutTable]:
    """The table of the binary's minor release, None when gdbgomem ships none for it."""
    path = TABLES / f"{table_name(version)}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return LayoutTable(data["release"], data["generated_from"], data["layouts"], data["constants"],
                       data["variables"])


def shipped_releases() -> List[str]:
    """The minor releases with a table, oldest first ('go1.21', ...)."""
    names = [p.stem for p in TABLES.glob("go*.json")]
    return sorted(names, key=lambda n: tuple(int(x) for x in n[2:].split(".")))
