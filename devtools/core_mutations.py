"""Corrupt runtime structures in a real core: where to write, what to write, and a core that reads so.

The corrupt-core test (tests/e2e/test_corrupt_core.py) and the fuzz benchmark
(bench/fuzz_cores.py) share this. A mutation is a list of (address, bytes) patches; the places
worth patching are the words every decoder depends on: slice headers, list links, pointers,
counts and bounds of the runtime's g, m, p, mspan, heapArena and pageAlloc, found through
gdbgomem's own layouts of the core's binary.
"""

from __future__ import annotations

import random
import struct
from typing import Dict, List, Sequence, Tuple

from gdbgomem.hosts.standalone import CoreTarget
from gdbgomem.runtime.goroutines import G_MEMBERS
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.runtime.spans import SPAN_MEMBERS
from gdbgomem.runtime.threads import M_MEMBERS

Patch = Tuple[int, bytes]
# values that reach edge cases: null, tiny, page and arena sizes, 32- and 40-bit, the sign bit,
# all ones, and a typical heap address
INTERESTING = [0, 1, 7, 8192, 1 << 20, 1 << 26, 1 << 32, 1 << 40, (1 << 63) - 1, 1 << 63, (1 << 64) - 1,
               0xc000000000]


class PatchedTarget(CoreTarget):
    """A core whose memory reads, one by one or in bulk, see some bytes replaced."""

    def __init__(self, base: CoreTarget, patches: Sequence[Patch]):
        self.__dict__.update(base.__dict__)
        self.patches = list(patches)

    def read(self, address, size):
        return self.patched(address, super().read(address, size))

    def read_many(self, regions):
        return [self.patched(address, data) if data is not None else None
                for (address, _size), data in zip(regions, super().read_many(regions))]

    def patched(self, address: int, data: bytes) -> bytes:
        out = bytearray(data)
        for at, value in self.patches:
            lo, hi = max(address, at), min(address + len(out), at + len(value))
            if lo < hi:
                out[lo - address:hi - address] = value[lo - at:hi - at]
        return bytes(out)


def places(target: CoreTarget, per_kind: int = 8) -> Dict[str, int]:
    """name -> address of the words worth corrupting, `per_kind` structs of each kind at most."""
    rt = GoRuntime(target)
    found: Dict[str, int] = {}
    mheap = rt.layout("runtime.mheap")
    mheap_at = rt.global_address("runtime.mheap_")
    allgs = rt.global_address("runtime.allgs")
    found.update({"allgs.array": allgs, "allgs.len": allgs + 8, "allgs.cap": allgs + 16,
                  "allm": rt.global_address("runtime.allm"),
                  "allspans.array": mheap_at + mheap.offset("allspans"),
                  "allspans.len": mheap_at + mheap.offset("allspans") + 8,
                  "mheap.arenas[0]": mheap_at + mheap.offset("arenas")})
    pages_at = mheap_at + mheap.offset("pages")
    page_alloc = rt.layout("runtime.pageAlloc")
    for path in ("inUse.ranges", "chunks", "searchAddr", "summary"):
        if page_alloc.has(path):
            found[f"pageAlloc.{path}"] = pages_at + page_alloc.offset(path)
            found[f"pageAlloc.{path}+8"] = pages_at + page_alloc.offset(path) + 8
    gs = rt.read_word_slice(allgs, 1 << 20, "allgs")[:per_kind]
    _struct_places(rt, found, "g", "runtime.g", gs, G_MEMBERS)
    ms, m = [], rt.read_word(rt.global_address("runtime.allm"))
    alllink = rt.layout("runtime.m").offset("alllink")
    while m and len(ms) < per_kind and m not in ms:
        ms.append(m)
        m = rt.read_word(m + alllink)
    _struct_places(rt, found, "m", "runtime.m", ms, M_MEMBERS)
    spans = rt.read_word_slice(mheap_at + mheap.offset("allspans"), 1 << 26, "allspans")
    _struct_places(rt, found, "mspan", "runtime.mspan", spans[:per_kind] + spans[-per_kind:], SPAN_MEMBERS)
    return found


def _struct_places(rt: GoRuntime, found: Dict[str, int], kind: str, type_name: str, addresses: List[int],
                   members) -> None:
    layout = rt.layout(type_name)
    for i, address in enumerate(addresses):
        for name, path in members:
            if layout.has(path):
                found[f"{kind}[{i}].{name}"] = address + layout.offset(path)


def random_mutation(rng: random.Random, where: Dict[str, int], target: CoreTarget) -> Tuple[List[str], List[Patch]]:
    """One to three patches at random places: an interesting or random word, a flipped bit,
    a pointer to another corrupted place (cycles, self-loops), or a run of random bytes."""
    heads = sorted(n for n in where if "[" not in n)     # what every walk starts from
    fields = sorted(n for n in where if "[" in n)
    names = sorted({rng.choice(heads if rng.random() < 0.4 else fields) for _ in range(rng.randint(1, 3))})
    patches: List[Patch] = []
    for name in names:
        at = where[name]
        how = rng.random()
        if how < 0.4:
            value = struct.pack("<Q", rng.choice(INTERESTING))
        elif how < 0.6:
            value = struct.pack("<Q", rng.getrandbits(64))
        elif how < 0.75:
            original = target.try_read(at, 8) or bytes(8)
            value = struct.pack("<Q", struct.unpack("<Q", original)[0] ^ (1 << rng.randrange(64)))
        elif how < 0.9:
            value = struct.pack("<Q", where[rng.choice(names)] - rng.choice([0, 8, 16]))
        else:
            value = rng.randbytes(rng.randint(2, 64))
        patches.append((at, value))
    return names, patches
