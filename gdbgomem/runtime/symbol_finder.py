"""Where the runtime's globals live in a binary stripped of its symbols (-ldflags=-s, strip).

What a stripped Go binary keeps is enough: the function table (pclntab) names every
function, and the runtime's own machine code says where its globals are. `forEachG`
loads `allgs` right after locking `allglock`; `mstart1` compares g with `m0`... Each
global is found as the k-th distinct data address a known runtime function refers to
(RIP-relative, or absolute with an index register), disassembled with capstone. The rules
below hold on every supported release and are checked against the symbol table of real
builds of each (tests/unit/test_symbol_finder.py); name tables are also checked by their
contents ("idle" is gStatusStrings[0]).

The module data (runtime.firstmoduledata) is found in the file's data as the only place
that holds the pcHeader's address followed by its funcnametab's; it gives the start of
the text, which Go 1.26+ no longer writes into the pcHeader. All addresses here are
link-time addresses; the caller adds the load bias of a position-independent executable.
"""

from __future__ import annotations

import struct
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.go_facts import pclntab_location
from gdbgomem.runtime.pclntab import PclnTab

# global -> where it is referred to: (function, index among the function's distinct data
# references, offset of that reference into the global); the first rule that resolves wins
RULES: Dict[str, Sequence[Tuple[str, int, int]]] = {
    "runtime.allgs": (("runtime.forEachG", 1, 0),),
    "runtime.allglen": (("runtime.forEachGRace", 0, 0),),
    "runtime.allm": (("runtime.mexit", 3, 0),),
    "runtime.allp": (("runtime.preemptall", 0, 0), ("runtime.gcMarkTinyAllocs", 0, 0)),
    "runtime.mheap_": (("runtime.(*mcache).allocLarge", 0, 0), ("runtime.allocmcache.func1", 0, 0)),
    "runtime.m0": (("runtime.mstart1", 0, 0), ("runtime.mexit", 0, 0)),
    "runtime.work": (("runtime.putfull", 0, 0), ("runtime.trygetfull", 0, 0)),
    "runtime.gomaxprocs": (("runtime.procresize", 0, 0),),
    "runtime.iscgo": (("runtime.cgocall", 0, 0), ("runtime.needm", 0, 0)),
    "runtime.waitReasonStrings": (("runtime.waitReason.String", 0, 0), ("runtime.(*waitReason).String", 0, 0)),
}
# The size-class arrays moved to internal/runtime/gc in 1.25; the code that reads them did not.
_SIZES = (("runtime.mallocinit", 0, 4),)  # class_to_size[_TinySizeClass], 2 bytes an entry
_NPAGES = (("runtime.(*mcentral).cacheSpan", 0, 0), ("runtime.(*mcentral).grow", 0, 0))
RULES.update({"runtime.class_to_size": _SIZES, "internal/runtime/gc.SizeClassToSize": _SIZES,
              "runtime.class_to_allocnpages": _NPAGES, "internal/runtime/gc.SizeClassToNPages": _NPAGES})

_FUNCNAME_OFFSET = 32   # pcHeader.funcnameOffset (runtime/symtab.go), the same in 1.21-1.27
MODULEDATA_TEXT = 176   # moduledata.text, the same in 1.21-1.27 (a test checks every layout table)
_WORD = struct.Struct("<Q")
_HEADER_STRINGS = 3     # refs of goroutineheader looked at for gStatusStrings
_MAX_FUNCTION = 1 << 16  # bytes disassembled at most per function


class SymbolFinder:
    """Link-time addresses of runtime globals in a binary without a symbol table."""

    def __init__(self, binary: GoBinary):
        self.binary = binary
        self.moduledata: Optional[int] = None
        self.table: Optional[PclnTab] = None
        self._functions: Dict[str, Optional[Tuple[int, int]]] = {}
        self._refs: Dict[str, List[int]] = {}
        location = pclntab_location(binary)
        if location is None:
            return
        header, available = location
        data = binary.read_static(header, available)
        head = data[:_FUNCNAME_OFFSET + 8] if data else b""
        if len(head) < _FUNCNAME_OFFSET + 8:
            return
        funcnametab = header + _WORD.unpack_from(head, _FUNCNAME_OFFSET)[0]
        for address in binary.find_in_segments(_WORD.pack(header) + _WORD.pack(funcnametab), writable=True,
                                                align=8):
            self.moduledata = address
            break
        if self.moduledata is None:
            return
        text = binary.read_static(self.moduledata + MODULEDATA_TEXT, 8)
        try:
            self.table = PclnTab(data, text_start=_WORD.unpack(text)[0] if text else None)
        except ValueError:
            self.table = None

    def address(self, name: str) -> Optional[int]:
        """The link-time address of a runtime global, None when no rule finds it here."""
        if name == "runtime.firstmoduledata":
            return self.moduledata
        special = _SPECIAL.get(name)
        if special is not None:
            return special(self)
        for function, index, offset in RULES.get(name, ()):
            refs = self.references(function)
            if index < len(refs):
                return refs[index] - offset
        return None

    # -- reading the machine code ----------------------------------------------------------
    def references(self, function: str) -> List[int]:
        """The distinct addresses of globals (in writable data or bss) a function's code refers
        to, in order of appearance: constants and string bytes in read-only data do not count."""
        if function not in self._refs:
            self._refs[function] = self._disassemble(function)
        return self._refs[function]

    def _disassemble(self, function: str) -> List[int]:
        span = self._function(function)
        code = self.binary.read_static(span[0], min(span[1] - span[0], _MAX_FUNCTION)) if span else None
        if not code:
            return []
        import capstone  # imported on use: only stripped binaries need a disassembler
        from capstone import x86
        machine = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        machine.detail = True
        refs: List[int] = []
        for insn in machine.disasm(code, span[0]):
            for operand in insn.operands:
                if operand.type != x86.X86_OP_MEM:
                    continue
                if operand.mem.base == x86.X86_REG_RIP:
                    target = insn.address + insn.size + operand.mem.disp
                elif operand.mem.base == 0 and operand.mem.index != 0 and operand.mem.disp > 0:
                    target = operand.mem.disp  # table[index] with the table's absolute address
                else:
                    continue
                if target not in refs and self.binary.is_writable_data(target):
                    refs.append(target)
        return refs

    def _function(self, name: str) -> Optional[Tuple[int, int]]:
        if name not in self._functions:
            found = self.table.funcs_named([name]).get(name) if self.table is not None else None
            self._functions[name] = (found.entry, found.end) if found is not None else None
        return self._functions[name]

    # -- what needs a look at the data -----------------------------------------------------
    def string_at(self, header: int) -> Optional[str]:
        """The Go string whose {ptr, len} header is at a link-time address of the file."""
        raw = self.binary.read_static(header, 16)
        if raw is None:
            return None
        pointer, length = struct.unpack("<QQ", raw)
        text = self.binary.read_static(pointer, length) if 0 <= length <= 1 << 12 else None
        return text.decode("utf-8", "replace") if text is not None else None

    def _status_strings(self) -> Optional[int]:
        """gStatusStrings: the array goroutineheader indexes, the one whose first string is "idle"."""
        for ref in self.references("runtime.goroutineheader")[:_HEADER_STRINGS]:
            if self.string_at(ref) == "idle":
                return ref
        return None

    def _build_version(self) -> Optional[int]:
        """runtime.buildVersion: schedinit checks `buildVersion == ""` (a load of its length, 8
        bytes in) and may store "unknown" into it (its start) after that."""
        refs = self.references("runtime.schedinit")
        for i, length in enumerate(refs):
            start = length - 8
            if start in refs[i + 1:] and (self.string_at(start) or "").startswith(("go", "devel")):
                return start
        return None


_SPECIAL: Dict[str, Callable[[SymbolFinder], Optional[int]]] = {
    "runtime.gStatusStrings": SymbolFinder._status_strings,
    "runtime.buildVersion": SymbolFinder._build_version,
}
