"""A pprof profile (profile.proto, gzipped) written by hand: go tool pprof reads it.

Only what a heap profile of retained memory needs: sample types, samples with a stack of
locations, one function per location, and the string table. Protocol buffers' wire format:
a field is a varint key (number << 3 | wire type) then a varint (type 0) or a length and
bytes (type 2); repeated integers are packed into one length-delimited field.
"""

from __future__ import annotations

import gzip
from typing import Dict, List, Sequence, Tuple

VARINT, BYTES = 0, 2


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3 | VARINT) + _varint(payload)
    return _varint(number << 3 | BYTES) + _varint(len(payload)) + payload


def _packed(number: int, values: Sequence[int]) -> bytes:
    return _field(number, b"".join(_varint(v) for v in values))


class Profile:
    """Samples of (objects, bytes) whose stacks are lists of frame names, root first."""

    def __init__(self, sample_types: Sequence[Tuple[str, str]]):
        self.strings: Dict[str, int] = {"": 0}
        self.sample_types = [(self._string(t), self._string(u)) for t, u in sample_types]
        self.functions: Dict[str, int] = {}
        self.samples: List[Tuple[List[int], Sequence[int]]] = []

    def _string(self, text: str) -> int:
        return self.strings.setdefault(text, len(self.strings))

    def add(self, stack_root_first: Sequence[str], values: Sequence[int]) -> None:
        ids = [self.functions.setdefault(name, len(self.functions) + 1) for name in stack_root_first]
        self.samples.append((ids[::-1], values))  # pprof lists the leaf first

    def gzipped(self) -> bytes:
        out = bytearray()
        for kind, unit in self.sample_types:
            out += _field(1, _field(1, kind) + _field(2, unit))
        for locations, values in self.samples:
            out += _field(2, _packed(1, locations) + _packed(2, values))
        for name, number in self.functions.items():  # one location per function, the same id
            out += _field(4, _field(1, number) + _field(4, _field(1, number)))
            out += _field(5, _field(1, number) + _field(2, self._string(name)) + _field(3, self._string(name)))
        for text in self.strings:  # insertion order is the index order
            out += _field(6, text.encode("utf-8"))
        return gzip.compress(bytes(out))
