"""One stack in detail: bounds, guard, headroom, the prologue rules, and its frames.

The prologue check is the one cmd/internal/obj/x86 (stacksplit) compiles into
every function that is not nosplit; the constants come from the binary's
DWARF (runtime.stackGuard, internal/abi.StackSmall, internal/abi.StackBig).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.goroutines import Goroutine
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.manifest import STACK_BIG, STACK_GUARD, STACK_SMALL
from gdbgomem.runtime.threads import Thread
from gdbgomem.runtime.unwinder import Frame, StackWindow, unwind

MAX_STACK_READ = 64 << 20  # read at most this much of one stack in a block (Go's max is 1 GiB)


@dataclass
class GuardRules:
    """The constants of the stack-split check of this binary."""

    stack_guard: int  # g.stackguard0 = stack.lo + stack_guard on a fresh stack
    stack_small: int  # frames up to this size compare SP itself with the guard
    stack_big: int    # frames up to this size compare SP-(frame-StackSmall); larger ones check for wrap-around too


@dataclass
class MorestackVerdict:
    frame_size: int
    rule: str        # which of the three prologue shapes applies
    compared: str    # what the prologue compares with stackguard0
    morestack: bool  # True: the call would branch to runtime.morestack now
    why: str


@dataclass
class StackView:
    """A stack as a user sees it in go-stack."""

    kind: str                 # "goroutine", "g0" or "gsignal"
    g: Goroutine
    thread: Optional[Thread]
    sp: int
    pc: int
    sp_source: str            # where sp/pc came from: thread registers, g.sched, g.syscallsp
    rules: GuardRules
    preempt_marker: int
    frames: List[Frame] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def lo(self) -> int:
        return self.g.stack_lo

    @property
    def hi(self) -> int:
        return self.g.stack_hi

    @property
    def preempt_requested(self) -> bool:
        return self.g.stackguard0 == self.preempt_marker

    @property
    def guard(self) -> int:
        """The address the prologue compares with: stackguard0, or lo+StackGuard when preemption hides it."""
        return self.lo + self.rules.stack_guard if self.preempt_requested else self.g.stackguard0

    @property
    def used(self) -> int:
        return self.hi - self.sp

    @property
    def free(self) -> int:
        return self.sp - self.lo

    @property
    def headroom(self) -> int:
        """Bytes SP can still drop before a small-frame prologue takes the morestack path."""
        return self.sp - self.guard

    def check_frame(self, frame_size: int) -> MorestackVerdict:
        return morestack_verdict(frame_size, self.sp, self.g.stackguard0, self.rules, self.preempt_marker)


def guard_rules(rt: GoRuntime) -> GuardRules:
    return GuardRules(
        stack_guard=rt.constant(STACK_GUARD), stack_small=rt.constant(STACK_SMALL), stack_big=rt.constant(STACK_BIG))


def morestack_verdict(frame_size: int, sp: int, stackguard0: int, rules: GuardRules,
                      preempt_marker: int) -> MorestackVerdict:
    """Would a function with this frame size take the morestack path if called at sp?"""
    if frame_size < 0:
        raise GoMemError("a frame size cannot be negative", "give a size in bytes such as 256")
    preempt = " (stackguard0 holds the preempt marker, so every check fails on purpose)" \
        if stackguard0 == preempt_marker else ""
    if frame_size <= rules.stack_small:
        take = sp <= stackguard0
        return MorestackVerdict(frame_size, f"small frame (<= StackSmall {rules.stack_small})",
                                "SP <= stackguard0", take,
                                f"SP 0x{sp:x} {'<=' if take else '>'} stackguard0 0x{stackguard0:x}{preempt}")
    below = frame_size - rules.stack_small
    if frame_size <= rules.stack_big:
        lhs = sp - below
        take = lhs <= stackguard0
        return MorestackVerdict(frame_size, f"large frame (<= StackBig {rules.stack_big})",
                                f"SP-{below} <= stackguard0", take,
                                f"SP-{below} = 0x{lhs:x} {'<=' if take else '>'} stackguard0 0x{stackguard0:x}{preempt}")
    if sp < below:
        return MorestackVerdict(frame_size, f"huge frame (> StackBig {rules.stack_big})",
                                f"SP-{below} wraps around, or SP-{below} <= stackguard0", True,
                                f"SP-{below} would wrap below zero")
    lhs = sp - below
    take = lhs <= stackguard0
    return MorestackVerdict(frame_size, f"huge frame (> StackBig {rules.stack_big})",
                            f"SP-{below} wraps around, or SP-{below} <= stackguard0", take,
                            f"SP-{below} = 0x{lhs:x} {'<=' if take else '>'} stackguard0 0x{stackguard0:x}{preempt}")


def start_of(g: Goroutine, thread: Optional[Thread]) -> Tuple[int, int, str, bool]:
    """(sp, pc, where they come from, whether pc is exact) of the walk of a goroutine's stack, as
    the runtime's traceback starts it: its thread's registers while it runs, g.syscallsp in a system
    call (the thread's own frames in the kernel's call sequence above it are not the goroutine's),
    g.sched otherwise."""
    regs = thread.regs if thread is not None and g.status == "running" else None  # registers only if needed
    if regs is not None and regs.sp is not None and g.stack_lo <= regs.sp < g.stack_hi:
        return regs.sp, regs.pc, "thread registers", True
    pc, sp = g.saved_position
    return sp, pc, "g.syscallsp" if g.status == "syscall" and g.syscall_sp else "g.sched", False


def stack_of_goroutine(rt: GoRuntime, g: Goroutine, thread: Optional[Thread]) -> StackView:
    sp, pc, source, exact = start_of(g, thread)
    return _view(rt, "goroutine", g, thread, sp, pc, source, exact)


def stack_of_system(rt: GoRuntime, thread: Thread, which: str = "g0") -> StackView:
    """The g0 (or gsignal) stack of an M: from the thread's registers if it runs there."""
    g = thread.g0 if which == "g0" else thread.gsignal
    if g is None:
        raise GoMemError(f"M {thread.id} has no {which}")
    regs = thread.regs
    if regs is not None and regs.sp is not None and g.stack_lo <= regs.sp < g.stack_hi:
        return _view(rt, which, g, thread, regs.sp, regs.pc, "thread registers", True)
    return _view(rt, which, g, thread, g.sched_sp, g.sched_pc, "g.sched", False)


def _view(rt, kind, g, thread, sp, pc, source, exact) -> StackView:
    view = StackView(kind, g, thread, sp, pc, source, guard_rules(rt), rt.stack_preempt)
    if not sp or not pc or not g.stack_lo <= sp <= g.stack_hi:
        view.stop_reason = "no saved position" if not sp else "sp outside the stack"
        return view
    size = min(g.stack_hi - sp, MAX_STACK_READ)
    data = rt.target.try_read(sp, size) or b""
    walk = unwind(rt.pclntab, StackWindow(sp, data, rt.target.try_read), pc, sp, g.stack_hi, exact_pc=exact,
                  inline=rt.inline_trees())
    view.frames, view.stop_reason = walk.frames, walk.stop_reason
    return view
