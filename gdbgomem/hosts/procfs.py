"""What Linux's /proc tells about a live process on this machine, for the hosts that reach one.

Only for a local process: a remote target (gdbserver, lldb-server on another
machine) has its own /proc, out of reach, and a core has none.
"""

from __future__ import annotations

import ctypes
import functools
import os
from typing import List, Optional, Sequence, Tuple

from gdbgomem.runtime.target import Mapping


class LocalProcess:
    """What /proc tells of a host's live local process, as Target's methods: a host mixes it in
    before Target and gives _local_pid(), the pid when the process is live and on this machine
    (None for a core or a remote target, where these answer None, or -1 for read_scattered)."""

    def _local_pid(self) -> Optional[int]:
        raise NotImplementedError

    def resident_bytes(self, ranges: Sequence[Tuple[int, int]]) -> Optional[int]:
        pid = self._local_pid()
        return resident_bytes(pid, ranges) if pid else None

    def kernel_sizes(self) -> Optional[Tuple[int, int]]:
        pid = self._local_pid()
        return kernel_sizes(pid) if pid else None

    def fault_counts(self) -> Optional[Tuple[int, int]]:
        pid = self._local_pid()
        return fault_counts(pid) if pid else None

    def page_residency(self, start: int, end: int) -> Optional[bytes]:
        pid = self._local_pid()
        return page_residency(pid, start, end) if pid else None

    def read_scattered(self, local_iov: int, remote_iov: int, count: int) -> int:
        pid = self._local_pid()
        return read_scattered(pid, local_iov, remote_iov, count) if pid else -1


def open_memory(pid: int) -> Optional[int]:
    """A read-only descriptor of /proc/PID/mem, None when this process may not read it
    (another user, ptrace_scope). Reads through it are plain pread calls: GB/s."""
    try:
        return os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    except OSError:
        return None


def read_scattered(pid: int, local_iov: int, remote_iov: int, count: int) -> int:
    """process_vm_readv(2): count regions of process pid (remote_iov: the address of an array
    of iovec {address, length}) into this process's buffers (local_iov: the same, lengths
    equal) in one system call. Bytes read: fewer where a region is not mapped (the regions
    from it on are not read); -1 where the call is refused (another user, ptrace_scope, no
    such call). Read-only, like /proc/PID/mem, and without a call per region."""
    call = _process_vm_readv()
    if call is None:
        return -1
    return call(pid, local_iov, count, remote_iov, count, 0)


@functools.lru_cache(maxsize=None)
def _process_vm_readv():
    """libc's process_vm_readv, looked up once; None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).process_vm_readv
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong,
                         ctypes.c_ulong]
    function.restype = ctypes.c_ssize_t
    return function


def resident_bytes(pid: int, ranges: Sequence[Tuple[int, int]]) -> Optional[int]:
    """Bytes of the [base, limit) ranges resident in RAM, from /proc/PID/smaps: each
    mapping's Rss shared out over the part of it the ranges cover."""
    found = mappings(pid)
    if found is None:
        return None
    total = 0
    for m in found:
        for base, limit in ranges:
            overlap = min(m.end, limit) - max(m.start, base)
            if overlap > 0 and m.rss:
                total += m.rss * overlap // m.size
    return total


SMAPS_FIELDS = {"Rss:": "rss", "Anonymous:": "anonymous", "Swap:": "swap"}


def mappings(pid: int) -> Optional[List[Mapping]]:
    """/proc/PID/smaps: each mapping with its resident, anonymous and swapped bytes."""
    try:
        with open(f"/proc/{pid}/smaps") as smaps:
            text = smaps.read()
    except OSError:
        return None
    found: List[Mapping] = []
    head: Optional[list] = None
    counts: dict = {}
    for line in text.splitlines():
        first = line.split(None, 1)[0] if line.strip() else ""
        if "-" in first and not first.endswith(":"):
            if head is not None:
                found.append(_mapping(head, counts))
            head, counts = line.split(None, 5), {}
        elif first in SMAPS_FIELDS:
            counts[SMAPS_FIELDS[first]] = int(line.split()[1]) * 1024
    if head is not None:
        found.append(_mapping(head, counts))
    return found


def _mapping(head: list, counts: dict) -> Mapping:
    lo, _, hi = head[0].partition("-")
    return Mapping(int(lo, 16), int(hi, 16), head[1], head[5].strip() if len(head) > 5 else "", **counts)


def kernel_sizes(pid: int) -> Optional[Tuple[int, int]]:
    """(VmSize, VmRSS) in bytes from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return int(fields["VmSize"].split()[0]) * 1024, int(fields["VmRSS"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def fault_counts(pid: int) -> Optional[Tuple[int, int]]:
    """(minor, major) page faults of the process so far, fields 10 and 12 of /proc/PID/stat
    (counted after the command name, which may hold spaces and parentheses)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return int(fields[7]), int(fields[9])  # fields 3.. follow the name: 10 and 12 are [7] and [9]
    except (OSError, IndexError, ValueError):
        return None


OS_PAGE = 4096
PRESENT = 1 << 63    # pagemap: a page table entry maps the page (swapped pages have bit 62 instead)
EXCLUSIVE = 1 << 56  # ... a page of this process alone (anonymous memory it touched)
FILE = 1 << 61       # ... a page of a file, or shared


def page_residency(pid: int, start: int, end: int) -> Optional[bytes]:
    """One byte per 4 KiB page of [start, end): 1 when in RAM, from /proc/PID/pagemap (its
    flags need no privilege; the frame numbers, which do, are not used). A present page that
    is neither the process's own nor a file's is the kernel's shared zero page, which reading
    untouched memory (a debugger's reads too) maps: smaps does not count it in Rss, nor here."""
    first, count = start // OS_PAGE, (end - start + OS_PAGE - 1) // OS_PAGE
    try:
        with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            pagemap.seek(first * 8)
            raw = pagemap.read(count * 8)
    except OSError:
        return None
    if len(raw) != count * 8:
        return None
    return resident_pages(raw)


def resident_pages(pagemap: bytes) -> bytes:
    """One byte per 8-byte pagemap entry: 1 when PRESENT and EXCLUSIVE or FILE. The flags all sit
    in an entry's top byte, so a slice and a table do it (a Python step per entry took 0.1 s
    over the 360 000 pages of a 1.4 GiB heap)."""
    return pagemap[7::8].translate(_RESIDENT_BY_TOP_BYTE)


# an entry's top byte (bits 56-63, little-endian) -> 1 when PRESENT and EXCLUSIVE or FILE
_RESIDENT_BY_TOP_BYTE = bytes(1 if (top << 56) & PRESENT and (top << 56) & (EXCLUSIVE | FILE) else 0
                              for top in range(256))
