"""The symbol finder's rules hold on every release: on builds that kept their symbol table, each
global it finds from the runtime's machine code is where the symbol table says, for every rule."""

from __future__ import annotations

import shutil

import pytest

from devtools import fixtures
from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.layout_cache import CACHE_DIR_ENV
from gdbgomem.elf.go_facts import build_info_version, pclntab_location
from gdbgomem.runtime import manifest
from gdbgomem.runtime.layout_tables import TABLES, shipped_releases, table_for
from gdbgomem.runtime.symbol_finder import MODULEDATA_TEXT, RULES, SymbolFinder

# the size-class arrays have a name per release; the finder finds the one the binary has
SAME_ARRAY = {"internal/runtime/gc.SizeClassToSize": "runtime.class_to_size",
              "internal/runtime/gc.SizeClassToNPages": "runtime.class_to_allocnpages"}


def symtab_address(binary: GoBinary, name: str):
    address = binary.symbol_address(name)
    if address is None and name in SAME_ARRAY:
        return binary.symbol_address(SAME_ARRAY[name])
    if address is None and name in SAME_ARRAY.values():
        return binary.symbol_address(next(k for k, v in SAME_ARRAY.items() if v == name))
    return address


@pytest.mark.parametrize("build_kind", ["debug", "pie"])
def test_every_global_is_where_the_symbol_table_says(go_version, build_kind):
    binary = GoBinary(str(fixtures.build("goroutines", go_version, flags=fixtures.BUILDS[build_kind])),
                      use_cache=False)
    finder = SymbolFinder(binary)
    assert finder.table is not None
    wrong = {name: (finder.address(name), symtab_address(binary, name)) for name in manifest.VARIABLES
             if finder.address(name) != symtab_address(binary, name)}
    assert not wrong, {k: tuple(hex(a) if a else a for a in v) for k, v in wrong.items()}
    # every alternative rule, not only the first that resolves
    for name, rules in RULES.items():
        for function, index, offset in rules:
            refs = finder.references(function)
            assert index < len(refs) and refs[index] - offset == symtab_address(binary, name), (name, function)


def test_a_stripped_build_gives_the_same_answers(go_version):
    """-s -w drops the symbols: the finder must find what it found in the build that kept them,
    at the addresses that build's layout puts them (the two builds differ only by the symbol table)."""
    kept = GoBinary(str(fixtures.build("goroutines", go_version, flags=["-ldflags=-w"])), use_cache=False)
    stripped = GoBinary(str(fixtures.build("goroutines", go_version, flags=["-ldflags=-s -w"])), use_cache=False)
    assert not stripped.has_symbol_table and kept.has_symbol_table
    assert build_info_version(stripped) == "go" + go_version
    finder = SymbolFinder(stripped)
    for name in manifest.VARIABLES:
        if symtab_address(kept, name) is not None:
            assert finder.address(name) is not None, name
    assert finder.string_at(finder.address("runtime.buildVersion")) == "go" + go_version
    assert finder.string_at(finder.address("runtime.gStatusStrings")) == "idle"


def test_moduledata_keeps_the_text_start_where_the_finder_reads_it():
    for release in shipped_releases():
        table = table_for(tuple(int(x) for x in release[2:].split(".")) + (0,))
        assert table.struct_layout("runtime.moduledata").offset("text") == MODULEDATA_TEXT, release
    assert TABLES.is_dir()


def test_not_a_go_binary_has_no_finder(tmp_path):
    binary = GoBinary("/bin/true", use_cache=False)
    assert pclntab_location(binary) is None and build_info_version(binary) is None
    assert SymbolFinder(binary).table is None and SymbolFinder(binary).address("runtime.allgs") is None



def test_a_second_session_finds_the_globals_in_the_cache(go_version, tmp_path, monkeypatch):
    """What the finder found in a stripped binary's code is kept with its layouts (GoRuntime.
    symbol_address asks GoBinary.remembered): a second session answers without disassembling,
    the largest cost of a first command there; a file of other content is not answered from it."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    path = tmp_path / "stripped"
    shutil.copy(fixtures.build("goroutines", go_version, flags=fixtures.BUILDS["stripped"]), path)
    names = ("runtime.allgs", "runtime.allm", "runtime.mheap_", "runtime.buildVersion")
    first = GoBinary(str(path))
    finder = SymbolFinder(first)
    found = {name: first.remembered("found", name, lambda name=name: finder.address(name)) for name in names}
    assert all(found.values())

    def not_again():
        raise AssertionError("computed again although the cache holds the answer")

    second = GoBinary(str(path))
    assert {name: second.remembered("found", name, not_again) for name in names} == found
    assert second.remembered("found", "runtime.noSuchGlobal", lambda: None) is None  # no answer, none kept
    with open(path, "ab") as handle:  # other bytes, the same build id
        handle.write(b"\0")
    changed = GoBinary(str(path))
    assert changed.remembered("found", "runtime.allgs", lambda: 42) == 42
