"""Roots as a user names them: a global variable by its symbol (main.cache), a goroutine's
stack frame by goroutine and function (goroutine 42 main.holder: roots.py names those),
each with the heap slots its words point into. A stripped binary has no symbols: its
globals are named by section and offset (.bss+0x1f0). The runtime's own globals (its
package and internal/runtime/...) are one root, "(runtime globals)" of kind runtime: what
the runtime keeps for itself, apart from what the program holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from gdbgomem.elf.dwarf import package_of
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.heapgraph.graph import HeapGraph, root_hits
from gdbgomem.runtime.heapgraph.roots import RootWords


RUNTIME_GLOBALS = "(runtime globals)"


@dataclass
class RootUnit:
    kind: str                 # "global", "stack", "finalizer" or "runtime"
    name: str
    goid: Optional[int]
    precise: bool
    slots: np.ndarray         # the allocated slots its words point into (int64)
    addresses: np.ndarray     # where those words are (uint64), one per slot above


def root_units(rt: GoRuntime, graph: HeapGraph) -> List[RootUnit]:
    units: List[RootUnit] = []
    for root in graph.roots:
        slots, addresses = root_hits(graph.slots, root)
        if not len(slots):
            continue
        if root.kind == "global":
            group, names = _global_names(rt, root, addresses)
            units += _split(root, slots, addresses, group, names)
        else:  # a stack frame's words: one root already
            units.append(RootUnit(root.kind, root.name, root.goid, root.precise, slots, addresses))
    return units


def _split(root: RootWords, slots: np.ndarray, addresses: np.ndarray, group: np.ndarray,
           names: List[str]) -> List[RootUnit]:
    """One unit per name: group[i] is the index in names of word i."""
    return [RootUnit("runtime" if names[g] == RUNTIME_GLOBALS else root.kind, names[g], root.goid, root.precise,
                     slots[group == g], addresses[group == g]) for g in np.unique(group).tolist()]


def _global_names(rt: GoRuntime, root: RootWords, addresses: np.ndarray):
    binary = rt.target.binary
    symbols = binary.sized_symbols() if binary is not None else []
    bias = rt.target.load_bias()
    names: Dict[str, int] = {}
    group = np.zeros(len(addresses), dtype=np.int64)
    if symbols:
        starts = np.array([a + bias for a, _s, _n in symbols], dtype=np.uint64)
        at = np.searchsorted(starts, addresses, side="right").astype(np.int64) - 1
    else:
        at = np.full(len(addresses), -1, dtype=np.int64)
    section_start = root.section_start or 0  # the offset readelf and objdump show within the section
    for i, (address, index) in enumerate(zip(addresses.tolist(), at.tolist())):
        if index >= 0 and address < symbols[index][0] + bias + symbols[index][1]:
            name = symbols[index][2]
            if package_of(name) == "runtime" or name.startswith("internal/runtime/"):
                name = RUNTIME_GLOBALS
        else:  # no symbol covers it (stripped): the section and the word's offset in it
            name = f"{root.name}+0x{address - section_start:x}"
        group[i] = names.setdefault(name, len(names))
    return group, list(names)
