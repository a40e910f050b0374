"""The arena's spans table names stale mspans once a span is freed or its struct reused."""

from types import SimpleNamespace

from gdbgomem.runtime.arenas import _page_owners

PAGE = 8192
BASE = 0xc000000000


def span(base, npages, state):
    return SimpleNamespace(base=base, end=base + npages * PAGE, state=state)


def test_only_live_spans_covering_the_page_own_it():
    by_address = {
        0x100: span(BASE, 2, "inuse"),               # pages 0-1, current
        0x200: span(BASE + 40 * PAGE, 4, "inuse"),   # reused: once held pages 2-5
        0x300: span(BASE + 6 * PAGE, 1, "free"),     # freed, its entry left behind
        0x400: span(BASE + 7 * PAGE, 1, "manual"),   # a stack
    }
    table = [0x100, 0x100, 0x200, 0x200, 0x200, 0x200, 0x300, 0x400, 0, 0x999]
    assert _page_owners(table, by_address, BASE, PAGE) == [0x100, 0x100, 0x400]
