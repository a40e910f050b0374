"""The Python API for scripts: the same decoders as the commands, returning plain dataclasses.

    import gdbgomem
    prog = gdbgomem.open_core("./server", "core.1234")      # offline, no debugger
    prog = gdbgomem.current()                               # inside gdb: the selected inferior
    biggest = sorted(prog.goroutines(), key=lambda g: g.stack_size, reverse=True)[:10]
"""

from __future__ import annotations

from typing import List, Optional

from gdbgomem.runtime.arenas import Arena, all_arenas
from gdbgomem.runtime.goroutines import Goroutine, all_goroutines, find_goroutine
from gdbgomem.runtime.objects import HeapObject, object_at, span_of
from gdbgomem.runtime.pages import PageCounts, page_counts
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.sizeclasses import SizeClass, size_classes
from gdbgomem.runtime.spans import Span, all_spans
from gdbgomem.runtime.stack_view import StackView, stack_of_goroutine
from gdbgomem.runtime.threads import Thread, all_threads, attach_threads, thread_of_goroutine


class GoProgram:
    """A Go process or core. Results are cached until the process resumes (in gdb)."""

    def __init__(self, rt: GoRuntime):
        rt.check()
        self.rt = rt

    @property
    def go_version(self) -> str:
        return self.rt.version_string

    def goroutines(self, include_dead: bool = False) -> List[Goroutine]:
        goroutines = all_goroutines(self.rt)
        attach_threads(self.rt, goroutines)
        return [g for g in goroutines if include_dead or not g.is_dead]

    def threads(self) -> List[Thread]:
        return all_threads(self.rt)

    def stack(self, goid: int) -> StackView:
        """A goroutine's stack: bounds, guard, and frames (StackView.frames)."""
        self.goroutines()
        g = find_goroutine(self.rt, goid)
        return stack_of_goroutine(self.rt, g, thread_of_goroutine(self.rt, g))

    def spans(self, include_free: bool = False) -> List[Span]:
        return [s for s in all_spans(self.rt) if include_free or s.state != "free"]

    def span_of(self, address: int) -> Optional[Span]:
        """The span whose pages hold address, None outside the heap."""
        span = span_of(self.rt, address)
        return span if span is not None and span.base <= address < span.end and span.state != "free" else None

    def object_at(self, address: int) -> Optional[HeapObject]:
        span = self.span_of(address)
        return object_at(self.rt, span, address) if span is not None else None

    def arenas(self) -> List[Arena]:
        return all_arenas(self.rt)

    def pages(self) -> PageCounts:
        return page_counts(self.rt)

    def size_classes(self) -> List[SizeClass]:
        return size_classes(self.rt)

    def types(self):
        """Objects and bytes per type, marked from the roots: TypeCensus.live and .garbage
        (needs numpy)."""
        from gdbgomem.runtime.heapgraph.types import type_census
        return type_census(self.rt)


def open_core(binary: str, core: str, debug_file: Optional[str] = None) -> GoProgram:
    """A core dump of a Go program, read with its executable (and its separate debug file),
    without a debugger."""
    from gdbgomem.hosts.standalone import CoreTarget
    return GoProgram(GoRuntime(CoreTarget(binary, core, debug_file)))


def current() -> GoProgram:
    """Inside gdb: the selected inferior (a live process or a core)."""
    from gdbgomem.hosts.gdb import current_runtime
    return GoProgram(current_runtime())
