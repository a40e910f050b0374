"""go-span ADDR: the span and the object that hold an address, with its pointer words."""

from __future__ import annotations

from typing import Optional

from gdbgomem.commands.base import Command, positive_int
from gdbgomem.commands.heap import span_json
from gdbgomem.errors import GoMemError
from gdbgomem.render.report import Report, Styled, Table
from gdbgomem.render.text import hexaddr, humanize
from gdbgomem.runtime.goroutines import all_goroutines
from gdbgomem.runtime.objects import object_at, span_of
from gdbgomem.runtime.threads import all_threads

HEXDUMP_DEFAULT = 256
HEXDUMP_MAX = 64 * 1024


def stack_owner(proc, address: int) -> Optional[str]:
    """Who owns the stack holding address: a goroutine, or an M's g0 / gsignal."""
    for g in all_goroutines(proc):
        if not g.is_dead and g.stack_lo <= address < g.stack_hi:
            return f"the stack of goroutine {g.goid}"
    for t in all_threads(proc):
        for name, g in (("g0", t.g0), ("gsignal", t.gsignal)):
            if g is not None and g.stack_lo <= address < g.stack_hi:
                return f"M {t.id}'s {name} stack"
    return None


def hexdump(data: bytes, base: int, pointers) -> list:
    """16 bytes a line; words the bitmap marks as pointers are flagged with '*'."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        words = []
        for w in range(0, len(chunk), 8):
            index = (off + w) // 8
            flag = "*" if pointers and index < len(pointers) and pointers[index] else " "
            words.append(chunk[w:w + 8].hex(" ") + flag)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"  {hexaddr(base + off)}  {'  '.join(words):<50} {text}")
    return lines


class SpanCommand(Command):
    name = "go-span"
    keep_quotes = True  # ADDR is a debugger expression: &'runtime.allgs' must reach it whole
    summary = "the span and object holding an address: slot, allocated/marked, pointer words, hexdump"
    description = ("Find the span that holds ADDR through the arena's span table (O(1), like the\n"
                   "runtime's spanOf), then the object slot: index, base, offset of ADDR in it,\n"
                   "allocated (allocBits / freeindex), marked (gcmarkBits), its pointer words\n"
                   "(heap bits, malloc header type or largeType, with the type's name) and a\n"
                   "hexdump (* marks pointer words). ADDR is evaluated by the debugger ($rsp,\n"
                   "symbols and expressions work).")

    def add_arguments(self, parser):
        parser.add_argument("address", metavar="ADDR", help="an address or expression")
        parser.add_argument("--bytes", type=positive_int, default=HEXDUMP_DEFAULT, metavar="N",
                            help=f"hexdump at most N bytes of the object (default {HEXDUMP_DEFAULT}, 0 = none)")

    def run(self, proc, args):
        address = proc.target.evaluate_address(args.address)
        span = span_of(proc, address)
        if span is None or not span.base <= address < span.end or span.state == "free":
            owner = stack_owner(proc, address)
            where = f"; it is on {owner}" if owner else ""
            raise GoMemError(f"0x{address:x} is not in the Go heap{where}",
                             "go-heap shows the heap's address ranges")
        if span.state == "manual":
            owner = stack_owner(proc, address)
            what = owner if owner else "memory the runtime manages by hand (a free stack or GC work buffer)"
            report = Report({"address": address, "span": span_json(proc, span), "object": None, "manual_owner": owner})
            report.add(f"0x{address:x} is in a manual span [{hexaddr(span.base)}, {hexaddr(span.end)}): {what}")
            return report
        obj = object_at(proc, span, address)
        if obj is None:
            report = Report({"address": address, "span": span_json(proc, span), "object": None})
            report.add(f"0x{address:x} is in span [{hexaddr(span.base)}, {hexaddr(span.end)}) past its last slot "
                       f"({span.nelems} x {span.elemsize} B): the span's tail")
            return report
        dump_size = min(args.bytes, span.elemsize, HEXDUMP_MAX)
        data = proc.target.try_read(obj.base, dump_size) if dump_size else b""
        object_json = {
            "base": obj.base, "index": obj.index, "offset": obj.offset, "size": span.elemsize,
            "allocated": obj.allocated, "marked": obj.marked, "type": obj.type_address, "type_name": obj.type_name,
            "pointer_bits": obj.pointer_source, "pointer_words": obj.pointer_words, "notes": obj.notes,
            "bytes": data.hex() if data else None}
        report = Report({"address": address, "span": span_json(proc, span), "object": object_json})
        if args.json:
            return report
        kind = "noscan" if span.noscan else "scan"
        klass = f"size class {span.sizeclass}" if span.sizeclass else "a large object"
        pointers = obj.pointer_words
        rows = [
            ["span", f"[{hexaddr(span.base)}, {hexaddr(span.end)}) {span.npages} pages, {klass} ({kind}), "
                     f"{span.alloc_count}/{span.nelems} slots allocated, mspan at {hexaddr(span.address)}"],
            ["object", f"#{obj.index} at {hexaddr(obj.base)}, {span.elemsize} B; 0x{address:x} is at offset {obj.offset}"],
            ["allocated", Styled("yes", "status.running") if obj.allocated else Styled("no (free slot)", "warning")],
            ["marked", "yes" if obj.marked else "no"],
            ["type", f"{obj.type_name or '?'} at {hexaddr(obj.type_address)}" if obj.type_address else "-"],
            ["pointer bits", obj.pointer_source],
            ["pointer words", "".join("P" if p else "." for p in pointers) if pointers is not None else "unknown"],
        ]
        report.add(Table(["", ""], [[Styled(k, "heading"), v] for k, v in rows]))
        for note in obj.notes:
            report.add(Styled(note, "muted"))
        if data:
            report.add(f"first {humanize(len(data))} of the object (* = pointer word):")
            report.blocks.extend(hexdump(data, obj.base, pointers))
        return report
