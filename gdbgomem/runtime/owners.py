"""Who owns an address that is not a heap object: a goroutine's stack, or an M's g0 or gsignal stack."""

from __future__ import annotations

from typing import Optional

from gdbgomem.runtime.goroutines import all_goroutines
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.threads import all_threads


def stack_owner(rt: GoRuntime, address: int) -> Optional[str]:
    """Whose stack holds address, in words: 'the stack of goroutine 7', "M 2's g0 stack"."""
    for g in all_goroutines(rt):
        if not g.is_dead and g.stack_lo <= address < g.stack_hi:
            return f"the stack of goroutine {g.goid}"
    for t in all_threads(rt):
        for name, g in (("g0", t.g0), ("gsignal", t.gsignal)):
            if g is not None and g.stack_lo <= address < g.stack_hi:
                return f"M {t.id}'s {name} stack"
    return None
