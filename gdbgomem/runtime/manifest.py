"""Every struct type, constant and global variable the runtime decoders read from a binary.

One list, so that what gdbgomem depends on in each Go release is seen at a glance,
the binary reader can resolve it all in one pass (its wish list), and a test can
check each release's binaries against it. A name that changed between releases is
listed with each of its spellings, newest first.

Constants carry the linux/amd64 value from the runtime's source, used where the
binary's DWARF lacks the constant (the compiler leaves out constants no code
kept). Constants that do not fit in DWARF at all are computed in the module that
uses them (stackPreempt in goruntime.py, arenaBaseOffset in pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from gdbgomem.elf.binary import WishList

TYPES = (
    "runtime.g", "runtime.m", "runtime.p", "runtime.mheap", "runtime.mspan", "runtime.heapArena",
    "runtime.pageAlloc", "runtime.pallocData", "runtime.pageCache", "runtime.mcache",
    "runtime.moduledata", "runtime.workType", "internal/abi.Type",
    "internal/abi.ArrayType", "internal/abi.StructType", "internal/abi.StructField",  # pointer masks built on demand
    "runtime.mstats", "runtime.fixalloc",  # the runtime's own off-heap accounts (go-offheap)
    "runtime.hmap", "internal/runtime/maps.Map", "internal/runtime/maps.table",  # maps' types (go-types)
    "runtime.special", "runtime.specialfinalizer", "runtime.specialCleanup", "runtime.specialWeakHandle",  # roots
    "runtime.spanInlineMarkBits",  # only in binaries built with the Green Tea GC (1.26+, 1.25 experiment)
)

VARIABLES = (
    "runtime.allgs", "runtime.allm", "runtime.allp", "runtime.mheap_", "runtime.m0", "runtime.work",
    "runtime.firstmoduledata", "runtime.buildVersion", "runtime.waitReasonStrings",
    "runtime.gStatusStrings", "runtime.gomaxprocs", "runtime.iscgo",
    "runtime.allglen",  # checks allgs' length
    "internal/runtime/gc.SizeClassToSize", "internal/runtime/gc.SizeClassToNPages",  # 1.25+
    "runtime.class_to_size", "runtime.class_to_allocnpages",                         # 1.21-1.24
)


@dataclass(frozen=True)
class Constant:
    """A runtime constant: its DWARF names (newest release first) and its linux/amd64 value."""

    names: Tuple[str, ...]
    default: int


SCAN_BIT = Constant(("runtime._Gscan",), 0x1000)
STACK_GUARD = Constant(("runtime.stackGuard", "runtime._StackGuard"), 928)
STACK_SMALL = Constant(("internal/abi.StackSmall",), 128)
STACK_BIG = Constant(("internal/abi.StackBig",), 4096)
PAGE_SIZE = Constant(("runtime._PageSize", "runtime.pageSize"), 8192)
HEAP_ARENA_BYTES = Constant(("runtime.heapArenaBytes",), 64 << 20)
LOG_HEAP_ARENA_BYTES = Constant(("runtime.logHeapArenaBytes",), 26)
ARENA_L1_BITS = Constant(("runtime.arenaL1Bits",), 0)
ARENA_L2_BITS = Constant(("runtime.arenaL2Bits",), 22)
PAGES_PER_ARENA = Constant(("runtime.pagesPerArena",), 8192)
PALLOC_CHUNK_PAGES = Constant(("runtime.pallocChunkPages",), 512)
SUMMARY_LEVELS = Constant(("runtime.summaryLevels",), 5)
SUMMARY_LEVEL_BITS = Constant(("runtime.summaryLevelBits",), 3)
HEAP_ADDR_BITS = Constant(("runtime.heapAddrBits",), 48)
SPAN_DEAD = Constant(("runtime.mSpanDead",), 0)
SPAN_IN_USE = Constant(("runtime.mSpanInUse",), 1)
SPAN_MANUAL = Constant(("runtime.mSpanManual",), 2)
MIN_SIZE_FOR_MALLOC_HEADER = Constant(("runtime.minSizeForMallocHeader",                 # 1.22-1.24
                                       "internal/runtime/gc.MinSizeForMallocHeader"), 512)  # 1.25+

# abi.FuncID values (their numbering changes between releases): wrappers the traceback hides,
# unless they called one of the panic functions
FUNC_ID_WRAPPER = Constant(("internal/abi.FuncIDWrapper",), 23)
FUNC_ID_GOPANIC = Constant(("internal/abi.FuncID_gopanic",), 10)
FUNC_ID_SIGPANIC = Constant(("internal/abi.FuncID_sigpanic",), 20)
FUNC_ID_PANICWRAP = Constant(("internal/abi.FuncID_panicwrap",), 15)
# special record kinds (mheap.go; renumbered as kinds were added): -1 where a release has none
KIND_SPECIAL_FINALIZER = Constant(("runtime._KindSpecialFinalizer",), 1)
KIND_SPECIAL_WEAK_HANDLE = Constant(("runtime._KindSpecialWeakHandle",), -1)   # 1.24+
KIND_SPECIAL_CLEANUP = Constant(("runtime._KindSpecialCleanup",), -1)          # 1.24+

CONSTANTS = (SCAN_BIT, STACK_GUARD, STACK_SMALL, STACK_BIG, PAGE_SIZE, HEAP_ARENA_BYTES, LOG_HEAP_ARENA_BYTES,
             ARENA_L1_BITS, ARENA_L2_BITS, PAGES_PER_ARENA, PALLOC_CHUNK_PAGES, SUMMARY_LEVELS, SUMMARY_LEVEL_BITS,
             HEAP_ADDR_BITS, SPAN_DEAD, SPAN_IN_USE, SPAN_MANUAL, MIN_SIZE_FOR_MALLOC_HEADER, FUNC_ID_WRAPPER,
             FUNC_ID_GOPANIC, FUNC_ID_SIGPANIC, FUNC_ID_PANICWRAP, KIND_SPECIAL_FINALIZER, KIND_SPECIAL_WEAK_HANDLE,
             KIND_SPECIAL_CLEANUP)

# G statuses the decoders test for; the same numbers in every release (runtime2.go).
G_SYSCALL = 3
G_WAITING = 4
G_DEAD = 6
G_DEAD_EXTRA = 11  # 1.26+: a dead g attached to an extra M, the placeholder for cgo callbacks


def wish_list() -> WishList:
    """Everything above, for the binary reader to resolve in one pass."""
    return WishList(TYPES, tuple(name for c in CONSTANTS for name in c.names), VARIABLES)
