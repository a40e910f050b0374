"""Every command's text fits the terminal: gdb's `set width`, lldb's and the core reader's COLUMNS.

Unfitted, several commands are wider than 140 columns (checked too, so the fitting is
what is tested); fitted, no line is wider than the width, the rows are all still there,
and numbers and addresses are printed whole.
"""

from __future__ import annotations

import re

import pytest

from devtools import hostrun
from gdbgomem.commands.goroutine_rows import NARROW_DROPS
from gdbgomem.render.text import humanize
from tests.e2e.harness import chunk_probes, subject

pytestmark = pytest.mark.e2e


def goroutines_text_commands(truth: dict) -> list:
    return ["go-help", "go-info", "go-goroutines", "go-goroutines --all", f"go-g {truth['locked']['goid']}",
            f"go-g {truth['labeled']['goid']}", "go-threads", "go-stack", f"go-stack {truth['deep']['goid']}",
            "go-stack --m 0", "go-bt --all", "go-bt --all --group start", "go-goroutines --help"]


def heap_text_commands(truth: dict) -> list:
    sample = truth["samples"][1]["addr"]
    return ["go-heap", "go-spans", "go-spans --summary", "go-sizeclasses", "go-arenas", "go-arenas --map",
            "go-pages", f"go-span {sample}", f"go-span {sample} --bytes 64",
            f"go-pages --level 4 --chunk {chunk_probes(truth)[0]}", "go-spans --state free", "go-maps",
            "go-offheap", "go-types", "go-roots", f"go-path {sample}"]


COMMANDS = {"goroutines": goroutines_text_commands, "heap": heap_text_commands}


def widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


@pytest.mark.parametrize("fixture_name", ["goroutines", "heap"])
def test_every_command_fits_set_width_in_gdb(running, go_version, fixture_name):
    fixture = subject(running, fixture_name, go_version).fixture
    commands = COMMANDS[fixture_name](fixture.truth)
    unfitted = hostrun.run_gdb(hostrun.attach(fixture.pid), commands)
    assert max(widest(unfitted[i]) for i in range(len(commands))) > 140, "nothing to fit: the test would prove nothing"
    for width in (100, 80):
        out = hostrun.run_gdb(hostrun.attach(fixture.pid), commands, pre=[f"set width {width}"])
        for i, command in enumerate(commands):
            assert "gdbgomem:" not in out[i], f"{command}: {out[i][-300:]}"
            over = [line for line in out[i].splitlines() if len(line) > width]
            assert not over, f"{command} at width {width}: {over[:3]}"
            assert out[i].strip(), command


def goid_lines(text: str) -> list:
    return [int(m.group(1)) for m in re.finditer(r"^(\d+)  ", text, re.M)]  # the GOID column, not the total


def test_a_narrow_listing_keeps_every_row_and_says_which_columns_it_left_out(running, go_version):
    fixture = subject(running, "goroutines", go_version).fixture
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), ["go-goroutines --json", "go-goroutines --limit 0"],
                          pre=["set width 80"])
    listed = hostrun.json_of(out[0])["goroutines"]
    text = out[1]
    assert sorted(goid_lines(text)) == sorted(g["goid"] for g in listed)
    note = re.search(r"\(left out to fit 80 columns: (.*); --json has every column\)", " ".join(text.splitlines()))
    dropped = note.group(1).split(", ")
    header = re.split(r"  +", text.splitlines()[0])
    assert set(dropped) <= set(NARROW_DROPS) and {"STACK LO", "CREATED BY"} <= set(dropped)
    assert set(header) | set(dropped) == {"GOID", "STATUS", "WAIT", "M/TID", "STACK LO", "SIZE", "USED", "FUNCTION",
                                          "USER FRAME", "CREATED BY", "LABELS"} and not set(header) & set(dropped)
    for row in listed:  # sizes are whole, never cut
        line = next(line for line in text.splitlines() if line.startswith(f"{row['goid']} "))
        assert f" {humanize(row['stack_size'])} " in line


def test_the_arena_map_draws_as_many_pages_a_row_as_fit(running, go_version):
    fixture = subject(running, "heap", go_version).fixture
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), ["go-arenas --map", "go-arenas --map --columns 16"],
                          pre=["set width 80"])
    rows = [line for line in out[0].splitlines() if re.match(r"^0x[0-9a-f]+ \|.*\|$", line)]
    assert rows
    for line in rows:  # a power of two of characters, the most that fit beside the address
        prefix, drawn = len(line.split("|")[0]) + 1, len(line.split("|")[1])
        assert prefix + drawn + 1 <= 80 < prefix + 2 * drawn + 1 and drawn & (drawn - 1) == 0, line
    rows = [line for line in out[1].splitlines() if re.match(r"^0x[0-9a-f]+ \|.*\|$", line)]
    assert rows and all(len(line.split("|")[1]) == 16 for line in rows)  # --columns wins


def test_lldb_and_the_core_reader_fit_columns(running, go_version):
    seen = subject(running, "goroutines", go_version)
    commands = ["go-goroutines", "go-threads", f"go-stack {seen.fixture.truth['deep']['goid']}"]
    live = hostrun.run_lldb(["-p", str(seen.fixture.pid)], commands, columns=90)
    seen.look("gdb")  # writes the core
    on_core = hostrun.run_standalone(seen.fixture.binary, seen.core, commands, columns=90)
    for out in (live, on_core):
        for i, command in enumerate(commands):
            assert goid_lines(out[i]) or command != "go-goroutines", out[i][-500:]
            assert widest(out[i]) <= 90, f"{command}: {out[i][-500:]}"
    wide = hostrun.run_standalone(seen.fixture.binary, seen.core, commands[:1])
    assert widest(wide[0]) > 90  # unfitted where COLUMNS is not set and the output is a pipe


def test_a_large_objects_pointer_words_are_summarized(running, go_version):
    fixture = subject(running, "heap", go_version).fixture
    sample = next(s for s in fixture.truth["samples"] if s["kind"] == "large_scan")  # [5000]*int64
    out = hostrun.run_gdb(hostrun.attach(fixture.pid), [f"go-span {sample['addr']}", f"go-span {sample['addr']} --json"])
    line = next(line for line in out[0].splitlines() if line.startswith("pointer words"))
    slot_words = hostrun.json_of(out[1])["object"]["size"] // 8  # the span's one slot: whole pages
    assert line.split(None, 2)[2] == "P" * 64 + f"... ({slot_words} words: {sample['size'] // 8} pointers)"
