"""The array-built pieces of the goroutine listing: bulk reads of records (runtime.record_reads)
give the bytes read_many gives, and rows from a byte matrix (render.row_matrix) are the text
Python's formatting gives."""

from __future__ import annotations

import ctypes

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gdbgomem.render.row_matrix import RowMatrix
from gdbgomem.runtime import record_reads
from gdbgomem.runtime.record_reads import read_chunks
from tests.unit.test_decoders import BytesTarget


class ScatterTarget(BytesTarget):
    """BytesTarget that also reads scattered regions in one call, as process_vm_readv does:
    region by region, stopping at the first that is not all there; counts its calls."""

    def __init__(self, segments):
        super().__init__(segments)
        self.scattered_calls = 0

    def read_scattered(self, local_iov: int, remote_iov: int, count: int) -> int:
        self.scattered_calls += 1
        local = np.ctypeslib.as_array((ctypes.c_uint64 * (2 * count)).from_address(local_iov)).reshape(count, 2)
        remote = np.ctypeslib.as_array((ctypes.c_uint64 * (2 * count)).from_address(remote_iov)).reshape(count, 2)
        done = 0
        for (into, size), (address, length) in zip(local.tolist(), remote.tolist()):
            assert size == length
            data = self.try_read(address, length)
            if data is None:
                break
            ctypes.memmove(into, data, length)
            done += length
        return done


def _records(target, regions):
    """Each region's bytes as read_chunks gives them, None where it gives none."""
    addresses = np.array([a for a, _ in regions], dtype=np.uint64)
    sizes = np.array([s for _, s in regions], dtype=np.int64)
    got = [None] * len(regions)
    for chunk in read_chunks(target, addresses, sizes):
        for i, offset in zip(chunk.indices.tolist(), chunk.offsets.tolist()):
            got[i] = chunk.data[offset:offset + regions[i][1]].tobytes()
    return got


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0x800, 0x5000), st.integers(0, 600)), max_size=60))
def test_read_chunks_gives_what_read_many_gives(regions):
    memory = bytes(range(256)) * 16
    target = BytesTarget({0x1000: memory, 0x2400: memory[:1024], 0x4000: memory[:512]})
    assert _records(target, regions) == target.read_many(regions)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0x800, 0x5000), st.integers(0, 600)), max_size=60), st.integers(1, 4))
def test_read_chunks_scattered_gives_what_read_many_gives(regions, iov_max):
    memory = bytes(range(256)) * 16
    target = ScatterTarget({0x1000: memory, 0x2400: memory[:1024], 0x4000: memory[:512]})
    record_reads.IOV_MAX, saved = iov_max, record_reads.IOV_MAX  # calls that fall short, in the middle too
    try:
        assert _records(target, regions) == target.read_many(regions)
    finally:
        record_reads.IOV_MAX = saved


def test_read_chunks_scattered_in_few_calls():
    memory = bytes(range(256)) * 64
    target = ScatterTarget({0x10000: memory})
    regions = [(0x10000 + 2048 * i, 256) for i in range(8)]  # gaps too wide to merge: a window each
    assert _records(target, regions) == [memory[2048 * i:2048 * i + 256] for i in range(8)]
    assert target.scattered_calls == 2  # the probe of the first record, then all eight windows


def test_read_chunks_words_aligned_and_not():
    memory = bytes(range(256)) * 4
    target = BytesTarget({0x1000: memory})
    regions = [(0x1000 + 16 * i, 24) for i in range(8)] + [(0x1003, 24)]
    (chunk,) = read_chunks(target, np.array([a for a, _ in regions], dtype=np.uint64), np.full(len(regions), 24))
    order = chunk.indices.tolist()
    for at, size in ((0, 8), (8, 8), (4, 4), (5, 1), (6, 2)):
        words = chunk.words(at, size).tolist()
        expect = [int.from_bytes(memory[a - 0x1000 + at:a - 0x1000 + at + size], "little") for a, _ in regions]
        assert words == [expect[i] for i in order]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, (1 << 64) - 1), st.booleans(), st.integers(0, 2)), max_size=40),
       st.integers(1, 7))
def test_row_matrix_rows_are_python_formatting(rows, batch):
    options = ["", "é\"x\"", "a longer text with ü"]
    values = np.array([v for v, _, _ in rows], dtype=np.uint64)
    null = np.array([n for _, n, _ in rows], dtype=bool)
    matrix = RowMatrix(len(rows))
    matrix.text("{")
    matrix.numbers(values)
    matrix.text(",")
    matrix.numbers(values, null)
    matrix.choices(np.array([c for _, _, c in rows], dtype=np.int64), options)
    matrix.text("}")
    made = ",".join(matrix.render(first, min(first + batch, len(rows))) for first in range(0, len(rows), batch))
    assert made == ",".join(f"{{{v},{'null' if n else v}{options[c]}}}" for v, n, c in rows)
