"""What every Go executable keeps, stripped or not: its function table and its build info.

`-ldflags=-s` drops the symbol table, `-w` the DWARF, but the runtime itself needs the
function table (pclntab: names, entries, line tables; runtime/symtab.go), so it is always
there; and since Go 1.18 the linker writes the build info (the Go version, module paths;
debug/buildinfo) into a section of its own. Both are found by name, or by their magic
numbers where the section headers say nothing.
"""

from __future__ import annotations

from typing import Optional, Tuple

from gdbgomem.elf.binary import GoBinary

PCLNTAB_MAGIC = b"\xf1\xff\xff\xff\x00\x00"  # abi.Go120PCLnTabMagic, then two zero pad bytes
BUILDINFO_MAGIC = b"\xff Go buildinf:"        # debug/buildinfo's buildInfoMagic
_BUILDINFO_HEADER = 32
_FLAG_INLINE_STRINGS = 2                      # the version follows the header (Go 1.18+)
MAX_VERSION = 256


def pclntab_location(binary: GoBinary) -> Optional[Tuple[int, int]]:
    """(link address, bytes available) of the pcHeader: the section named *gopclntab, else the
    first pclntab magic in the read-only segments whose header holds (minLC 1, 2 or 4, pointers
    of 8 bytes)."""
    found = binary.section("gopclntab")
    if found is not None:
        return found
    for address in binary.find_in_segments(PCLNTAB_MAGIC, writable=False, align=8):
        head = binary.read_static(address, 8)
        if head is not None and head[6] in (1, 2, 4) and head[7] == 8:
            return address, _bytes_to_segment_end(binary, address)
    return None


def build_info_version(binary: GoBinary) -> Optional[str]:
    """The Go version the build info records ('go1.27.1'), None without build info."""
    found = binary.section(".go.buildinfo")
    candidates = [found[0]] if found is not None else binary.find_in_segments(BUILDINFO_MAGIC, align=16)
    for address in candidates:
        header = binary.read_static(address, _BUILDINFO_HEADER)
        if header is None or not header.startswith(BUILDINFO_MAGIC) or not header[15] & _FLAG_INLINE_STRINGS:
            continue
        lead = binary.read_static(address + _BUILDINFO_HEADER, 10) or b""
        length, used = _uvarint(lead)
        text = binary.read_static(address + _BUILDINFO_HEADER + used, length) if 0 < length <= MAX_VERSION else None
        if text:
            return text.decode("utf-8", "replace")
    return None


def _uvarint(data: bytes) -> Tuple[int, int]:
    value = shift = 0
    for i, byte in enumerate(data):
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    return 0, len(data)


def _bytes_to_segment_end(binary: GoBinary, address: int) -> int:
    for vaddr, _memsz, _offset, filesz in binary.segments():
        if vaddr <= address < vaddr + filesz:
            return vaddr + filesz - address
    return 0
