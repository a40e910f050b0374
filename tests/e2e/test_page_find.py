"""go-pages --find N against the runtime's own choice and against a first fit computed here.

The heap fixture allocates a 40-page object on SIGUSR1 and prints its address: with the GC off
and the program idle, that is pageAlloc.alloc(40) on the state gdb looked at. The other sizes
are checked against the first run of N free pages from searchAddr in the chunks' bitmaps
(go-pages --chunk), found here page by page, not through the summaries."""

from __future__ import annotations

import json
import select
import signal

import pytest

from devtools import fixtures, hostrun

pytestmark = pytest.mark.e2e
NEXT_PAGES = 40
CHUNK = 4 << 20
PAGE = 8192


def first_fit(chunks, search, npages):
    """The lowest address at or above searchAddr's 64-page word that starts npages free pages."""
    run, start = 0, None
    for base in sorted(chunks):
        bits = int(chunks[base], 16)
        for i in range(CHUNK // PAGE):
            address = base + i * PAGE
            if address < search & ~(64 * PAGE - 1):
                continue
            if bits >> i & 1 or (start is not None and address != start + run * PAGE):
                run, start = 0, None
            if bits >> i & 1:
                continue
            if run == 0:
                start = address
            run += 1
            if run == npages:
                return start
    return None


def test_find_is_where_the_runtime_allocates(ptrace_allowed, go_version):
    # 8 MiB written, dropped and returned to the OS first: free runs of every size asked below
    fixture = fixtures.start("heap", go_version, ["-next-pages", str(NEXT_PAGES), "-release-mb", "8"])
    try:
        attach = hostrun.attach(fixture.pid)
        ranges = hostrun.json_of(hostrun.run_gdb(attach, ["go-pages --json"])[0])["ranges"]
        bases = sorted({b for r in ranges for b in range(r["base"] & ~(CHUNK - 1), r["limit"], CHUNK)})
        sizes = [NEXT_PAGES, 1, 16, 100, 300, 600, 1 << 20]
        commands = [f"go-pages --find {n} --json" for n in sizes] + [f"go-pages --json --chunk {b}" for b in bases]
        out = hostrun.run_gdb(attach, commands + [f"go-pages --find {NEXT_PAGES}"])
        found = {n: hostrun.json_of(out[i])["find"] for i, n in enumerate(sizes)}
        chunks = {hostrun.json_of(out[len(sizes) + i])["chunk"]["base"]:
                  hostrun.json_of(out[len(sizes) + i])["chunk"]["alloc_bits"] for i in range(len(bases))}
        search = found[1]["search_address"]
        assert found[NEXT_PAGES]["alloc_address"] is not None
        for n, walk in found.items():
            assert walk["alloc_address"] == first_fit(chunks, search, n), n
            assert walk["fast_path"] or walk["alloc_address"] is None or walk["steps"][0]["level"] == 0
        assert found[1 << 20]["alloc_address"] is None  # 8 GiB: the heap would have to grow
        text = out[len(commands)]
        assert "address: 0x" in text and ("LEVEL" in text or "searchAddr's chunk" in text), text
        fixture.process.send_signal(signal.SIGUSR1)
        assert select.select([fixture.process.stdout], [], [], 60)[0], "the fixture printed no address"
        assert json.loads(fixture.process.stdout.readline())["next_alloc"] == found[NEXT_PAGES]["alloc_address"]
    finally:
        fixture.stop()
