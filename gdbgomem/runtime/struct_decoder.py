"""Decode many records of one struct type with a single precompiled struct.Struct.

A StructDecoder picks some members of a StructLayout (by dotted path) and
builds one format with pad bytes between them, so decoding a g or an m is one
`unpack_from` call instead of one call per field.
"""

from __future__ import annotations

import struct
from typing import Dict, List, Optional, Sequence, Tuple

from gdbgomem.elf.layout import StructLayout

_FORMAT_BY_SIZE = {1: "B", 2: "H", 4: "I", 8: "Q"}


class StructDecoder:
    """Unpacks the chosen members of a struct from bytes, missing members as None."""

    def __init__(self, layout: StructLayout, members: Sequence[Tuple[str, str]]):
        """members: (name, path) pairs; a path absent from this release's layout decodes as None."""
        self.layout = layout
        self.size = layout.size
        present: List[Tuple[int, int, str]] = []
        self.missing: List[str] = []
        for name, path in members:
            try:
                member = layout.member(path)
            except KeyError:
                self.missing.append(name)
                continue
            size = member.size if member.size in _FORMAT_BY_SIZE else 8
            present.append((layout.offset(path), size, name))
        present.sort()
        fmt, cursor, self.names = "<", 0, []
        self.fields: Dict[str, Tuple[int, int]] = {}  # name -> (offset, size) of each member decoded
        for offset, size, name in present:
            if offset < cursor:  # overlapping members (a union-like alias): read the first only
                self.missing.append(name)
                continue
            fmt += f"{offset - cursor}x" if offset > cursor else ""
            fmt += _FORMAT_BY_SIZE[size]
            cursor = offset + size
            self.names.append(name)
            self.fields[name] = (offset, size)
        self._struct = struct.Struct(fmt)
        self.needed = self._struct.size  # bytes a record must have to decode (the chosen members' end)
        requested = [name for name, _ in members]
        self._requested = requested
        # decode_ordered's fast path: the present members come first, in the order requested,
        # and only members at the end are missing (a field older releases lack)
        self._tail = (None,) * len(self.missing) if self.names == requested[:len(self.names)] else None

    def decode(self, data: bytes, offset: int = 0) -> Optional[Dict[str, Optional[int]]]:
        """The chosen members as a dict, or None when data is too short."""
        if len(data) - offset < self._struct.size:
            return None
        values: Dict[str, Optional[int]] = dict(zip(self.names, self._struct.unpack_from(data, offset)))
        for name in self.missing:
            values[name] = None
        return values

    def decode_ordered(self, data: bytes, offset: int = 0) -> Optional[tuple]:
        """Every requested member in the order requested (None where absent), or None
        when data is too short: the fast path for decoding many records."""
        if len(data) - offset < self._struct.size:
            return None
        values = self._struct.unpack_from(data, offset)
        if self._tail is not None:
            return values + self._tail if self._tail else values
        named = dict(zip(self.names, values))
        return tuple(named.get(name) for name in self._requested)

    def ordered_unpacker(self):
        """A function of (data) -> decode_ordered(data) for data known to hold a whole record:
        for loops over many records, it skips the length check and, where it can, every
        Python-level step around the unpack."""
        if self._tail == ():
            return self._struct.unpack_from
        return self.decode_ordered
