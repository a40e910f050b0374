"""The address grammar every host shares: numbers, symbols, registers read, offsets; nothing else."""

from __future__ import annotations

import pytest

from gdbgomem.errors import GoMemError
from gdbgomem.runtime.addresses import parse_address

SYMBOLS = {"runtime.allgs": 0x6881A0, "main.(*T).M-fm": 0x401000, "type:struct { x int }": 0x500000}
VARIABLES = {"rsp": 0xC000123000, "pc": 0x45F000, "1": 0x1234}


def parse(text):
    return parse_address(text, SYMBOLS.get, VARIABLES.get)


@pytest.mark.parametrize("text,want", [
    ("0xc000010000", 0xC000010000), ("4096", 4096), ("-5", (1 << 64) - 5), ("  0x10  ", 0x10),
    ("runtime.allgs", 0x6881A0), ("'runtime.allgs'", 0x6881A0), ('"runtime.allgs"', 0x6881A0),
    ("&runtime.allgs", 0x6881A0), ("&'runtime.allgs'", 0x6881A0), ("main.(*T).M-fm", 0x401000),
    ("'type:struct { x int }'", 0x500000), ("$rsp", 0xC000123000), ("$1", 0x1234),
    ("$rsp+16", 0xC000123010), ("$rsp - 0x10", 0xC000122FF0), ("runtime.allgs + 8 + 8", 0x6881B0),
    ("0x10-0x20", (1 << 64) - 0x10),
])
def test_accepted(text, want):
    assert parse(text) == want


@pytest.mark.parametrize("text,cause", [
    ("$rbx=0x4242", "cannot read"), ("$rsp++", "cannot read"), ("f()", "no symbol f()"), ("*ptr", "cannot read"),
    ("runtime.nosuch", "no symbol runtime.nosuch"), ("$nosuch", "no register or variable $nosuch"),
    ("", "cannot read"), ("runtime.allgs + $rsp", "cannot read"), ("1; kill", "cannot read"),
])
def test_refused_with_the_cause(text, cause):
    with pytest.raises(GoMemError, match=cause.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        parse(text)
