"""go-types: the heap's objects by type, live (reachable from a root) and garbage apart."""

from __future__ import annotations

from gdbgomem.commands.base import Command, numpy_function, positive_int
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import humanize


class TypesCommand(Command):
    name = "go-types"
    summary = "heap objects and bytes per type, marked from the roots as the GC does; garbage apart"
    description = (
        "Marks the heap from its roots as the GC does (globals through the binary's pointer\n"
        "masks, goroutine stacks through the compiler's stack maps) and counts the objects\n"
        "reached, per type.\n"
        "Allocated objects no root reaches are garbage the next GC frees: counted apart.\n"
        "Types come from the runtime's malloc headers and largeType (Go 1.22+, objects\n"
        "over 512 B with pointers), then along typed pointers: a *T field types what it\n"
        "points to as T, a []T field an array of T (named []T), an interface its data by\n"
        "its type word, a map field the map's buckets or groups; globals are typed by the\n"
        "binary's DWARF when it has some, and so are the goroutines' stack variables, where\n"
        "the DWARF places them at each frame's pc. Objects no typed pointer reaches are\n"
        "grouped by size class and scan/noscan. BYTES are slot bytes (the size class).\n"
        "JSON: types [{type, objects, bytes} (untyped: type null, size_class, noscan)],\n"
        "unreachable {objects, bytes, types [...]}, reachable {objects, bytes}, roots\n"
        "{global_words, stacks, conservative_frames}, dangling_pointers, conservative_objects,\n"
        "typing {labelled_objects, inferred_objects, typed_globals, typed_locals}.")

    def add_arguments(self, parser):
        parser.add_argument("--top", type=positive_int, default=25, metavar="N",
                            help="rows to show (0: all; JSON always has all)")

    def run(self, rt, args):
        census = numpy_function(self.name, "gdbgomem.runtime.heapgraph.types", "type_census")(rt)
        graph, live, garbage, types = census.graph, census.live, census.garbage, census.types
        stacks = [r for r in graph.roots if r.kind == "stack"]
        data = {
            "types": [r.to_json() for r in live],
            "reachable": {"objects": sum(r.objects for r in live), "bytes": sum(r.bytes for r in live)},
            "unreachable": {"objects": sum(r.objects for r in garbage), "bytes": sum(r.bytes for r in garbage),
                            "types": [r.to_json() for r in garbage]},
            "roots": {"global_words": sum(len(r.values) for r in graph.roots if r.kind == "global"),
                      "stacks": len({r.goid for r in stacks}),
                      "conservative_frames": sum(not r.precise for r in stacks)},
            "dangling_pointers": graph.dangling,
            "conservative_objects": graph.pointers.conservative_objects,
            "typing": {"labelled_objects": int(((types.key != 0) & ~types.inferred & graph.slots.allocated).sum()),
                       "inferred_objects": int((types.inferred & graph.slots.allocated).sum()),
                       "typed_globals": types.typed_globals, "typed_locals": types.typed_locals},
        }
        report = Report(data)
        if args.json:
            return report
        shown = live if not args.top else live[:args.top]
        report.add(Table(["TYPE", "OBJECTS", "BYTES", ""],
                         [[Styled(r.name, "function" if r.type_name else "dim"), r.objects, r.bytes,
                           humanize(r.bytes)] for r in shown], align=["left", "right", "right", "right"]))
        if len(shown) < len(live):
            report.add(f"... {len(live) - len(shown)} more types (--top 0 shows all)")
        reach, dead = data["reachable"], data["unreachable"]
        report.add(f"reachable: {reach['objects']} objects, {humanize(reach['bytes'])}; "
                   f"unreachable (garbage the next GC frees): {dead['objects']} objects, {humanize(dead['bytes'])}")
        if garbage:
            top = ", ".join(f"{r.name} x{r.objects}" for r in garbage[:3])
            report.add(f"garbage by bytes: {top}")
        roots = data["roots"]
        report.add(f"roots: {roots['global_words']} pointer words in globals, {roots['stacks']} goroutine stacks "
                   f"(through the compiler's stack maps; {roots['conservative_frames']} frames word by word)")
        typing = data["typing"]
        report.add(f"types: {typing['labelled_objects']} objects labelled by the runtime, "
                   f"{typing['inferred_objects']} typed through pointers to them"
                   + (f" ({typing['typed_globals']} globals and {typing['typed_locals']} stack variables typed by "
                      "DWARF)" if typing["typed_globals"] else " (no DWARF: globals and stack variables untyped)"))
        if graph.dangling:
            report.add(Styled(f"{graph.dangling} pointers of live objects lead into no allocated object "
                              "(counted, not followed)", "warning"))
        return report
