"""GoRuntime: the Go runtime of one program seen through a Target; every decoder starts here.

It answers what all decoders share (the Go version, layouts, constants, globals,
the runtime's name tables, the function table) and holds the two caches whose
lifetimes gdbgomem.runtime.cache declares: per binary, and per stop (dropped by
`invalidate()`, which each host calls when the process resumes).
"""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Optional, Set, Tuple

from gdbgomem import releases
from gdbgomem.elf.layout import StructLayout
from gdbgomem.errors import GoMemError
from gdbgomem.runtime.addresses import parse_address
from gdbgomem.runtime.cache import per_binary
from gdbgomem.elf.go_facts import build_info_version
from gdbgomem.runtime.gostrings import read_string, read_string_array
from gdbgomem.runtime.layout_tables import LayoutTable, table_for
from gdbgomem.runtime.inline import InlineTrees
from gdbgomem.runtime.manifest import FUNC_ID_WRAPPER, Constant
from gdbgomem.runtime.pclntab import PclnTab
from gdbgomem.runtime.symbol_finder import SymbolFinder
from gdbgomem.runtime.target import Target

# stackPreempt = uintptrMask & -1314 (runtime/stack.go): written to g.stackguard0
# to ask a goroutine to stop at its next function prologue. It is larger than
# int64 so the compiler leaves it out of DWARF; it depends only on pointer size.
STACK_PREEMPT = {8: (1 << 64) - 1314, 4: (1 << 32) - 1314}
# From this release on the runtime prints a generic method of a generic type as T[...].M[...]
# (traceback.go funcNamePiecesForPrint); before, as T[...]: a printing rule, not a layout.
NESTED_GENERIC_NAMES = (1, 27)


class GoRuntime:
    """The Go runtime of one target: entry point for every decoder."""

    def __init__(self, target: Target):
        self.target = target
        self.binary_cache: Dict[Any, Any] = {}  # see gdbgomem.runtime.cache
        self.stop_cache: Dict[Any, Any] = {}
        # per-pc answers of the binary, kept as plain dicts: they are hit once per goroutine
        self._function_at: Dict[int, Optional[str]] = {}
        self._call_position: Dict[int, Optional[Tuple[str, str, int]]] = {}

    def invalidate(self) -> None:
        """Forget the process state (goroutines, threads, spans); keep facts about the binary."""
        self.stop_cache.clear()

    # -- is this a Go program we can read? ---------------------------------------------
    def check(self, need_process: bool = True) -> None:
        """Raise a GoMemError that says what to do unless a supported Go program (and, when
        need_process, a live process or core to read its state from) is loaded."""
        mismatch = self._build_mismatch()
        if mismatch:
            raise GoMemError(mismatch, "load the executable that produced the core")
        parsed = releases.parse_go_version(self.version_string)  # a stripped binary's too, from its build info
        if parsed is not None and not releases.is_supported(parsed):
            raise GoMemError(f"{self.version_string} is not supported",
                             f"gdbgomem reads programs built by Go {releases.OLDEST_SUPPORTED[0]}."
                             f"{releases.OLDEST_SUPPORTED[1]} or newer")
        if self.symbol_address("runtime.allgs") is None:
            if self.symbol_finder() is None:
                raise GoMemError("not a Go program: the binary has neither a runtime.allgs symbol nor a Go "
                                 "function table (pclntab)", "load the program's Go executable")
            raise GoMemError("cannot find runtime.allgs in this stripped binary (its symbol table is gone and the "
                             "runtime's code did not say where it is)",
                             "load a build that kept its symbols, or report the binary's Go version")
        if parsed is None:
            raise GoMemError(f"cannot tell the Go version (runtime.buildVersion is {self.version_string!r})",
                             "is this a Go program?")
        if need_process and not self.target.has_process():
            raise GoMemError("no process", "start it with `run`, attach with `gdb -p PID`, or open a core file")
        if need_process and not self.read_word(self.global_address("runtime.allm")):
            # m0 is on allm from runtime.schedinit on; an empty list means no runtime state to read
            if self.target.is_core:
                raise GoMemError("the core holds no Go runtime state (runtime.allm reads as empty)",
                                 "the core did not save the program's data: /proc/PID/coredump_filter must keep "
                                 "anonymous memory (0x33, the default); go-sizeclasses still works")
            raise GoMemError("the Go runtime is not initialized yet (runtime.allm is empty)",
                             "continue past runtime.schedinit, e.g. break main.main and run")

    @per_binary
    def _build_mismatch(self) -> Optional[str]:
        return self.target.build_mismatch()

    @property
    def version_string(self) -> str:
        return self._version_string()

    @per_binary
    def _version_string(self) -> str:
        """runtime.buildVersion where the binary names it; else the build info's (a stripped
        binary); else runtime.buildVersion as the runtime's own code locates it."""
        address = self.target.symbol_address("runtime.buildVersion")
        text = read_string(self.target, address) if address is not None else None
        if not text and self.target.binary is not None:
            text = build_info_version(self.target.binary)
        if not text:
            address = self.symbol_address("runtime.buildVersion")
            text = read_string(self.target, address) if address is not None else None
        return text or "unknown"

    @property
    def experiments(self) -> Set[str]:
        """The GOEXPERIMENTs the binary was built with that differ from its release's default, as
        runtime.Version() lists them ("go1.24.11 X:noswissmap" -> {"noswissmap"})."""
        tag = next((word for word in self.version_string.split() if word.startswith("X:")), "X:")
        return set(filter(None, tag[2:].split(",")))

    @property
    def version(self) -> Tuple[int, int, int]:
        parsed = releases.parse_go_version(self.version_string)
        if parsed is None:
            raise GoMemError(f"cannot tell the Go version (runtime.buildVersion is {self.version_string!r})",
                             "is this a Go program?")
        return parsed

    # -- layouts, constants and sizes: the binary's DWARF, else the release's table -----
    @per_binary
    def has_dwarf(self) -> bool:
        """True when the binary's DWARF describes the runtime: then it answers every layout,
        constant and size question, and no table is used (not even for a name it lacks)."""
        return self.target.struct_layout("runtime.g") is not None

    @per_binary
    def layout_table(self) -> Optional[LayoutTable]:
        """gdbgomem's table for the binary's release, for a binary without DWARF (None with DWARF,
        or when no table ships for its release)."""
        return None if self.has_dwarf() else table_for(self.version)

    @per_binary
    def optional_layout(self, type_name: str) -> Optional[StructLayout]:
        """A struct's layout, None when this release has no such type."""
        if self.has_dwarf():
            return self.target.struct_layout(type_name)
        table = self.layout_table()
        return table.struct_layout(type_name) if table is not None else None

    def layout(self, type_name: str) -> StructLayout:
        found = self.optional_layout(type_name)
        if found is not None:
            return found
        if self.has_dwarf():
            raise GoMemError(f"the binary's DWARF has no type {type_name}",
                             f"gdbgomem reads it in programs built by Go {releases.supported_range()}")
        if self.layout_table() is None:
            raise GoMemError(f"the binary has no DWARF and gdbgomem has no layout table for {self.version_string}",
                             f"tables ship for Go {releases.supported_range()}; "
                             "a build without -ldflags=-w keeps the DWARF")
        raise GoMemError(f"gdbgomem's {self.layout_table().release} layout table has no type {type_name}")

    @per_binary
    def constant(self, constant: Constant) -> int:
        """The binary's value of a runtime constant (gdbgomem.runtime.manifest), under the first
        of its names its DWARF (or its release's table) has; the linux/amd64 value otherwise."""
        table = self.layout_table()
        for name in constant.names:
            value = self.target.constant(name) if table is None else table.constant(name)
            if value is not None:
                return value
        return constant.default

    @per_binary
    def symbol_size(self, name: str) -> Optional[int]:
        """Byte size of a global variable: its DWARF type or ELF symbol, else the release's table."""
        size = self.target.symbol_size(name)
        table = self.layout_table() if size is None else None
        return table.variable_size(name) if table is not None else size

    def global_address(self, name: str) -> int:
        address = self.symbol_address(name)
        if address is None:
            raise GoMemError(f"the binary has no symbol {name}", "is it a Go program built without -ldflags=-s?")
        return address

    @per_binary
    def symbol_address(self, name: str) -> Optional[int]:
        """Where a global (or function) of the runtime is: the binary's symbols, or in a binary
        stripped of them, where the runtime's own code refers to it (SymbolFinder)."""
        address = self.target.symbol_address(name)
        binary = self.target.binary
        if address is not None or binary is None or not self._stripped():
            return address
        linked = binary.remembered("found", name, lambda: self._found_in_code(name))
        return linked + self.target.load_bias() if linked is not None else None

    def _found_in_code(self, name: str) -> Optional[int]:
        finder = self.symbol_finder()
        return finder.address(name) if finder is not None else None

    def address_of(self, text: str) -> int:
        """An address argument, by gdbgomem's own grammar (gdbgomem.runtime.addresses)."""
        return parse_address(text, self.symbol_address, self.target.register_value)

    @per_binary
    def _stripped(self) -> bool:
        """No symbol names the runtime's first global: the symbol table is gone (-s, strip)."""
        return self.target.symbol_address("runtime.allgs") is None

    @per_binary
    def symbol_finder(self) -> Optional[SymbolFinder]:
        """The finder of globals in the executable's code; None without the file or a pclntab."""
        binary = self.target.binary
        finder = SymbolFinder(binary) if binary is not None else None
        return finder if finder is not None and finder.table is not None else None

    def read_word(self, address: int) -> int:
        return self.target.read_word(address)

    def read_slice_header(self, address: int, limit: int, what: str) -> Tuple[int, int]:
        """(array, len) of the Go slice header at address; a GoMemError when len is
        beyond cap or beyond `limit`, the most a sane runtime could hold."""
        array, length, capacity = struct.unpack("<QQQ", self.target.read(address, 24))
        if length > capacity or length > limit:
            raise GoMemError(f"{what} looks corrupt (len {length}, cap {capacity})",
                             "the process may be changing it right now, or the core is damaged")
        return array, length

    def read_word_slice(self, address: int, limit: int, what: str) -> List[int]:
        """The elements of a []*T or []uintptr slice whose header is at address, in one read."""
        array, length = self.read_slice_header(address, limit, what)
        return list(struct.unpack(f"<{length}Q", self.target.read(array, 8 * length))) if length else []

    def all_p(self) -> List[int]:
        """Addresses of the Ps (runtime.allp)."""
        return self.read_word_slice(self.global_address("runtime.allp"), 1 << 16, "runtime.allp")

    @property
    def pointer_size(self) -> int:
        return self.target.pointer_size

    @property
    def stack_preempt(self) -> int:
        return STACK_PREEMPT[self.pointer_size]

    # -- name tables the runtime keeps in its own memory -------------------------------
    @per_binary
    def name_table(self, symbol: str) -> List[Optional[str]]:
        """A runtime [N]string table (waitReasonStrings, gStatusStrings) read from the target."""
        address = self.symbol_address(symbol)
        size = self.symbol_size(symbol)
        if address is None or not size or size % 16:
            return []
        return read_string_array(self.target, address, min(size // 16, 4096))

    def wait_reason(self, code: int) -> Optional[str]:
        """The binary's own text for a waitReason value; None for waitReasonZero."""
        if code == 0:
            return None
        table = self.name_table("runtime.waitReasonStrings")
        if code < len(table) and table[code]:
            return table[code]
        return f"waitReason({code})"

    def status_name(self, status: int) -> str:
        """Name of a G status without the scan bit, from runtime.gStatusStrings."""
        table = self.name_table("runtime.gStatusStrings")
        if status < len(table) and table[status]:
            return table[status]
        return f"status({status})"

    # -- code: function names, files and lines -----------------------------------------
    @property
    def pclntab(self) -> PclnTab:
        return self._load_pclntab()

    @per_binary
    def _load_pclntab(self) -> PclnTab:
        """The function table as the runtime sees it, via runtime.firstmoduledata.

        Read from memory (not the file) so that PIE relocation, live processes and
        cores all look the same; one read for the whole table.
        """
        md = self.layout("runtime.moduledata")
        base = self.global_address("runtime.firstmoduledata")
        head = self.target.read(base, md.size)
        header_ptr = struct.unpack_from("<Q", head, md.offset("pcHeader"))[0]
        table_ptr, table_len = struct.unpack_from("<QQ", head, md.offset("pclntable"))
        text = struct.unpack_from("<Q", head, md.offset("text"))[0]
        if not header_ptr or table_ptr < header_ptr or table_len > 1 << 31:
            raise GoMemError("runtime.firstmoduledata looks corrupt", "is the core truncated?")
        data = self.target.read(header_ptr, table_ptr - header_ptr + table_len)
        try:
            return PclnTab(data, text_start=text)
        except ValueError as exc:
            raise GoMemError(f"cannot decode the function table: {exc}") from None

    @per_binary
    def inline_trees(self) -> InlineTrees:
        """The functions each physical frame runs (inlined calls), with names as the runtime prints them."""
        return InlineTrees(self.pclntab, self.moduledata_word("gofunc"), self.target.try_read,
                           self.constant(FUNC_ID_WRAPPER), self.version[:2] >= NESTED_GENERIC_NAMES)

    def moduledata_word(self, field: str) -> Optional[int]:
        """A word of runtime.firstmoduledata (gofunc, types, rodata...): fixed once the program has
        started, so read once; None where this release has no such field or it cannot be read."""
        key = ("moduledata", field)
        if key not in self.binary_cache:
            md = self.layout("runtime.moduledata")
            raw = self.target.try_read(self.global_address("runtime.firstmoduledata") + md.offset(field), 8) \
                if md.has(field) else None
            if raw is None:
                return None  # not kept: a read that failed may succeed after the next stop
            self.binary_cache[key] = struct.unpack("<Q", raw)[0]
        return self.binary_cache[key]

    def function_at(self, pc: int) -> Optional[str]:
        """Name of the (physical) function holding pc as the runtime prints it, None outside Go
        code (cached per pc)."""
        try:
            return self._function_at[pc]
        except KeyError:
            func = self.pclntab.find_func(pc) if pc else None
            name = self._function_at[pc] = self.inline_trees().name(func.name) if func is not None else None
            return name

    def position_of_call(self, return_pc: int) -> Optional[Tuple[str, str, int]]:
        """(function, file, line) of the call instruction before a return address."""
        try:
            return self._call_position[return_pc]
        except KeyError:
            position = None
            func = self.pclntab.find_func(return_pc - 1) if return_pc else None
            if func is not None:
                where = self.pclntab.file_line(func, return_pc - 1)
                if where is not None:
                    position = (self.inline_trees().name(func.name), where[0], where[1])
            self._call_position[return_pc] = position
            return position
