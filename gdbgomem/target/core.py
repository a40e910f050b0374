"""Target over a Go executable and one of its core dumps, in plain Python (no debugger).

Memory comes from the core's PT_LOAD segments first, then from the executable's
own file-backed segments (cores leave out read-only text and data that the
file already holds); symbols, layouts and constants come from the executable.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from gdbgomem.errors import GoMemError, MemoryReadError
from gdbgomem.target.base import Target, ThreadRegs
from gdbgomem.target.binary import FactsFromBinary, GoBinary
from gdbgomem.target.corefile import CoreFile


class CoreTarget(FactsFromBinary, Target):
    """A core file of a Go program, read with the program's binary."""

    def __init__(self, binary_path: str, core_path: str):
        try:
            self.binary = GoBinary(binary_path)
        except (OSError, ValueError) as exc:
            raise GoMemError(f"cannot read the binary: {exc}", "give the program's executable") from None
        try:
            self.core = CoreFile(core_path)
        except (OSError, ValueError) as exc:
            raise GoMemError(f"cannot read the core: {exc}", "give a core dump of the program") from None
        self.bias = self._load_bias()
        self._check_same_program()

    def _check_same_program(self) -> None:
        """A core of another program decodes to nonsense: refuse it when the build ids say so."""
        saved = self.core.executable_build_ids
        if saved is None or self.binary.build_id is None:
            return
        if self.binary.build_id not in {saved.go, saved.gnu}:
            raise GoMemError(f"the core was written by another build of the program (its build id is "
                             f"{saved.go or saved.gnu}, {self.binary.path} has {self.binary.build_id})",
                             "give the executable that produced the core")

    def _load_bias(self) -> int:
        """Where a position-independent executable was loaded: its first mapping in the core."""
        if not self.binary.is_pie:
            return 0
        name = self.binary.path.rsplit("/", 1)[-1]
        for start, _end, offset, path in self.core.mapped_files():
            if offset == 0 and path.rsplit("/", 1)[-1] == name:
                return start - min(vaddr for vaddr, _m, _o, _f in self.binary.segments())
        return 0

    # -- memory ------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes:
        data = self.core.read(address, size, fallback=self._from_binary)
        if data is None or len(data) != size:
            if self.core.truncated:
                raise MemoryReadError(address, size, "the core file is truncated: memory past its end is lost; "
                                      "commands that need only saved memory still work")
            if self.core.is_mapped(address):
                raise MemoryReadError(address, size, "the process had this memory but the core did not save it: "
                                      "/proc/PID/coredump_filter must keep anonymous memory (0x33, the default) "
                                      "for the Go heap to be in a core; go-sizeclasses still works")
            raise MemoryReadError(address, size, "the address was not mapped in the process")
        return data

    def read_many(self, regions: Sequence[Tuple[int, int]]) -> List[Optional[bytes]]:
        """Each region on its own: the core is memory-mapped, so a read costs about a
        microsecond and merging into windows (which pays off in a debugger) only adds copying."""
        out: List[Optional[bytes]] = []
        for address, size in regions:
            data = self.core.read(address, size, fallback=self._from_binary) if size > 0 and address > 0 else None
            out.append(data if data is not None and len(data) == size else None)
        return out

    def _from_binary(self, address: int, size: int) -> Optional[bytes]:
        return self.binary.read_file_backed(address - self.bias, size)

    # -- symbols, types, constants -----------------------------------------------------
    def symbol_address(self, name: str) -> Optional[int]:
        address = self.binary.symbol_address(name)
        return address + self.bias if address is not None else None

    # -- threads -----------------------------------------------------------------------
    def threads(self) -> List[ThreadRegs]:
        return self.core.thread_regs()

    # -- what the target is ------------------------------------------------------------
    def has_process(self) -> bool:
        return True

    @property
    def is_core(self) -> bool:
        return True

    @property
    def pid(self) -> Optional[int]:
        return self.core.pid

    @property
    def executable(self) -> Optional[str]:
        return self.binary.path
