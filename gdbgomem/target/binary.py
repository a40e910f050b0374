"""Static facts of a Go executable, read from its ELF file without a debugger.

Used where no debugger can describe the program: offline analysis of a core
file, and lldb (which does not read Go's DWARF types). GoBinary answers the
questions a Target backend needs from the executable itself: symbol addresses
(.symtab), struct layouts, constants and variable sizes (DWARF), and the bytes
of initialized data (the file's PT_LOAD segments).

Where Go puts its DWARF (cmd/link/internal/ld/dwarf.go): one compilation unit
(CU) per package, named by import path. Every type of the program hangs off
the last CU named "runtime" (`movetomodule`); a package's constants are
dropped into its first CU (`unit.Consts`); global variables sit in their
package's CUs. The runtime package CU alone holds some 30 000 DIEs, nearly all
of them inside functions, so this module does not build pyelftools DIE objects
for them: a small walker skips each DIE's attributes with a pattern compiled
once per abbreviation and decodes only the top-level DIEs of the CUs a name
can live in. Layouts are then resolved lazily from the DIE offsets found.

pyelftools does the ELF work (headers, sections, segments, decompression of
SHF_COMPRESSED sections). What the project asks for is written to a JSON
cache (see CACHE_DIR_ENV), keyed by build id, file size and mtime, so a later
open of the same binary answers without touching DWARF at all.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import mmap
import os
import re
import struct
import zlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from elftools.elf.elffile import ELFFile

from gdbgomem.target.base import Field, StructLayout

# The cache lives in $GDBGOMEM_CACHE_DIR/binaries/<build id>.json, by default under
# $XDG_CACHE_HOME/gdbgomem (~/.cache/gdbgomem).
CACHE_DIR_ENV = "GDBGOMEM_CACHE_DIR"
# Bump when what is stored (or how a layout is computed) changes: older files are ignored.
CACHE_FORMAT = 1

NESTING_LIMIT = 4  # nested struct members are described this deep, as gdbgomem.target.gdb does

# What gdbgomem.runtime asks for. The first time a binary's DWARF has to be read, these are
# resolved together and written to the cache in one go, so that every later session with the
# same binary answers from the cache. Names asked for later are added to the cache as they come.
PROJECT_TYPES = (
    "runtime.g", "runtime.m", "runtime.p", "runtime.mheap", "runtime.mspan", "runtime.heapArena",
    "runtime.pageAlloc", "runtime.pallocData", "runtime.pageCache", "runtime.mcache",
    "runtime.moduledata", "runtime.workType", "internal/abi.Type", "runtime.spanInlineMarkBits",
)
PROJECT_CONSTANTS = (
    "runtime._Gscan", "runtime._Gdead", "runtime.stackGuard", "runtime._StackGuard",
    "internal/abi.StackSmall", "internal/abi.StackBig", "runtime.heapArenaBytes",
    "runtime.logHeapArenaBytes", "runtime.arenaL1Bits", "runtime.arenaL2Bits", "runtime.pagesPerArena",
    "runtime.pallocChunkPages", "runtime.summaryLevels", "runtime.summaryLevelBits",
    "runtime.heapAddrBits", "runtime._PageSize", "runtime.pageSize", "runtime.mSpanDead",
    "runtime.mSpanInUse", "runtime.mSpanManual", "runtime.minSizeForMallocHeader",
    "internal/runtime/gc.MinSizeForMallocHeader",
)
PROJECT_VARIABLES = (
    "runtime.allgs", "runtime.allm", "runtime.allp", "runtime.mheap_", "runtime.m0", "runtime.work",
    "runtime.firstmoduledata", "runtime.buildVersion", "runtime.waitReasonStrings",
    "runtime.gStatusStrings", "runtime.gomaxprocs", "runtime.class_to_size",
    "runtime.class_to_allocnpages", "internal/runtime/gc.SizeClassToSize",
    "internal/runtime/gc.SizeClassToNPages",
)

_ET_DYN = "ET_DYN"
_PT_LOAD = "PT_LOAD"
_SHT_NOBITS = "SHT_NOBITS"
_NT_GNU_BUILD_ID = 3
_NT_GO_BUILD_ID = 4


class GoBinary:
    """A Go executable opened for its static facts: symbols, DWARF layouts, constants, data.

    Addresses are link-time addresses; for a position-independent executable the
    caller adds the load bias. Lookups return None for whatever the binary does not
    have (a stripped symbol table, no DWARF, a damaged section); only opening a file
    that is not an ELF executable raises (ValueError).
    """

    def __init__(self, path: str, cache_dir: Optional[str] = None, use_cache: bool = True):
        self.path = str(path)
        self._file = open(self.path, "rb")
        self._map: Optional[mmap.mmap] = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        self._symbols: Optional[Dict[bytes, Tuple[int, int]]] = None
        self._dwarf: Optional[_Dwarf] = None
        self._dwarf_tried = False
        self.dwarf_error: Optional[str] = None  # why DWARF could not be read, when it could not
        self._layouts: Dict[str, Optional[StructLayout]] = {}
        self._cache_path = _cache_file(cache_dir, self.build_id, self.path) if use_cache else None
        self._cache = self._load_cache()
        self.cache_hit = bool(self._cache.get("prefetched"))  # answers came from an earlier session

    def _open(self) -> None:
        st = os.fstat(self._file.fileno())
        self.file_size = st.st_size
        self.mtime_ns = st.st_mtime_ns
        if self._file.read(4) != b"\x7fELF":
            raise ValueError(f"not an ELF file: {self.path}")
        self._file.seek(0)
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._elf = ELFFile(self._file)
            header = self._elf.header
            self.is_pie = header["e_type"] == _ET_DYN
            self.pointer_size = 8 if self._elf.elfclass == 64 else 4
            self.little_endian = self._elf.little_endian
            loads = [(int(s["p_vaddr"]), int(s["p_memsz"]), int(s["p_offset"]), int(s["p_filesz"]))
                     for s in self._elf.iter_segments() if s["p_type"] == _PT_LOAD]
            self._sections = {}
            for index, section in enumerate(self._elf.iter_sections()):
                self._sections.setdefault(section.name, index)
        except Exception as exc:  # pyelftools raises many kinds on a damaged header
            raise ValueError(f"not a readable ELF file: {self.path} ({exc})") from None
        self._loads = sorted(loads)
        self.build_id = self._read_build_id()

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None  # type: ignore[assignment]

    def __enter__(self) -> "GoBinary":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GoBinary({self.path!r}, build_id={self.build_id!r})"

    # -- file contents -----------------------------------------------------------------
    def segments(self) -> List[Tuple[int, int, int, int]]:
        """File-backed PT_LOAD segments as (vaddr, memsz, file_offset, filesz)."""
        return [seg for seg in self._loads if seg[3] > 0]

    def read_static(self, address: int, size: int) -> Optional[bytes]:
        """The bytes a fresh process holds at a link-time address: text and initialized data
        from the file, zeros for bss. None unless one PT_LOAD segment covers the whole range."""
        if size < 0 or address < 0 or self._map is None:
            return None
        for vaddr, memsz, offset, filesz in self._loads:
            if vaddr <= address and address + size <= vaddr + memsz:
                start = address - vaddr
                in_file = max(0, min(size, filesz - start))
                if offset + start + in_file > len(self._map):
                    return None  # the file is truncated
                data = self._map[offset + start:offset + start + in_file] if in_file else b""
                return data + bytes(size - in_file)
        return None

    def read_file_backed(self, address: int, size: int) -> Optional[bytes]:
        """Only bytes the file holds (text, read-only and initialized data) at a link-time
        address. Never the zero-filled bss: for a process that ran, those bytes are
        whatever the process wrote, which only its memory (or core) can tell."""
        for vaddr, _memsz, _offset, filesz in self._loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                return self.read_static(address, size)
        return None

    def _read_build_id(self) -> Optional[str]:
        """The GNU build id (hex) when the linker wrote one, else Go's own build id string."""
        found: Dict[Tuple[bytes, int], bytes] = {}
        try:
            for name in (".note.gnu.build-id", ".note.go.buildid"):
                index = self._sections.get(name)
                if index is not None:
                    header = self._elf.get_section(index).header
                    found.update(_notes(self._map, header["sh_offset"], header["sh_size"], self.little_endian))
            if not found:
                for seg in self._elf.iter_segments():
                    if seg["p_type"] == "PT_NOTE":
                        found.update(_notes(self._map, seg["p_offset"], seg["p_filesz"], self.little_endian))
        except Exception:
            return None
        gnu = found.get((b"GNU", _NT_GNU_BUILD_ID))
        if gnu:
            return gnu.hex()
        go = found.get((b"Go", _NT_GO_BUILD_ID))
        if go:
            return go.rstrip(b"\0").decode("ascii", "replace")
        return None

    # -- symbols -----------------------------------------------------------------------
    def symbol_address(self, name: str) -> Optional[int]:
        """Link-time address of a symbol from .symtab (or .dynsym); None when stripped."""
        found = self._symbol(name)
        if found is not None:
            return found[0]
        if self._symbol_table() or not self._has_dwarf_sections():
            return None
        # No symbol table at all but DWARF kept: a global variable's DW_OP_addr location.
        return self._answer("addresses", name, lambda dwarf: dwarf.variable_address(name))

    def symbol_size(self, name: str) -> Optional[int]:
        """Byte size of a global variable from its DWARF type; the ELF st_size otherwise."""
        size = self._answer("variables", name, lambda dwarf: dwarf.variable_size(name))
        if size is not None:
            return size
        found = self._symbol(name)
        return found[1] if found is not None else None

    def _symbol(self, name: str) -> Optional[Tuple[int, int]]:
        try:
            return self._symbol_table().get(name.encode())
        except UnicodeEncodeError:
            return None

    def _symbol_table(self) -> Dict[bytes, Tuple[int, int]]:
        if self._symbols is None:
            self._symbols = {}
            for name in (".symtab", ".dynsym"):
                try:
                    self._symbols = self._parse_symbols(name)
                except Exception:
                    self._symbols = {}
                if self._symbols:
                    break
        return self._symbols

    def _parse_symbols(self, section_name: str) -> Dict[bytes, Tuple[int, int]]:
        """name -> (st_value, st_size) of every defined symbol, straight from the mapped file."""
        index = self._sections.get(section_name)
        if index is None:
            return {}
        header = self._elf.get_section(index).header
        strtab = self._elf.get_section(header["sh_link"]).header
        if header["sh_type"] == _SHT_NOBITS or strtab["sh_type"] == _SHT_NOBITS:
            return {}
        data = self._map[header["sh_offset"]:header["sh_offset"] + header["sh_size"]]
        names = self._map[strtab["sh_offset"]:strtab["sh_offset"] + strtab["sh_size"]]
        order = "<" if self.little_endian else ">"
        if self.pointer_size == 8:
            fmt, name_i, info_i, shndx_i, value_i, size_i = order + "IBBHQQ", 0, 1, 3, 4, 5
        else:
            fmt, name_i, value_i, size_i, info_i, shndx_i = order + "IIIBBH", 0, 1, 2, 3, 5
        entry = struct.calcsize(fmt)
        result: Dict[bytes, Tuple[int, int]] = {}
        for sym in struct.iter_unpack(fmt, data[:len(data) - len(data) % entry]):
            kind = sym[info_i] & 0xf
            if sym[shndx_i] == 0 or kind in (3, 4):  # undefined, STT_SECTION, STT_FILE
                continue
            start = sym[name_i]
            end = names.find(b"\0", start)
            if start == 0 or end < 0:
                continue
            key = names[start:end]
            if key not in result or (sym[info_i] >> 4) == 1:  # a global wins over a local
                result[key] = (sym[value_i], sym[size_i])
        return result

    # -- DWARF: layouts and constants --------------------------------------------------
    def struct_layout(self, type_name: str) -> Optional[StructLayout]:
        """Layout of a struct named as DWARF names it ('runtime.g', 'internal/abi.Type')."""
        if type_name.startswith("struct "):
            type_name = type_name[len("struct "):]
        if type_name not in self._layouts:
            stored = self._answer("layouts", type_name, lambda dwarf: _layout_to_json(dwarf.struct_layout(type_name)))
            self._layouts[type_name] = _layout_from_json(stored)
        return self._layouts[type_name]

    def constant(self, name: str) -> Optional[int]:
        """A Go constant the compiler wrote to DWARF ('runtime._Gscan'), None when absent."""
        return self._answer("constants", name, lambda dwarf: dwarf.constant(name))

    @property
    def has_dwarf(self) -> bool:
        return self._has_dwarf_sections()

    def _has_dwarf_sections(self) -> bool:
        return ".debug_info" in self._sections or ".zdebug_info" in self._sections

    def _answer(self, kind: str, name: str, compute: Callable[["_Dwarf"], Any]) -> Any:
        """The cached answer, else one computed from DWARF (and then cached)."""
        table = self._cache[kind]
        if name in table:
            return table[name]
        dwarf = self._dwarf_index()
        if dwarf is None:
            return None
        if not self._cache.get("prefetched"):
            self._prefetch(dwarf)
        if name not in table:
            table[name] = _safely(lambda: compute(dwarf))
        self._save_cache()
        return table[name]

    def _prefetch(self, dwarf: "_Dwarf") -> None:
        """Resolve everything gdbgomem asks of a binary at once (one cache write for all)."""
        self._cache["prefetched"] = True
        for kind, names, compute in (("layouts", PROJECT_TYPES, lambda n: _layout_to_json(dwarf.struct_layout(n))),
                                     ("constants", PROJECT_CONSTANTS, dwarf.constant),
                                     ("variables", PROJECT_VARIABLES, dwarf.variable_size)):
            for name in names:
                self._cache[kind][name] = _safely(functools.partial(compute, name))

    def _dwarf_index(self) -> Optional["_Dwarf"]:
        if not self._dwarf_tried:
            self._dwarf_tried = True
            if self._has_dwarf_sections():
                try:
                    self._dwarf = _Dwarf(self)
                except Exception as exc:
                    self.dwarf_error = f"{type(exc).__name__}: {exc}"
                    self._dwarf = None
        return self._dwarf

    @property
    def dwarf_read(self) -> bool:
        """True once this object had to read DWARF (a cache miss), False while the cache sufficed."""
        return self._dwarf_tried

    @property
    def dwarf_units_scanned(self) -> int:
        """How many compilation units were walked so far (0 when everything came from the cache)."""
        return self._dwarf.units_scanned if self._dwarf is not None else 0

    # -- the disk cache ----------------------------------------------------------------
    def _empty_cache(self) -> Dict[str, Any]:
        return {"format": CACHE_FORMAT, "build_id": self.build_id, "size": self.file_size,
                "mtime_ns": self.mtime_ns, "layouts": {}, "constants": {}, "variables": {},
                "addresses": {}}

    def _load_cache(self) -> Dict[str, Any]:
        empty = self._empty_cache()
        if self._cache_path is None:
            return empty
        try:
            with open(self._cache_path, "r", encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return empty
        if not isinstance(stored, dict) or any(stored.get(key) != empty[key]
                                               for key in ("format", "build_id", "size", "mtime_ns")):
            return empty
        for kind in ("layouts", "constants", "variables", "addresses"):
            if not isinstance(stored.get(kind), dict):
                return empty
        return stored

    def _save_cache(self) -> None:
        """Write the cache atomically; a cache that cannot be written is no error."""
        if self._cache_path is None:
            return
        directory = os.path.dirname(self._cache_path)
        tmp = f"{self._cache_path}.{os.getpid()}.tmp"
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self._cache, handle, separators=(",", ":"))
            os.replace(tmp, self._cache_path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def default_cache_dir() -> str:
    base = os.environ.get(CACHE_DIR_ENV)
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "gdbgomem")
    return os.path.join(base, "binaries")


def _cache_file(cache_dir: Optional[str], build_id: Optional[str], path: str) -> str:
    directory = cache_dir or default_cache_dir()
    if build_id and re.fullmatch(r"[0-9a-f]{8,128}", build_id):
        stem = build_id
    else:  # Go's build id has slashes; no build id at all: key the file by the binary's path
        stem = hashlib.sha256((build_id or "path:" + os.path.realpath(path)).encode()).hexdigest()[:40]
    return os.path.join(directory, stem + ".json")


def _safely(compute: Callable[[], Any]) -> Any:
    """A DWARF answer, or None when the DWARF is damaged in a way the decoder trips over."""
    try:
        return compute()
    except Exception:
        return None


def _notes(data, offset: int, size: int, little: bool) -> Dict[Tuple[bytes, int], bytes]:
    """(owner name, type) -> descriptor of the ELF notes in data[offset:offset+size]."""
    order = "<" if little else ">"
    found = {}
    pos, end = offset, min(offset + size, len(data))
    while pos + 12 <= end:
        namesz, descsz, kind = struct.unpack_from(order + "III", data, pos)
        pos += 12
        name = bytes(data[pos:pos + namesz]).rstrip(b"\0")
        pos += (namesz + 3) & ~3
        desc = bytes(data[pos:pos + descsz])
        pos += (descsz + 3) & ~3
        if pos > end:
            break
        found.setdefault((name, kind), desc)
    return found


def _layout_to_json(layout: Optional[StructLayout]) -> Optional[dict]:
    if layout is None:
        return None
    return {"name": layout.name, "size": layout.size,
            "fields": {name: [f.offset, f.size, f.type_name, _layout_to_json(f.layout)]
                       for name, f in layout.fields.items()}}


def _layout_from_json(stored: Optional[dict]) -> Optional[StructLayout]:
    if not isinstance(stored, dict):
        return None
    try:
        fields = {name: Field(int(offset), int(size), str(type_name), _layout_from_json(inner))
                  for name, (offset, size, type_name, inner) in stored["fields"].items()}
        return StructLayout(str(stored["name"]), int(stored["size"]), fields)
    except (KeyError, TypeError, ValueError):
        return None


def package_of(name: str) -> str:
    """The import path of a qualified Go name: 'internal/abi.Type' -> 'internal/abi'.

    The package ends at the first dot after the last slash; type arguments in brackets
    ('sync/atomic.Pointer[internal/sync.entry]') do not count.
    """
    head = name.split("[", 1)[0]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    return head[:dot] if dot >= 0 else head


# -- DWARF ---------------------------------------------------------------------------------
# Numbers from the DWARF 5 standard (section 7), plus the GNU forms still seen in the wild.
_TAG_ARRAY = 0x01
_TAG_CLASS = 0x02
_TAG_ENUMERATION = 0x04
_TAG_MEMBER = 0x0d
_TAG_POINTER = 0x0f
_TAG_REFERENCE = 0x10
_TAG_COMPILE_UNIT = 0x11
_TAG_STRUCTURE = 0x13
_TAG_SUBROUTINE = 0x15
_TAG_TYPEDEF = 0x16
_TAG_UNION = 0x17
_TAG_SUBRANGE = 0x21
_TAG_BASE = 0x24
_TAG_CONST = 0x26
_TAG_CONSTANT = 0x27
_TAG_VARIABLE = 0x34
_TAG_VOLATILE = 0x35
_TAG_RESTRICT = 0x37
_TAG_UNSPECIFIED = 0x3b
_TAG_RVALUE_REFERENCE = 0x42
_TAG_ATOMIC = 0x47

_AT_LOCATION = 0x02
_AT_NAME = 0x03
_AT_BYTE_SIZE = 0x0b
_AT_CONST_VALUE = 0x1c
_AT_LOWER_BOUND = 0x22
_AT_UPPER_BOUND = 0x2f
_AT_COUNT = 0x37
_AT_DATA_MEMBER_LOCATION = 0x38
_AT_DECLARATION = 0x3c
_AT_ENCODING = 0x3e
_AT_TYPE = 0x49
_AT_DATA_BIT_OFFSET = 0x6b
_AT_SIBLING = 0x01
_AT_STR_OFFSETS_BASE = 0x72

_ATE_SIGNED = (0x05, 0x06, 0x0d)  # signed, signed_char, signed_fixed
_ATE_UNSIGNED = (0x02, 0x07, 0x08, 0x0e, 0x10)  # boolean, unsigned, unsigned_char, unsigned_fixed, UTF

_TYPE_TAGS = frozenset((_TAG_ARRAY, _TAG_CLASS, _TAG_ENUMERATION, _TAG_POINTER, _TAG_REFERENCE,
                        _TAG_STRUCTURE, _TAG_SUBROUTINE, _TAG_TYPEDEF, _TAG_UNION, _TAG_BASE,
                        _TAG_UNSPECIFIED, _TAG_RVALUE_REFERENCE))
_STRIPPED_TAGS = frozenset((_TAG_TYPEDEF, _TAG_CONST, _TAG_VOLATILE, _TAG_RESTRICT, _TAG_ATOMIC))
_STRUCT_TAGS = frozenset((_TAG_STRUCTURE, _TAG_CLASS))  # gdb's TYPE_CODE_STRUCT
_RECORD_TAGS = frozenset((_TAG_STRUCTURE, _TAG_CLASS, _TAG_UNION))
_POINTER_TAGS = frozenset((_TAG_POINTER, _TAG_REFERENCE, _TAG_RVALUE_REFERENCE, _TAG_SUBROUTINE))
_INDEXED_TAGS = _TYPE_TAGS | {_TAG_CONSTANT, _TAG_VARIABLE}

# Forms, grouped by how their bytes are laid out.
_FORM_ADDR = 0x01
_FORM_BLOCK2, _FORM_BLOCK4, _FORM_BLOCK, _FORM_BLOCK1, _FORM_EXPRLOC = 0x03, 0x04, 0x09, 0x0a, 0x18
_FORM_DATA1, _FORM_DATA2, _FORM_DATA4, _FORM_DATA8, _FORM_DATA16 = 0x0b, 0x05, 0x06, 0x07, 0x1e
_FORM_STRING = 0x08
_FORM_FLAG = 0x0c
_FORM_SDATA = 0x0d
_FORM_STRP = 0x0e
_FORM_UDATA = 0x0f
_FORM_REF_ADDR = 0x10
_FORM_REF1, _FORM_REF2, _FORM_REF4, _FORM_REF8, _FORM_REF_UDATA = 0x11, 0x12, 0x13, 0x14, 0x15
_FORM_INDIRECT = 0x16
_FORM_SEC_OFFSET = 0x17
_FORM_FLAG_PRESENT = 0x19
_FORM_STRX, _FORM_ADDRX = 0x1a, 0x1b
_FORM_REF_SUP4, _FORM_STRP_SUP = 0x1c, 0x1d
_FORM_LINE_STRP = 0x1f
_FORM_REF_SIG8 = 0x20
_FORM_IMPLICIT_CONST = 0x21
_FORM_LOCLISTX, _FORM_RNGLISTX, _FORM_REF_SUP8 = 0x22, 0x23, 0x24
_FORM_STRX1, _FORM_STRX2, _FORM_STRX3, _FORM_STRX4 = 0x25, 0x26, 0x27, 0x28
_FORM_ADDRX1, _FORM_ADDRX2, _FORM_ADDRX3, _FORM_ADDRX4 = 0x29, 0x2a, 0x2b, 0x2c
_FORM_GNU_ADDR_INDEX, _FORM_GNU_STR_INDEX, _FORM_GNU_REF_ALT, _FORM_GNU_STRP_ALT = 0x1f01, 0x1f02, 0x1f20, 0x1f21

_FIXED_SIZES = {_FORM_DATA1: 1, _FORM_DATA2: 2, _FORM_DATA4: 4, _FORM_DATA8: 8, _FORM_DATA16: 16,
                _FORM_FLAG: 1, _FORM_REF1: 1, _FORM_REF2: 2, _FORM_REF4: 4, _FORM_REF8: 8,
                _FORM_REF_SIG8: 8, _FORM_REF_SUP4: 4, _FORM_REF_SUP8: 8, _FORM_STRX1: 1, _FORM_STRX2: 2,
                _FORM_STRX3: 3, _FORM_STRX4: 4, _FORM_ADDRX1: 1, _FORM_ADDRX2: 2, _FORM_ADDRX3: 3,
                _FORM_ADDRX4: 4, _FORM_FLAG_PRESENT: 0, _FORM_IMPLICIT_CONST: 0}
_OFFSET_FORMS = frozenset((_FORM_STRP, _FORM_SEC_OFFSET, _FORM_LINE_STRP, _FORM_STRP_SUP,
                           _FORM_GNU_REF_ALT, _FORM_GNU_STRP_ALT))
_LEB_FORMS = frozenset((_FORM_SDATA, _FORM_UDATA, _FORM_REF_UDATA, _FORM_STRX, _FORM_ADDRX, _FORM_LOCLISTX,
                        _FORM_RNGLISTX, _FORM_GNU_ADDR_INDEX, _FORM_GNU_STR_INDEX))
_BLOCK_FORMS = {_FORM_BLOCK1: 1, _FORM_BLOCK2: 2, _FORM_BLOCK4: 4, _FORM_BLOCK: 0, _FORM_EXPRLOC: 0}

_LEB_PATTERN = rb"[\x80-\xff]*[\x00-\x7f]"
_STRING_PATTERN = rb"[^\x00]*\x00"

_MAX_HOPS = 32  # typedef chains, nested arrays: bounded so corrupt DWARF cannot loop


class _DwarfError(Exception):
    """The DWARF is not what its headers promise."""


class _Unit:
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


class _Abbrev:
    """One abbreviation: tag, children flag, attribute specs and a compiled way to skip them."""

    __slots__ = ("tag", "has_children", "specs", "skip")

    def __init__(self, tag, has_children, specs):
        self.tag, self.has_children, self.specs = tag, has_children, specs
        self.skip: Any = None


class _Die:
    __slots__ = ("offset", "tag", "has_children", "attrs", "forms", "children", "unit")

    def __init__(self, offset, tag, has_children, attrs, forms, children, unit):
        self.offset, self.tag, self.has_children = offset, tag, has_children
        self.attrs, self.forms, self.children, self.unit = attrs, forms, children, unit


class _Dwarf:
    """A name index over the DWARF of a Go binary, and layouts resolved from it on demand."""

    def __init__(self, binary: GoBinary):
        elf = binary._elf
        self.pointer_size = binary.pointer_size
        self._order = "<" if binary.little_endian else ">"
        self.info = _debug_section(elf, "info")
        self.abbrev_data = _debug_section(elf, "abbrev")
        if self.info is None or self.abbrev_data is None:
            raise _DwarfError("no .debug_info or .debug_abbrev")
        self._elf = elf
        self._strings: Dict[str, Optional[bytes]] = {}
        self._abbrev_tables: Dict[Tuple[int, int, int, int], Dict[int, _Abbrev]] = {}
        self.units = self._parse_units()
        self._starts = [unit.offset for unit in self.units]
        self.types: Dict[str, int] = {}
        self.typedefs: Dict[str, int] = {}
        self.constants: Dict[str, Tuple[Any, int, Optional[int]]] = {}
        self.variables: Dict[str, Tuple[Optional[int], Any]] = {}
        self.units_scanned = 0
        self._dies: Dict[int, Optional[_Die]] = {}
        self._sizes: Dict[int, Optional[int]] = {}
        self._names: Dict[int, str] = {}
        self._nested: Dict[Tuple[int, int], StructLayout] = {}
        self._all_scanned = False

    # -- units and abbreviations -------------------------------------------------------
    def _parse_units(self) -> List[_Unit]:
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
            unit = _Unit(pos, end, die, version, address_size, offset_size, abbrevs)
            units.append(unit)
            try:
                top = self._read_die(unit, die)
            except (IndexError, KeyError, struct.error, _DwarfError):
                top = None
            if top is not None:
                name = top.attrs.get(_AT_NAME)
                unit.name = _text(name) if isinstance(name, bytes) else None
                base = top.attrs.get(_AT_STR_OFFSETS_BASE)
                unit.str_offsets_base = base if isinstance(base, int) else None
            pos = end
        return units

    def _abbrevs(self, offset: int, version: int, address_size: int, offset_size: int) -> Dict[int, _Abbrev]:
        key = (offset, version, address_size, offset_size)
        table = self._abbrev_tables.get(key)
        if table is None:
            table = _parse_abbrevs(self.abbrev_data, offset)
            for abbrev in table.values():
                abbrev.skip = _skip_plan(abbrev.specs, version, address_size, offset_size)
            self._abbrev_tables[key] = table
        return table

    def _unit_at(self, offset: int) -> Optional[_Unit]:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        unit = self.units[i]
        return unit if unit.die_offset <= offset < unit.end else None

    # -- scanning: the top-level DIEs of a unit ------------------------------------------
    def _scan(self, unit: _Unit) -> None:
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
                code, pos = _uleb(data, here)
            if code == 0:
                depth -= 1
                if depth <= 0:
                    break
                continue
            abbrev = abbrevs.get(code)
            if abbrev is None:
                raise _DwarfError(f"unknown abbreviation {code} at 0x{here:x}")
            if depth == 1 and abbrev.tag in _INDEXED_TAGS:
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
        raw = attrs.get(_AT_NAME)
        if not isinstance(raw, bytes):
            return
        name = _text(raw)
        if tag == _TAG_CONSTANT:
            self.constants.setdefault(name, (attrs.get(_AT_CONST_VALUE), forms.get(_AT_CONST_VALUE, 0),
                                             attrs.get(_AT_TYPE)))
        elif tag == _TAG_VARIABLE:
            if _AT_DECLARATION not in attrs:
                self.variables.setdefault(name, (attrs.get(_AT_TYPE), attrs.get(_AT_LOCATION)))
        elif tag == _TAG_TYPEDEF:
            self.typedefs.setdefault(name, offset)
        elif _AT_DECLARATION not in attrs:
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
                while form == _FORM_INDIRECT:
                    form, pos = _uleb(data, pos)
                _value, pos = self._read_form(form, pos, version, address_size, offset_size, None)
            elif step == "b1":
                pos += 1 + data[pos]
            elif step == "b2":
                pos += 2 + struct.unpack_from(self._order + "H", data, pos)[0]
            elif step == "b4":
                pos += 4 + struct.unpack_from(self._order + "I", data, pos)[0]
            elif step == "bu":
                length, pos = _uleb(data, pos)
                pos += length
            else:
                pos = step.match(data, pos).end()
        return pos

    def _read_attrs(self, unit: _Unit, abbrev: _Abbrev, pos: int):
        attrs: Dict[int, Any] = {}
        forms: Dict[int, int] = {}
        version, address_size, offset_size = unit.version, unit.address_size, unit.offset_size
        for attr, form, implicit in abbrev.specs:
            while form == _FORM_INDIRECT:
                form, pos = _uleb(self.info, pos)
            if form == _FORM_IMPLICIT_CONST:
                value = implicit
            else:
                value, pos = self._read_form(form, pos, version, address_size, offset_size, unit)
            attrs[attr] = value
            forms[attr] = form
        return attrs, forms, pos

    def _read_form(self, form: int, pos: int, version: int, address_size: int, offset_size: int,
                   unit: Optional[_Unit]) -> Tuple[Any, int]:
        """The value of one attribute: ints, bytes for strings and blocks, absolute DIE offsets
        for references (None for references outside .debug_info)."""
        data, order = self.info, self._order
        if form == _FORM_STRING:
            end = data.index(b"\0", pos)
            return data[pos:end], end + 1
        if form in (_FORM_UDATA, _FORM_REF_UDATA):
            value, pos = _uleb(data, pos)
            return (value + unit.offset if unit is not None else None) if form == _FORM_REF_UDATA else value, pos
        if form == _FORM_SDATA:
            return _sleb(data, pos)
        if form in _LEB_FORMS:
            value, pos = _uleb(data, pos)
            if form in (_FORM_STRX, _FORM_GNU_STR_INDEX):
                return self._indexed_string(unit, value, offset_size), pos
            return value, pos
        if form in (_FORM_REF1, _FORM_REF2, _FORM_REF4, _FORM_REF8):
            size = _FIXED_SIZES[form]
            value = int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big")
            return (value + unit.offset if unit is not None else None), pos + size
        if form in (_FORM_STRX1, _FORM_STRX2, _FORM_STRX3, _FORM_STRX4):
            size = _FIXED_SIZES[form]
            index = int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big")
            return self._indexed_string(unit, index, offset_size), pos + size
        if form in _FIXED_SIZES:
            size = _FIXED_SIZES[form]
            return int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big"), pos + size
        if form == _FORM_ADDR:
            return int.from_bytes(data[pos:pos + address_size], "little" if order == "<" else "big"), pos + address_size
        if form == _FORM_REF_ADDR:
            size = address_size if version <= 2 else offset_size
            return int.from_bytes(data[pos:pos + size], "little" if order == "<" else "big"), pos + size
        if form in _OFFSET_FORMS:
            value = int.from_bytes(data[pos:pos + offset_size], "little" if order == "<" else "big")
            pos += offset_size
            if form == _FORM_STRP:
                return self._string_at(".debug_str", value), pos
            if form == _FORM_LINE_STRP:
                return self._string_at(".debug_line_str", value), pos
            if form in (_FORM_GNU_REF_ALT, _FORM_GNU_STRP_ALT, _FORM_STRP_SUP):
                return None, pos  # lives in a supplementary file we do not have
            return value, pos
        if form in _BLOCK_FORMS:
            width = _BLOCK_FORMS[form]
            if width:
                length = int.from_bytes(data[pos:pos + width], "little" if order == "<" else "big")
                pos += width
            else:
                length, pos = _uleb(data, pos)
            return data[pos:pos + length], pos + length
        raise _DwarfError(f"unknown attribute form 0x{form:x}")

    def _string_at(self, section: str, offset: int) -> Optional[bytes]:
        if section not in self._strings:
            self._strings[section] = _debug_section(self._elf, section[len(".debug_"):])
        table = self._strings[section]
        if table is None or offset >= len(table):
            return None
        end = table.find(b"\0", offset)
        return table[offset:end if end >= 0 else len(table)]

    def _indexed_string(self, unit: Optional[_Unit], index: int, offset_size: int) -> Optional[bytes]:
        if unit is None:
            return None
        if ".debug_str_offsets" not in self._strings:
            self._strings[".debug_str_offsets"] = _debug_section(self._elf, "str_offsets")
        table = self._strings[".debug_str_offsets"]
        base = unit.str_offsets_base if unit.str_offsets_base is not None else 8
        at = base + index * offset_size
        if table is None or at + offset_size > len(table):
            return None
        offset = int.from_bytes(table[at:at + offset_size], "little" if self._order == "<" else "big")
        return self._string_at(".debug_str", offset)

    def _read_die(self, unit: _Unit, offset: int) -> Optional[_Die]:
        code, pos = _uleb(self.info, offset)
        if code == 0:
            return None
        abbrev = unit.abbrevs.get(code)
        if abbrev is None:
            raise _DwarfError(f"unknown abbreviation {code} at 0x{offset:x}")
        attrs, forms, pos = self._read_attrs(unit, abbrev, pos)
        return _Die(offset, abbrev.tag, abbrev.has_children, attrs, forms, pos, unit)

    def die(self, offset: Optional[int]) -> Optional[_Die]:
        """The DIE at an absolute .debug_info offset, None when there is none."""
        if not isinstance(offset, int):
            return None
        if offset not in self._dies:
            unit = self._unit_at(offset)
            self._dies[offset] = self._read_die(unit, offset) if unit is not None else None
        return self._dies[offset]

    def children(self, die: _Die) -> Iterator[_Die]:
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
            elif isinstance(child.attrs.get(_AT_SIBLING), int) and child.attrs[_AT_SIBLING] > pos:
                pos = child.attrs[_AT_SIBLING]
            else:
                pos = self._subtree_end(child)

    def _subtree_end(self, die: _Die) -> int:
        """Offset just past a DIE's children (walked without decoding them)."""
        data, abbrevs, end = self.info, die.unit.abbrevs, die.unit.end
        pos, depth = die.children, 1
        while pos < end:
            code, pos = _uleb(data, pos)
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

    def strip(self, offset: Optional[int]) -> Optional[_Die]:
        """The type under typedefs and qualifiers; None for void or a broken chain."""
        for _ in range(_MAX_HOPS):
            die = self.die(offset)
            if die is None or die.tag not in _STRIPPED_TAGS:
                return die
            offset = die.attrs.get(_AT_TYPE)
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
        size = die.attrs.get(_AT_BYTE_SIZE)
        if die.tag in _POINTER_TAGS:
            # A Go func value is a pointer; gdb's 1 for DW_TAG_subroutine_type is C's notion.
            return size if isinstance(size, int) and size > 0 else self.pointer_size
        if isinstance(size, int):
            return size
        if die.tag == _TAG_ARRAY:
            element = self.size_of(die.attrs.get(_AT_TYPE))
            if element is None:
                return None
            total = element
            for child in self.children(die):
                if child.tag == _TAG_SUBRANGE:
                    total *= self._subrange_count(child)
            return total
        return None

    @staticmethod
    def _subrange_count(die: _Die) -> int:
        count = die.attrs.get(_AT_COUNT)
        if isinstance(count, int) and die.forms.get(_AT_COUNT) not in (_FORM_REF_ADDR, _FORM_REF4, _FORM_REF_UDATA):
            return count
        upper = die.attrs.get(_AT_UPPER_BOUND)
        lower = die.attrs.get(_AT_LOWER_BOUND, 0)
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
        name = die.attrs.get(_AT_NAME)
        if isinstance(name, bytes):
            return _text(name)
        target = die.attrs.get(_AT_TYPE)
        if die.tag in (_TAG_POINTER, _TAG_REFERENCE, _TAG_RVALUE_REFERENCE):
            return "*" + self.name_of(target) if target is not None else "unsafe.Pointer"
        if die.tag == _TAG_ARRAY:
            counts = "".join(f"[{self._subrange_count(c)}]" for c in self.children(die) if c.tag == _TAG_SUBRANGE)
            return counts + self.name_of(target)
        if die.tag in (_TAG_CONST, _TAG_VOLATILE, _TAG_RESTRICT, _TAG_ATOMIC, _TAG_TYPEDEF):
            return self.name_of(target)
        if die.tag == _TAG_SUBROUTINE:
            return "func(...)"
        return {_TAG_STRUCTURE: "struct {...}", _TAG_UNION: "union {...}", _TAG_CLASS: "class {...}"}.get(die.tag, "?")

    def struct_layout(self, name: str) -> Optional[StructLayout]:
        offset = self.find_type(name)
        die = self.strip(offset)
        if die is None or die.tag not in _RECORD_TAGS:
            return None
        return self._layout(name, die, 0)

    def _layout(self, name: str, die: _Die, depth: int) -> StructLayout:
        """Members like gdbgomem.target.gdb._to_layout describes them, nested struct members
        down to NESTING_LIMIT."""
        fields: Dict[str, Field] = {}
        for member in self.children(die):
            if member.tag != _TAG_MEMBER or _AT_DECLARATION in member.attrs:
                continue
            raw = member.attrs.get(_AT_NAME)
            if not isinstance(raw, bytes):
                continue
            type_offset = member.attrs.get(_AT_TYPE)
            inner = None
            target = self.strip(type_offset)
            if target is not None and target.tag in _STRUCT_TAGS and depth < NESTING_LIMIT:
                key = (target.offset, depth + 1)
                type_name = self.name_of(type_offset)
                if key not in self._nested or self._nested[key].name != type_name:
                    self._nested[key] = self._layout(type_name, target, depth + 1)
                inner = self._nested[key]
            fields[_text(raw)] = Field(_member_offset(member), self.size_of(type_offset) or 0,
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
        encoding = base.attrs.get(_AT_ENCODING) if base is not None else None
        width = _FIXED_SIZES.get(form) if form in (_FORM_DATA1, _FORM_DATA2, _FORM_DATA4, _FORM_DATA8) else None
        if width and encoding in _ATE_SIGNED and value >= 1 << (8 * width - 1):
            value -= 1 << (8 * width)  # fixed-size data forms carry no sign of their own
        size = base.attrs.get(_AT_BYTE_SIZE) if base is not None else None
        if value < 0 and encoding in _ATE_UNSIGNED and isinstance(size, int) and 0 < size <= 16:
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
        location = entry[1] if entry is not None else None
        if isinstance(location, bytes) and len(location) == 1 + self.pointer_size and location[0] == 0x03:
            return int.from_bytes(location[1:], "little" if self._order == "<" else "big")
        return None


def _member_offset(member: _Die) -> int:
    location = member.attrs.get(_AT_DATA_MEMBER_LOCATION)
    if isinstance(location, int):
        return location
    if isinstance(location, bytes) and location[:1] == b"\x23":  # DW_OP_plus_uconst
        return _uleb(location, 1)[0]
    bits = member.attrs.get(_AT_DATA_BIT_OFFSET)
    if isinstance(bits, int):
        return bits // 8
    return 0


def _debug_section(elf: ELFFile, name: str) -> Optional[bytes]:
    """A .debug_<name> section's bytes, decompressed (SHF_COMPRESSED or GNU .zdebug_)."""
    section = elf.get_section_by_name(".debug_" + name)
    if section is not None:
        if section["sh_type"] == _SHT_NOBITS:
            return None
        return bytes(section.data())  # pyelftools inflates SHF_COMPRESSED sections
    section = elf.get_section_by_name(".zdebug_" + name)
    if section is not None and section["sh_type"] != _SHT_NOBITS:
        raw = section.data()
        if raw[:4] == b"ZLIB" and len(raw) >= 12:
            return zlib.decompress(raw[12:])
        return bytes(raw)
    return None


def _parse_abbrevs(data: bytes, offset: int) -> Dict[int, _Abbrev]:
    table: Dict[int, _Abbrev] = {}
    pos = offset
    while pos < len(data):
        code, pos = _uleb(data, pos)
        if code == 0:
            break
        tag, pos = _uleb(data, pos)
        has_children = data[pos] != 0
        pos += 1
        specs = []
        while True:
            attr, pos = _uleb(data, pos)
            form, pos = _uleb(data, pos)
            implicit = None
            if form == _FORM_IMPLICIT_CONST:
                implicit, pos = _sleb(data, pos)
            if attr == 0 and form == 0:
                break
            specs.append((attr, form, implicit))
        table[code] = _Abbrev(tag, has_children, tuple(specs))
    return table


def _skip_plan(specs, version: int, address_size: int, offset_size: int):
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
        if form in _FIXED_SIZES:
            fixed += _FIXED_SIZES[form]
        elif form == _FORM_ADDR:
            fixed += address_size
        elif form == _FORM_REF_ADDR:
            fixed += address_size if version <= 2 else offset_size
        elif form in _OFFSET_FORMS:
            fixed += offset_size
        elif form in _LEB_FORMS:
            flush_fixed()
            pattern.append(_LEB_PATTERN)
        elif form == _FORM_STRING:
            flush_fixed()
            pattern.append(_STRING_PATTERN)
        elif form in _BLOCK_FORMS:
            flush_pattern()
            steps.append({1: "b1", 2: "b2", 4: "b4", 0: "bu"}[_BLOCK_FORMS[form]])
        else:  # DW_FORM_indirect or a form this reader does not know: decoded the slow way
            flush_pattern()
            steps.append((form, version, address_size, offset_size))
    if not steps and not pattern:
        return fixed
    flush_pattern()
    return steps[0] if len(steps) == 1 and steps[0].__class__ is re.Pattern else steps


def _compile_pattern(parts: List[bytes]):
    return re.compile(b"".join(parts), re.DOTALL)


def _uleb(data, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _sleb(data, pos: int) -> Tuple[int, int]:
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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class FactsFromBinary:
    """Mixin for Targets whose debugger cannot read Go's DWARF (lldb) or that have no
    debugger (cores): symbol sizes, struct layouts and constants come from self.binary."""

    binary: GoBinary

    def symbol_size(self, name: str) -> Optional[int]:
        return self.binary.symbol_size(name)

    def struct_layout(self, type_name: str):
        return self.binary.struct_layout(type_name)

    def constant(self, name: str) -> Optional[int]:
        return self.binary.constant(name)
