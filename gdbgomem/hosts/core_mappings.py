"""The address space a core recorded: its PT_LOAD segments, named by its NT_FILE note."""

from __future__ import annotations

import bisect
from typing import List

from gdbgomem.elf.corefile import CoreFile
from gdbgomem.runtime.target import Mapping

PF_X, PF_W, PF_R = 1, 2, 4


def core_mappings(core: CoreFile) -> List[Mapping]:
    """One Mapping per PT_LOAD, with the path of the file mapped there when the core names one.
    The kernel counts no resident bytes into a core; saved is what the core holds of each."""
    files = core.mapped_files()
    starts = [start for start, _end, _offset, _path in files]
    found = []
    for vaddr, memsz, _offset, filesz, flags in core.segments():
        if not memsz:
            continue
        path = ""
        i = bisect.bisect_right(starts, vaddr) - 1
        if i >= 0 and files[i][0] <= vaddr < files[i][1]:
            path = files[i][3]
        perms = "".join(c if flags & bit else "-" for c, bit in (("r", PF_R), ("w", PF_W), ("x", PF_X))) + "p"
        found.append(Mapping(vaddr, vaddr + memsz, perms, path, saved=min(filesz, memsz)))
    return found
