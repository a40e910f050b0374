"""procfs.resident_pages: one byte per pagemap entry, 1 where the entry says the page is in RAM
and is the process's own or a file's (not the shared zero page)."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from gdbgomem.hosts import procfs

FLAGS = [procfs.PRESENT, procfs.EXCLUSIVE, procfs.FILE, 1 << 62, 1 << 55, (1 << 55) - 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FLAGS), max_size=4), max_size=64))
def test_resident_pages_reads_each_entry_flags(flag_sets):
    entries = [sum(set(flags)) for flags in flag_sets]
    got = procfs.resident_pages(struct.pack(f"<{len(entries)}Q", *entries))
    assert got == bytes(1 if e & procfs.PRESENT and e & (procfs.EXCLUSIVE | procfs.FILE) else 0 for e in entries)
