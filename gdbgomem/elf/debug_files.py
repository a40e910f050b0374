"""Separate debug files: the DWARF and symbols `objcopy --only-keep-debug` moved out of a binary.

Distributions ship them apart from the executables (Debian's -dbgsym packages) and release
pipelines do the same. A binary names its debug file in two ways, looked up as gdb does
(gdb's "Separate Debug Files"): its GNU build id, as /usr/lib/debug/.build-id/ab/cdef....debug,
and its .gnu_debuglink section (a file name and the file's CRC-32), looked for beside the
binary, in its .debug/ directory and under /usr/lib/debug/ with the binary's own directory.
"""

from __future__ import annotations

import os
import zlib
from typing import Iterator, Optional, Tuple

DEBUG_ROOT = "/usr/lib/debug"


def candidates(binary_path: str, gnu_build_id: Optional[str], debuglink: Optional[Tuple[str, int]]
               ) -> Iterator[Tuple[str, Optional[int]]]:
    """(path, CRC-32 it must have, or None) of every place the debug file may be, in gdb's order."""
    if gnu_build_id and len(gnu_build_id) > 2:
        yield os.path.join(DEBUG_ROOT, ".build-id", gnu_build_id[:2], gnu_build_id[2:] + ".debug"), None
    if debuglink is not None:
        name, crc = debuglink
        directory = os.path.dirname(os.path.realpath(binary_path))
        for place in (directory, os.path.join(directory, ".debug"), DEBUG_ROOT + directory):
            yield os.path.join(place, name), crc


def find_debug_file(binary_path: str, gnu_build_id: Optional[str],
                    debuglink: Optional[Tuple[str, int]]) -> Optional[str]:
    """The first candidate that exists (and has the CRC the debuglink names), None if none."""
    for path, crc in candidates(binary_path, gnu_build_id, debuglink):
        if os.path.isfile(path) and os.path.realpath(path) != os.path.realpath(binary_path) \
                and (crc is None or file_crc(path) == crc):
            return path
    return None


def file_crc(path: str) -> Optional[int]:
    """The CRC-32 (zlib's, as .gnu_debuglink uses) of a file's bytes; None if unreadable."""
    crc = 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                crc = zlib.crc32(block, crc)
    except OSError:
        return None
    return crc & 0xFFFFFFFF
