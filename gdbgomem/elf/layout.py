"""A struct's layout as debug info describes it: member offsets, sizes and type names.

Produced by the DWARF reader (gdbgomem.elf.dwarf) and by gdb from its own types;
read by the runtime decoders. Stored as JSON in the layout cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

NESTING_LIMIT = 4  # nested struct members are described this deep (g.sched.sp, g.atomicstatus.value)


@dataclass(frozen=True)
class Field:
    """One member of a struct: byte offset, byte size and the DWARF type name."""

    offset: int
    size: int
    type_name: str
    layout: Optional["StructLayout"] = None  # set when the member is itself a struct


@dataclass(frozen=True)
class StructLayout:
    """Field offsets of a struct as the binary's DWARF describes it."""

    name: str
    size: int
    fields: Dict[str, Field] = field(default_factory=dict)

    def has(self, path: str) -> bool:
        try:
            self.offset(path)
        except KeyError:
            return False
        return True

    def offset(self, path: str) -> int:
        """Offset of a dotted member path ('sched.sp'); raises KeyError if absent."""
        layout, total = self, 0
        parts = path.split(".")
        for i, part in enumerate(parts):
            if layout is None or part not in layout.fields:
                raise KeyError(f"{self.name} has no field {path!r}")
            member = layout.fields[part]
            total += member.offset
            layout = member.layout if i + 1 < len(parts) else None
        return total

    def member(self, path: str) -> Field:
        head, _, rest = path.partition(".")
        member = self.fields[head]
        if not rest:
            return member
        if member.layout is None:
            raise KeyError(f"{self.name}.{head} is not a struct")
        inner = member.layout.member(rest)
        return Field(member.offset + inner.offset, inner.size, inner.type_name, inner.layout)


def layout_to_json(layout: Optional[StructLayout]) -> Optional[dict]:
    if layout is None:
        return None
    return {"name": layout.name, "size": layout.size,
            "fields": {name: [f.offset, f.size, f.type_name, layout_to_json(f.layout)]
                       for name, f in layout.fields.items()}}


def layout_from_json(stored: Optional[dict]) -> Optional[StructLayout]:
    if not isinstance(stored, dict):
        return None
    try:
        fields = {name: Field(int(offset), int(size), str(type_name), layout_from_json(inner))
                  for name, (offset, size, type_name, inner) in stored["fields"].items()}
        return StructLayout(str(stored["name"]), int(stored["size"]), fields)
    except (KeyError, TypeError, ValueError):
        return None
