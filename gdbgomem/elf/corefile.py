"""A pure-Python reader of Linux x86-64 ELF core dumps (gdb's `gcore` and the kernel's).

It gives what an offline analysis needs from a core without a debugger: the
process's memory (the PT_LOAD segments), its threads and their registers (one
NT_PRSTATUS note each), the pid and command (NT_PRPSINFO), the auxiliary vector
(NT_AUXV), the files that were mapped (NT_FILE) and, where the core kept the
first page of a mapped ELF file, that file's build ids. Struct layouts follow
the kernel's include/uapi/linux/elfcore.h and arch/x86/include/asm/user_64.h;
the note format is the one fs/binfmt_elf.c (fill_note_info) and gdb's
linux-tdep.c (linux_make_corefile_notes) write.

The file is never read whole: a core of a Go process is often larger than 1 GiB
because the heap's reserved address space is dumped. Its headers and notes are
read through a mapping; the process's memory with pread, each read a copy: a
read through the mapping would leave the file's pages mapped, and the kernel
maps whole large folios of the page cache on a fault, so a few thousand small
reads scattered over a heap held 660 MB in the reader's resident size.

What a core does not hold
-------------------------
A core keeps only the memory its writer chose to save (the kernel follows
/proc/PID/coredump_filter; gdb 13 honours the same filter):

* File-backed read-only mappings (a binary's text and rodata) are usually not
  saved. The kernel still writes a PT_LOAD for them with p_filesz == 0, or
  p_filesz == one page when it keeps the ELF header (filter bit 4); gdb may
  leave such a mapping out of the core entirely. `read` returns None for these
  bytes so that a caller can take them from the executable itself: pass a
  `fallback` to `read`, or combine readers in the Target.
* A truncated core (disk full, a size limit, a copy cut short) has PT_LOADs
  whose bytes run past the end of the file; those bytes read as not saved and
  `truncated` is True. gdb writes its notes at the end of the file, so a
  truncated gcore core usually has no threads, pid or mapped files either.
"""

from __future__ import annotations

import mmap
import os
import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple


# ELF constants (the ELF gABI and include/uapi/linux/elf.h).
ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
ET_CORE = 4
EM_X86_64 = 62
PT_LOAD = 1
PT_NOTE = 4
PN_XNUM = 0xFFFF  # e_phnum when there are more program headers: the count is in section 0's sh_info
PF_X, PF_W, PF_R = 1, 2, 4
PAGE_SIZE = 4096  # x86-64; NT_FILE's own page size field is the unit of its offsets (gdb writes 1)

NT_PRSTATUS = 1
NT_PRPSINFO = 3
NT_AUXV = 6
NT_FILE = 0x46494C45     # "FILE"
NT_SIGINFO = 0x53494749  # "SIGI"
NT_GNU_BUILD_ID = 3      # in a mapped ELF file, owner "GNU"
NT_GO_BUILD_ID = 4       # in a mapped ELF file, owner "Go" (cmd/link: .note.go.buildid)

AT_ENTRY = 9
AT_EXECFN = 31

_ET_NAMES = {0: "NONE", 1: "REL (an object file)", 2: "EXEC (an executable)", 3: "DYN (a shared object or PIE)"}
_EM_NAMES = {3: "i386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "s390", 40: "ARM", 62: "x86-64",
             183: "AArch64", 243: "RISC-V", 258: "LoongArch"}

# struct elf_prstatus (x86-64): elf_siginfo (12) | short pr_cursig @12 | sigpend, sighold |
# pid_t pr_pid @32, ppid, pgrp, sid | four timevals | elf_gregset_t pr_reg @112 | int pr_fpvalid.
_PRSTATUS_CURSIG = 12
_PRSTATUS_PID = 32
_PRSTATUS_REG = 112
_PRSTATUS_SIZE = 336
# struct user_regs_struct (arch/x86/include/asm/user_64.h), 27 unsigned longs in this order.
REGISTER_NAMES = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
                  "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
                  "ds", "es", "fs", "gs")
_GREGS = struct.Struct("<27Q")
_REG_INDEX = {name: i for i, name in enumerate(REGISTER_NAMES)}
# struct elf_prpsinfo (x86-64): 4 chars, pad, unsigned long pr_flag, uid, gid, pid @24, ppid, pgrp, sid,
# char pr_fname[16] @40, char pr_psargs[80] @56; 136 bytes.
_PRPSINFO_PID = 24
_PRPSINFO_FNAME = 40
_PRPSINFO_PSARGS = 56
_PRPSINFO_SIZE = 136

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")  # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
_NHDR = struct.Struct("<III")       # namesz, descsz, type
_U64 = struct.Struct("<Q")

_MAX_NOTES = 1 << 20        # bound on notes parsed, so a corrupt note segment cannot hang
_MAX_NOTE_BYTES = 64 << 20  # bound on the bytes of note segments parsed
_ADDRESS_LIMIT = 1 << 64

Fallback = Callable[[int, int], Optional[bytes]]


@dataclass(frozen=True)
class CoreThread:
    """A thread as its NT_PRSTATUS note recorded it."""

    tid: int      # pr_pid
    pc: int       # rip
    sp: int       # rsp
    bp: int       # rbp
    fs_base: int  # the thread pointer; Go keeps g (or m.tls) relative to it
    signal: int   # pr_cursig: the signal the thread was stopped by (0 if none)
    gregs: Tuple[int, ...] = field(default=(), repr=False, compare=False)  # all of user_regs_struct

    def register(self, name: str) -> Optional[int]:
        """Any register of user_regs_struct by its Linux name ('rbx', 'gs_base', 'eflags')."""
        i = _REG_INDEX.get(name)
        return self.gregs[i] if i is not None and i < len(self.gregs) else None


@dataclass(frozen=True)
class CoreSignal:
    """The NT_SIGINFO note: the signal that made the core (kernel cores; gdb writes one per thread).

    addr is the first word of siginfo's union: the faulting address for SIGSEGV,
    SIGBUS, SIGILL and SIGFPE; for a signal sent by kill() it holds si_pid and si_uid.
    """

    signo: int
    errno: int
    code: int
    addr: int


@dataclass(frozen=True)
class MappedFile:
    """One entry of the NT_FILE note: [start, end) maps the file from file_offset (in bytes)."""

    start: int
    end: int
    file_offset: int
    path: str


@dataclass(frozen=True)
class BuildIds:
    """Build ids found in the first page of a mapped ELF file, as saved in the core.

    go is the string of Go's .note.go.buildid, gnu the hex of NT_GNU_BUILD_ID;
    either is None when the file has no such note or the core did not save it.
    """

    path: str
    start: int
    go: Optional[str]
    gnu: Optional[str]


class CoreFile:
    """A Linux x86-64 core dump, mapped read-only.

    `read` is the hot path (called some 100 000 times on a big core): a bisect
    over the sorted segment starts and a slice of the mmap.
    """

    def __init__(self, path: str):
        self.path = str(path)
        self.pid: Optional[int] = None
        self.executable: Optional[str] = None
        self.threads: List[CoreThread] = []
        self.truncated = False
        self.command: Optional[str] = None   # pr_psargs: the command line, cut to 80 bytes
        self.name: Optional[str] = None      # pr_fname: the command's name, cut to 15 bytes
        self.auxv: Dict[int, int] = {}
        self.signal_info: Optional[CoreSignal] = None
        self._files: List[MappedFile] = []
        self._build_ids: Optional[Dict[str, BuildIds]] = None
        self._segments: List[Tuple[int, int, int, int, int]] = []

        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(_EHDR.size)
            _check_header(self.path, head)
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._fd = os.open(self.path, os.O_RDONLY)
        self._size = size
        try:
            self._load(head)
        except Exception:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------
    def _load(self, head: bytes) -> None:
        (_ident, _type, _machine, _version, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum,
         shentsize, _shnum, _shstrndx) = _EHDR.unpack(head)
        if phnum == PN_XNUM and shoff and shoff + 64 <= self._size and shentsize >= 64:
            phnum = struct.unpack_from("<I", self._mm, shoff + 44)[0]  # sh_info of section 0
        if phentsize < _PHDR.size:
            raise ValueError(f"{self.path}: corrupt ELF core (program header entry size {phentsize})")
        mm, size = self._mm, self._size
        loads: List[Tuple[int, int, int, int, int]] = []
        notes: List[Tuple[int, int]] = []
        for i in range(phnum):
            at = phoff + i * phentsize
            if at + _PHDR.size > size:
                self.truncated = True  # the program headers themselves are cut off
                break
            p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, _align = _PHDR.unpack_from(mm, at)
            if p_type == PT_LOAD:
                loads.append((p_vaddr, p_memsz, p_offset, p_filesz, p_flags))
                if p_filesz and p_offset + p_filesz > size:
                    self.truncated = True
            elif p_type == PT_NOTE:
                if p_offset + p_filesz > size:
                    self.truncated = True
                notes.append((p_offset, p_filesz))
        loads.sort()
        self._segments = loads
        self._index(loads)
        self._parse_notes(notes)
        self._find_executable()

    def _index(self, loads) -> None:
        """Parallel lists for `read`: segment starts, ends, saved lengths and file offsets.

        The saved length is p_filesz cut to what the file really holds, so a
        truncated core reads as "not saved" past its end.
        """
        starts, ends, saved, offsets = [], [], [], []
        for vaddr, memsz, offset, filesz, _flags in loads:
            if memsz == 0 or vaddr >= _ADDRESS_LIMIT:
                continue
            have = max(0, min(filesz, memsz, self._size - offset)) if offset < self._size else 0
            starts.append(vaddr)
            ends.append(vaddr + memsz)
            saved.append(have)
            offsets.append(offset)
        self._starts, self._ends, self._saved, self._offsets = starts, ends, saved, offsets

    def _parse_notes(self, segments) -> None:
        mm, size, budget, count = self._mm, self._size, _MAX_NOTE_BYTES, 0
        for offset, length in segments:
            end = min(offset + min(length, budget), size)
            budget -= max(0, end - offset)
            at = offset
            while at + _NHDR.size <= end and count < _MAX_NOTES:
                namesz, descsz, ntype = _NHDR.unpack_from(mm, at)
                name_at = at + _NHDR.size
                desc_at = name_at + _align4(namesz)
                desc_end = desc_at + descsz
                if desc_end > end:
                    break  # a note cut off by truncation or corruption: stop here
                count += 1
                name = mm[name_at:name_at + namesz].rstrip(b"\0")
                if name == b"CORE":
                    self._note(ntype, mm[desc_at:desc_end])
                at = desc_at + _align4(descsz)

    def _note(self, ntype: int, desc: bytes) -> None:
        if ntype == NT_PRSTATUS and len(desc) >= _PRSTATUS_REG + _GREGS.size:
            cursig = struct.unpack_from("<h", desc, _PRSTATUS_CURSIG)[0]
            tid = struct.unpack_from("<i", desc, _PRSTATUS_PID)[0]
            regs = _GREGS.unpack_from(desc, _PRSTATUS_REG)
            self.threads.append(CoreThread(tid=tid, pc=regs[16], sp=regs[19], bp=regs[4], fs_base=regs[21],
                                           signal=cursig, gregs=regs))
            if self.pid is None:
                self.pid = tid  # replaced by NT_PRPSINFO's pr_pid (the thread group id) when present
        elif ntype == NT_PRPSINFO and len(desc) >= _PRPSINFO_SIZE:
            self.pid = struct.unpack_from("<i", desc, _PRPSINFO_PID)[0]
            self.name = _cstring(desc[_PRPSINFO_FNAME:_PRPSINFO_FNAME + 16]) or None
            self.command = _cstring(desc[_PRPSINFO_PSARGS:_PRPSINFO_PSARGS + 80]).strip() or None
        elif ntype == NT_AUXV:
            for i in range(0, len(desc) - 15, 16):
                key, value = struct.unpack_from("<QQ", desc, i)
                if key == 0:  # AT_NULL
                    break
                self.auxv[key] = value
        elif ntype == NT_FILE and len(desc) >= 16:
            self._files = _parse_nt_file(desc)
        elif ntype == NT_SIGINFO and len(desc) >= 24 and self.signal_info is None:
            signo, errno, code = struct.unpack_from("<iii", desc, 0)
            self.signal_info = CoreSignal(signo, errno, code, struct.unpack_from("<Q", desc, 16)[0])

    def _find_executable(self) -> None:
        """The program's path: the mapped file holding AT_ENTRY, else AT_EXECFN, else pr_psargs."""
        entry = self.auxv.get(AT_ENTRY)
        if entry:
            for mapped in self._files:
                if mapped.start <= entry < mapped.end:
                    self.executable = mapped.path
                    return
        execfn = self.auxv.get(AT_EXECFN)
        if execfn:
            raw = self.read(execfn, 256) or b""
            text = _cstring(raw)
            if text:
                self.executable = text
                return
        if self.command:
            self.executable = self.command.split()[0]
        elif self.name:
            self.executable = self.name

    # -- memory --------------------------------------------------------------------------
    def read(self, address: int, size: int, fallback: Optional[Fallback] = None) -> Optional[bytes]:
        """The `size` bytes at `address`, or None when the core did not save all of them.

        Bytes may come from several adjacent segments. Bytes that the core does not
        hold (outside every PT_LOAD, in the unsaved tail of one, or past the end of
        a truncated file) are asked of fallback(address, size) when one is given,
        piece by piece; the read is None if any piece stays missing. Never raises
        for a bad address or size.
        """
        starts = self._starts
        try:
            i = bisect_right(starts, address) - 1
            if i >= 0 and size > 0:
                off = address - starts[i]
                if off + size <= self._saved[i]:
                    base = self._offsets[i] + off
                    return os.pread(self._fd, size, base)
        except TypeError:  # not a number
            return None
        return self._read_pieces(address, size, fallback)

    def _read_pieces(self, address, size, fallback) -> Optional[bytes]:
        """The slow path of read: a read that leaves its segment or touches unsaved bytes."""
        try:
            address, size = int(address), int(size)
        except (TypeError, ValueError):
            return None
        if size == 0 and 0 <= address < _ADDRESS_LIMIT:
            return b""
        if size < 0 or address < 0 or address + size > _ADDRESS_LIMIT:
            return None
        starts, ends, saved, offsets = self._starts, self._ends, self._saved, self._offsets
        parts: List[bytes] = []
        at, stop = address, address + size
        while at < stop:
            i = bisect_right(starts, at) - 1
            if i >= 0 and at < ends[i]:
                piece_end = min(stop, ends[i])
                saved_end = starts[i] + saved[i]
                if at < saved_end:
                    piece_end = min(piece_end, saved_end)
                    base = offsets[i] + at - starts[i]
                    parts.append(os.pread(self._fd, piece_end - at, base))
                    at = piece_end
                    continue
            else:  # in no segment: the gap runs to the next segment's start
                piece_end = min(stop, starts[i + 1]) if i + 1 < len(starts) else stop
            missing = fallback(at, piece_end - at) if fallback is not None else None
            if missing is None or len(missing) != piece_end - at:
                return None
            parts.append(bytes(missing))
            at = piece_end
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def is_mapped(self, address: int) -> bool:
        """True when some PT_LOAD covers the address, whether or not its bytes were saved."""
        i = bisect_right(self._starts, address) - 1
        return i >= 0 and address < self._ends[i]

    def is_saved(self, address: int, size: int = 1) -> bool:
        """True when the core itself holds all `size` bytes at `address`."""
        return self.read(address, size) is not None

    def segments(self) -> List[Tuple[int, int, int, int, int]]:
        """Every PT_LOAD as (vaddr, memsz, file_offset, filesz, flags), sorted by vaddr.

        filesz is the header's value; past the end of a truncated file it is more
        than the file holds. flags are PF_R | PF_W | PF_X bits.
        """
        return list(self._segments)

    # -- files, build ids, threads -------------------------------------------------------
    def mapped_files(self) -> List[Tuple[int, int, int, str]]:
        """The NT_FILE note: (start, end, file_offset in bytes, path) per file mapping, in address order.

        Empty when the core has no NT_FILE note (old kernels, or a truncated gcore core).
        """
        return [(m.start, m.end, m.file_offset, m.path) for m in self._files]

    @property
    def build_ids(self) -> Dict[str, BuildIds]:
        """Build ids of mapped ELF files, by path, where the core saved their first page.

        For each NT_FILE mapping of file offset 0, the ELF header and program headers
        are read from the core and the PT_NOTE segments that lie inside that mapping
        are searched for Go's and GNU's build-id notes; a note outside every PT_NOTE
        but inside the saved header page is found by its header bytes (Go 1.27's linker
        puts .note.gnu.build-id there). A file is missing from the
        result when the core has no NT_FILE note or did not save the mapping's first
        page (gdb leaves unsaved mappings out; the kernel keeps the header page only
        with coredump_filter bit 4, which is on by default). Compare with the
        executable's own notes to tell a core of another build of the program.
        """
        if self._build_ids is None:
            found: Dict[str, BuildIds] = {}
            for mapped in self._files:
                if mapped.file_offset != 0 or mapped.path in found:
                    continue
                ids = self._build_ids_at(mapped)
                if ids is not None:
                    found[mapped.path] = ids
            self._build_ids = found
        return self._build_ids

    @property
    def executable_build_ids(self) -> Optional[BuildIds]:
        """build_ids of the executable, None when the core does not say."""
        return self.build_ids.get(self.executable) if self.executable else None

    def _build_ids_at(self, mapped: MappedFile) -> Optional[BuildIds]:
        head = self.read(mapped.start, 64)
        if head is None or head[:4] != ELF_MAGIC or head[4] != ELFCLASS64 or head[5] != ELFDATA2LSB:
            return None
        fields = _EHDR.unpack(head)
        phoff, phentsize, phnum = fields[5], fields[9], fields[10]
        length = mapped.end - mapped.start
        if phentsize < _PHDR.size or phnum > 512 or phoff + phnum * phentsize > length:
            return None
        table = self.read(mapped.start + phoff, phnum * phentsize)
        if table is None:
            return None
        go = gnu = None
        for i in range(phnum):
            p_type, _f, p_offset, _v, _p, p_filesz, _m, _a = _PHDR.unpack_from(table, i * phentsize)
            if p_type != PT_NOTE or p_offset + p_filesz > length or p_filesz > 1 << 16:
                continue
            data = self.read(mapped.start + p_offset, p_filesz)
            for name, ntype, desc in _iter_notes(data or b""):
                if name == b"Go" and ntype == NT_GO_BUILD_ID and go is None:
                    go = _go_build_id(desc)
                elif name == b"GNU" and ntype == NT_GNU_BUILD_ID and gnu is None:
                    gnu = desc.hex()
        if go is None or gnu is None:
            # Go's linker puts .note.gnu.build-id in the header page but outside every
            # PT_NOTE (seen with Go 1.27), so look for the note's bytes in that page.
            page = self.read(mapped.start, min(PAGE_SIZE, length))
            if page is not None:
                if go is None:
                    found = _find_note(page, b"Go", NT_GO_BUILD_ID)
                    go = _go_build_id(found) if found is not None else None
                if gnu is None:
                    found = _find_note(page, b"GNU", NT_GNU_BUILD_ID)
                    gnu = found.hex() if found is not None else None
        return BuildIds(mapped.path, mapped.start, go, gnu)

    # -- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Unmap the file. Bytes returned by read stay valid (they are copies); read must not be called after."""
        self._mm.close()
        os.close(self._fd)

    def __enter__(self) -> CoreFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"CoreFile({self.path!r}, pid={self.pid}, threads={len(self.threads)}, "
                f"segments={len(self._segments)}{', truncated' if self.truncated else ''})")


def _check_header(path: str, head: bytes) -> None:
    """Raise ValueError, one line, unless head starts a little-endian 64-bit x86-64 ELF core."""
    if len(head) < _EHDR.size or head[:4] != ELF_MAGIC:
        raise ValueError(f"{path}: not an ELF file (a core dump from gcore or the kernel is an ELF file)")
    e_type, e_machine = struct.unpack_from("<HH", head, 16)
    if head[5] == 2:  # big-endian: read the fields that way to name them
        e_type, e_machine = struct.unpack_from(">HH", head, 16)
    if e_type != ET_CORE:
        kind = _ET_NAMES.get(e_type, f"type {e_type}")
        raise ValueError(f"{path}: not a core file (ELF {kind}; give the core dump, and the binary separately)")
    if e_machine != EM_X86_64:
        machine = _EM_NAMES.get(e_machine, f"machine {e_machine}")
        raise ValueError(f"{path}: core dump for {machine}, not x86-64 (only x86-64 cores are supported)")
    if head[4] != ELFCLASS64 or head[5] != ELFDATA2LSB:
        raise ValueError(f"{path}: not a 64-bit little-endian ELF core (only x86-64 cores are supported)")


def _parse_nt_file(desc: bytes) -> List[MappedFile]:
    """NT_FILE: count, page_size, count x (start, end, offset in page_size units), then the paths.

    The kernel writes its page size; gdb writes 1, so its offsets are in bytes.
    """
    count, page = struct.unpack_from("<QQ", desc, 0)
    table_end = 16 + count * 24
    if count > (len(desc) - 16) // 24:
        return []
    names = desc[table_end:].split(b"\0")
    files = []
    for i in range(count):
        start, end, pgoff = struct.unpack_from("<QQQ", desc, 16 + i * 24)
        path = names[i].decode("utf-8", "surrogateescape") if i < len(names) else ""
        files.append(MappedFile(start, end, pgoff * page, path))
    files.sort(key=lambda m: m.start)
    return files


def _iter_notes(data: bytes):
    """(name, type, desc) of each note in a note segment of an ELF file (4-byte alignment)."""
    at = 0
    while at + _NHDR.size <= len(data):
        namesz, descsz, ntype = _NHDR.unpack_from(data, at)
        desc_at = at + _NHDR.size + _align4(namesz)
        if desc_at + descsz > len(data):
            return
        yield data[at + _NHDR.size:at + _NHDR.size + namesz].rstrip(b"\0"), ntype, data[desc_at:desc_at + descsz]
        at = desc_at + _align4(descsz)


def _find_note(page: bytes, owner: bytes, ntype: int) -> Optional[bytes]:
    """The desc of the first 4-byte aligned note (owner, ntype) in page, by its header's bytes."""
    needle = owner + b"\0"
    at = page.find(needle, 12)
    while at >= 12:
        if at % 4 == 0:
            namesz, descsz, kind = _NHDR.unpack_from(page, at - 12)
            desc_at = at + _align4(namesz)
            if (namesz == len(needle) or namesz == _align4(len(needle))) and kind == ntype \
                    and 0 < descsz <= 256 and desc_at + descsz <= len(page):
                return page[desc_at:desc_at + descsz]
        at = page.find(needle, at + 1)
    return None


def _go_build_id(desc: bytes) -> str:
    return desc.rstrip(b"\0").decode("utf-8", "replace")


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _cstring(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def build_mismatch(core: CoreFile, gnu_build_id: Optional[str], go_build_id: Optional[str]) -> Optional[str]:
    """Why the core was not written by the binary with these build ids, None when it was or the
    core does not say: GNU build ids are compared with GNU ones, Go's with Go's."""
    saved = core.executable_build_ids
    if saved is None:
        return None
    for kind, mine, theirs in (("GNU", gnu_build_id, saved.gnu), ("Go", go_build_id, saved.go)):
        if mine and theirs:
            if mine == theirs:
                return None
            return f"the core was written by another build of the program (its {kind} build id is {theirs}, " \
                   f"the binary's is {mine})"
    return None

