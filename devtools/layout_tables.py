"""Generate gdbgomem's per-release layout tables (gdbgomem/runtime/layouts/goX.Y.json).

For each Go release, fixtures/goroutines is built with that release's toolchain, with
DWARF, and gdbgomem's own DWARF reader (checked against gdb's in tests/unit/test_binary.py)
answers everything the runtime manifest lists: struct layouts, constants and variable
sizes. The answers are written as the table of that minor release.

    .venv/bin/python -m devtools.layout_tables [VERSION ...]     # default: every tested release
"""

from __future__ import annotations

import json
import sys
from typing import List

from devtools import fixtures
from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.layout import layout_to_json
from gdbgomem.releases import parse_go_version
from gdbgomem.runtime import manifest
from gdbgomem.runtime.layout_tables import TABLES, table_name


def table_text(version: str) -> str:
    """The table of a release, as the JSON text that is shipped."""
    wanted = manifest.wish_list()
    binary = GoBinary(str(fixtures.build("goroutines", version)), wanted, use_cache=False)
    try:
        table = {
            "release": table_name(parse_go_version("go" + version)),
            "generated_from": "go" + version,
            "layouts": {name: layout_to_json(binary.struct_layout(name)) for name in wanted.types},
            "constants": {name: binary.constant(name) for name in wanted.constants},
            "variables": {name: binary.symbol_size(name) for name in wanted.variables},
        }
    finally:
        binary.close()
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def table_path(version: str):
    return TABLES / f"{table_name(parse_go_version('go' + version))}.json"


def main(argv: List[str]) -> int:
    for version in argv or fixtures.go_versions():
        path = table_path(version)
        path.write_text(table_text(version))
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
