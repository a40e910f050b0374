"""go-goroutines made from columns (commands.goroutines_columns) against the Goroutine path it
stands in for, which the goroutine views take where numpy cannot be imported: the same text and
JSON, byte for byte, on the same core (a core has no "now", so waits are not timed and the
outputs are stable). The goroutines fixture has the special goroutines: running ones on an M,
one locked to its thread, some in system calls, some with pprof labels."""

from __future__ import annotations

import re

import pytest

from tests.e2e import two_paths
from tests.e2e.harness import subject
from tests.e2e.two_paths import COLUMNS, MARK

pytestmark = pytest.mark.e2e

SETUP = f"""
from gdbgomem.commands import goroutines
goroutines.COLUMNS_FROM = 0  # the fixture has a few dozen goroutines
if sys.argv[3] == "columns":
    from gdbgomem.commands import goroutines_columns
    made = goroutines_columns.listing_report
    goroutines_columns.listing_report = lambda rt, args: print("{COLUMNS}") or made(rt, args)
"""
COMMANDS = ["go-goroutines --json", "go-goroutines --all --json", "go-goroutines --json --limit 5",
            "go-goroutines", "go-goroutines --limit 0", "go-goroutines --all --limit 0", "go-goroutines --limit 3"]


def outputs(binary, core, path: str, columns: str) -> str:
    return two_paths.outputs(binary, core, path, SETUP, COMMANDS, int(columns) if columns else None)


@pytest.mark.parametrize("columns", ["", "100", "80"])
def test_columns_give_what_goroutines_give(running, go_version, columns):
    fixture = subject(running, "goroutines", go_version)
    fixture.look("gdb", on_core=True)  # writes the core if this release has none yet
    binary, core = fixture.fixture.binary, fixture.core
    mine, theirs = outputs(binary, core, "columns", columns), outputs(binary, core, "objects", columns)
    # rows of both kinds: plain, and special ones (on a thread, with labels)
    assert mine.count(MARK) == len(COMMANDS) and re.search(r'"thread_id":\d', mine) and '"labels":{"' in mine
    assert mine.count(COLUMNS) == len(COMMANDS) and COLUMNS not in theirs
    for command, a, b in zip(COMMANDS, mine.replace(COLUMNS + "\n", "").split(MARK)[1:], theirs.split(MARK)[1:]):
        assert a == b, command
