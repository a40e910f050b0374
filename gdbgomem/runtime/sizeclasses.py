"""The size-class table of the binary: bytes per object and pages per span for each class.

The runtime keeps two arrays (runtime/sizeclasses.go up to Go 1.24, then
internal/runtime/gc/sizeclasses.go): class -> object size and class -> pages
per span. They are read from the target; the derived columns are computed as
the runtime's generator (mksizeclasses.go) prints them in the table comment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import List, Sequence

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.cache import per_binary
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import PAGE_SIZE

# (object sizes [N]uint16, pages per span [N]uint8), by release
TABLE_SYMBOLS = [
    ("internal/runtime/gc.SizeClassToSize", "internal/runtime/gc.SizeClassToNPages"),  # 1.25+
    ("runtime.class_to_size", "runtime.class_to_allocnpages"),                         # 1.21-1.24
]
MAX_CLASSES = 256  # bounds a corrupt symbol size


@dataclass(frozen=True)
class SizeClass:
    """One row of the table; class 0 stands for large objects and has size 0."""

    klass: int
    size: int
    npages: int
    span_bytes: int
    objects: int       # objects per span as the table counts them (span_bytes // size)
    tail_waste: int    # span bytes no object slot can use
    max_waste_pct: float  # worst case: smallest object of the class in every slot, plus the tail

    def to_json(self) -> dict:
        return {"class": self.klass, "size": self.size, "npages": self.npages, "span_bytes": self.span_bytes,
                "objects": self.objects, "tail_waste": self.tail_waste,
                "max_waste_pct": round(self.max_waste_pct, 2)}


def table_from_arrays(sizes: Sequence[int], npages: Sequence[int], page_size: int) -> List[SizeClass]:
    """Derive the table's columns from the two runtime arrays (mksizeclasses.go printComment)."""
    out = [SizeClass(0, 0, 0, 0, 0, 0, 0.0)]
    previous = 0
    for klass in range(1, min(len(sizes), len(npages))):
        size, pages = sizes[klass], npages[klass]
        span = pages * page_size
        if size <= 0 or span <= 0:
            break
        objects = span // size
        tail = span - size * objects
        worst = 100.0 * ((size - previous - 1) * objects + tail) / span
        out.append(SizeClass(klass, size, pages, span, objects, tail, worst))
        previous = size
    return out


@per_binary
def size_classes(rt: GoRuntime) -> List[SizeClass]:
    """The binary's own table."""
    for sizes_symbol, pages_symbol in TABLE_SYMBOLS:
        sizes_at = rt.symbol_address(sizes_symbol)
        pages_at = rt.symbol_address(pages_symbol)
        if sizes_at is None or pages_at is None:
            continue
        count = min((rt.symbol_size(pages_symbol) or 0), MAX_CLASSES)
        if count <= 1:
            continue
        sizes = struct.unpack(f"<{count}H", rt.target.read(sizes_at, 2 * count))
        pages = struct.unpack(f"<{count}B", rt.target.read(pages_at, count))
        return table_from_arrays(sizes, pages, page_size(rt))
    raise GoMemError("the binary has no size-class table (runtime.class_to_size or gc.SizeClassToSize)",
                     "is it a Go program built without -ldflags=-s?")


def page_size(rt: GoRuntime) -> int:
    return rt.constant(PAGE_SIZE)
