"""The shipped layout tables are what each release's own DWARF says, regenerated and compared."""

from __future__ import annotations

import pytest

from devtools import fixtures
from devtools.layout_tables import table_path, table_text
from gdbgomem import releases
from gdbgomem.releases import parse_go_version
from gdbgomem.runtime.layout_tables import shipped_releases, table_for, table_name


def test_shipped_table_equals_the_releases_dwarf(go_version):
    try:
        regenerated = table_text(go_version)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert table_path(go_version).read_text() == regenerated, \
        f"run .venv/bin/python -m devtools.layout_tables {go_version} and review the change"


def test_every_tested_release_has_a_table():
    assert shipped_releases() == [table_name(parse_go_version("go" + v)) for v in releases.tested_releases()]
    newest = parse_go_version("go" + releases.tested_releases()[-1])
    table = table_for(newest)
    assert table.struct_layout("runtime.g").has("sched.sp") and table.constant("runtime._Gscan") == 0x1000
    assert table_for((1, 20, 0)) is None and table_for((newest[0], newest[1] + 1, 0)) is None


def test_tables_are_of_the_tested_patch_releases():
    for version in fixtures.go_versions():
        assert table_for(parse_go_version("go" + version)).generated_from == "go" + version
