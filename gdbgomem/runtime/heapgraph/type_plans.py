"""What each word of a typed value says about the objects it points to: a plan per type,
read once from the type descriptor (internal/abi.Type and its kind-specific tails).

A plan has one action per word of one value of the type:
  - POINTER: the word points to a value of `target` (a *T field: T);
  - SLICE: the word is a slice's data pointer, to an array of `target`;
  - EFACE / IFACE: the word is an interface's data word; the word before it is its type
    word (a *abi.Type, or an itab whose second word is one), which the GC's masks leave
    out (it never points into the heap) and so must be read;
  - MAP: the word points to a map's header; `target` is the map's type.
Structs and arrays are flattened into their fields' words. Strings, channels, functions
and unsafe.Pointer say nothing about their target's type and get no action.

The runtime's map structures have no type descriptor of their own, so they are given
tagged keys (a tag in the high bits, the map type below): their plans come from the
runtime's struct layouts (runtime.hmap before Go 1.24; internal/runtime/maps.Map and
.table from Go 1.24 on) and the map type's bucket or group type.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from gdbgomem.runtime.abi_types import (
    KIND_ARRAY, KIND_INTERFACE, KIND_STRUCT, _struct_fields, _type_head, type_name,
)
from gdbgomem.runtime.goruntime import GoRuntime

NONE, POINTER, SLICE, EFACE, IFACE, MAP = range(6)
KIND_CHAN, KIND_MAP, KIND_POINTER, KIND_SLICE = 18, 21, 22, 23
MAX_PLAN_WORDS = 1 << 20    # a value larger than 8 MiB is not flattened (its slot stays as the header says)
MAX_PLAN_STEPS = 1 << 16    # type descriptors read for one plan (a corrupt type graph ends)

TAG_SHIFT = 56
MAP_HEADER = 1 << TAG_SHIFT      # runtime.hmap / internal/runtime/maps.Map of the map type below
MAP_DIRECTORY = 2 << TAG_SHIFT   # a swiss map's directory: an array of *table
MAP_TABLE = 3 << TAG_SHIFT       # internal/runtime/maps.table
ADDRESS_MASK = (1 << TAG_SHIFT) - 1
TAG_MASK = (1 << 64) - 1 - ADDRESS_MASK


@dataclass
class Plan:
    """One value's words: the action of each and the type it gives its target."""

    actions: np.ndarray   # uint8 per word
    targets: np.ndarray   # uint64 per word: a type key
    size: int             # bytes of one value (an array of them tiles the plan)

    @property
    def empty(self) -> bool:
        return not self.actions.any()


@dataclass
class TypeInfo:
    """What the descriptor of a type says, as far as propagation needs it."""

    size: int
    kind: int
    direct: bool     # stored in an interface's data word itself (pointer-shaped)
    elem: int        # pointer, slice, array, map and chan types: the element type
    pointers: bool   # a value of it holds pointers (PtrBytes > 0)


class TypePlans:
    """Plans and descriptor facts, each type read once per analysis."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self.base_size = rt.layout("internal/abi.Type").size   # where every kind's own fields begin
        self._info: Dict[int, Optional[TypeInfo]] = {}
        self._plans: Dict[int, Optional[Plan]] = {}
        self._itabs: Dict[int, int] = {}
        self._names: Dict[int, Optional[str]] = {}
        # a stripped build's layouts come from its release's table, made from a default (swiss) build
        self.swiss = rt.optional_layout("internal/runtime/maps.Map") is not None and "noswissmap" not in rt.experiments

    # -- descriptors ---------------------------------------------------------------
    def info(self, typ: int) -> Optional[TypeInfo]:
        if typ not in self._info:
            self._info[typ] = self._read_info(typ)
        return self._info[typ]

    def _read_info(self, typ: int) -> Optional[TypeInfo]:
        if not typ or typ & ~ADDRESS_MASK:
            return None
        head = _type_head(self.rt, typ)
        if head is None:
            return None
        size, ptrbytes, kind, direct = head.size, head.ptrbytes, head.kind, head.direct
        raw = self.rt.target.try_read(typ + self.base_size, 8) if kind in (
            KIND_ARRAY, KIND_CHAN, KIND_MAP, KIND_POINTER, KIND_SLICE) else None
        elem = struct.unpack("<Q", raw)[0] if raw else 0
        return TypeInfo(size, kind, direct, elem, ptrbytes > 0)

    def has_pointers(self, typ: int) -> bool:
        info = self.info(typ)
        return info is not None and info.pointers

    def itab_type(self, itab: int) -> int:
        """The dynamic type an itab names (itab._type / abi.ITab.Type: its second word)."""
        if itab not in self._itabs:
            raw = self.rt.target.try_read(itab + 8, 8)
            self._itabs[itab] = struct.unpack("<Q", raw)[0] if raw else 0
        return self._itabs[itab]

    def data_target(self, dynamic: int) -> int:
        """The type of the object an interface's data word points to, for a dynamic type:
        the element of a pointer, the type itself when the value is boxed, 0 otherwise."""
        info = self.info(dynamic)
        if info is None:
            return 0
        if info.direct:
            return info.elem if info.kind == KIND_POINTER else (MAP_HEADER | dynamic if info.kind == KIND_MAP else 0)
        return dynamic

    def map_part(self, maptype: int, which: int) -> int:
        """A map type's key (0), element (1) or bucket/group type (2)."""
        raw = self.rt.target.try_read(maptype + self.base_size + 8 * which, 8)
        return struct.unpack("<Q", raw)[0] if raw else 0

    # -- plans -----------------------------------------------------------------------
    def plan(self, key: int) -> Optional[Plan]:
        if key not in self._plans:
            self._plans[key] = self._build(key)
        return self._plans[key]

    def _build(self, key: int) -> Optional[Plan]:
        tag, typ = key & ~ADDRESS_MASK, key & ADDRESS_MASK
        if tag:
            return self._map_plan(tag, typ)
        info = self.info(typ)
        if info is None or not info.size or info.size % 8 or info.size // 8 > MAX_PLAN_WORDS \
                or not self.has_pointers(typ):
            return None
        words = info.size // 8
        actions, targets = np.zeros(words, np.uint8), np.zeros(words, np.uint64)
        if not self._flatten(typ, 0, actions, targets, [MAX_PLAN_STEPS]):
            return None
        plan = Plan(actions, targets, info.size)
        return None if plan.empty else plan

    def _flatten(self, typ: int, at: int, actions: np.ndarray, targets: np.ndarray, budget) -> bool:
        """Set the actions of a value of typ at word `at`. False when a descriptor cannot be read."""
        budget[0] -= 1
        info = self.info(typ)
        if info is None or budget[0] < 0 or at + info.size // 8 > len(actions):
            return False
        if info.kind == KIND_POINTER:
            actions[at], targets[at] = POINTER, info.elem
        elif info.kind == KIND_SLICE:
            actions[at], targets[at] = SLICE, info.elem
        elif info.kind == KIND_MAP:
            actions[at], targets[at] = MAP, MAP_HEADER | typ
        elif info.kind == KIND_INTERFACE:
            actions[at + 1] = IFACE if self._has_methods(typ) else EFACE
        elif info.kind == KIND_STRUCT:
            for _name, ftyp, offset in _struct_fields(self.rt, typ) or []:
                if offset % 8 == 0 and self.has_pointers(ftyp) \
                        and not self._flatten(ftyp, at + offset // 8, actions, targets, budget):
                    return False
        elif info.kind == KIND_ARRAY and self.has_pointers(typ):
            elem = self.info(info.elem)
            if elem is None or not elem.size or elem.size % 8:
                return False
            step = elem.size // 8
            one_a, one_t = np.zeros(step, np.uint8), np.zeros(step, np.uint64)
            if not self._flatten(info.elem, 0, one_a, one_t, budget):
                return False
            count = info.size // elem.size
            actions[at:at + count * step] = np.tile(one_a, count)
            targets[at:at + count * step] = np.tile(one_t, count)
        return True

    def _has_methods(self, typ: int) -> bool:
        """abi.InterfaceType: Type, PkgPath (a Name), then Methods []Imethod."""
        raw = self.rt.target.try_read(typ + self.base_size + 8 + 8, 8)
        return bool(raw and struct.unpack("<Q", raw)[0])

    def _map_plan(self, tag: int, maptype: int) -> Optional[Plan]:
        """The runtime's map structures: where they point to buckets, groups or tables."""
        group = self.map_part(maptype, 2)
        if tag == MAP_HEADER and not self.swiss:
            hmap = self.rt.optional_layout("runtime.hmap")
            if hmap is None:
                return None
            return _plan_of(hmap.size, {hmap.offset("buckets"): (SLICE, group),
                                        hmap.offset("oldbuckets"): (SLICE, group)})
        if tag == MAP_HEADER:   # dirPtr: a group or a directory, told apart by dirLen (type_flow reads it)
            layout = self.rt.layout("internal/runtime/maps.Map")
            return _plan_of(layout.size, {layout.offset("dirPtr"): (POINTER, MAP_DIRECTORY | maptype)})
        if tag == MAP_DIRECTORY:
            return Plan(np.array([POINTER], np.uint8), np.array([MAP_TABLE | maptype], np.uint64), 8)
        if tag == MAP_TABLE:
            table = self.rt.layout("internal/runtime/maps.table")
            return _plan_of(table.size, {table.offset("groups"): (SLICE, group)})
        return None

    def name(self, key: int) -> Optional[str]:
        """A key's name as Go prints it, or the runtime struct's for a map structure."""
        if key not in self._names:
            self._names[key] = self._read_name(key)
        return self._names[key]

    def shown_name(self, key: int, room: int) -> Optional[str]:
        """The name of an object of a key's type with room bytes (its slot past any header):
        []T when two or more whole values fit, the backing array of a slice, as Go prints it."""
        name, size = self.name(key), self.size(key)
        return f"[]{name}" if name is not None and size and room // size >= 2 else name

    def _read_name(self, key: int) -> Optional[str]:
        tag = key & ~ADDRESS_MASK
        if not tag:
            return type_name(self.rt, key)
        if tag == MAP_HEADER:
            return "internal/runtime/maps.Map" if self.swiss else "runtime.hmap"
        return "[]*internal/runtime/maps.table" if tag == MAP_DIRECTORY else "internal/runtime/maps.table"

    def size(self, key: int) -> int:
        """Bytes of one value of a key's type (0 unknown)."""
        if key & ~ADDRESS_MASK:
            plan = self.plan(key)
            return plan.size if plan is not None else 0
        info = self.info(key)
        return info.size if info is not None else 0


def _plan_of(size: int, words: Dict[int, tuple]) -> Plan:
    actions, targets = np.zeros(size // 8, np.uint8), np.zeros(size // 8, np.uint64)
    for offset, (action, target) in words.items():
        actions[offset // 8], targets[offset // 8] = action, target
    return Plan(actions, targets, size)
