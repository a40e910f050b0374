"""Inlined calls: the functions one physical frame stands for, as the runtime's traceback lists them.

When the compiler inlines g into f, one machine frame runs both. The function table keeps
the story: PCDATA_InlTreeIndex maps each pc of f to an entry of f's inline tree
(FUNCDATA_InlTree, in moduledata.gofunc), which names the inlined function and the pc of
its call site in its caller, whose own index leads further out (symtabinl.go,
inlineUnwinder). The innermost function comes first and the physical one last, each with
the file:line at its own pc, as traceback2 prints them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from gdbgomem.runtime.pclntab import Func, PclnTab

PCDATA_INL_TREE_INDEX = 2   # abi.PCDATA_InlTreeIndex
FUNCDATA_INL_TREE = 3       # abi.FUNCDATA_InlTree
INLINED_CALL = struct.Struct("<B3xiii")  # runtime.inlinedCall: funcID, nameOff, parentPc, startLine
MAX_INLINE_DEPTH = 256      # bounds a corrupt tree whose parents loop


@dataclass(frozen=True)
class LogicalFrame:
    """One function of a physical frame: its name as the runtime prints it, where it is, whether
    it was inlined, and whether it is a wrapper the compiler generated (abi.FuncIDWrapper)."""

    function: Optional[str]
    file: Optional[str]
    line: Optional[int]
    inlined: bool
    wrapper: bool


class InlineTrees:
    """The inline trees of one program's functions, read from its memory on demand."""

    def __init__(self, table: PclnTab, gofunc: Optional[int], read: Callable[[int, int], Optional[bytes]],
                 wrapper_id: int, nested_generics: bool):
        """gofunc: moduledata.gofunc (None: unknown, no inlined frames); nested_generics: the
        release prints generic methods of generic types as T[...].M[...] (Go 1.27+)."""
        self.table, self.gofunc, self._read = table, gofunc, read
        self.wrapper_id, self.nested_generics = wrapper_id, nested_generics
        self._calls: Dict[Tuple[int, int], Optional[Tuple[int, int, int]]] = {}
        self._frames: Dict[Tuple[int, int], List[LogicalFrame]] = {}

    def logical_frames(self, func: Func, pc: int) -> List[LogicalFrame]:
        """The functions running at pc in func's frame, innermost first. pc is where the line is
        looked up (a return address less one, or a trapped pc itself). Cached per pc."""
        key = (func.entry, pc)
        if key not in self._frames:
            self._frames[key] = self._expand(func, pc)
        return self._frames[key]

    def _expand(self, func: Func, pc: int) -> List[LogicalFrame]:
        out: List[LogicalFrame] = []
        for _ in range(MAX_INLINE_DEPTH):
            where = self.table.file_line(func, pc)
            file, line = where if where is not None else (None, None)
            index = self.table.pcdata_value(func, PCDATA_INL_TREE_INDEX, pc)
            call = self._call(func, index) if index is not None and index >= 0 else None
            if call is None:
                break
            func_id, name_off, parent_pc = call
            out.append(LogicalFrame(self.name(self.table.name_at(name_off)), file, line, True,
                                    func_id == self.wrapper_id))
            pc = func.entry + parent_pc
        out.append(LogicalFrame(self.name(func.name), file, line, False, func.func_id == self.wrapper_id))
        return out

    def name(self, name: Optional[str]) -> Optional[str]:
        return name_for_print(name, self.nested_generics)

    def _call(self, func: Func, index: int) -> Optional[Tuple[int, int, int]]:
        """(funcID, nameOff, parentPc) of entry index of func's inline tree; None if unreadable."""
        key = (func.entry, index)
        if key not in self._calls:
            offset = self.table.funcdata_offset(func, FUNCDATA_INL_TREE)
            raw = self._read(self.gofunc + offset + INLINED_CALL.size * index, INLINED_CALL.size) \
                if offset is not None and self.gofunc else None
            call = INLINED_CALL.unpack(raw)[:3] if raw is not None and len(raw) == INLINED_CALL.size else None
            self._calls[key] = call
        return self._calls[key]


def name_for_print(name: Optional[str], nested_generics: bool) -> Optional[str]:
    """A function name as the runtime prints it (funcNamePiecesForPrint): type arguments as
    [...]; since Go 1.27 (nested_generics) a generic method of a generic type as T[...].M[...]."""
    if not name:
        return name
    first, last = name.find("["), name.rfind("]")
    if first < 0 or last <= first:
        return name
    interior = name[first + 1:last]
    if not nested_generics or "[" not in interior:
        return name[:first] + "[...]" + name[last + 1:]
    depth, close = 1, -1
    for k, char in enumerate(interior):
        if char == "[":
            depth += 1
            if depth == 1:
                return name[:first] + "[...]" + interior[close + 1:k] + "[...]" + name[last + 1:]
        elif char == "]":
            depth -= 1
            if depth < 0:
                break
            if depth == 0:
                close = k
    if depth == 1 and close == -1:
        return name[:first] + "[...]" + name[last + 1:]
    return name
