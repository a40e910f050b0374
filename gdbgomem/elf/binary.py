"""Static facts of a Go executable, read from its ELF file without a debugger.

Used where no debugger can describe the program: offline analysis of a core
file, and lldb (which does not read Go's DWARF types). GoBinary answers the
questions a Target needs from the executable itself: symbol addresses
(.symtab), struct layouts, constants and variable sizes (DWARF, through
gdbgomem.elf.dwarf), and the bytes of initialized data (the file's PT_LOAD
segments). pyelftools does the ELF work (headers, sections, segments,
decompression of SHF_COMPRESSED sections).

DWARF answers are kept in a per-binary cache on disk (gdbgomem.elf.layout_cache),
so a later open of the same binary answers without touching DWARF at all. The
first time DWARF has to be read, the caller's whole wish list (what the runtime
decoders will ask for) is resolved at once, so that one cache write holds it.
"""

from __future__ import annotations

import functools
import mmap
import os
import struct
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from elftools.elf.elffile import ELFFile

from gdbgomem.elf.dwarf import DwarfIndex
from gdbgomem.elf.dwarf_locals import FrameLocals
from gdbgomem.elf.dwarf_format import SHF_ALLOC, SHT_NOBITS
from gdbgomem.elf.layout import StructLayout, layout_from_json, layout_to_json
from gdbgomem.elf.debug_files import find_debug_file
from gdbgomem.elf.layout_cache import LayoutCache, cache_file, content_hash

_ET_DYN = "ET_DYN"
_PT_LOAD = "PT_LOAD"
_NT_GNU_BUILD_ID = 3
_NT_GO_BUILD_ID = 4
_PF_W = 2


@dataclass(frozen=True)
class WishList:
    """Names a reader of the binary will ask for: struct types, constants and variables."""

    types: Tuple[str, ...] = ()
    constants: Tuple[str, ...] = ()
    variables: Tuple[str, ...] = ()


class GoBinary:
    """A Go executable opened for its static facts: symbols, DWARF layouts, constants, data.

    Addresses are link-time addresses; for a position-independent executable the
    caller adds the load bias. Lookups return None for whatever the binary does not
    have (a stripped symbol table, no DWARF, a damaged section); only opening a file
    that is not an ELF executable raises (ValueError).
    """

    def __init__(self, path: str, wish_list: WishList = WishList(), cache_dir: Optional[str] = None,
                 use_cache: bool = True, debug_file: Optional[str] = None, find_debug_file: bool = True):
        """debug_file: the separate debug file of this build; None: looked for where gdb looks
        (build id, .gnu_debuglink) when the binary itself lacks DWARF or symbols, unless
        find_debug_file is False (when opening a debug file itself)."""
        self.path = str(path)
        self.wish_list = wish_list
        self._file = open(self.path, "rb")
        self._map: Optional[mmap.mmap] = None
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        self._symbols: Optional[Dict[bytes, Tuple[int, int]]] = None
        self._sized: Optional[List[Tuple[int, int, str]]] = None
        self._dwarf: Optional[DwarfIndex] = None
        self._dwarf_tried = False
        self._typed_globals: Optional[List[Tuple[int, int]]] = None
        self._frame_locals: Optional[FrameLocals] = None
        self.dwarf_error: Optional[str] = None  # why DWARF could not be read, when it could not
        self._layouts: Dict[str, Optional[StructLayout]] = {}
        self.debug: Optional[GoBinary] = None  # the separate debug file, where one was found or given
        if debug_file is not None or find_debug_file:
            self._attach_debug_file(debug_file)
        self._cache = LayoutCache(cache_file(cache_dir, self.build_id, self.path) if use_cache else None,
                                  lambda: {"build_id": self.build_id, "size": self.file_size,
                                           "sha256": content_hash(self._map) if self._map is not None else None})

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
            self.entry = int(header["e_entry"])  # link-time entry point (the load bias of a PIE: AT_ENTRY - entry)
            self.pointer_size = 8 if self._elf.elfclass == 64 else 4
            self.little_endian = self._elf.little_endian
            load_flags = [(int(s["p_vaddr"]), int(s["p_memsz"]), int(s["p_offset"]), int(s["p_filesz"]),
                           int(s["p_flags"])) for s in self._elf.iter_segments() if s["p_type"] == _PT_LOAD]
            loads = [seg[:4] for seg in load_flags]
            self._sections = {}
            for index, section in enumerate(self._elf.iter_sections()):
                self._sections.setdefault(section.name, index)
        except Exception as exc:  # pyelftools raises many kinds on a damaged header
            raise ValueError(f"not a readable ELF file: {self.path} ({exc})") from None
        self._loads = sorted(loads)
        self._load_flags = sorted(load_flags)
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

    @property
    def is_debug_file(self) -> bool:
        """A separate debug file: its sections are there, their code and data are not."""
        index = self._sections.get(".text")
        return index is not None and self._elf.get_section(index).header["sh_type"] == SHT_NOBITS

    def _attach_debug_file(self, given: Optional[str]) -> None:
        """Open the debug file given, or the one found where gdb looks when the binary lacks
        DWARF or symbols; a file of another build is refused (given) or passed over (found)."""
        if given is None and (".debug_info" in self._sections and ".symtab" in self._sections):
            return
        path = given or find_debug_file(self.path, self.gnu_build_id, self._debuglink())
        if path is None:
            return
        try:
            debug = GoBinary(path, self.wish_list, use_cache=False, find_debug_file=False)
        except (OSError, ValueError):
            if given:
                raise
            return
        if self.build_id and debug.build_id and debug.build_id != self.build_id:
            debug.close()
            if given:
                raise ValueError(f"{path} is the debug file of another build (build id {debug.build_id}, "
                                 f"{self.path} has {self.build_id})")
            return
        self.debug = debug

    def _debuglink(self) -> Optional[Tuple[str, int]]:
        """(file name, CRC-32) of the .gnu_debuglink section."""
        index = self._sections.get(".gnu_debuglink")
        if index is None:
            return None
        data = self._elf.get_section(index).data()
        end = data.find(b"\0")
        if end <= 0 or len(data) < 4:
            return None
        return data[:end].decode("utf-8", "replace"), int.from_bytes(data[-4:], "little" if self.little_endian else "big")

    def header_address(self) -> Optional[int]:
        """The link-time address of the ELF header: that of the PT_LOAD segment mapping file offset 0."""
        return next((vaddr for vaddr, _memsz, offset, _filesz in self._loads if offset == 0), None)

    def section(self, suffix: str) -> Optional[Tuple[int, int]]:
        """(address, size) of the allocated section whose name ends with suffix ('gopclntab' finds
        .gopclntab and a PIE's .data.rel.ro.gopclntab); None when there is none."""
        for name, index in self._sections.items():
            if name.endswith(suffix):
                header = self._elf.get_section(index).header
                if header["sh_addr"] and header["sh_type"] != SHT_NOBITS:
                    return int(header["sh_addr"]), int(header["sh_size"])
        return None

    def loaded_sections(self) -> List[Tuple[str, int, int]]:
        """(name, link-time address, size) of every section the program's image holds in memory
        (SHF_ALLOC: .text, .rodata, .data, .bss...), in address order."""
        found = []
        for name, index in self._sections.items():
            header = self._elf.get_section(index).header
            if header["sh_flags"] & SHF_ALLOC and header["sh_addr"] and header["sh_size"]:
                found.append((name, int(header["sh_addr"]), int(header["sh_size"])))
        return sorted(found, key=lambda s: s[1])

    def find_in_segments(self, needle: bytes, writable: Optional[bool] = None, align: int = 1) -> List[int]:
        """Link-time addresses where needle occurs in the file-backed bytes of the PT_LOAD segments
        (only the writable ones, or only the others, when asked), at multiples of align."""
        found = []
        for vaddr, _memsz, offset, filesz, flags in self._load_flags:
            if writable is not None and bool(flags & _PF_W) != writable or self._map is None:
                continue
            at = self._map.find(needle, offset, offset + filesz)
            while at >= 0:
                if (at - offset) % align == 0:
                    found.append(vaddr + at - offset)
                at = self._map.find(needle, at + 1, offset + filesz)
        return found

    def is_writable_data(self, address: int) -> bool:
        """True inside a writable PT_LOAD segment (data and bss: where a program's globals live)."""
        return any(vaddr <= address < vaddr + memsz and flags & _PF_W
                   for vaddr, memsz, _offset, _filesz, flags in self._load_flags)

    @property
    def has_symbol_table(self) -> bool:
        """False for a binary stripped of its symbols (-ldflags=-s, strip)."""
        return bool(self._symbol_table())

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
        self.gnu_build_id: Optional[str] = None
        self.go_build_id: Optional[str] = None
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
        self.gnu_build_id = gnu.hex() if gnu else None
        go = found.get((b"Go", _NT_GO_BUILD_ID))
        self.go_build_id = go.rstrip(b"\0").decode("ascii", "replace") if go else None
        return self.gnu_build_id or self.go_build_id

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

    def typed_globals(self) -> List[Tuple[int, int]]:
        """(link-time address, offset of its runtime type descriptor in the module's types) of
        each global the DWARF types; empty without DWARF."""
        if self._typed_globals is None:
            dwarf = self._dwarf_index()
            self._typed_globals = (_safely(dwarf.typed_variables) or []) if dwarf is not None else []
        return self._typed_globals

    def frame_locals(self) -> Optional["FrameLocals"]:
        """The reader of functions' local variables from the DWARF (its own or its debug file's);
        None without DWARF."""
        if self._frame_locals is None and self._has_dwarf_sections():
            owner = self.debug if self._dwarf_in_debug_file() else self
            self._frame_locals = _safely(lambda: FrameLocals(owner._elf))
        return self._frame_locals

    def sized_symbols(self) -> List[Tuple[int, int, str]]:
        """(link-time address, size, name) of every symbol with a size, by address: what names
        an address inside a global variable."""
        if self._sized is None:
            self._sized = sorted((address, size, name.decode("utf-8", "replace"))
                                 for name, (address, size) in self._symbol_table().items() if size > 0)
        return self._sized

    def _symbol(self, name: str) -> Optional[Tuple[int, int]]:
        try:
            return self._symbol_table().get(name.encode())
        except UnicodeEncodeError:
            return None

    def _symbol_table(self) -> Dict[bytes, Tuple[int, int]]:
        """.symtab, else the debug file's, else .dynsym (a dynamically linked binary's imports)."""
        if self._symbols is None:
            self._symbols = self._parse_symbols_safely(".symtab")
            if not self._symbols and self.debug is not None:
                self._symbols = self.debug._parse_symbols_safely(".symtab")
            if not self._symbols:
                self._symbols = self._parse_symbols_safely(".dynsym")
        return self._symbols

    def _parse_symbols_safely(self, section_name: str) -> Dict[bytes, Tuple[int, int]]:
        try:
            return self._parse_symbols(section_name)
        except Exception:
            return {}

    def _parse_symbols(self, section_name: str) -> Dict[bytes, Tuple[int, int]]:
        """name -> (st_value, st_size) of every defined symbol, straight from the mapped file."""
        index = self._sections.get(section_name)
        if index is None:
            return {}
        header = self._elf.get_section(index).header
        strtab = self._elf.get_section(header["sh_link"]).header
        if header["sh_type"] == SHT_NOBITS or strtab["sh_type"] == SHT_NOBITS:
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
            stored = self._answer("layouts", type_name, lambda dwarf: layout_to_json(dwarf.struct_layout(type_name)))
            self._layouts[type_name] = layout_from_json(stored)
        return self._layouts[type_name]

    def constant(self, name: str) -> Optional[int]:
        """A Go constant the compiler wrote to DWARF ('runtime._Gscan'), None when absent."""
        return self._answer("constants", name, lambda dwarf: dwarf.constant(name))

    @property
    def has_dwarf(self) -> bool:
        return self._has_dwarf_sections()

    def _has_dwarf_sections(self) -> bool:
        own = ".debug_info" in self._sections or ".zdebug_info" in self._sections
        return own or (self.debug is not None and self.debug._has_dwarf_sections())

    def remembered(self, kind: str, name: str, compute: Callable[[], Any]) -> Any:
        """An answer that depends on this file's bytes alone, from the cache, else computed and,
        when there is one, cached (the cache holds it only for a file of the same content; no
        answer writes no file, for a program that is not Go, say)."""
        table = self._cache.table(kind)
        if name in table:
            return table[name]
        answer = compute()
        if answer is not None:
            table[name] = answer
            self._cache.save()
        return answer

    def _answer(self, kind: str, name: str, compute: Callable[[DwarfIndex], Any]) -> Any:
        """The cached answer, else one computed from DWARF (and then cached)."""
        table = self._cache.table(kind)
        if name in table:
            return table[name]
        dwarf = self._dwarf_index()
        if dwarf is None:
            return None
        if not self._cache.prefetched:
            self._prefetch(dwarf)
        if name not in table:
            table[name] = _safely(lambda: compute(dwarf))
        self._cache.save()
        return table[name]

    def _prefetch(self, dwarf: DwarfIndex) -> None:
        """Resolve the whole wish list at once (one cache write for all)."""
        self._cache.mark_prefetched()
        wanted = self.wish_list
        for kind, names, compute in (("layouts", wanted.types, lambda n: layout_to_json(dwarf.struct_layout(n))),
                                     ("constants", wanted.constants, dwarf.constant),
                                     ("variables", wanted.variables, dwarf.variable_size)):
            table = self._cache.table(kind)
            for name in names:
                table[name] = _safely(functools.partial(compute, name))

    def _dwarf_in_debug_file(self) -> bool:
        return self.debug is not None and ".debug_info" not in self._sections

    def _dwarf_index(self) -> Optional[DwarfIndex]:
        if not self._dwarf_tried and self._dwarf_in_debug_file():
            self._dwarf_tried = True
            self._dwarf = self.debug._dwarf_index()  # the DWARF lives in the debug file
        if not self._dwarf_tried:
            self._dwarf_tried = True
            if self._has_dwarf_sections():
                try:
                    self._dwarf = DwarfIndex(self._elf, self.pointer_size, self.little_endian)
                except Exception as exc:
                    self.dwarf_error = f"{type(exc).__name__}: {exc}"
                    self._dwarf = None
        return self._dwarf

    @property
    def cache_hit(self) -> bool:
        """The answers came from an earlier session's cache."""
        self._cache.table("layouts")  # loads it, if nothing has yet
        return self._cache.hit

    @property
    def cache_warning(self) -> Optional[str]:
        """What was wrong with the cache on disk (and made it unused), if anything."""
        return self._cache.warning

    @property
    def dwarf_read(self) -> bool:
        """True once this object had to read DWARF (a cache miss), False while the cache sufficed."""
        return self._dwarf_tried

    @property
    def dwarf_units_scanned(self) -> int:
        """How many compilation units were walked so far (0 when everything came from the cache)."""
        return self._dwarf.units_scanned if self._dwarf is not None else 0


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
