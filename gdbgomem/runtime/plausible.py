"""Values no healthy runtime holds, named so commands show them as corrupt, not as numbers.

A corrupt core (or a g read mid-update) can say a stack runs from high to low or spans a
terabyte; printed as a size that is "-16777188.8 TiB". Decoders keep the raw values (JSON
carries them unchanged); these checks say which ones cannot be true and why, and the JSON
adds them under "corrupt" (field -> reason) so scripts need not redo the checks.
"""

from __future__ import annotations

from typing import Dict, Optional

# runtime.maxstacksize on 64-bit platforms (proc.go: 1 GB): a goroutine that needs more dies
# with "goroutine stack exceeds 1000000000-byte limit"; system stacks are far smaller.
MAX_STACK_BYTES = 1 << 30
# a span lies in the heap, which lies in a 48-bit address space
MAX_SPAN_BYTES = 1 << 47


def stack_flaw(lo: int, hi: int) -> Optional[str]:
    """Why [lo, hi) cannot be a stack, or None."""
    if lo > hi:
        return f"stack.lo 0x{lo:x} is above stack.hi 0x{hi:x}"
    if hi - lo > MAX_STACK_BYTES:
        return f"{hi - lo} bytes, over the runtime's 1 GiB limit"
    return None


def stack_flaws(lo: int, hi: int, prefix: str = "") -> Dict[str, str]:
    """{"<prefix>stack_size": why} when [lo, hi) cannot be a stack, else {}."""
    why = stack_flaw(lo, hi)
    return {f"{prefix}stack_size": why} if why else {}


def span_flaws(size: int, nelems: int, elemsize: int, alloc_count: int, freeindex: int,
               in_use: bool) -> Dict[str, str]:
    """Fields of an mspan of `size` bytes that contradict each other, field -> why."""
    flaws = {}
    if size > MAX_SPAN_BYTES:
        flaws["bytes"] = f"{size} bytes, larger than the address space"
    if in_use:
        if alloc_count > nelems:
            flaws["alloc_count"] = f"allocCount {alloc_count} is above nelems {nelems}"
        if freeindex > nelems:
            flaws["freeindex"] = f"freeindex {freeindex} is above nelems {nelems}"
        if nelems * elemsize > size:
            flaws["nelems"] = f"{nelems} slots of {elemsize} bytes do not fit in the span's {size} bytes"
    return flaws
