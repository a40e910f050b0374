"""go-spans --summary and go-heap made from span columns (runtime.span_columns) against the Span
objects they stand in for, which the heap views take below span_totals.COLUMNS_FROM spans or
where numpy cannot be imported: the same text and JSON, byte for byte, on the same core. The
heap fixture has spans of every kind: in use (scan and noscan, small and large), stacks, GC work
buffers and free span structs."""

from __future__ import annotations

import pytest

from devtools.hostrun import json_of
from tests.e2e import two_paths
from tests.e2e.harness import subject
from tests.e2e.two_paths import COLUMNS, MARK

pytestmark = pytest.mark.e2e

SETUP = f"""
from gdbgomem.runtime import span_totals
span_totals.COLUMNS_FROM = 0  # the fixture has a few hundred spans
if sys.argv[3] == "columns":
    from gdbgomem.runtime import span_columns
    made = span_columns.span_columns
    span_columns.span_columns = lambda rt: print("{COLUMNS}") or made(rt)
"""
COMMANDS = ["go-spans --summary --json", "go-spans --summary", "go-heap --json", "go-heap"]


def outputs(binary, core, path: str) -> str:
    return two_paths.outputs(binary, core, path, SETUP, COMMANDS, 100)


def test_span_columns_give_what_spans_give(running, go_version):
    fixture = subject(running, "heap", go_version)
    fixture.look("gdb", on_core=True)  # writes the core if this release has none yet
    binary, core = fixture.fixture.binary, fixture.core
    mine, theirs = outputs(binary, core, "columns"), outputs(binary, core, "objects")
    assert mine.count(MARK) == len(COMMANDS) and COLUMNS in mine and COLUMNS not in theirs
    mine = mine.replace(COLUMNS + "\n", "")
    for command, a, b in zip(COMMANDS, mine.split(MARK)[1:], theirs.split(MARK)[1:]):
        assert a == b, command
    heap = json_of(mine.split(MARK)[3].split("\n", 1)[1])
    # spans of every group the columns label, so each rule of theirs is compared
    assert {"inuse", "stack", "free"} <= set(heap["spans"]) and heap["heap_objects"] > 0
    summary = json_of(mine.split(MARK)[1].split("\n", 1)[1])
    assert {r["noscan"] for r in summary["classes"]} == {True, False} and summary["classes"][0]["sizeclass"] == 0
