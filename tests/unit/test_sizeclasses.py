"""The size-class columns derived from the runtime's arrays equal the table comment
that the runtime's own generator wrote into sizeclasses.go, for every Go release."""

from __future__ import annotations

import re

import pytest

from devtools import fixtures
from gdbgomem.runtime.sizeclasses import table_from_arrays

ROW = re.compile(r"^//\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)%\s+(\d+)$")


def comment_table(version: str):
    root = fixtures.goroot(version) / "src"
    for path in (root / "internal/runtime/gc/sizeclasses.go", root / "runtime/sizeclasses.go"):
        if path.exists():
            rows = [ROW.match(line) for line in path.read_text().splitlines()]
            return [tuple(float(x) if "." in x else int(x) for x in m.groups()) for m in rows if m]
    pytest.fail(f"no sizeclasses.go in {root}")


@pytest.mark.parametrize("version", fixtures.go_versions())
def test_columns_match_the_generated_comment(version):
    rows = comment_table(version)
    assert len(rows) == 67
    sizes = [0] + [r[1] for r in rows]
    npages = [0] + [r[2] // 8192 for r in rows]
    table = table_from_arrays(sizes, npages, 8192)
    assert table[0].size == 0 and len(table) == 68
    for row, klass in zip(rows, table[1:]):
        number, size, span, objects, tail, waste, _align = row
        assert (klass.klass, klass.size, klass.span_bytes, klass.objects, klass.tail_waste) == \
            (number, size, span, objects, tail)
        assert round(klass.max_waste_pct, 2) == waste


def test_stops_at_a_zero_size():
    assert len(table_from_arrays([0, 8, 0, 32], [0, 1, 1, 1], 8192)) == 2
