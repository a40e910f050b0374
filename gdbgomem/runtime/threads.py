"""Threads: every runtime.m on runtime.allm, with its g0 (system stack) and gsignal.

Mirrors runtime2.go (type m) and rt.go (allocm, mstart0): how each g0 stack
came to be is decided there, and reported here as `g0_origin`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Dict, List, Optional

from gdbgomem.runtime.cache import per_binary, per_stop
from gdbgomem.runtime.goroutines import Goroutine, read_goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.struct_decoder import StructDecoder
from gdbgomem.runtime.target import ThreadRegs

MAX_THREADS = 100_000  # the runtime's default limit is 10 000 (debug.SetMaxThreads)

M_MEMBERS = [
    ("g0", "g0"), ("procid", "procid"), ("gsignal", "gsignal"), ("curg", "curg"),
    ("p", "p"), ("id", "id"), ("spinning", "spinning"), ("blocked", "blocked"),
    ("incgo", "incgo"), ("isextra", "isextra"), ("lockedg", "lockedg"),
    ("alllink", "alllink"), ("vdso_sp", "vdsoSP"), ("vdso_pc", "vdsoPC"),
]

# m0's g0 is the main thread's stack, which the kernel made at exec: 64 KiB carved out of it
# (asm_amd64.s rt0_go), or with cgo all of it, as pthread_getattr_np reports it (cgo/gcc_linux_amd64.c)
ORIGIN_KERNEL = "kernel"
ORIGIN_RUNTIME = "runtime"  # malg(16 KiB * StackGuardMultiplier) from the Go stack allocator (rt.go allocm)
ORIGIN_SYSTEM = "system"    # the thread's own pthread stack: cgo programs and cgo callback threads


@dataclass
class Thread:
    """One runtime.m and what runs on it."""

    address: int
    id: int
    procid: int
    g0: Optional[Goroutine]
    gsignal: Optional[Goroutine]
    curg_address: int
    curg_goid: Optional[int]
    p_id: Optional[int]
    lockedg_goid: Optional[int]
    spinning: bool
    blocked: bool
    incgo: bool
    isextra: bool
    is_m0: bool
    g0_origin: str
    registers: Optional["_Registers"] = None

    @property
    def regs(self) -> Optional[ThreadRegs]:
        """The OS thread's registers, read from the host the first time any thread's are wanted."""
        return self.registers.of(self.procid) if self.registers is not None else None

    @property
    def selected(self) -> bool:
        return self.regs is not None and self.regs.selected

    def running_on(self) -> Optional[str]:
        """Which stack the thread's SP is in right now: 'g0', 'gsignal', 'curg' or None."""
        sp = self.regs.sp if self.regs is not None else None
        if sp is None:
            return None
        for name, g in (("g0", self.g0), ("gsignal", self.gsignal)):
            if g is not None and g.stack_lo <= sp < g.stack_hi:
                return name
        return "curg" if self.curg_address else None


@per_binary
def m_decoder(rt: GoRuntime) -> StructDecoder:
    return StructDecoder(rt.layout("runtime.m"), M_MEMBERS)


class _Registers:
    """Every thread's registers by thread id, asked of the host on first use: in gdb that
    switches to each thread and makes its newest frame, which costs a few tenths of a second
    the first time, and a listing of parked goroutines never needs them."""

    def __init__(self, rt: GoRuntime):
        self.rt = rt
        self._by_tid: Optional[Dict[int, ThreadRegs]] = None

    def of(self, tid: int) -> Optional[ThreadRegs]:
        if self._by_tid is None:
            self._by_tid = {r.tid: r for r in self.rt.target.threads()}
        return self._by_tid.get(tid)


@per_stop
def all_threads(rt: GoRuntime) -> List[Thread]:
    """Every M from runtime.allm (newest first, as the runtime links them)."""
    decoder = m_decoder(rt)
    m0 = rt.symbol_address("runtime.m0")
    iscgo = _read_bool(rt, "runtime.iscgo")
    registers = _Registers(rt)
    goids: Dict[int, int] = {}
    out: List[Thread] = []
    seen = set()
    address = rt.read_word(rt.global_address("runtime.allm"))
    while address and address not in seen and len(seen) < MAX_THREADS:
        seen.add(address)
        data = rt.target.try_read(address, decoder.size)
        v = decoder.decode(data) if data is not None else None
        if v is None:
            break
        out.append(_make(rt, address, v, m0, iscgo, registers, goids))
        address = v["alllink"]
    return out


def _make(rt, address, v, m0, iscgo, registers, goids) -> Thread:
    is_m0 = address == m0
    if is_m0:
        origin = ORIGIN_KERNEL
    elif iscgo or v["isextra"]:
        origin = ORIGIN_SYSTEM
    else:
        origin = ORIGIN_RUNTIME
    return Thread(
        address=address, id=v["id"], procid=v["procid"],
        g0=read_goroutine(rt, v["g0"]) if v["g0"] else None,
        gsignal=read_goroutine(rt, v["gsignal"]) if v["gsignal"] else None,
        curg_address=v["curg"], curg_goid=_goid(rt, v["curg"], goids),
        p_id=_p_id(rt, v["p"]), lockedg_goid=_goid(rt, v["lockedg"], goids),
        spinning=bool(v["spinning"]), blocked=bool(v["blocked"]), incgo=bool(v["incgo"]),
        isextra=bool(v["isextra"]), is_m0=is_m0, g0_origin=origin,
        registers=registers)


def _goid(rt: GoRuntime, g_address: Optional[int], cache: Dict[int, int]) -> Optional[int]:
    if not g_address:
        return None
    if g_address not in cache:
        g = read_goroutine(rt, g_address)
        cache[g_address] = g.goid if g is not None else None
    return cache[g_address]


def _p_id(rt: GoRuntime, p_address: Optional[int]) -> Optional[int]:
    if not p_address:
        return None
    offset = rt.layout("runtime.p").offset("id")
    raw = rt.target.try_read(p_address + offset, 4)
    return struct.unpack("<i", raw)[0] if raw else None


def _read_bool(rt: GoRuntime, symbol: str) -> bool:
    address = rt.symbol_address(symbol)
    raw = rt.target.try_read(address, 1) if address is not None else None
    return bool(raw and raw[0])


def thread_of_goroutine(rt: GoRuntime, g: Goroutine) -> Optional[Thread]:
    """The M a goroutine runs on (g.m), if any."""
    if not g.m_address:
        return None
    for thread in all_threads(rt):
        if thread.address == g.m_address:
            return thread
    return None


def selected_thread(rt: GoRuntime) -> Optional[Thread]:
    for thread in all_threads(rt):
        if thread.selected:
            return thread
    return None


def attach_threads(rt: GoRuntime, goroutines: List[Goroutine]) -> None:
    """Fill in the M and OS thread of every goroutine that has one, and the
    function a running goroutine executes (from its thread's registers)."""
    by_address = {t.address: t for t in all_threads(rt)}
    for g in goroutines:
        thread = by_address.get(g.m_address) if g.m_address else None
        if thread is None:
            continue
        g.m_id, g.thread_id = thread.id, thread.procid
        regs = thread.regs if g.status == "running" else None
        if regs is not None and regs.sp is not None and g.stack_lo <= regs.sp < g.stack_hi and regs.pc:
            g.live_sp, g.live_pc = regs.sp, regs.pc
            g.function = rt.function_at(regs.pc)
