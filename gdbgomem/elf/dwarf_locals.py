"""The typed local variables of a function at a pc, where they sit in its frame: read from the
binary's DWARF with pyelftools, for the functions of the frames on a goroutine's stack.

Go gives each package one compilation unit, each function a DW_TAG_subprogram named as the
runtime names it (main.holder), and each variable a location: an expression, or, in an
optimized build, a list of them by pc range. In a frame the variables live at DW_OP_fbreg
offsets from the frame base, DW_OP_call_frame_cfa (the caller's sp), often in pieces (a
slice's data pointer in one stack slot, its length in another). Inlined calls keep their
variables under DW_TAG_inlined_subroutine, typed through DW_AT_abstract_origin. Only what
sits in stack memory is returned: a piece held in a register is left out.

Each variable's type carries DW_AT_go_runtime_type (an offset into the module's types), the
same key as its runtime type descriptor, so type propagation can start from a local too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from elftools.dwarf.locationlists import BaseAddressEntry, LocationEntry

from gdbgomem.elf.dwarf import package_of

OP_FBREG, OP_PIECE = 0x91, 0x93
AT_GO_KIND, AT_GO_ELEM, AT_GO_RUNTIME_TYPE = 0x2900, 0x2902, 0x2904   # Go's own DWARF attributes
KIND_SLICE = 23
VALUE, POINTER_TO, SLICE_OF = range(3)
VARIABLE_TAGS = ("DW_TAG_variable", "DW_TAG_formal_parameter")
SCOPE_TAGS = ("DW_TAG_lexical_block", "DW_TAG_inlined_subroutine")
MAX_HOPS = 32
SKIPPED_PACKAGES = ("runtime",)   # its frames hold the runtime's own words; its unit is the largest



@dataclass
class StackLocal:
    """A variable in a frame: its runtime type, and where its words are, from the frame's CFA."""

    kind: int                    # VALUE: a value of runtime_type; POINTER_TO, SLICE_OF: of runtime_type's
    runtime_type: int            # offset of a type descriptor in the module's types
    words: Dict[int, int]        # word index in the variable -> offset from the CFA (pieces)
    whole: Optional[int] = None  # or the offset of the whole variable, its words in order


class FrameLocals:
    """Per function, its variables' types and locations, read once per compilation unit."""

    def __init__(self, elf):
        self.dwarf = elf.get_dwarf_info(relocate_dwarf_sections=False)
        self.locations = self.dwarf.location_lists()
        self._units: Optional[Dict[str, list]] = None
        self._functions: Dict[str, Dict[str, object]] = {}

    def locals_at(self, function: str, pc: int) -> List[StackLocal]:
        """Each typed variable of function that is in stack memory at pc."""
        subprogram = self._subprogram(function)
        if subprogram is None:
            return []
        found: List[StackLocal] = []
        self._collect(subprogram, pc, found)
        return found

    # -- finding the function --------------------------------------------------------
    def _subprogram(self, function: str):
        package = package_of(function)
        if package in SKIPPED_PACKAGES:
            return None
        if package not in self._functions:
            self._functions[package] = {}
            for cu in self._cus().get(package, []):
                for die in cu.get_top_DIE().iter_children():
                    if die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                        name = die.attributes.get("DW_AT_name")
                        if name is not None:
                            self._functions[package].setdefault(name.value.decode("utf-8", "replace"), die)
        return self._functions[package].get(function)

    def _cus(self) -> Dict[str, list]:
        if self._units is None:
            self._units = {}
            for cu in self.dwarf.iter_CUs():
                name = cu.get_top_DIE().attributes.get("DW_AT_name")
                if name is not None:
                    self._units.setdefault(name.value.decode("utf-8", "replace"), []).append(cu)
        return self._units

    # -- its variables -----------------------------------------------------------------
    def _collect(self, die, pc: int, found: List[StackLocal]) -> None:
        for child in die.iter_children():
            if child.tag in VARIABLE_TAGS:
                local = self._local(child, pc)
                if local is not None:
                    found.append(local)
            elif child.tag in SCOPE_TAGS and self._covers(child, pc) is not False:
                self._collect(child, pc, found)

    def _covers(self, die, pc: int) -> Optional[bool]:
        """Whether a scope's pc range holds pc; None when it states none as one range."""
        low, high = die.attributes.get("DW_AT_low_pc"), die.attributes.get("DW_AT_high_pc")
        if low is None or high is None:
            return None
        start = low.value   # pyelftools resolves DW_FORM_addrx through .debug_addr
        end = start + high.value if high.form != "DW_FORM_addr" else high.value
        return start <= pc < end

    def _local(self, die, pc: int) -> Optional[StackLocal]:
        typing = self._typing(die)
        location = die.attributes.get("DW_AT_location")
        if typing is None or location is None:
            return None
        expression = self._expression_at(die, location, pc)
        local = _stack_local(*typing, expression) if expression else None
        return local if local is not None and (local.words or local.whole is not None) else None

    def _typing(self, die) -> Optional[Tuple[int, int]]:
        """(kind, runtime type) of a variable: (VALUE, its type's descriptor), or, for a pointer or
        slice type the binary made no descriptor for, (POINTER_TO or SLICE_OF, the element's)."""
        for _ in range(MAX_HOPS):
            if "DW_AT_type" in die.attributes:
                break
            if "DW_AT_abstract_origin" not in die.attributes:
                return None
            die = die.get_DIE_from_attribute("DW_AT_abstract_origin")
        else:
            return None
        typ = die.get_DIE_from_attribute("DW_AT_type")
        found = _runtime_type(typ)
        if found:
            return VALUE, found
        if typ.tag == "DW_TAG_pointer_type" and "DW_AT_type" in typ.attributes:
            elem = _runtime_type(typ.get_DIE_from_attribute("DW_AT_type"))
            return (POINTER_TO, elem) if elem else None
        if AT_GO_ELEM in typ.attributes and _go_kind(typ) == KIND_SLICE:
            elem = _runtime_type(typ.get_DIE_from_attribute(AT_GO_ELEM))
            return (SLICE_OF, elem) if elem else None
        return None

    def _expression_at(self, die, location, pc: int) -> Optional[List[int]]:
        if location.form in ("DW_FORM_exprloc", "DW_FORM_block1", "DW_FORM_block"):
            return list(location.value)
        try:
            entries = self.locations.get_location_list_at_offset(location.value, die=die)
        except Exception:
            return None
        base = 0
        for entry in entries:
            if isinstance(entry, BaseAddressEntry):
                base = entry.base_address
            elif isinstance(entry, LocationEntry):
                start = entry.begin_offset if getattr(entry, "is_absolute", False) else base + entry.begin_offset
                end = entry.end_offset if getattr(entry, "is_absolute", False) else base + entry.end_offset
                if start <= pc < end:
                    return list(entry.loc_expr)
        return None


def _runtime_type(die) -> int:
    """DW_AT_go_runtime_type of a type, under its typedefs (0: the binary has no descriptor)."""
    for _ in range(MAX_HOPS):
        value = die.attributes.get(AT_GO_RUNTIME_TYPE)
        if value is not None and value.value:
            return value.value
        if die.tag != "DW_TAG_typedef" or "DW_AT_type" not in die.attributes:
            return 0
        die = die.get_DIE_from_attribute("DW_AT_type")
    return 0


def _go_kind(die) -> Optional[int]:
    value = die.attributes.get(AT_GO_KIND)
    return value.value if value is not None else None


def _stack_local(kind: int, runtime_type: int, expression: List[int]) -> Optional[StackLocal]:
    """Where an expression keeps a variable on the stack: DW_OP_fbreg N alone (the whole of it),
    or pieces (DW_OP_fbreg N DW_OP_piece size ...), a piece elsewhere only advancing the offset."""
    pieces: Dict[int, int] = {}
    at, offset, where = 0, 0, None
    while at < len(expression):
        op = expression[at]
        at += 1
        if op == OP_FBREG:
            where, at = _sleb(expression, at)
        elif op == OP_PIECE:
            size, at = _uleb(expression, at)
            if where is not None and offset % 8 == 0:
                for word in range(0, size - size % 8, 8):
                    pieces[(offset + word) // 8] = where + word
            offset += size
            where = None
        elif 0x50 <= op <= 0x6F:   # DW_OP_reg0..31: the piece is in a register
            where = None
        else:
            return None            # anything else: not a plain stack location
    if where is not None and not offset:
        return StackLocal(kind, runtime_type, {}, where)
    return StackLocal(kind, runtime_type, pieces)


def _uleb(data: List[int], at: int) -> Tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, at


def _sleb(data: List[int], at: int) -> Tuple[int, int]:
    value, end = _uleb(data, at)
    if data[end - 1] & 0x40:
        value -= 1 << (7 * (end - at))
    return value, end
