"""The Target: what the runtime decoders need from a process or core, whichever host gives it.

Decoders in gdbgomem.runtime only talk to a Target, so they run unchanged in
any debugger and in plain Python. Each host (gdbgomem.hosts: gdb, lldb,
standalone) implements it: memory, symbols, threads, and what the target is.
Facts of the binary (symbol sizes, struct layouts, constants) come by default
from the GoBinary a target holds (composition: a target has a binary, it is
not one), in every host: gdb's own lookups, which expand the runtime's debug
info on first use, are its fallback when the executable cannot be read here.
Batched reads are built on top of `read` here, once for all hosts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.layout import StructLayout
from gdbgomem.errors import MemoryReadError

# Merge two wanted regions into one read when the gap between them is at most
# this many bytes. Measured in gdb 13 on a live process: one read_memory call
# costs about 2 us and copying runs at about 0.8 GB/s, so a gap of a few KiB
# costs as much as the extra call it saves.
MERGE_GAP = 4 * 1024
# Never read more than this in one call, so a sparse request cannot balloon.
MAX_WINDOW = 8 * 1024 * 1024


@dataclass(frozen=True)
class ThreadRegs:
    """An OS thread of the target and the registers an unwinder starts from."""

    tid: int
    pc: Optional[int]
    sp: Optional[int]
    bp: Optional[int]
    fs_base: Optional[int]
    selected: bool = False
    debugger_id: int = 0  # the debugger's own thread number (gdb's `thread N`)


@dataclass(frozen=True)
class Mapping:
    """One mapping of the address space: /proc/PID/smaps of a live process, a PT_LOAD of a core.
    What the operating system counts (rss, anonymous, swap) a core does not keep: None there."""

    start: int
    end: int
    perms: str               # "rw-p": read, write, execute, private or shared
    path: str                # the file mapped, "[stack]" and the like, "" when anonymous
    rss: Optional[int] = None
    anonymous: Optional[int] = None
    swap: Optional[int] = None
    saved: Optional[int] = None  # bytes of it the core holds (cores only)

    @property
    def size(self) -> int:
        return self.end - self.start


class Target(ABC):
    """A Go process (live or core) as seen through one debugger or file reader."""

    pointer_size = 8
    little_endian = True
    binary: Optional[GoBinary] = None  # the program's executable, where the host opened it

    # -- primitives a backend provides -------------------------------------------------
    @abstractmethod
    def read(self, address: int, size: int) -> bytes:
        """Bytes at address; raises MemoryReadError when any of them is unreadable."""

    @abstractmethod
    def symbol_address(self, name: str) -> Optional[int]:
        """Address of a global variable or function, None when the binary has no such symbol."""

    def symbol_size(self, name: str) -> Optional[int]:
        """Byte size of a global variable (from its DWARF type or ELF symbol), None if unknown."""
        return self.binary.symbol_size(name) if self.binary is not None else None

    def struct_layout(self, type_name: str) -> Optional[StructLayout]:
        """Layout of a Go struct type ('runtime.g') from DWARF, None when DWARF lacks it."""
        return self.binary.struct_layout(type_name) if self.binary is not None else None

    def constant(self, name: str) -> Optional[int]:
        """A Go constant the compiler wrote into DWARF ('runtime._Gscan'), None if absent."""
        return self.binary.constant(name) if self.binary is not None else None

    @abstractmethod
    def threads(self) -> List[ThreadRegs]:
        """Every thread of the process or core, with its registers."""

    @abstractmethod
    def has_process(self) -> bool:
        """True when there is memory to read: a live process or a core file."""

    @property
    @abstractmethod
    def is_core(self) -> bool:
        """True when the target is a core file rather than a live process."""

    @property
    @abstractmethod
    def pid(self) -> Optional[int]:
        """The process id (of the live process, or recorded in the core)."""

    @property
    @abstractmethod
    def executable(self) -> Optional[str]:
        """Path of the program's binary, when known."""

    def build_mismatch(self) -> Optional[str]:
        """Why the core was not written by this executable (build ids), None when it was, when
        nothing says, or for a live process."""
        return None

    def load_bias(self) -> int:
        """Where the executable was loaded minus where it was linked (non-zero for a position-
        independent executable): what turns the binary's link-time addresses into the target's."""
        return 0

    def resident_bytes(self, ranges: Sequence[Tuple[int, int]]) -> Optional[int]:
        """Bytes of these [base, limit) address ranges that sit in RAM now; None where the
        host cannot ask the operating system (a core, a process on another machine)."""
        return None

    def mappings(self) -> Optional[List[Mapping]]:
        """Every mapping of the address space in address order; None where the host cannot
        list them (a process on another machine)."""
        return None

    def page_residency(self, start: int, end: int) -> Optional[bytes]:
        """One byte per 4 KiB page of [start, end), 1 when the page is in RAM; None where the host
        cannot ask the operating system (a core, a process on another machine)."""
        return None

    def kernel_sizes(self) -> Optional[Tuple[int, int]]:
        """(VmSize, VmRSS) in bytes as the kernel counts them (/proc/PID/status); None for a core
        or a process on another machine."""
        return None

    def fault_counts(self) -> Optional[Tuple[int, int]]:
        """(minor, major) page faults of the process so far (/proc/PID/stat); None for a core or
        a process on another machine."""
        return None

    def register_value(self, name: str) -> Optional[int]:
        """A register of the selected thread ('rsp', 'pc'), or a debugger's convenience variable,
        read (never set); None where there is none. Used by address arguments ($rsp+16)."""
        return None

    # -- built on the primitives -------------------------------------------------------
    def try_read(self, address: int, size: int) -> Optional[bytes]:
        """Like read, but None instead of an exception: a failed read is data."""
        try:
            return self.read(address, size)
        except MemoryReadError:
            return None

    def read_into(self, address: int, out: memoryview) -> bool:
        """Read len(out) bytes at address into out (a writable buffer); False where they cannot
        be read. Hosts that read straight into a buffer override it: bulk reads
        (record_reads) then copy each byte once, not three times."""
        data = self.try_read(address, len(out))
        if data is None:
            return False
        out[:] = data
        return True

    def read_scattered(self, local_iov: int, remote_iov: int, count: int) -> int:
        """count regions of the target (remote_iov: the address of an array of iovec {address,
        length} in this process) into this process's buffers (local_iov: the same) in one call,
        as Linux's process_vm_readv does: the bytes read, fewer where a region is not there (those
        from it on are not read); -1 where the host cannot (a core, a remote target). Hosts of a
        live local process override it: record_reads then reads 100 000 scattered records
        without a call each, and without the gaps between them."""
        return -1

    def read_word(self, address: int) -> int:
        return int.from_bytes(self.read(address, self.pointer_size), "little")

    def read_many(self, regions: Sequence[Tuple[int, int]]) -> List[Optional[bytes]]:
        """Read many (address, size) regions with few debugger calls.

        Regions are sorted and merged into windows (gaps up to MERGE_GAP, at most
        MAX_WINDOW bytes) in one pass; a window that cannot be read whole is retried
        region by region, so one unmapped region costs only itself. The result is in
        the order of `regions`, None where a region is unreadable.
        """
        result: List[Optional[bytes]] = [None] * len(regions)
        start = end = 0
        members: List[int] = []
        for i in sorted(range(len(regions)), key=regions.__getitem__):
            address, size = regions[i]
            if size <= 0 or address <= 0:
                continue
            stop = address + size
            if members and address - end <= MERGE_GAP and (stop <= end or stop - start <= MAX_WINDOW):
                if stop > end:
                    end = stop
                members.append(i)
                continue
            if members:
                self._read_window(regions, start, end, members, result)
            start, end, members = address, stop, [i]
        if members:
            self._read_window(regions, start, end, members, result)
        return result

    def _read_window(self, regions: Sequence[Tuple[int, int]], start: int, end: int, members: List[int],
                     result: List[Optional[bytes]]) -> None:
        """One window of read_many: its members' bytes into result."""
        data = self.try_read(start, end - start)
        if data is None:
            if len(members) > 1:  # a hole somewhere: each region on its own
                for i in members:
                    result[i] = self.try_read(*regions[i])
            return
        for i in members:
            address, size = regions[i]
            offset = address - start
            result[i] = data[offset:offset + size]
