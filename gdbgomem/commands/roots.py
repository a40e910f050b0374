"""go-roots (who holds the heap, by retained bytes) and go-path (why one object is alive)."""

from __future__ import annotations

from gdbgomem.commands.base import Command, numpy_function, positive_int, writable_path
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize

def _retention(rt, command: str):
    return numpy_function(command, "gdbgomem.runtime.heapgraph.retention", "retention")(rt)


def _root_json(hold) -> dict:
    u = hold.unit
    return {"root": u.name, "kind": u.kind, "goid": u.goid, "precise": u.precise,
            "retained_objects": hold.retained_objects, "retained_bytes": hold.retained_bytes,
            "reachable_objects": hold.reachable_objects, "reachable_bytes": hold.reachable_bytes}


class RootsCommand(Command):
    name = "go-roots"
    summary = "roots (globals, stack frames, finalizers) ranked by the heap bytes they alone keep alive"
    description = (
        "Each root (a global variable, a goroutine's stack frame, an object's finalizer) with\n"
        "the heap objects it retains: those no other root reaches, which would be garbage if\n"
        "it let go (it dominates them), and, for the roots shown, all it reaches. Objects\n"
        "reached from several roots are retained by none and counted as shared. Frames are\n"
        "read through the compiler's stack maps; where they say nothing (a running\n"
        "goroutine's innermost frame, a frame under asyncPreempt) word by word (precise:\n"
        "false). A finalizer keeps its object and all it reaches (the GC queues the\n"
        "finalizer instead of freeing them); cleanups and weak handles keep what they hold.\n"
        "The runtime's own globals are one root, (runtime globals).\n"
        "JSON: roots [{root, kind (global|stack|finalizer|runtime), goid, precise,\n"
        "retained_objects, retained_bytes, reachable_objects, reachable_bytes}] (reachable:\n"
        "null past --top), shared {objects, bytes}, reachable {objects, bytes}, pprof {path,\n"
        "bytes, samples} (null without --pprof), chains [{chain (the owner, then types),\n"
        "objects, bytes}] (null without --chains).")

    def add_arguments(self, parser):
        parser.add_argument("--top", type=positive_int, default=20, metavar="N",
                            help="roots to show and to measure reachable bytes for (0: all)")
        parser.add_argument("--chains", action="store_true",
                            help="add the reachable bytes by owner and chain of types (JSON stacks, the flame "
                                 "graph's data)")
        parser.add_argument("--pprof", metavar="FILE",
                            help="also write a gzipped pprof profile (inuse_objects, inuse_space) whose stacks "
                                 "are owner -> type -> ... -> type: go tool pprof -top FILE, or -http")

    def run(self, rt, args):
        from gdbgomem.runtime.heapgraph.walk import SHARED
        from gdbgomem.runtime.heapgraph.retention import fill_reachable
        pprof = writable_path(self.name, args.pprof, "retained.pb.gz") if args.pprof else None
        r = _retention(rt, self.name)
        shown = r.holds if not args.top else r.holds[:args.top]
        for hold in shown:
            fill_reachable(r, hold)
        shared = r.owner == SHARED
        reached = r.graph.reached
        stacks = retained_stacks(rt, r) if pprof or args.chains else []
        written = _write_pprof(pprof, stacks) if pprof else None
        report = Report({"roots": [_root_json(h) for h in (shown if not args.json else r.holds)],
                         "shared": {"objects": int(shared.sum()), "bytes": int(r.slot_bytes[shared].sum())},
                         "reachable": {"objects": int(reached.sum()), "bytes": int(r.slot_bytes[reached].sum())},
                         "pprof": written,
                         "chains": [{"chain": st, "objects": n, "bytes": b} for st, n, b in stacks] if args.chains
                         else None})
        if args.json:
            return report
        rows = [[Styled(h.unit.name, "function"), h.unit.kind, h.retained_bytes, humanize(h.retained_bytes),
                 h.retained_objects, humanize(h.reachable_bytes)] for h in shown]
        report.add(Table(["ROOT", "KIND", "RETAINED", "", "OBJECTS", "REACHES"], rows,
                         align=["left", "left", "right", "right", "right", "right"], drop_order=("",)))
        if len(shown) < len(r.holds):
            report.add(f"... {len(r.holds) - len(shown)} more roots (--top 0 shows all)")
        data = report.data
        report.add(f"shared by several roots: {data['shared']['objects']} objects, {humanize(data['shared']['bytes'])}"
                   f"; reachable in all: {data['reachable']['objects']} objects, "
                   f"{humanize(data['reachable']['bytes'])}")
        if written:
            report.add(f"wrote {written['path']} ({humanize(written['bytes'])}, {written['samples']} samples): "
                       f"go tool pprof -top {written['path']}")
        return report


def retained_stacks(rt, r) -> list:
    """Reachable memory by (owner, chain of types): [(stack from the owner down, objects, bytes)],
    most bytes first; the owner a root, or "(shared by several roots)"."""
    import numpy as np
    from gdbgomem.runtime.heapgraph.retention import type_chains
    from gdbgomem.runtime.heapgraph.type_flow import slot_types
    from gdbgomem.runtime.heapgraph.types import type_keys
    keys, label = type_keys(r.graph, slot_types(rt))
    chains = type_chains(r, keys)
    live = np.flatnonzero(chains.chain >= 0)
    owner = r.owner[live]
    owner = np.where(owner >= 0, owner, len(r.holds))
    combined = owner * len(chains.links) + chains.chain[live]
    groups, inverse = np.unique(combined, return_inverse=True)
    objects = np.bincount(inverse.ravel(), minlength=len(groups))
    size = np.bincount(inverse.ravel(), weights=r.slot_bytes[live], minlength=len(groups))
    stacks = []
    for group, n, b in zip(groups.tolist(), objects.tolist(), size.tolist()):
        who, link = divmod(group, len(chains.links))
        types = []
        while link >= 0 and len(types) < len(chains.links):
            link, key = chains.links[link]
            types.append(label[key])
        root = r.holds[who].unit.name if who < len(r.holds) else "(shared by several roots)"
        stacks.append(([root] + types[::-1], n, int(b)))
    return sorted(stacks, key=lambda s: (-s[2], s[0]))


def _write_pprof(path: str, stacks: list) -> dict:
    """Retained memory as pprof samples: one per (owner, chain of types)."""
    from gdbgomem.render.pprof import Profile
    profile = Profile([("inuse_objects", "count"), ("inuse_space", "bytes")])
    for stack, n, b in stacks:
        profile.add(stack, [n, b])
    data = profile.gzipped()
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise GoMemError(f"go-roots: cannot write {path}: {exc.strerror}", "give a writable path") from None
    return {"path": path, "bytes": len(data), "samples": len(stacks)}


class PathCommand(Command):
    name = "go-path"
    summary = "one shortest chain of pointers from a root to the heap object holding ADDR"
    description = (
        "Why an object is alive: a root (global variable or goroutine stack frame) and the\n"
        "objects from it to the one holding ADDR, each with its type and the field or index\n"
        "the pointer to the next one sits in. An object no root reaches is garbage.\n"
        "JSON: root {root, kind, goid, word_address} (null: unreachable), path [{addr,\n"
        "type, size, via}] (addr: the object's address as Go's pointers hold it, past a\n"
        "malloc header; size: its slot; via: where in the previous object the pointer\n"
        "sits, null for the first, which the root points to).")

    def add_arguments(self, parser):
        parser.add_argument("address", metavar="ADDR", help="an address in a heap object (0x..., or an expression)")

    def run(self, rt, args):
        import numpy as np
        from gdbgomem.runtime.heapgraph.retention import chain_to
        from gdbgomem.runtime.heapgraph.type_flow import slot_types
        address = rt.address_of(args.address)
        r = _retention(rt, self.name)
        types = slot_types(rt)
        slots = r.graph.slots
        slot = int(slots.slot_of(np.array([address], dtype=np.uint64))[0])
        if slot < 0 or not slots.allocated[slot]:
            raise GoMemError(f"go-path: 0x{address:x} is in no allocated heap object",
                             f"go-span 0x{address:x} says what is there")
        chain = chain_to(r, slot)
        if chain is None:
            report = Report({"root": None, "path": [_hop(rt, r, types, slot, None)]})
            report.add(f"no root reaches the object at {hexaddr(report.data['path'][0]['addr'])}: garbage the next "
                       "GC frees")
            return report
        hops = [_hop(rt, r, types, s, prev) for prev, s in zip([None] + chain.slots[:-1], chain.slots)]
        u = chain.hold.unit
        report = Report({"root": {"root": u.name, "kind": u.kind, "goid": u.goid, "word_address": chain.root_address},
                         "path": hops})
        if args.json:
            return report
        report.add(f"root: {u.name} ({u.kind}; its word at {hexaddr(chain.root_address)})")
        report.add(Table(["VIA", "OBJECT", "TYPE", "SIZE"],
                         [[h["via"] or "->", Styled(hexaddr(h["addr"]), "address"), h["type"], h["size"]]
                          for h in hops], align=["left", "left", "left", "right"]))
        return report


def _hop(rt, r, types, slot: int, previous) -> dict:
    import numpy as np
    from gdbgomem.runtime.heapgraph.types import type_row
    slots = r.graph.slots
    ids = np.array([slot])
    base, size = int(slots.slot_address(ids)[0]), int(slots.slot_size(ids)[0])
    span = slots.spans[int(slots.span_of_slot(ids)[0])]
    header = int(types.header_bytes(slots, ids)[0])  # Go's pointers point past a malloc header
    row = type_row(types.plans, int(types.key[slot]), size, header, span.sizeclass, span.noscan)
    via = _via(rt, r, types, previous, base, size) if previous is not None else None
    return {"addr": base + header, "type": row.name, "size": size, "via": via}


def _via(rt, r, types, parent: int, child_base: int, child_size: int) -> str:
    """Where in the parent object the pointer to the child sits: a field path, an index, or +offset."""
    import numpy as np
    from gdbgomem.runtime.abi_types import field_path
    from gdbgomem.runtime.heapgraph.type_plans import ADDRESS_MASK
    slots = r.graph.slots
    ids = np.array([parent])
    base, size = int(slots.slot_address(ids)[0]), int(slots.slot_size(ids)[0])
    raw = rt.target.try_read(base, size)
    if raw is None:
        return "?"
    words = np.frombuffer(raw[:len(raw) - len(raw) % 8], dtype=np.uint64)
    hits = np.flatnonzero((words >= child_base) & (words < child_base + child_size))
    if not len(hits):
        return "?"
    header = int(types.header_bytes(slots, ids)[0])
    offset = int(hits[0]) * 8 - header
    typ = int(types.key[parent])
    if not typ or typ & ~ADDRESS_MASK:  # unknown, or one of the runtime's map structures
        return f"+0x{offset:x}"
    type_size = types.plans.size(typ)
    if type_size and (size - header) // type_size >= 2:
        return f"[{offset // type_size}]" + field_path(rt, typ, offset % type_size)
    return field_path(rt, typ, offset) or "+0x0"
