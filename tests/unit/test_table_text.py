"""The table layout: widths from the data, fitted to a terminal, numbers and addresses never cut."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gdbgomem.render.report import RawJsonArray, Report, Styled, Table, fields_table
from gdbgomem.render.table_text import table_lines
from gdbgomem.render.terminal import fitted, output_width
from gdbgomem.render.text import PIECE_ROWS, json_pieces, render_text

SGR = re.compile(r"\x1b\[[0-9;]*m")

GOROUTINES = Table(
    ["GOID", "STATUS", "STACK LO", "FUNCTION", "FILE", "CREATED BY"],
    [[1, Styled("waiting", "status.waiting"), Styled("0xc000123456", "address"), "runtime.gopark",
      "/usr/lib/go/src/runtime/proc.go:435", "main.main /home/someone/src/project/cmd/server/main.go:120"],
     [22, Styled("running", "status.running"), Styled("0xc000223456", "address"), "main.spin", "-", None]],
    drop_order=("CREATED BY",), cut_front=("FILE",))


def test_columns_are_as_wide_as_their_widest_cell_and_lines_end_without_blanks():
    lines = table_lines(GOROUTINES, color=False)
    assert lines[0].startswith("GOID  STATUS   STACK LO      FUNCTION        FILE")
    assert lines[2].startswith("22    running  0xc000223456  main.spin       -")
    assert lines[2].endswith("-") and all(line == line.rstrip() for line in lines)


def test_a_narrow_terminal_cuts_text_drops_named_columns_and_says_so():
    lines = table_lines(GOROUTINES, color=False, width=60)
    assert all(len(line) <= 60 for line in lines)
    assert "CREATED BY" not in lines[0]
    assert " ".join(lines[-2:]) == "(left out to fit 60 columns: CREATED BY; --json has every column)"
    row = lines[1]
    assert "0xc000123456" in row  # an address is never cut
    assert row.endswith(" .../proc.go:435")  # a path keeps its end


def test_without_a_drop_order_the_widest_text_gives_way_and_numbers_stay_whole():
    table = Table(["N", "ADDRESS", "TEXT", "MORE"], [[123456789, "0x7fff5f000740-0x7fff5f010740", "x" * 50, "y" * 30]])
    line = table_lines(table, color=False, width=106)[1]
    assert len(line) == 106
    assert line.startswith("123456789  0x7fff5f000740-0x7fff5f010740  " + "x" * 29 + "...  ")
    assert line.endswith("y" * 30)  # the widest column gave way alone


def test_fields_wrap_instead_of_being_cut():
    table = fields_table([("created by", "main.main /very/long/path/to/some/file/in/a/project/main.go:123")])
    lines = table_lines(table, color=False, width=40)
    assert all(len(line) <= 40 for line in lines) and len(lines) == 3
    assert "".join(line[12:] for line in lines).replace(" ", "") == \
        "main.main/very/long/path/to/some/file/in/a/project/main.go:123"


def test_colors_do_not_count_toward_the_width():
    colored = [SGR.sub("", line) for line in table_lines(GOROUTINES, color=True, width=60)]
    assert colored == table_lines(GOROUTINES, color=False, width=60)
    assert any(SGR.search(line) for line in table_lines(GOROUTINES, color=True))


def test_strings_from_the_target_are_escaped_before_they_are_measured():
    table = Table(["NAME", "X"], [["evil\x1b[2Jname", 1], ["ok", 2]])
    lines = table_lines(table, color=False)
    assert "\x1b" not in "".join(lines) and "evil\\x1b[2Jname  1" in lines[1]


def test_long_text_lines_wrap_at_the_width_indented_under_themselves():
    report = Report({}).add("  prologue: " + "word " * 30)
    lines = render_text(report, color=False, width=50).splitlines()
    assert len(lines) > 1 and all(len(line) <= 50 for line in lines)
    assert lines[0].startswith("  prologue:") and lines[1].startswith("    word")
    assert render_text(report, color=False, width=0) == "  prologue: " + ("word " * 30)


def test_widths_come_from_columns_else_the_terminal_and_files_get_no_limit(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert output_width(is_tty=False) == 0
    monkeypatch.setenv("COLUMNS", "100")
    assert output_width(is_tty=False) == 100
    assert fitted(None) == 0 and fitted(0) == 0 and fitted(10) == 40 and fitted(132) == 132


one_line = st.text(st.characters(blacklist_characters="\n"), max_size=60)
cells = st.one_of(st.integers(0, 1 << 48), one_line, st.none(),
                  st.builds(Styled, one_line, st.sampled_from(["address", "warning", "function"])))
words = st.text(st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x7f), max_size=60)


def tables(cell):
    return st.integers(1, 6).flatmap(lambda n: st.tuples(
        st.lists(st.text(st.characters(whitelist_categories=("Lu",), max_codepoint=0x7f), min_size=1, max_size=10),
                 min_size=n, max_size=n),
        st.lists(st.lists(cell, min_size=n, max_size=n), max_size=8)))


@settings(max_examples=200, deadline=None)
@given(tables(cells), st.sampled_from([0, 40, 80, 100]))
def test_every_row_is_one_line_without_control_characters(table, width):
    headers, rows = table
    lines = table_lines(Table(headers, rows), color=False, width=width)
    assert len(lines) == 1 + len(rows)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "".join(lines))


@settings(max_examples=200, deadline=None)
@given(tables(words), st.sampled_from([40, 80, 100]))
def test_text_gives_way_until_the_table_fits(table, width):
    headers, rows = table
    lines = table_lines(Table(headers, rows), color=False, width=width)
    if 12 * len(headers) + 2 * (len(headers) - 1) <= width:  # every column can narrow to 12
        assert all(len(line) <= width for line in lines)



def test_when_floors_are_not_enough_text_columns_go_narrower_still():
    """go-spans on a Go 1.21 heap at 80 columns: every column at its floor was 81 wide."""
    table = Table(["BASE", "STATE", "CLASS", "POINTER BITS", "N"],
                  [[Styled("0xc000000000", "address"), "manual (stack)", "large (noscan)", "none (noscan)", 123456]])
    lines = table_lines(table, color=False, width=50)
    assert all(len(line) <= 50 for line in lines), lines
    assert "0xc000000000" in lines[1] and lines[1].endswith("123456")


def test_json_in_pieces_is_the_json_whole_and_rows_are_made_as_they_are_joined():
    made = []

    def rows(n):
        for i in range(n):
            made.append(i)
            yield f'{{"n":{i}}}'

    for n in (0, 1, PIECE_ROWS, 2 * PIECE_ROWS + 3):
        report = Report({"rows": RawJsonArray(rows(n)), "total": n})
        pieces = json_pieces(report)
        assert json.loads("".join(pieces)) == {"schema_version": 2, "rows": [{"n": i} for i in range(n)], "total": n}
        assert len(pieces) >= n // PIECE_ROWS
    assert len(made) == 2 * PIECE_ROWS + 3 + PIECE_ROWS + 1
