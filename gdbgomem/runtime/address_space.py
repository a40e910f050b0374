"""The process's address space, each mapping labelled with what the Go program keeps there.

The mappings come from the host (/proc/PID/smaps live, the segments of a core); the roles
from the program's sections (text, rodata, data, bss), the runtime's heap arenas and their
heapArena metadata, the page allocator's summary arrays, and each thread's system stack.
A mapping can hold several things (a data segment holds .noptrdata and .data; one anonymous
mapping may hold heapArena structs and other off-heap runtime memory), so roles are a list.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import List, Optional, Tuple

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.arenas import all_arenas
from gdbgomem.runtime.cache import per_stop
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import LOG_HEAP_ARENA_BYTES, SUMMARY_LEVELS
from gdbgomem.runtime.pages import MAX_SUMMARY_ENTRIES, page_allocator
from gdbgomem.runtime.target import Mapping
from gdbgomem.runtime.threads import ORIGIN_KERNEL, ORIGIN_SYSTEM, all_threads

KERNEL_NAMES = {"[stack]": "main thread's stack", "[vdso]": "vdso: kernel code", "[vvar]": "vvar: kernel data",
                "[vsyscall]": "vsyscall: kernel", "[heap]": "C heap (brk)"}
NOT_COUNTED = {"[vsyscall]"}
PROGRAM = "program "
# sections of the ELF machinery rather than of the Go program: not named as roles
LINKER_SECTIONS = (".note", ".interp", ".gnu", ".dyn", ".hash", ".rela", ".plt", ".got", ".go.fipsinfo")  # a gate page the kernel shows but does not count in VmSize


@dataclass
class Region:
    mapping: Mapping
    roles: List[str]

    @property
    def role(self) -> str:
        return "; ".join(self.roles)


def address_space(rt: GoRuntime) -> List[Region]:
    """Every mapping with its roles. Read afresh each time, not kept until the process runs:
    reading a stopped process's memory maps pages in (a debugger's reads of the binary's data,
    for one), so its RSS moves while it is stopped, and the totals must match the kernel's now."""
    mappings = rt.target.mappings()
    if mappings is None:
        raise GoMemError("the host cannot list this process's mappings",
                         "go-maps reads /proc of a process on this machine, or a core")
    places = _places(rt)
    regions = []
    for m in mappings:
        roles = [role for lo, hi, role in places if lo < m.end and m.start < hi]
        roles = _merged_sections(list(dict.fromkeys(roles)))  # once each, in the order found
        if m.path in KERNEL_NAMES and KERNEL_NAMES[m.path] not in roles:
            roles.insert(0, KERNEL_NAMES[m.path])
        if not roles:
            roles = [_unclaimed(rt, m)]
        elif m.perms.startswith("---"):
            roles = [f"{role}, reserved (no access yet)" for role in roles]
        regions.append(Region(m, roles))
    return regions


def _merged_sections(roles: List[str]) -> List[str]:
    """"program .rodata", "program .gopclntab" -> "program .rodata .gopclntab"."""
    sections = [r[len(PROGRAM):] for r in roles if r.startswith(PROGRAM)]
    others = [r for r in roles if not r.startswith(PROGRAM)]
    return ([PROGRAM + " ".join(sections)] if sections else []) + others


def totals(regions: List[Region]) -> dict:
    """What the kernel sums as VmSize (every mapping but the vsyscall gate) and VmRSS."""
    counted = [r.mapping for r in regions if r.mapping.path not in NOT_COUNTED]
    return {"vsz": sum(m.size for m in counted), "rss": _sum(m.rss for m in counted),
            "anonymous": _sum(m.anonymous for m in counted), "swap": _sum(m.swap for m in counted)}


def region_of(regions: List[Region], address: int) -> Optional[Region]:
    return next((r for r in regions if r.mapping.start <= address < r.mapping.end), None)


def program_section(rt: GoRuntime, address: int) -> Optional[str]:
    """The program's section holding address ('.data'), None outside the program's image."""
    return next((role[len(PROGRAM):] for lo, hi, role in _program_sections(rt) if lo <= address < hi), None)


def _sum(values) -> Optional[int]:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


@per_stop
def _places(rt: GoRuntime) -> List[Tuple[int, int, str]]:
    """[lo, hi) ranges of what the program keeps in memory, with their role."""
    places = _program_sections(rt)
    arenas = all_arenas(rt)
    arena_bytes = 1 << rt.constant(LOG_HEAP_ARENA_BYTES)
    places += [(a.base, a.base + arena_bytes, "Go heap arena") for a in arenas]
    places += [(a.address, a.address + 1, "heapArena metadata") for a in arenas if a.address]
    places += _summary_arrays(rt)
    for t in all_threads(rt):
        if t.g0 is not None and t.g0_origin in (ORIGIN_KERNEL, ORIGIN_SYSTEM) and t.g0.stack_hi > t.g0.stack_lo:
            who = "main thread's stack" if t.is_m0 else f"thread stack (M{t.id}, g0)"
            places.append((t.g0.stack_lo, t.g0.stack_hi, who))
    return places


def _program_sections(rt: GoRuntime) -> List[Tuple[int, int, str]]:
    binary = rt.target.binary
    if binary is None:
        return []
    bias = rt.target.load_bias()
    return [(address + bias, address + bias + size, PROGRAM + name)
            for name, address, size in binary.loaded_sections() if not name.startswith(LINKER_SECTIONS)]


def _summary_arrays(rt: GoRuntime) -> List[Tuple[int, int, str]]:
    """The page allocator's summary levels: an array each, reserved for the whole address space
    at start (mpagealloc_64bit.go sysInit: its capacity), mapped in as the heap grows."""
    pa = page_allocator(rt)
    found = []
    for level in range(rt.constant(SUMMARY_LEVELS)):
        raw = rt.target.try_read(pa.address + pa.layout.offset("summary") + 24 * level, 24)
        if raw is None:
            continue
        array, _length, capacity = struct.unpack("<3Q", raw)
        if array and 0 < capacity <= MAX_SUMMARY_ENTRIES:
            found.append((array, array + capacity * 8, "page allocator summaries"))
    return found


def _unclaimed(rt: GoRuntime, m: Mapping) -> str:
    """A mapping nothing above claims."""
    if m.path and not m.path.startswith("["):
        if rt.target.executable and os.path.basename(m.path) == os.path.basename(rt.target.executable):
            return "program file"
        return f"file {os.path.basename(m.path)}"
    if m.perms.startswith("---"):
        return "reserved, no access (address space held for later, or a guard)"
    return "anonymous (runtime off-heap, or C)"
