"""The DWARF encoding, as far as gdbgomem reads it: tag, attribute and form numbers
(DWARF 5 standard, section 7, plus the GNU forms still seen in the wild), the records
a walker needs (units, abbreviations, DIEs), and how to skip a DIE's attributes
without decoding them (a pattern compiled once per abbreviation).
"""

from __future__ import annotations

import re
import zlib
from typing import Any, Dict, List, Optional, Tuple

from elftools.elf.elffile import ELFFile

SHT_NOBITS = "SHT_NOBITS"
SHF_ALLOC = 0x2  # sh_flags: the section occupies memory while the program runs

TAG_ARRAY = 0x01
TAG_CLASS = 0x02
TAG_ENUMERATION = 0x04
TAG_MEMBER = 0x0d
TAG_POINTER = 0x0f
TAG_REFERENCE = 0x10
TAG_COMPILE_UNIT = 0x11
TAG_STRUCTURE = 0x13
TAG_SUBROUTINE = 0x15
TAG_TYPEDEF = 0x16
TAG_UNION = 0x17
TAG_SUBRANGE = 0x21
TAG_BASE = 0x24
TAG_CONST = 0x26
TAG_CONSTANT = 0x27
TAG_VARIABLE = 0x34
TAG_VOLATILE = 0x35
TAG_RESTRICT = 0x37
TAG_UNSPECIFIED = 0x3b
TAG_RVALUE_REFERENCE = 0x42
TAG_ATOMIC = 0x47

AT_LOCATION = 0x02
AT_NAME = 0x03
AT_BYTE_SIZE = 0x0b
AT_CONST_VALUE = 0x1c
AT_LOWER_BOUND = 0x22
AT_UPPER_BOUND = 0x2f
AT_COUNT = 0x37
AT_DATA_MEMBER_LOCATION = 0x38
AT_DECLARATION = 0x3c
AT_ENCODING = 0x3e
AT_TYPE = 0x49
AT_DATA_BIT_OFFSET = 0x6b
AT_SIBLING = 0x01
AT_STR_OFFSETS_BASE = 0x72
AT_GO_RUNTIME_TYPE = 0x2904  # Go's own: the type's descriptor, as an offset into the module's types

ATE_SIGNED = (0x05, 0x06, 0x0d)  # signed, signed_char, signed_fixed
ATE_UNSIGNED = (0x02, 0x07, 0x08, 0x0e, 0x10)  # boolean, unsigned, unsigned_char, unsigned_fixed, UTF

TYPE_TAGS = frozenset((TAG_ARRAY, TAG_CLASS, TAG_ENUMERATION, TAG_POINTER, TAG_REFERENCE,
                        TAG_STRUCTURE, TAG_SUBROUTINE, TAG_TYPEDEF, TAG_UNION, TAG_BASE,
                        TAG_UNSPECIFIED, TAG_RVALUE_REFERENCE))
STRIPPED_TAGS = frozenset((TAG_TYPEDEF, TAG_CONST, TAG_VOLATILE, TAG_RESTRICT, TAG_ATOMIC))
STRUCT_TAGS = frozenset((TAG_STRUCTURE, TAG_CLASS))  # gdb's TYPE_CODE_STRUCT
RECORD_TAGS = frozenset((TAG_STRUCTURE, TAG_CLASS, TAG_UNION))
POINTER_TAGS = frozenset((TAG_POINTER, TAG_REFERENCE, TAG_RVALUE_REFERENCE, TAG_SUBROUTINE))
INDEXED_TAGS = TYPE_TAGS | {TAG_CONSTANT, TAG_VARIABLE}

# Forms, grouped by how their bytes are laid out.
FORM_ADDR = 0x01
FORM_BLOCK2, FORM_BLOCK4, FORM_BLOCK, FORM_BLOCK1, FORM_EXPRLOC = 0x03, 0x04, 0x09, 0x0a, 0x18
FORM_DATA1, FORM_DATA2, FORM_DATA4, FORM_DATA8, FORM_DATA16 = 0x0b, 0x05, 0x06, 0x07, 0x1e
FORM_STRING = 0x08
FORM_FLAG = 0x0c
FORM_SDATA = 0x0d
FORM_STRP = 0x0e
FORM_UDATA = 0x0f
FORM_REF_ADDR = 0x10
FORM_REF1, FORM_REF2, FORM_REF4, FORM_REF8, FORM_REF_UDATA = 0x11, 0x12, 0x13, 0x14, 0x15
FORM_INDIRECT = 0x16
FORM_SEC_OFFSET = 0x17
FORM_FLAG_PRESENT = 0x19
FORM_STRX, FORM_ADDRX = 0x1a, 0x1b
FORM_REF_SUP4, FORM_STRP_SUP = 0x1c, 0x1d
FORM_LINE_STRP = 0x1f
FORM_REF_SIG8 = 0x20
FORM_IMPLICIT_CONST = 0x21
FORM_LOCLISTX, FORM_RNGLISTX, FORM_REF_SUP8 = 0x22, 0x23, 0x24
FORM_STRX1, FORM_STRX2, FORM_STRX3, FORM_STRX4 = 0x25, 0x26, 0x27, 0x28
FORM_ADDRX1, FORM_ADDRX2, FORM_ADDRX3, FORM_ADDRX4 = 0x29, 0x2a, 0x2b, 0x2c
FORM_GNU_ADDR_INDEX, FORM_GNU_STR_INDEX, FORM_GNU_REF_ALT, FORM_GNU_STRP_ALT = 0x1f01, 0x1f02, 0x1f20, 0x1f21

FIXED_SIZES = {FORM_DATA1: 1, FORM_DATA2: 2, FORM_DATA4: 4, FORM_DATA8: 8, FORM_DATA16: 16,
                FORM_FLAG: 1, FORM_REF1: 1, FORM_REF2: 2, FORM_REF4: 4, FORM_REF8: 8,
                FORM_REF_SIG8: 8, FORM_REF_SUP4: 4, FORM_REF_SUP8: 8, FORM_STRX1: 1, FORM_STRX2: 2,
                FORM_STRX3: 3, FORM_STRX4: 4, FORM_ADDRX1: 1, FORM_ADDRX2: 2, FORM_ADDRX3: 3,
                FORM_ADDRX4: 4, FORM_FLAG_PRESENT: 0, FORM_IMPLICIT_CONST: 0}
OFFSET_FORMS = frozenset((FORM_STRP, FORM_SEC_OFFSET, FORM_LINE_STRP, FORM_STRP_SUP,
                           FORM_GNU_REF_ALT, FORM_GNU_STRP_ALT))
LEB_FORMS = frozenset((FORM_SDATA, FORM_UDATA, FORM_REF_UDATA, FORM_STRX, FORM_ADDRX, FORM_LOCLISTX,
                        FORM_RNGLISTX, FORM_GNU_ADDR_INDEX, FORM_GNU_STR_INDEX))
BLOCK_FORMS = {FORM_BLOCK1: 1, FORM_BLOCK2: 2, FORM_BLOCK4: 4, FORM_BLOCK: 0, FORM_EXPRLOC: 0}

_LEB_PATTERN = rb"[\x80-\xff]*[\x00-\x7f]"
_STRING_PATTERN = rb"[^\x00]*\x00"

MAX_HOPS = 32  # typedef chains, nested arrays: bounded so corrupt DWARF cannot loop


class DwarfError(Exception):
    """The DWARF is not what its headers promise."""


class Unit:
    """One compilation unit: where its DIEs are and how to read them."""

    __slots__ = ("offset", "end", "die_offset", "version", "address_size", "offset_size",
                 "abbrevs", "name", "str_offsets_base", "scanned")

    def __init__(self, offset, end, die_offset, version, address_size, offset_size, abbrevs):
        self.offset, self.end, self.die_offset = offset, end, die_offset
        self.version, self.address_size, self.offset_size = version, address_size, offset_size
        self.abbrevs = abbrevs
        self.name: Optional[str] = None
        self.str_offsets_base: Optional[int] = None
        self.scanned = False


class Abbrev:
    """One abbreviation: tag, children flag, attribute specs and a compiled way to skip them."""

    __slots__ = ("tag", "has_children", "specs", "skip")

    def __init__(self, tag, has_children, specs):
        self.tag, self.has_children, self.specs = tag, has_children, specs
        self.skip: Any = None


class Die:
    __slots__ = ("offset", "tag", "has_children", "attrs", "forms", "children", "unit")

    def __init__(self, offset, tag, has_children, attrs, forms, children, unit):
        self.offset, self.tag, self.has_children = offset, tag, has_children
        self.attrs, self.forms, self.children, self.unit = attrs, forms, children, unit


def debug_section(elf: ELFFile, name: str) -> Optional[bytes]:
    """A .debug_<name> section's bytes, decompressed (SHF_COMPRESSED or GNU .zdebug_)."""
    section = elf.get_section_by_name(".debug_" + name)
    if section is not None:
        if section["sh_type"] == SHT_NOBITS:
            return None
        return bytes(section.data())  # pyelftools inflates SHF_COMPRESSED sections
    section = elf.get_section_by_name(".zdebug_" + name)
    if section is not None and section["sh_type"] != SHT_NOBITS:
        raw = section.data()
        if raw[:4] == b"ZLIB" and len(raw) >= 12:
            return zlib.decompress(raw[12:])
        return bytes(raw)
    return None


def parse_abbrevs(data: bytes, offset: int) -> Dict[int, Abbrev]:
    table: Dict[int, Abbrev] = {}
    pos = offset
    while pos < len(data):
        code, pos = uleb(data, pos)
        if code == 0:
            break
        tag, pos = uleb(data, pos)
        has_children = data[pos] != 0
        pos += 1
        specs = []
        while True:
            attr, pos = uleb(data, pos)
            form, pos = uleb(data, pos)
            implicit = None
            if form == FORM_IMPLICIT_CONST:
                implicit, pos = sleb(data, pos)
            if attr == 0 and form == 0:
                break
            specs.append((attr, form, implicit))
        table[code] = Abbrev(tag, has_children, tuple(specs))
    return table


def skip_plan(specs, version: int, address_size: int, offset_size: int):
    """How to step over a DIE's attributes without decoding them.

    An int when every attribute has a fixed size; a compiled pattern when the only
    variable ones are LEB128 numbers and inline strings; else a list of steps (ints,
    patterns, block markers, and (form, ...) tuples for DW_FORM_indirect).
    """
    steps: List[Any] = []
    pattern: List[bytes] = []
    fixed = 0

    def flush_fixed():
        nonlocal fixed
        if fixed:
            pattern.append(b"[\\x00-\\xff]{%d}" % fixed)
            fixed = 0

    def flush_pattern():
        flush_fixed()
        if pattern:
            steps.append(_compile_pattern(pattern))
            pattern.clear()

    for _attr, form, _implicit in specs:
        if form in FIXED_SIZES:
            fixed += FIXED_SIZES[form]
        elif form == FORM_ADDR:
            fixed += address_size
        elif form == FORM_REF_ADDR:
            fixed += address_size if version <= 2 else offset_size
        elif form in OFFSET_FORMS:
            fixed += offset_size
        elif form in LEB_FORMS:
            flush_fixed()
            pattern.append(_LEB_PATTERN)
        elif form == FORM_STRING:
            flush_fixed()
            pattern.append(_STRING_PATTERN)
        elif form in BLOCK_FORMS:
            flush_pattern()
            steps.append({1: "b1", 2: "b2", 4: "b4", 0: "bu"}[BLOCK_FORMS[form]])
        else:  # DW_FORM_indirect or a form this reader does not know: decoded the slow way
            flush_pattern()
            steps.append((form, version, address_size, offset_size))
    if not steps and not pattern:
        return fixed
    flush_pattern()
    return steps[0] if len(steps) == 1 and steps[0].__class__ is re.Pattern else steps


def _compile_pattern(parts: List[bytes]):
    return re.compile(b"".join(parts), re.DOTALL)


def uleb(data, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def sleb(data, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        shift += 7
        if byte < 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def utf8(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")
