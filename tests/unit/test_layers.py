"""The layout of the package holds: imports follow docs/architecture.md, no module grows past
600 lines, and every name the decoders read from a binary is in the runtime's manifest."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

from gdbgomem.runtime import manifest

PACKAGE = Path(__file__).resolve().parents[2] / "gdbgomem"
ALWAYS = {"errors"}
ALLOWED: Dict[str, Set[str]] = {  # layer -> the gdbgomem layers it may import (besides its own)
    "elf": set(),
    "runtime": {"elf", "releases"},
    "render": set(),
    "commands": {"runtime", "render", "releases"},
    "hosts": {"commands", "runtime", "elf", "render"},
    "api": {"runtime", "hosts", "elf"},
    "cli": {"runtime", "hosts", "elf"},
    "releases": set(),
    "errors": set(),
    "__init__": {"api"},
}
DEBUGGERS = {"gdb": "hosts/gdb", "lldb": "hosts/lldb"}  # the host modules that may import each
MAX_LINES = 600


def modules() -> Iterator[Tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        yield relative.parts[0].removesuffix(".py"), path


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            if node.module == "gdbgomem":  # from gdbgomem import releases
                yield from (f"gdbgomem.{alias.name}" for alias in node.names)


def test_imports_follow_the_layers():
    wrong = []
    for layer, path in modules():
        for name in imports(path):
            parts = name.split(".")
            if parts[0] in DEBUGGERS and not str(path.relative_to(PACKAGE)).startswith(DEBUGGERS[parts[0]]):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if parts[0] != "gdbgomem" or len(parts) < 2:
                continue
            if parts[1] not in ALLOWED[layer] | ALWAYS | {layer}:
                wrong.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {name}")
    assert not wrong, "\n".join(wrong)


def test_no_module_over_600_lines():
    long = [f"{path.relative_to(PACKAGE)}: {n}" for _, path in modules()
            if (n := len(path.read_text().splitlines())) > MAX_LINES]
    assert not long, long


# rt.layout("runtime.g"), target.struct_layout(...), global_address(...), symbol_address(...), name_table(...)
_READS = re.compile(r"\b(layout|struct_layout|global_address|symbol_address|symbol_size|name_table)"
                    r"\(\s*\"([\w./]+)\"")


def test_every_name_read_from_a_binary_is_in_the_manifest():
    listed = set(manifest.TYPES) | set(manifest.VARIABLES)
    missing = []
    for layer, path in modules():
        if layer not in ("runtime", "commands"):
            continue
        for kind, name in _READS.findall(path.read_text()):
            if name not in listed:
                missing.append(f"{path.relative_to(PACKAGE)}: {kind}({name!r})")
    assert not missing, "\n".join(missing)
    found = {name for _, path in modules() for _, name in _READS.findall(path.read_text())}
    assert len(found) > 15  # the pattern still finds the reads
