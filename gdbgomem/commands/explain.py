"""--explain: the arithmetic behind what go-span, go-arenas and go-stack show, with this target's numbers.

Each function returns (json, lines): the values for --json, and sentences for a reader who is
learning how Go lays out its memory. The numbers are the target's own; the rules are the
runtime source's, named where they live.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from gdbgomem.render.report import Report, Styled
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.arena_index import ARENA_BASE_OFFSET, arena_index
from gdbgomem.runtime.arenas import Arena
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import (ARENA_L2_BITS, LOG_HEAP_ARENA_BYTES, MIN_SIZE_FOR_MALLOC_HEADER, STACK_GUARD,
                                       STACK_SMALL)
from gdbgomem.runtime.sizeclasses import size_classes
from gdbgomem.runtime.prologue import frame_allocation, prologue
from gdbgomem.runtime.spans import Span, pointer_bits_location, span_parts
from gdbgomem.runtime.unwinder import Frame, is_runtime_function

Explained = Tuple[dict, List[str]]


def add_explain_argument(parser) -> None:
    parser.add_argument("--explain", action="store_true",
                        help="say how the runtime arrives at what is shown, with this target's numbers")


def add_explanation(report: Report, explained: Explained) -> None:
    """The explanation under "explain" in JSON, and as sentences after the text."""
    data, lines = explained
    report.data["explain"] = data
    report.add("")
    report.add(Styled("explain:", "heading"))
    for line in lines:
        report.add(f"  {line}")


def explain_span(rt: GoRuntime, span: Span, address: int, index: Optional[int]) -> Explained:
    spanclass = span.sizeclass << 1 | int(span.noscan)
    parts = span_parts(span)
    header_from = rt.constant(MIN_SIZE_FOR_MALLOC_HEADER)
    lines = []
    if span.sizeclass:
        sizes = [c.size for c in size_classes(rt)]
        low = sizes[span.sizeclass - 1] + 1 if span.sizeclass > 1 else 1
        lines.append(f"spanclass {spanclass} = size class {span.sizeclass} << 1 | noscan {int(span.noscan)}: "
                     f"class {span.sizeclass} holds every request of {low} to {span.elemsize} B, rounded up to "
                     f"{span.elemsize} B (sizeclasses.go)")
    else:
        lines.append(f"spanclass {spanclass} = size class 0 << 1 | noscan {int(span.noscan)}: class 0 is a large "
                     f"object (over 32 KiB), alone in {span.npages} pages of its own")
    lines.append("noscan: the type allocated here holds no pointers (mallocgc: typ.PtrBytes == 0), so the GC "
                 "never looks inside these objects" if span.noscan else
                 "scan: the type allocated here holds pointers, so the GC needs to know which words are pointers")
    where = pointer_bits_location(rt, span)
    if not span.noscan:
        lines.append(f"pointer bits: {where} here. From Go 1.22 objects of at most {header_from} B keep them at "
                     "the span's end, 1 bit per 8-byte word (span bytes / 64); larger objects start with an "
                     "8-byte malloc header pointing at their type; a large object's type is mspan.largeType. "
                     "Go 1.21 kept them in the arena's bitmap (heapArena.bitmap).")
    layout = f"slots {span.nelems} x {span.elemsize} B = {parts.slots} B | tail {parts.tail} B"
    if parts.heap_bits:
        layout += f" | heap bits {parts.heap_bits} B"
    if parts.inline_marks:
        layout += f" | inline mark bits {parts.inline_marks} B (Green Tea GC)"
    lines.append(f"layout of the span's {span.bytes} B: {layout}: nelems = ({span.bytes} - "
                 f"{parts.heap_bits + parts.inline_marks}) // {span.elemsize} = {span.nelems} (mheap.go initSpan)")
    if index is not None and span.elemsize:
        lines.append(f"slot: (0x{address:x} - {hexaddr(span.base)}) // {span.elemsize} = {index} "
                     "(the runtime divides with mspan.divMul, a multiply and a shift)")
    data = {"spanclass": spanclass, "sizeclass": span.sizeclass, "noscan": span.noscan, "pointer_bits": where,
            "slots_bytes": parts.slots, "tail_bytes": parts.tail, "heap_bits_bytes": parts.heap_bits,
            "inline_mark_bytes": parts.inline_marks, "malloc_header_from": header_from}
    return data, lines


def explain_arenas(rt: GoRuntime, arenas: List[Arena]) -> Explained:
    log_bytes, l2_bits = rt.constant(LOG_HEAP_ARENA_BYTES), rt.constant(ARENA_L2_BITS)
    lines = [f"an arena is {humanize(1 << log_bytes)} (1 << logHeapArenaBytes {log_bytes}); its index is "
             f"(address - arenaBaseOffset) >> {log_bytes}, with arenaBaseOffset 0x{ARENA_BASE_OFFSET:x} on "
             "linux/amd64, so every user-space address maps to an index; mheap_.arenas[l1][l2] finds its "
             f"heapArena, l1 = index >> arenaL2Bits {l2_bits}, l2 = index & (1 << {l2_bits} - 1) (malloc.go, "
             "mheap.go arenaIndex)"]
    data = []
    for a in arenas:
        index = arena_index(rt, a.base)
        lines.append(f"{hexaddr(a.base)}: ({hexaddr(a.base)} - 0x{ARENA_BASE_OFFSET:x}) >> {log_bytes} = {index}; "
                     f"l1 {index >> l2_bits}, l2 {index & ((1 << l2_bits) - 1)}; heapArena at {hexaddr(a.address)}")
        data.append({"base": a.base, "index": index, "l1": index >> l2_bits, "l2": index & ((1 << l2_bits) - 1)})
    return {"arena_bytes": 1 << log_bytes, "arena_base_offset": ARENA_BASE_OFFSET, "arenas": data}, lines


def explain_stack(rt: GoRuntime, lo: int, guard0: int, on_g0: bool, frames: List[Frame]) -> Explained:
    stack_guard, small = rt.constant(STACK_GUARD), rt.constant(STACK_SMALL)
    nosplit = stack_guard - small
    lines = [f"StackGuard {stack_guard} = StackNosplit {nosplit} + StackSystem 0 + StackSmall {small} "
             "(internal/abi/stack.go, linux/amd64): enough for a chain of NOSPLIT functions to run below the "
             "guard, with no check of their own",
             f"stackguard0 = stack.lo + StackGuard: 0x{lo:x} + {stack_guard} = 0x{lo + stack_guard:x}"
             + ("" if guard0 == lo + stack_guard else f" (now 0x{guard0:x}: a preemption request or a g0)"),
             f"every function's prologue compares SP with stackguard0 (a frame of at most StackSmall {small} B "
             "compares SP itself; a bigger frame SP - (frame - StackSmall)) and calls morestack when it is "
             "lower: morestack allocates a stack twice the size, copies the frames and adjusts their pointers "
             "(stack.go newstack, copystack)"]
    if on_g0:
        lines.append("a g0 (system) stack never grows: morestack on g0 aborts the program ('morestack on g0'); "
                     "it is the thread's own stack or a fixed 16 KiB from malg")
    data = {"stack_guard": stack_guard, "stack_nosplit": nosplit, "stack_small": small, "prologue": None}
    checked = next((f for f in frames if f.entry and f.frame_size and not is_runtime_function(f.function, f.file)),
                   next((f for f in frames if f.entry and f.frame_size), None))
    instructions = prologue(rt, checked.entry) if checked else []
    if instructions:
        guard_at = rt.layout("runtime.g").offset("stackguard0")
        own = checked.frame_size  # the compiler's: locals + saved BP, the return address not counted
        locals_ = frame_allocation(rt, checked.entry)
        data["prologue"] = {"function": checked.function, "entry": checked.entry, "frame_size": own,
                            "instructions": [text for _, text in instructions], "stackguard0_offset": guard_at,
                            "locals_bytes": locals_[0] if locals_ else None}
        how = (f"its {own} B frame is at most StackSmall, so SP itself is compared" if own <= small else
               f"its frame is {own} B, so SP - ({own} - {small}) = SP - 0x{own - small:x} is compared")
        lines.append(f"{checked.function}'s own check: {how} with g.stackguard0 (r14 holds the g; stackguard0 is "
                     f"at +{guard_at}): " + "; ".join(f"{hexaddr(address)} {text}" for address, text in instructions))
        if locals_:
            lines.append(f"its frame: push rbp (8 B) then {locals_[1]} ({locals_[0]} B of locals) = {own} B, the "
                         "FRAME go-stack shows; the return address the call pushed (8 B) lies above it")
    return data, lines
