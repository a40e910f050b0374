"""Decoder for the Go function table (``.gopclntab``), Go 1.20 .. 1.27.

The table starts with a ``pcHeader`` (runtime/symtab.go) whose magic is
0xfffffff1 (abi.Go120PCLnTabMagic).  Offsets in the header are relative to
the header itself, so the same decoder works on the ELF section contents and
on the bytes read from a live process.  Only 64-bit little-endian tables are
accepted.

Layout (all offsets relative to the pcHeader)::

    pcHeader        magic u32, pad u8 x2, minLC u8, ptrSize u8,
                    nfunc, nfiles, textStart (0 since Go 1.26),
                    funcnameOffset, cuOffset, filetabOffset,
                    pctabOffset, pclnOffset            (uintptr each)
    funcnametab     NUL-terminated names, indexed by _func.nameOff
    cutab           u32 offsets into filetab, indexed by _func.cuOffset+fileno
    filetab         NUL-terminated file names
    pctab           varint-encoded (value, pc) tables, see step()
    pclntable       ftab: nfunc x {entryoff u32, funcoff u32} + end u32,
                    then the _func records (funcoff is relative to pclntable)

Only the runtime's view is decoded; inlining trees, funcdata and pcdata other
than pcsp/pcfile/pcln are out of scope.  Binaries whose text is split into
several sections (moduledata.textsectmap, only on very large ppc64/arm64
binaries) are not supported: entry = text_start + entryoff.

Pure Python, standard library only, so it can be unit-tested without gdb.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Dict, Iterator, Optional, Tuple

__all__ = ["Func", "PclnTab", "GO120_MAGIC"]

GO120_MAGIC = 0xFFFFFFF1  # abi.Go120PCLnTabMagic

# pcHeader with ptrSize 8: u32 magic, u8 pad1, u8 pad2, u8 minLC, u8 ptrSize,
# then 8 uintptr-sized fields.
_HEADER = struct.Struct("<IBBBB8Q")
_HEADER_SIZE = _HEADER.size  # 72

# runtime._func (runtime2.go); the linker's funcSize is 11*4 bytes.
#   entryOff u32, nameOff i32, args i32, deferreturn u32, pcsp u32,
#   pcfile u32, pcln u32, npcdata u32, cuOffset u32, startLine i32,
#   funcID u8, flag u8, pad u8, nfuncdata u8
_FUNC = struct.Struct("<IiiIIIIIIiBBxB")
_FUNC_SIZE = _FUNC.size  # 44

_U32 = struct.Struct("<I")
_U32_CODE = "I" if array("I").itemsize == 4 else "L"  # array typecode for uint32
_NO_CU = 0xFFFFFFFF  # cuOffset of functions without a compilation unit

# Safety bounds for corrupt data.
_MAX_STEPS = 1 << 20  # (value, pc) pairs decoded for one table
_MAX_CACHE = 1 << 20  # entries in the per-(table, pc) value cache


@dataclass(frozen=True)
class Func:
    """One function of the table, as the runtime's funcInfo sees it."""

    entry: int  # absolute entry PC
    name: str
    flag: int  # abi.FuncFlag (TopFrame=1, SPWrite=2, Asm=4)
    func_id: int  # abi.FuncID; numbering differs between Go releases
    start_line: int
    # Private: where the record lives and which pctab tables it uses.
    _index: int = field(default=-1, repr=False, compare=False)
    _off: int = field(default=-1, repr=False)  # offset of the _func record in data
    _end: int = field(default=0, repr=False, compare=False)  # entry of the next ftab slot
    _args: int = field(default=0, repr=False, compare=False)
    _deferreturn: int = field(default=0, repr=False, compare=False)
    _pcsp: int = field(default=0, repr=False, compare=False)
    _pcfile: int = field(default=0, repr=False, compare=False)
    _pcln: int = field(default=0, repr=False, compare=False)
    _npcdata: int = field(default=0, repr=False, compare=False)
    _cu_off: int = field(default=_NO_CU, repr=False, compare=False)
    _nfuncdata: int = field(default=0, repr=False, compare=False)

    @property
    def end(self) -> int:
        """First PC past the function (the next ftab entry, as findfunc uses)."""
        return self._end

    @property
    def args(self) -> int:
        """Size of the in/out argument area (_func.args)."""
        return self._args


class PclnTab:
    """Read-only view of one module's pclntab.

    Construction validates the header and decodes the ftab once; lookups
    after that never raise on corrupt data, they return None instead.
    """

    def __init__(self, data: bytes, text_start: Optional[int] = None):
        """data: the bytes of the table starting at the pcHeader (the
        .gopclntab section contents, or the same bytes read from process
        memory).  text_start: the relocated start of text when it differs
        from pcHeader.textStart (PIE, or Go >= 1.26 which stores 0 there and
        expects moduledata.text / the runtime.text symbol); None = take it
        from the header."""
        data = bytes(data)
        self._data = data
        n = len(data)
        if n < 8:
            raise ValueError(f"pclntab truncated: {n} bytes, need at least 8 for the magic")
        (magic,) = _U32.unpack_from(data, 0)
        if magic != GO120_MAGIC:
            if int.from_bytes(data[:4], "big") == GO120_MAGIC:
                raise ValueError("pclntab is big-endian; only little-endian targets are supported")
            raise ValueError(
                f"bad pclntab magic {magic:#010x}: expected {GO120_MAGIC:#x} (Go 1.20 or later)"
            )
        pad1, pad2, min_lc, ptr_size = data[4], data[5], data[6], data[7]
        if ptr_size != 8:
            raise ValueError(f"pclntab pointer size is {ptr_size}; only 64-bit targets are supported")
        if pad1 or pad2:
            raise ValueError(f"pclntab header padding is not zero ({pad1:#x}, {pad2:#x})")
        if min_lc not in (1, 2, 4):
            raise ValueError(f"pclntab minLC (PC quantum) {min_lc} is not 1, 2 or 4")
        if n < _HEADER_SIZE:
            raise ValueError(f"pclntab truncated: {n} bytes, header needs {_HEADER_SIZE}")
        (_m, _p1, _p2, _lc, _ps, nfunc, nfiles, hdr_text,
         funcname_off, cu_off, filetab_off, pctab_off, pcln_off) = _HEADER.unpack_from(data, 0)

        for what, off in (("funcnameOffset", funcname_off), ("cuOffset", cu_off),
                          ("filetabOffset", filetab_off), ("pctabOffset", pctab_off),
                          ("pclnOffset", pcln_off)):
            if not _HEADER_SIZE <= off <= n:
                raise ValueError(f"pclntab {what} {off:#x} outside the {n}-byte table (truncated?)")
        if nfunc <= 0:
            raise ValueError(f"pclntab has no functions (nfunc={nfunc})")
        ftab_bytes = nfunc * 8 + 4
        if pcln_off + ftab_bytes > n:
            raise ValueError(
                f"pclntab truncated: ftab of {nfunc} functions needs {ftab_bytes} bytes "
                f"at {pcln_off:#x}, table has {n}"
            )

        if text_start is None:
            if hdr_text == 0:
                raise ValueError(
                    "pcHeader does not record textStart (Go >= 1.26 leaves it 0): "
                    "pass text_start (moduledata.text or the runtime.text symbol)"
                )
            text_start = hdr_text
        self.text_start: int = int(text_start)
        self.header_text_start: int = hdr_text
        self.nfunc: int = nfunc
        self.nfiles: int = nfiles
        self.min_lc: int = min_lc

        self._funcname_off = funcname_off
        self._cutab_off = cu_off
        self._filetab_off = filetab_off
        self._pctab_off = pctab_off
        self._pcln_off = pcln_off
        # Each sub-table ends where the next one (in address order) begins;
        # the linker lays them out back to back.  Used to bound lookups.
        starts = sorted({funcname_off, cu_off, filetab_off, pctab_off, pcln_off, n})
        ends = {s: e for s, e in zip(starts, starts[1:])}
        ends[n] = n
        self._funcname_end = ends[funcname_off]
        self._cutab_len = (ends[cu_off] - cu_off) // 4
        self._filetab_end = ends[filetab_off]
        self._pctab_end = ends[pctab_off]

        # ftab: nfunc (entryoff, funcoff) pairs plus the end offset.
        ftab = array(_U32_CODE)
        ftab.frombytes(data[pcln_off:pcln_off + ftab_bytes])
        if sys.byteorder != "little":
            ftab.byteswap()
        self._entryoffs = ftab[0::2]  # nfunc + 1 values, last is the end of text
        self._funcoffs = ftab[1::2]  # nfunc values

        self._func_cache: Dict[int, Optional[Func]] = {}
        self._tables: Dict[int, Optional[Tuple[array, array]]] = {}
        self._values: Dict[Tuple[int, int], Optional[int]] = {}
        self._file_cache: Dict[int, Optional[str]] = {}

    # ---------------------------------------------------------------- funcs

    def find_func(self, pc: int) -> Optional[Func]:
        """The function containing pc, like runtime.findfunc: the last ftab
        entry whose entryoff <= pc - text, as long as pc is before the end
        offset stored after the last entry."""
        try:
            off = pc - self.text_start
            eo = self._entryoffs
            if off < eo[0] or off >= eo[-1]:
                return None
            idx = bisect_right(eo, off, 0, self.nfunc) - 1
            if idx < 0:
                return None
            return self._func_at(idx)
        except Exception:  # corrupt data must not escape
            return None

    def funcs(self) -> Iterator[Func]:
        """Every function in ftab (address) order; undecodable records are skipped."""
        for idx in range(self.nfunc):
            f = self._func_at(idx)
            if f is not None:
                yield f

    @property
    def text_end(self) -> int:
        """The end of the text the table covers (the offset after the last ftab entry)."""
        return self.text_start + self._entryoffs[-1]

    def funcs_named(self, names) -> Dict[str, Func]:
        """The functions with these exact names (those the table has): each name is found in
        funcnametab first, so only the _func records' name offsets are scanned, not decoded."""
        data, wanted = self._data, {}
        for name in names:
            key = b"\0" + name.encode() + b"\0"
            at = data.find(key, self._funcname_off, self._funcname_end)
            if at >= 0:
                wanted[at + 1 - self._funcname_off] = name
            elif data.startswith(key[1:], self._funcname_off):  # the first name has no NUL before it
                wanted[0] = name
        found: Dict[str, Func] = {}
        name_field = struct.Struct("<i")
        for idx in range(self.nfunc):
            off = self._pcln_off + self._funcoffs[idx] + 4
            if off + 4 <= len(data) and name_field.unpack_from(data, off)[0] in wanted:
                func = self._func_at(idx)
                if func is not None and func.name in names:
                    found.setdefault(func.name, func)
                    if len(found) == len(wanted):
                        break
        return found

    def _func_at(self, idx: int) -> Optional[Func]:
        """Decode ftab slot idx into a Func (cached), like funcInfo + funcname."""
        cache = self._func_cache
        if idx in cache:
            return cache[idx]
        f = None
        try:
            f = self._decode_func(idx)
        except Exception:
            f = None
        cache[idx] = f
        return f

    def _decode_func(self, idx: int) -> Optional[Func]:
        data = self._data
        off = self._pcln_off + self._funcoffs[idx]
        if off + _FUNC_SIZE > len(data):
            return None
        (entry_off, name_off, args, deferreturn, pcsp, pcfile, pcln, npcdata,
         cu_off, start_line, func_id, flag, nfuncdata) = _FUNC.unpack_from(data, off)
        # The linker writes the same text offset into the ftab slot and the
        # _func record; a mismatch means the record pointer is corrupt.
        if entry_off != self._entryoffs[idx]:
            return None
        name = self._funcname(name_off)
        if name is None:
            return None
        return Func(
            entry=self.text_start + entry_off,
            name=name,
            flag=flag,
            func_id=func_id,
            start_line=start_line,
            _index=idx,
            _off=off,
            _end=self.text_start + self._entryoffs[idx + 1],
            _args=args,
            _deferreturn=deferreturn,
            _pcsp=pcsp,
            _pcfile=pcfile,
            _pcln=pcln,
            _npcdata=npcdata,
            _cu_off=cu_off,
            _nfuncdata=nfuncdata,
        )

    def name_at(self, name_off: int) -> Optional[str]:
        """A function name by its offset in funcnametab (what an inline tree entry holds)."""
        return self._funcname(name_off)

    def pcdata_value(self, func: Func, table: int, pc: int) -> Optional[int]:
        """runtime.pcdatavalue: the value of func's PCDATA table at pc; None where func has none."""
        if not 0 <= table < func._npcdata:
            return None
        try:
            (off,) = _U32.unpack_from(self._data, func._off + _FUNC_SIZE + 4 * table)
            return self._pcvalue(func, off, pc)
        except Exception:
            return None

    def funcdata_offset(self, func: Func, which: int) -> Optional[int]:
        """Where func's FUNCDATA `which` lies, as an offset from moduledata.gofunc; None if absent."""
        if not 0 <= which < func._nfuncdata:
            return None
        try:
            (off,) = _U32.unpack_from(self._data, func._off + _FUNC_SIZE + 4 * (func._npcdata + which))
        except struct.error:
            return None
        return None if off == 0xFFFFFFFF else off

    def _funcname(self, name_off: int) -> Optional[str]:
        """NUL-terminated string at name_off in funcnametab (moduledata.funcName).

        Unlike the runtime, nameOff 0 is not treated as "no name": the linker
        puts the first function's name there (the runtime reports "" for it,
        debug/gosym and the ELF symbol table report the real name)."""
        start = self._funcname_off + name_off
        if name_off < 0 or start >= self._funcname_end:
            return None
        return self._cstring(start, self._funcname_end)

    def _cstring(self, start: int, limit: int) -> Optional[str]:
        data = self._data
        end = data.find(b"\0", start, limit)
        if end < 0:
            return None
        return data[start:end].decode("utf-8", "replace")

    # --------------------------------------------------------------- pcvalue

    def sp_delta(self, func: Func, pc: int) -> Optional[int]:
        """runtime.funcspdelta: bytes SP has moved since entry at pc (frame.fp
        - frame.sp, before the x86 return address is added).  None when the
        function has no pcsp table or pc is not covered."""
        try:
            return self._pcvalue(func, func._pcsp, pc)
        except Exception:
            return None

    def file_line(self, func: Func, pc: int) -> Optional[Tuple[str, int]]:
        """runtime.funcline1: (file, line) at exactly pc (pcfile + pcln tables,
        file name through cutab/filetab).  None where the runtime says "?"."""
        try:
            fileno = self._pcvalue(func, func._pcfile, pc)
            line = self._pcvalue(func, func._pcln, pc)
            if fileno is None or line is None or fileno == -1 or line == -1:
                return None
            name = self._funcfile(func._cu_off, fileno)
            if name is None:
                return None
            return name, line
        except Exception:
            return None

    def _funcfile(self, cu_off: int, fileno: int) -> Optional[str]:
        """runtime.funcfile: cutab[cuOffset+fileno] -> filetab string (uint32 index arithmetic)."""
        idx = (cu_off + fileno) & 0xFFFFFFFF
        if idx >= self._cutab_len:
            return None
        cache = self._file_cache
        if idx in cache:
            return cache[idx]
        (fileoff,) = _U32.unpack_from(self._data, self._cutab_off + 4 * idx)
        name = None
        if fileoff != 0xFFFFFFFF:
            start = self._filetab_off + fileoff
            if start < self._filetab_end:
                name = self._cstring(start, self._filetab_end)
        cache[idx] = name
        return name

    def _pcvalue(self, func: Func, off: int, pc: int) -> Optional[int]:
        """runtime.pcvalue: the value of pctab table `off` at pc, i.e. the
        value of the first (value, pc) pair whose cumulative pc is > pc.
        Cached per (table offset, pc - entry): tables are deduplicated across
        functions but encode PCs relative to the entry."""
        if off == 0:
            return None
        rel = pc - func.entry
        key = (off, rel)
        values = self._values
        v = values.get(key, _MISSING)
        if v is not _MISSING:
            return v
        tab = self._tables.get(off, _MISSING)
        if tab is _MISSING:
            tab = self._decode_table(off)
            self._tables[off] = tab
        v = None
        if tab is not None:
            ends, vals = tab
            i = bisect_right(ends, rel)
            if i < len(ends):
                v = vals[i]
        if len(values) >= _MAX_CACHE:
            values.clear()
        values[key] = v
        return v

    def _decode_table(self, off: int) -> Optional[Tuple[array, array]]:
        """Decode a whole pctab table with runtime.step semantics into
        (end pc relative to entry, value) arrays.

        step: value delta is a zig-zag uvarint, pc delta a uvarint times the
        PC quantum; a zero value delta ends the table unless pc is still at
        the entry.  Values wrap as int32.  Stops early (keeping what was
        decoded) at the end of pctab or after _MAX_STEPS pairs.
        """
        data = self._data
        p = self._pctab_off + off
        limit = self._pctab_end
        if off < 0 or p >= limit:
            return None
        quantum = self.min_lc
        ends = array("q")
        vals = array("i")
        pc = 0
        val = -1
        steps = 0
        while p < limit and steps < _MAX_STEPS:
            if data[p] == 0 and pc != 0:  # end of table (a zero value delta is legal only at entry)
                break
            got = _uvarint(data, p, limit)
            if got is None:
                break
            uv, p = got
            delta = (uv >> 1) ^ (0xFFFFFFFF if uv & 1 else 0)
            val = ((val + delta + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            got = _uvarint(data, p, limit)
            if got is None:
                break
            pd, p = got
            pc += (pd * quantum) & 0xFFFFFFFF
            ends.append(pc)
            vals.append(val)
            steps += 1
        return (ends, vals) if ends else None


def _uvarint(data: bytes, p: int, limit: int) -> Optional[Tuple[int, int]]:
    """A uint32 varint at p (runtime readvarint): (value, next offset), or None if cut off."""
    value, shift = 0, 0
    while p < limit:
        b = data[p]
        p += 1
        value |= ((b & 0x7F) << (shift & 31)) & 0xFFFFFFFF
        if not b & 0x80:
            return value, p
        shift += 7
    return None


_MISSING = object()
