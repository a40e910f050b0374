"""A name index over the DWARF of a Go binary: struct layouts, constants and variables.

Where Go puts its DWARF (cmd/link/internal/ld/dwarf.go): one compilation unit
(CU) per package, named by import path. Every type of the program hangs off
the last CU named "runtime" (`movetomodule`); a package's constants are
dropped into its first CU (`unit.Consts`); global variables sit in their
package's CUs. The runtime package CU alone holds some 30 000 DIEs, nearly all
of them inside functions, so this module does not build pyelftools DIE objects
for them: a walker skips each DIE's attributes with a pattern compiled once per
abbreviation (gdbgomem.elf.dwarf_format) and decodes only the top-level DIEs of
the CUs a name can live in. Layouts are then resolved lazily from the DIE
offsets found.
"""

from __future__ import annotations

import bisect
import re
import struct
from typing import Any, Dict, Iterator, List, Optional, Tuple

from elftools.elf.elffile import ELFFile

from gdbgomem.elf.dwarf_format import (
    ATE_SIGNED, ATE_UNSIGNED, AT_BYTE_SIZE, AT_CONST_VALUE, AT_COUNT, AT_DATA_BIT_OFFSET,
    AT_DATA_MEMBER_LOCATION, AT_DECLARATION, AT_ENCODING, AT_GO_RUNTIME_TYPE, AT_LOCATION, AT_LOWER_BOUND,
    AT_NAME, AT_SIBLING,
    AT_STR_OFFSETS_BASE, AT_TYPE, AT_UPPER_BOUND, Abbrev, BLOCK_FORMS, Die, DwarfError, FIXED_SIZES,
    FORM_ADDR, FORM_DATA1, FORM_DATA2, FORM_DATA4, FORM_DATA8, FORM_GNU_REF_ALT, FORM_GNU_STRP_ALT,
    FORM_GNU_STR_INDEX, FORM_IMPLICIT_CONST, FORM_INDIRECT, FORM_LINE_STRP, FORM_REF1, FORM_REF2, FORM_REF4,
    FORM_REF8, FORM_REF_ADDR, FORM_REF_UDATA, FORM_SDATA, FORM_STRING, FORM_STRP, FORM_STRP_SUP, FORM_STRX,
    FORM_STRX1, FORM_STRX2, FORM_STRX3, FORM_STRX4, FORM_UDATA, INDEXED_TAGS, LEB_FORMS, MAX_HOPS,
    OFFSET_FORMS, POINTER_TAGS, RECORD_TAGS, STRIPPED_TAGS, STRUCT_TAGS, TAG_ARRAY, TAG_ATOMIC, TAG_CLASS,
    TAG_CONST, TAG_CONSTANT, TAG_MEMBER, TAG_POINTER, TAG_REFERENCE, TAG_RESTRICT, TAG_RVALUE_REFERENCE,
    TAG_STRUCTURE, TAG_SUBRANGE, TAG_SUBROUTINE, TAG_TYPEDEF, TAG_UNION, TAG_VARIABLE, TAG_VOLATILE, Unit,
    debug_section, parse_abbrevs, skip_plan, sleb, uleb, utf8,
)
from gdbgomem.elf.layout import NESTING_LIMIT, Field, StructLayout


def package_of(name: str) -> str:
    """The import path of a qualified Go name: 'internal/abi.Type' -> 'internal/abi'.

    The package ends at the first dot after the last slash; type arguments in brackets
    ('sync/atomic.Pointer[internal/sync.entry]') do not count.
    """
    head = name.split("[", 1)[0]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    return head[:dot] if dot >= 0 else head


class DwarfIndex:
    """A name index over the DWARF of a Go binary, and layouts resolved from it on demand."""

    def __init__(self, elf: ELFFile, pointer_size: int, little_endian: bool):
        self.pointer_size = pointer_size
        self._order = "<" if little_endian else ">"
        self.info = debug_section(elf, "info")
        self.abbrev_data = debug_section(elf, "abbrev")
        if self.info is None or self.abbrev_data is None:
            raise DwarfError("no .debug_info or .debug_abbrev")
        self._elf = elf
        self._strings: Dict[str, Optional[bytes]] = {}
        self._abbrev_tables: Dict[Tuple[int, int, int, int], Dict[int, Abbrev]] = {}
        self.units = self._parse_units()
        self._starts = [unit.offset for unit in self.units]
        self.types: Dict[str, int] = {}
        self.typedefs: Dict[str, int] = {}
        self.constants: Dict[str, Tuple[Any, int, Optional[int]]] = {}
        self.variables: Dict[str, Tuple[Optional[int], Any]] = {}
        self.units_scanned = 0
        self._dies: Dict[int, Optional[Die]] = {}
        self._sizes: Dict[int, Optional[int]] = {}
        self._names: Dict[int, str] = {}
        self._nested: Dict[Tuple[int, int], StructLayout] = {}
        self._all_scanned = False

    # -- units and abbreviations -------------------------------------------------------
    def _parse_units(self) -> List[Unit]:
        info, order = self.info, self._order
        units = []
        pos = 0
        while pos + 11 <= len(info):
            length = struct.unpack_from(order + "I", info, pos)[0]
            offset_size, header = 4, pos + 4
            if length == 0xffffffff:
                length = struct.unpack_from(order + "Q", info, pos + 4)[0]
                offset_size, header = 8, pos + 12
            elif length >= 0xfffffff0 or length == 0:
                break
            end = header + length
            if end > len(info):
                break
            version = struct.unpack_from(order + "H", info, header)[0]
            offset_fmt = order + ("I" if offset_size == 4 else "Q")
            if version >= 5:
                unit_type, address_size = info[header + 2], info[header + 3]
                abbrev_offset = struct.unpack_from(offset_fmt, info, header + 4)[0]
                die = header + 4 + offset_size
                if unit_type in (2, 6):  # type units: signature and type offset
                    die += 8 + offset_size
                elif unit_type in (4, 5):  # skeleton and split units: dwo id
                    die += 8
            elif version >= 2:
                abbrev_offset = struct.unpack_from(offset_fmt, info, header + 2)[0]
                address_size = info[header + 2 + offset_size]
                die = header + 3 + offset_size
            else:
                break
            if version > 5:
                break
            abbrevs = self._abbrevs(abbrev_offset, version, address_size, offset_size)
            unit = Unit(pos, end, die, version, address_size, offset_size, abbrevs)
            units.append(unit)
            try:
                top = self._read_die(unit, die)
            except (IndexError, KeyError, struct.error, DwarfError):
                top = None
            if top is not None:
                name = top.attrs.get(AT_NAME)
                unit.name = utf8(name) if isinstance(name, bytes) else None
                base = top.attrs.get(AT_STR_OFFSETS_BASE)
                unit.str_offsets_base = base if isinstance(base, int) else None
            pos = end
        return units

    def _abbrevs(self, offset: int, version: int, address_size: int, offset_size: int) -> Dict[int, Abbrev]:
        key = (offset, version, address_size, offset_size)
        table = self._abbrev_tables.get(key)
        if table is None:
            table = parse_abbrevs(self.abbrev_data, offset)
            for abbrev in table.values():
                abbrev.skip = skip_plan(abbrev.specs, version, address_size, offset_size)
            self._abbrev_tables[key] = table
        return table

    def _unit_at(self, offset: int) -> Optional[Unit]:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        unit = self.units[i]
        return unit if unit.die_offset <= offset < unit.end else None

    # -- scanning: the top-level DIEs of a unit ------------------------------------------
    def _scan(self, unit: Unit) -> None:
        """Index the named types, constants and variables directly under a unit's root DIE.

        Deeper DIEs (function bodies, struct members) are skipped without decoding.
        """
        if unit.scanned:
            return
        unit.scanned = True
        self.units_scanned += 1
        data, abbrevs, end = self.info, unit.abbrevs, unit.end
        pos, depth = unit.die_offset, 0
        regex_type = re.Pattern
        while pos < end:
            here = pos
            code = data[pos]
            pos += 1
            if code >= 0x80:
                code, pos = uleb(data, here)
            if code == 0:
                depth -= 1
                if depth <= 0:
                    break
                continue
            abbrev = abbrevs.get(code)
            if abbrev is None:
                raise DwarfError(f"unknown abbreviation {code} at 0x{here:x}")
            if depth == 1 and abbrev.tag in INDEXED_TAGS:
                attrs, forms, pos = self._read_attrs(unit, abbrev, pos)
                self._record(here, abbrev.tag, attrs, forms)
            else:
                skip = abbrev.skip
                if skip.__class__ is int:
                    pos += skip
                elif skip.__class__ is regex_type:
                    pos = skip.match(data, pos).end()
                else:
                    pos = self._skip_steps(skip, pos)
            if abbrev.has_children:
                depth += 1

    def _record(self, offset: int, tag: int, attrs: Dict[int, Any], forms: Dict[int, int]) -> None:
        raw = attrs.get(AT_NAME)
        if not isinstance(raw, bytes):
            return
        name = utf8(raw)
        if tag == TAG_CONSTANT:
            self.constants.setdefault(name, (attrs.get(AT_CONST_VALUE), forms.get(AT_CONST_VALUE, 0),
                                             attrs.get(AT_TYPE)))
        elif tag == TAG_VARIABLE:
            if AT_DECLARATION not in attrs:
                self.variables.setdefault(name, (attrs.get(AT_TYPE), attrs.get(AT_LOCATION)))
        elif tag == TAG_TYPEDEF:
            self.typedefs.setdefault(name, offset)
        elif AT_DECLARATION not in attrs:
            self.types.setdefault(name, offset)

    def _scan_package(self, package: str) -> None:
        for unit in self.units:
            if unit.name == package:
                self._scan(unit)

    def _scan_all(self) -> None:
        if not self._all_scanned:
            self._all_scanned = True
            for unit in self.units:
                self._scan(unit)

    # -- decoding DIEs -----------------------------------------------------------------
    def _skip_steps(self, steps, pos: int) -> int:
        data = self.info
        for step in steps:
            if step.__class__ is int:
                pos += step
            elif step.__class__ is tuple:  # (form, unit facts) for the rare indirect form
                form, version, address_size, offset_size = step
                while form == FORM_INDIRECT:
                    form, pos = uleb(data, pos)
                _value, pos = self._read_form(form, pos, version, address_size, offset_size, None)
            elif step == "b1":
                pos += 1 + data[pos]
            elif step == "b2":
                pos += 2 + struct.unpack_from(self._order + "H", data, pos)[0]
            elif step == "b4":
                pos += 4 + struct.unpack_from(self._order + "I", data, pos)[0]
            elif step == "bu":
                length, pos = uleb(data, pos)
                pos += length
            else:
                pos = step.match(data, pos).end()
        return pos

    def _read_attrs(self, unit: Unit, abbrev: Abbrev, pos: int):
        attrs: Dict[int, Any] = {}
        forms: Dict[int, int] = {}
        version, address_size, offset_size = unit.version, unit.address_size, unit.offset_size
        for attr, form, implicit in abbrev.specs:
            while form == FORM_INDIRECT:
                form, pos = uleb(self.info, pos)
            if form == FORM_IMPLICIT_CONST:
                value = implicit
            else:
                value, pos = self._read_form(form, pos, version, address_size, offset_size, unit)
            attrs[attr] = value
            forms[attr] = form
        return attrs, forms, pos

    def _read_form(self, form: int, pos: int, version: int, address_size: int, offset_size: int,
                   unit: Optional[Unit]) -> Tuple[Any, int]:
        """The value of one attribute: ints, bytes for strings and blocks, absolute DIE offsets
        for references (None for references outside .debug_info)."""
        data, order = self.info, self._order
        if form == FORM_STRING:
            end = data.index(b"\0", pos)
            return data[pos:end], end + 1
        if form in (FORM_UDATA, FORM_REF_UDATA):
            value, pos = uleb(data, pos)
            return (value + unit.offset if unit is not None else None) if form == FORM_REF_UDATA else value, pos
        if form == FORM_SDATA:
            return sleb(data, pos)
        if form in LEB_FORMS:
            value, pos = uleb(data, pos)
            if form in (FORM_STRX, FORM_GNU_STR_INDEX):
                return self._indexed_string(unit, value, offset_size), pos
            return value, pos
        if form in (FORM_REF1, FORM_REF2, FORM_REF4, FORM_REF8):
            size = FIXED_SIZES[form]
            value = int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big")
            return (value + unit.offset if unit is not None else None), pos + size
        if form in (FORM_STRX1, FORM_STRX2, FORM_STRX3, FORM_STRX4):
            size = FIXED_SIZES[form]
            index = int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big")
            return self._indexed_string(unit, index, offset_size), pos + size
        if form in FIXED_SIZES:
            size = FIXED_SIZES[form]
            return int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big"), pos + size
        if form == FORM_ADDR:
            return int.from_bytes(data[pos:pos + address_size], "little" if order == "<" else "big"), pos + address_size
        if form == FORM_REF_ADDR:
            size = address_size if version <= 2 else offset_size
            return int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big"), pos + size
        if form in OFFSET_FORMS:
            value = int.from_bytes(data[pos:pos + offset_size], "little" if order == "<" else "big")
            pos += offset_size
            if form == FORM_STRP:
                return self._string_at(".debug_str", value), pos
            if form == FORM_LINE_STRP:
                return self._string_at(".debug_line_str", value), pos
            if form in (FORM_GNU_REF_ALT, FORM_GNU_STRP_ALT, FORM_STRP_SUP):
                return None, pos  # lives in a supplementary file we do not have
            return value, pos
        if form in BLOCK_FORMS:
            width = BLOCK_FORMS[form]
            if width:
                length = int.from_bytes(data[pos:pos + width], "little" if order == "<" else "big")
                pos += width
            else:
                length, pos = uleb(data, pos)
            return data[pos:pos + length], pos + length
        raise DwarfError(f"unknown attribute form 0x{form:x}")

    def _string_at(self, section: str, offset: int) -> Optional[bytes]:
        if section not in self._strings:
            self._strings[section] = debug_section(self._elf, section[len(".debug_"):])
        table = self._strings[section]
        if table is None or offset >= len(table):
            return None
        end = table.find(b"\0", offset)
        return table[offset:end if end >= 0 else len(table)]

    def _indexed_string(self, unit: Optional[Unit], index: int, offset_size: int) -> Optional[bytes]:
        if unit is None:
            return None
        if ".debug_str_offsets" not in self._strings:
            self._strings[".debug_str_offsets"] = debug_section(self._elf, "str_offsets")
        table = self._strings[".debug_str_offsets"]
        base = unit.str_offsets_base if unit.str_offsets_base is not None else 8
        at = base + index * offset_size
        if table is None or at + offset_size > len(table):
            return None
        offset = int.from_bytes(table[at:at + offset_size], "little" if self._order == "<" else "big")
        return self._string_at(".debug_str", offset)

    def _read_die(self, unit: Unit, offset: int) -> Optional[Die]:
        code, pos = uleb(self.info, offset)
        if code == 0:
            return None
        abbrev = unit.abbrevs.get(code)
        if abbrev is None:
            raise DwarfError(f"unknown abbreviation {code} at 0x{offset:x}")
        attrs, forms, pos = self._read_attrs(unit, abbrev, pos)
        return Die(offset, abbrev.tag, abbrev.has_children, attrs, forms, pos, unit)

    def die(self, offset: Optional[int]) -> Optional[Die]:
        """The DIE at an absolute .debug_info offset, None when there is none."""
        if not isinstance(offset, int):
            return None
        if offset not in self._dies:
            unit = self._unit_at(offset)
            self._dies[offset] = self._read_die(unit, offset) if unit is not None else None
        return self._dies[offset]

    def children(self, die: Die) -> Iterator[Die]:
        if not die.has_children:
            return
        unit, pos = die.unit, die.children
        while pos < unit.end:
            child = self.die(pos)
            if child is None:  # the null entry that ends the list
                return
            yield child
            if not child.has_children:
                pos = child.children  # attributes end where the next sibling starts
            elif isinstance(child.attrs.get(AT_SIBLING), int) and child.attrs[AT_SIBLING] > pos:
                pos = child.attrs[AT_SIBLING]
            else:
                pos = self._subtree_end(child)

    def _subtree_end(self, die: Die) -> int:
        """Offset just past a DIE's children (walked without decoding them)."""
        data, abbrevs, end = self.info, die.unit.abbrevs, die.unit.end
        pos, depth = die.children, 1
        while pos < end:
            code, pos = uleb(data, pos)
            if code == 0:
                depth -= 1
                if depth == 0:
                    return pos
                continue
            abbrev = abbrevs[code]
            skip = abbrev.skip
            if skip.__class__ is int:
                pos += skip
            elif skip.__class__ is re.Pattern:
                pos = skip.match(data, pos).end()
            else:
                pos = self._skip_steps(skip, pos)
            if abbrev.has_children:
                depth += 1
        return end

    # -- types -------------------------------------------------------------------------
    def find_type(self, name: str) -> Optional[int]:
        """DIE offset of the type with this name (a struct before a typedef of the same name)."""
        self._scan_package("runtime")  # where the Go linker puts every type
        if name not in self.types and name not in self.typedefs:
            self._scan_package(package_of(name))
        if name not in self.types and name not in self.typedefs:
            self._scan_all()
        return self.types.get(name, self.typedefs.get(name))

    def strip(self, offset: Optional[int]) -> Optional[Die]:
        """The type under typedefs and qualifiers; None for void or a broken chain."""
        for _ in range(MAX_HOPS):
            die = self.die(offset)
            if die is None or die.tag not in STRIPPED_TAGS:
                return die
            offset = die.attrs.get(AT_TYPE)
        return None

    def size_of(self, offset: Optional[int]) -> Optional[int]:
        if not isinstance(offset, int):
            return None
        if offset not in self._sizes:
            self._sizes[offset] = None  # guards against a type that contains itself
            self._sizes[offset] = self._compute_size(offset)
        return self._sizes[offset]

    def _compute_size(self, offset: int) -> Optional[int]:
        die = self.strip(offset)
        if die is None:
            return None
        size = die.attrs.get(AT_BYTE_SIZE)
        if die.tag in POINTER_TAGS:
            # A Go func value is a pointer; gdb's 1 for DW_TAG_subroutine_type is C's notion.
            return size if isinstance(size, int) and size > 0 else self.pointer_size
        if isinstance(size, int):
            return size
        if die.tag == TAG_ARRAY:
            element = self.size_of(die.attrs.get(AT_TYPE))
            if element is None:
                return None
            total = element
            for child in self.children(die):
                if child.tag == TAG_SUBRANGE:
                    total *= self._subrange_count(child)
            return total
        return None

    @staticmethod
    def _subrange_count(die: Die) -> int:
        count = die.attrs.get(AT_COUNT)
        if isinstance(count, int) and die.forms.get(AT_COUNT) not in (FORM_REF_ADDR, FORM_REF4, FORM_REF_UDATA):
            return count
        upper = die.attrs.get(AT_UPPER_BOUND)
        lower = die.attrs.get(AT_LOWER_BOUND, 0)
        if isinstance(upper, int) and isinstance(lower, int) and upper >= lower:
            return upper - lower + 1
        return 0

    def name_of(self, offset: Optional[int]) -> str:
        if not isinstance(offset, int):
            return "void"
        if offset not in self._names:
            self._names[offset] = "?"  # guards against cycles
            self._names[offset] = self._compute_name(offset)
        return self._names[offset]

    def _compute_name(self, offset: int) -> str:
        die = self.die(offset)
        if die is None:
            return "void"
        name = die.attrs.get(AT_NAME)
        if isinstance(name, bytes):
            return utf8(name)
        target = die.attrs.get(AT_TYPE)
        if die.tag in (TAG_POINTER, TAG_REFERENCE, TAG_RVALUE_REFERENCE):
            return "*" + self.name_of(target) if target is not None else "unsafe.Pointer"
        if die.tag == TAG_ARRAY:
            counts = "".join(f"[{self._subrange_count(c)}]" for c in self.children(die) if c.tag == TAG_SUBRANGE)
            return counts + self.name_of(target)
        if die.tag in (TAG_CONST, TAG_VOLATILE, TAG_RESTRICT, TAG_ATOMIC, TAG_TYPEDEF):
            return self.name_of(target)
        if die.tag == TAG_SUBROUTINE:
            return "func(...)"
        return {TAG_STRUCTURE: "struct {...}", TAG_UNION: "union {...}", TAG_CLASS: "class {...}"}.get(die.tag, "?")

    def struct_layout(self, name: str) -> Optional[StructLayout]:
        offset = self.find_type(name)
        die = self.strip(offset)
        if die is None or die.tag not in RECORD_TAGS:
            return None
        return self._layout(name, die, 0)

    def _layout(self, name: str, die: Die, depth: int) -> StructLayout:
        """Members as gdb describes them (gdbgomem.hosts.gdb), nested struct members
        down to NESTING_LIMIT."""
        fields: Dict[str, Field] = {}
        for member in self.children(die):
            if member.tag != TAG_MEMBER or AT_DECLARATION in member.attrs:
                continue
            raw = member.attrs.get(AT_NAME)
            if not isinstance(raw, bytes):
                continue
            type_offset = member.attrs.get(AT_TYPE)
            inner = None
            target = self.strip(type_offset)
            if target is not None and target.tag in STRUCT_TAGS and depth < NESTING_LIMIT:
                key = (target.offset, depth + 1)
                type_name = self.name_of(type_offset)
                if key not in self._nested or self._nested[key].name != type_name:
                    self._nested[key] = self._layout(type_name, target, depth + 1)
                inner = self._nested[key]
            fields[utf8(raw)] = Field(_member_offset(member), self.size_of(type_offset) or 0,
                                       self.name_of(type_offset), inner)
        return StructLayout(name, self.size_of(die.offset) or 0, fields)

    # -- constants and variables -------------------------------------------------------
    def constant(self, name: str) -> Optional[int]:
        self._scan_package(package_of(name))
        entry = self.constants.get(name)
        if entry is None:
            return None
        value, form, type_offset = entry
        if not isinstance(value, int):
            return None
        base = self.strip(type_offset)
        encoding = base.attrs.get(AT_ENCODING) if base is not None else None
        width = FIXED_SIZES.get(form) if form in (FORM_DATA1, FORM_DATA2, FORM_DATA4, FORM_DATA8) else None
        if width and encoding in ATE_SIGNED and value >= 1 << (8 * width - 1):
            value -= 1 << (8 * width)  # fixed-size data forms carry no sign of their own
        size = base.attrs.get(AT_BYTE_SIZE) if base is not None else None
        if value < 0 and encoding in ATE_UNSIGNED and isinstance(size, int) and 0 < size <= 16:
            value &= (1 << (8 * size)) - 1
        return value

    def variable_size(self, name: str) -> Optional[int]:
        self._scan_package(package_of(name))
        entry = self.variables.get(name)
        return self.size_of(entry[0]) if entry is not None else None

    def variable_address(self, name: str) -> Optional[int]:
        """Address of a global variable whose location is a plain DW_OP_addr expression."""
        self._scan_package(package_of(name))
        entry = self.variables.get(name)
        return self._plain_address(entry[1] if entry is not None else None)

    def _plain_address(self, location: Any) -> Optional[int]:
        if isinstance(location, bytes) and len(location) == 1 + self.pointer_size and location[0] == 0x03:
            return int.from_bytes(location[1:], "little" if self._order == "<" else "big")
        return None

    def typed_variables(self) -> List[Tuple[int, int]]:
        """(address, runtime type) of every global variable whose type names its runtime type
        descriptor (DW_AT_go_runtime_type, an offset into the module's types, on the type's DIE
        or the first one under its typedefs)."""
        self._scan_all()
        found = []
        for type_offset, location in self.variables.values():
            address = self._plain_address(location)
            runtime_type = self._runtime_type(type_offset) if address is not None else None
            if runtime_type:
                found.append((address, runtime_type))
        return found

    def _runtime_type(self, offset: Optional[int]) -> Optional[int]:
        for _ in range(MAX_HOPS):
            die = self.die(offset)
            if die is None:
                return None
            value = die.attrs.get(AT_GO_RUNTIME_TYPE)
            if isinstance(value, int) or die.tag != TAG_TYPEDEF:
                return value if isinstance(value, int) else None
            offset = die.attrs.get(AT_TYPE)
        return None


def _member_offset(member: Die) -> int:
    location = member.attrs.get(AT_DATA_MEMBER_LOCATION)
    if isinstance(location, int):
        return location
    if isinstance(location, bytes) and location[:1] == b"\x23":  # DW_OP_plus_uconst
        return uleb(location, 1)[0]
    bits = member.attrs.get(AT_DATA_BIT_OFFSET)
    if isinstance(bits, int):
        return bits // 8
    return 0
