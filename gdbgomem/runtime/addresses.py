"""Address arguments (go-span ADDR, go-pages --chunk ADDR), parsed by gdbgomem in every host.

A debugger's expression evaluator can assign and call (`$rbx=0x4242`, `f()`), and each host's
accepts different things, so none is used: the grammar is gdbgomem's own, the same in gdb,
lldb and the standalone reader. An address is a base, then any number of `+ N` / `- N`:

    base:  a number (0x1f, 31; -5 wraps to 64 bits as in C), a Go symbol (runtime.allgs,
           'main.(*T).M', &runtime.m0), a register ($rsp, $pc) or a debugger's
           convenience variable ($1, $obj): only ever read
    N:     a number

so `$rsp+16`, `runtime.allgs + 8` and `'main.cache'` all work, and anything else (`$rbx=1`,
`f()`, `*p`) is refused with what is accepted.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from gdbgomem.errors import GoMemError

MASK64 = (1 << 64) - 1
_NUMBER = r"-?(?:0[xX][0-9a-fA-F]+|\d+)"
_OFFSET = re.compile(r"^(?P<base>.+?)\s*(?P<op>[+-])\s*(?P<offset>0[xX][0-9a-fA-F]+|\d+)$")
_SYMBOL = re.compile(r"^&?(?:'(?P<single>[^']+)'|\"(?P<double>[^\"]+)\"|(?P<bare>[A-Za-z_][\w./*()\[\]{},:-]*))$")
_VARIABLE = re.compile(r"^\$(?P<name>[A-Za-z_]\w*|\d+)$")
HINT = ("give a number such as 0xc000010000, a Go symbol such as runtime.allgs, a register such as $rsp, "
        "with + or - and a number after it if needed")


def parse_address(text: str, symbol: Callable[[str], Optional[int]],
                  variable: Callable[[str], Optional[int]]) -> int:
    """The address text names. symbol(name): a Go symbol's address or None; variable(name): a
    register's or convenience variable's value (read, never set) or None."""
    expression = (text or "").strip()
    offset = 0
    while True:  # peel `+ N` and `- N` off the right
        match = _OFFSET.match(expression)
        if match is None or re.fullmatch(_NUMBER, expression):
            break
        amount = int(match.group("offset"), 0)
        offset += amount if match.group("op") == "+" else -amount
        expression = match.group("base").strip()
    return (_base(expression, text, symbol, variable) + offset) & MASK64


def _base(expression: str, text: str, symbol, variable) -> int:
    if re.fullmatch(_NUMBER, expression):
        return int(expression, 0) & MASK64
    found = _VARIABLE.match(expression)
    if found:
        value = variable(found.group("name"))
        if value is None:
            raise GoMemError(f"no register or variable ${found.group('name')} here", HINT)
        return value
    found = _SYMBOL.match(expression)
    if found:
        name = found.group("single") or found.group("double") or found.group("bare")
        address = symbol(name)
        if address is None:
            raise GoMemError(f"no symbol {name} in the binary", HINT)
        return address
    raise GoMemError(f"cannot read {text!r} as an address (gdbgomem evaluates no expressions)", HINT)
