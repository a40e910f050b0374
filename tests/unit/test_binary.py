"""Tests for gdbgomem.elf.binary.GoBinary, with gdb reading the same binary as the oracle.

fixtures/goroutines is built by every toolchain in GO_VERSIONS (default: all seven). For
each build one batch gdb (no process: gdb reads the executable's DWARF and symbols) dumps
the layouts of the runtime types gdbgomem uses, nested like gdbgomem.hosts.gdb._to_layout
describes them, the DWARF constants, and symbol addresses and sizes; GoBinary must give
the same numbers field by field. gdb says 1 for the size of a func-typed member (C's
sizeof of a function type); a Go func value is one pointer, so GoBinary says 8 and the
comparison accepts exactly that difference. Builds with -ldflags=-w (no DWARF) and
-s -w (nothing) are checked against `go tool nm`, and the disk cache is checked to answer
a second open of the same file without reading DWARF at all.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from devtools import fixtures
from gdbgomem.elf import binary as binary_module
from gdbgomem.elf.binary import GoBinary
from gdbgomem.elf.dwarf import package_of
from gdbgomem.elf.layout import StructLayout
from gdbgomem.elf import layout_cache
from gdbgomem.elf.layout_cache import CACHE_DIR_ENV
from gdbgomem.runtime import manifest

pytestmark = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed (it is the oracle)")

VERSIONS = fixtures.go_versions()

# What the runtime decoders read (gdbgomem.runtime.manifest), and a few names beyond it.
WISH_LIST = manifest.wish_list()
TYPES = list(WISH_LIST.types) + ["runtime.gobuf", "string"]
CONSTANTS = list(WISH_LIST.constants) + ["runtime._Gdead", "runtime.noSuchConstant"]
SYMBOLS = list(WISH_LIST.variables)

GDB_SCRIPT = r'''
import json
import gdb

TYPES, CONSTANTS, SYMBOLS = json.loads(%r)

def lookup(name):
    for candidate in (name, "struct " + name):
        try:
            return gdb.lookup_type(candidate).strip_typedefs()
        except gdb.error:
            pass
    return None

def is_func(gtype):
    gtype = gtype.strip_typedefs()
    if gtype.code == gdb.TYPE_CODE_PTR:
        gtype = gtype.target().strip_typedefs()
    return gtype.code == gdb.TYPE_CODE_FUNC

def layout(gtype, depth):
    # the same walk as gdbgomem.hosts.gdb._to_layout
    fields = {}
    for member in gtype.fields():
        if member.name is None or not hasattr(member, "bitpos"):
            continue
        mtype = member.type.strip_typedefs()
        inner = None
        if mtype.code == gdb.TYPE_CODE_STRUCT and depth < 4:
            inner = layout(mtype, depth + 1)
        fields[member.name] = [member.bitpos // 8, mtype.sizeof, str(member.type), is_func(member.type), inner]
    return {"size": gtype.sizeof, "fields": fields}

out = {"layouts": {}, "constants": {}, "symbols": {}}
for name in TYPES:
    gtype = lookup(name)
    out["layouts"][name] = layout(gtype, 0) if gtype is not None else None
for name in CONSTANTS:
    try:
        out["constants"][name] = int(gdb.parse_and_eval("'%%s'" %% name))
    except (gdb.error, RuntimeError, ValueError):
        out["constants"][name] = None
for name in SYMBOLS:
    symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    address = size = None
    if symbol is not None:
        address = int(symbol.value().address)
        size = symbol.type.sizeof
    out["symbols"][name] = [address, size]
print("@@ORACLE@@" + json.dumps(out))
'''


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own cache directory (never the user's ~/.cache)."""
    path = tmp_path / "gdbgomem-cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(path))
    return path


def build(version: str, flags: Optional[List[str]] = None) -> Path:
    try:
        return fixtures.build("goroutines", version, flags=flags)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@lru_cache(maxsize=None)
def gdb_oracle(path: str) -> dict:
    """What gdb reads from the binary: one batch gdb per binary."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "oracle.py"
        script.write_text(GDB_SCRIPT % json.dumps([TYPES, CONSTANTS, SYMBOLS]))
        proc = subprocess.run(["gdb", "-nx", "-batch", "-x", str(script), path], capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
    for line in proc.stdout.splitlines():
        if line.startswith("@@ORACLE@@"):
            return json.loads(line[len("@@ORACLE@@"):])
    raise AssertionError(f"gdb printed no facts for {path}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def compare_layout(path: str, expected: Optional[dict], got: Optional[StructLayout], problems: List[str]) -> int:
    """Field-by-field differences between gdb's layout and GoBinary's; returns fields compared."""
    if expected is None or got is None:
        if (expected is None) != (got is None):
            problems.append(f"{path}: gdb {'has no' if expected is None else 'has a'} layout, GoBinary {got!r:.80}")
        return 0
    if expected["size"] != got.size:
        problems.append(f"{path}: size {got.size}, gdb says {expected['size']}")
    if list(expected["fields"]) != list(got.fields):
        problems.append(f"{path}: members {list(got.fields)}, gdb has {list(expected['fields'])}")
    compared = 0
    for name, (offset, size, type_name, is_func, inner) in expected["fields"].items():
        field = got.fields.get(name)
        if field is None:
            continue
        compared += 1
        if is_func and size == 1:
            size = 8  # gdb's sizeof of a Go func type is C's sizeof of a function; it is a pointer
        if (field.offset, field.size) != (offset, size):
            problems.append(f"{path}.{name}: offset/size {field.offset}/{field.size}, "
                            f"gdb {offset}/{size} ({type_name})")
        if inner is not None and field.type_name != type_name:
            problems.append(f"{path}.{name}: struct type {field.type_name!r}, gdb says {type_name!r}")
        compared += compare_layout(f"{path}.{name}", inner, field.layout, problems)
    return compared


def check_against_gdb(path: Path) -> None:
    oracle = gdb_oracle(str(path))
    binary = GoBinary(str(path))
    problems: List[str] = []
    compared = sum(compare_layout(name, oracle["layouts"][name], binary.struct_layout(name), problems)
                   for name in TYPES)
    for name, value in oracle["constants"].items():
        if binary.constant(name) != value:
            problems.append(f"constant {name}: {binary.constant(name)}, gdb says {value}")
    for name, (address, size) in oracle["symbols"].items():
        got = (binary.symbol_address(name), binary.symbol_size(name))
        if got != (address, size):
            problems.append(f"symbol {name}: address/size {got}, gdb says {(address, size)}")
    assert not problems, "\n".join(problems[:40])
    assert compared > 500, f"gdb described suspiciously few fields ({compared})"
    assert oracle["layouts"]["runtime.g"] is not None and oracle["constants"]["runtime._Gscan"] == 0x1000


# -- every version against gdb ---------------------------------------------------------------
def test_layouts_constants_symbols_match_gdb(go_version):
    check_against_gdb(build(go_version))


def test_pie_matches_gdb():
    path = build(VERSIONS[-1], flags=["-buildmode=pie"])
    assert GoBinary(str(path)).is_pie
    check_against_gdb(path)


def test_symbol_table_is_what_pyelftools_reads(go_version):
    """Every defined, named symbol but sections and files, a global winning over a local of its name."""
    path = build(go_version)
    from elftools.elf.elffile import ELFFile
    expect: Dict[bytes, Tuple[int, int]] = {}
    with open(path, "rb") as handle:
        for symbol in ELFFile(handle).get_section_by_name(".symtab").iter_symbols():
            key = symbol.name.encode()
            if symbol["st_shndx"] == "SHN_UNDEF" or not key or symbol["st_info"]["type"] in ("STT_SECTION", "STT_FILE"):
                continue
            if key not in expect or symbol["st_info"]["bind"] == "STB_GLOBAL":
                expect[key] = (symbol["st_value"], symbol["st_size"])
    assert len(expect) > 1000 and GoBinary(str(path), manifest.wish_list())._symbol_table() == expect


def test_build_version_from_static_data(go_version):
    """runtime.buildVersion's string header, then its bytes, read from the file's segments."""
    binary = GoBinary(str(build(go_version)))
    address = binary.symbol_address("runtime.buildVersion")
    header = binary.read_static(address, 16)
    assert header is not None and len(header) == 16
    data, length = int.from_bytes(header[:8], "little"), int.from_bytes(header[8:], "little")
    text = binary.read_static(data, length)
    assert text is not None and text.decode() == "go" + go_version
    assert not binary.is_pie and binary.build_id


def test_read_static_bss_and_bounds():
    binary = GoBinary(str(build(VERSIONS[-1])))
    vaddr, memsz, _offset, filesz = max(binary.segments())  # the data segment: bss follows its file bytes
    assert memsz > filesz
    assert binary.read_static(vaddr + filesz, 64) == bytes(64)
    assert binary.read_static(vaddr + filesz - 8, 16)[8:] == bytes(8)
    assert binary.read_static(vaddr + memsz - 8, 16) is None  # runs off the segment
    assert binary.read_static(0x10, 8) is None
    assert binary.read_static(vaddr, 0) == b""
    assert binary.read_static(vaddr, -1) is None
    # the mheap_ global lives in bss: zeros in the file, whatever its size
    mheap, size = binary.symbol_address("runtime.mheap_"), binary.symbol_size("runtime.mheap_")
    assert binary.read_static(mheap, size) == bytes(size)


# -- binaries without DWARF or symbols ---------------------------------------------------------
def go_nm(version: str, path: Path) -> Dict[str, int]:
    out = subprocess.run([str(fixtures.go_binary(version)), "tool", "nm", str(path)], capture_output=True, text=True,
                         env=dict(os.environ, GOROOT=str(fixtures.goroot(version))), check=True).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-2] in "DdBbTtRr":
            result[parts[-1]] = int(parts[0], 16)
    return result


def test_without_dwarf_symbols_still_work():
    version = VERSIONS[-1]
    path = build(version, flags=["-ldflags=-w"])
    binary = GoBinary(str(path))
    assert not binary.has_dwarf
    assert all(binary.struct_layout(name) is None for name in TYPES)
    assert all(binary.constant(name) is None for name in CONSTANTS)
    nm = go_nm(version, path)
    for name in SYMBOLS:
        assert binary.symbol_address(name) == nm.get(name), name
    assert binary.symbol_size("runtime.allgs") == 24  # the ELF st_size when DWARF is gone
    assert not list(Path(os.environ[CACHE_DIR_ENV]).rglob("*.json"))  # nothing worth caching


def test_stripped_has_nothing_but_segments():
    path = build(VERSIONS[-1], flags=["-ldflags=-s -w"])
    binary = GoBinary(str(path))
    assert binary.symbol_address("runtime.allgs") is None and binary.symbol_size("runtime.allgs") is None
    assert binary.struct_layout("runtime.g") is None and binary.constant("runtime._Gscan") is None
    assert binary.segments() and binary.read_static(binary.segments()[0][0], 4) == b"\x7fELF"


def test_not_an_elf_file(tmp_path):
    for content in (b"", b"\x7fEL", b"#!/bin/sh\necho hello\n", b"\x7fELF" + bytes(12)):
        path = tmp_path / "input"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="ELF file"):
            GoBinary(str(path))
    with pytest.raises(OSError):
        GoBinary(str(tmp_path / "missing"))


def test_damaged_dwarf_never_raises(tmp_path):
    """Random bytes in an uncompressed .debug_info/.debug_abbrev: answers or None, never an exception."""
    objcopy = shutil.which("objcopy")
    if objcopy is None:
        pytest.skip("objcopy is not installed (needed to decompress the debug sections)")
    plain = tmp_path / "plain"
    subprocess.run([objcopy, "--decompress-debug-sections", str(build(VERSIONS[-1])), str(plain)], check=True)
    from elftools.elf.elffile import ELFFile
    with open(plain, "rb") as handle:
        elf = ELFFile(handle)
        regions = [(elf.get_section_by_name(name)["sh_offset"], elf.get_section_by_name(name)["sh_size"])
                   for name in (".debug_info", ".debug_abbrev")]
    original = plain.read_bytes()
    for seed in range(25):
        rng = random.Random(seed)
        data = bytearray(original)
        for _ in range(rng.choice([1, 10, 300])):
            offset, size = regions[1] if rng.random() < 0.1 else regions[0]
            data[offset + rng.randrange(size)] = rng.randrange(256)
        damaged = tmp_path / f"damaged{seed}"
        damaged.write_bytes(data)
        started = time.monotonic()
        binary = GoBinary(str(damaged), use_cache=False)
        for name in TYPES + ["no.such.Type"]:
            assert isinstance(binary.struct_layout(name), (StructLayout, type(None)))
        for name in CONSTANTS:
            assert isinstance(binary.constant(name), (int, type(None)))
        for name in SYMBOLS:
            assert isinstance(binary.symbol_size(name), (int, type(None)))
        assert time.monotonic() - started < 10
        binary.close()


# -- the disk cache ----------------------------------------------------------------------------
def all_answers(binary: GoBinary) -> Tuple:
    return ({name: binary.struct_layout(name) for name in TYPES},
            {name: binary.constant(name) for name in CONSTANTS},
            {name: (binary.symbol_address(name), binary.symbol_size(name)) for name in SYMBOLS})


def test_second_open_answers_from_the_cache(go_version, cache_dir, monkeypatch, capsys):
    """The cache answers everything without the DWARF index; the times are printed, not asserted
    (speed goals live in bench/, where a peer runs on the same machine in the same run)."""
    path = str(build(go_version))
    started = time.perf_counter()
    first = GoBinary(path, WISH_LIST)
    answers = all_answers(first)
    first_time = time.perf_counter() - started
    assert not first.cache_hit and first.dwarf_read
    files = list(cache_dir.rglob("*.json"))
    assert first.build_id and len(files) == 1 and files[0].parent.name == "binaries"

    class NoDwarf:  # a cached open must not build the DWARF index
        def __init__(self, *args):
            raise AssertionError("DWARF read although the cache holds the answer")

    monkeypatch.setattr(binary_module, "DwarfIndex", NoDwarf)
    started = time.perf_counter()
    second = GoBinary(path, WISH_LIST)
    again = all_answers(second)
    second_time = time.perf_counter() - started
    assert second.cache_hit and not second.dwarf_read and second.dwarf_units_scanned == 0
    assert again == answers
    with capsys.disabled():
        print(f"\n  Go {go_version}: first open + all layouts {first_time * 1000:.0f} ms, "
              f"cached open + all layouts {second_time * 1000:.1f} ms", end="")


def test_cache_grows_and_is_invalidated(tmp_path, cache_dir):
    path = tmp_path / "goroutines"
    shutil.copy(build(VERSIONS[-1]), path)
    GoBinary(str(path), WISH_LIST).struct_layout("runtime.g")
    # a name outside the wish list: read from DWARF once, then cached (absence too)
    second = GoBinary(str(path), WISH_LIST)
    gobuf = second.struct_layout("runtime.gobuf")
    assert second.struct_layout("runtime.noSuchType") is None and second.dwarf_read
    third = GoBinary(str(path), WISH_LIST)
    assert third.struct_layout("runtime.gobuf") == gobuf and third.struct_layout("runtime.noSuchType") is None
    assert not third.dwarf_read
    # a changed file (the same build id, other bytes) is not answered from the old cache
    with open(path, "ab") as handle:
        handle.write(b"\0")
    fourth = GoBinary(str(path))
    assert fourth.struct_layout("runtime.gobuf") == gobuf and fourth.dwarf_read and not fourth.cache_hit
    assert "written for another file with the same build id" in fourth.cache_warning
    # a corrupt cache file is ignored, not trusted
    for file in cache_dir.rglob("*.json"):
        file.write_text("{not json")
    fifth = GoBinary(str(path))
    assert fifth.struct_layout("runtime.gobuf") == gobuf and not fifth.cache_hit
    assert "cannot be read" in fifth.cache_warning


def test_an_altered_cache_changes_no_answer(tmp_path, cache_dir, capsys):
    """A well-formed entry with a wrong offset, one with a wrong shape, and a cache another user
    could write: none of them answers, none raises, each is said in one line."""
    path = tmp_path / "goroutines"
    shutil.copy(build(VERSIONS[-1]), path)
    truth = GoBinary(str(path), WISH_LIST).struct_layout("runtime.g")
    [entry] = cache_dir.rglob("*.json")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    stored = json.loads(entry.read_text())
    stored["layouts"]["runtime.g"]["fields"]["goid"][0] += 8  # well formed, wrong
    entry.write_text(json.dumps(stored))
    altered = GoBinary(str(path), WISH_LIST)
    assert altered.struct_layout("runtime.g") == truth and "checksum does not match" in altered.cache_warning
    stored = json.loads(entry.read_text())
    stored["layouts"]["runtime.g"]["fields"]["goid"] = ["eight", None]  # the wrong shape, checksum redone
    entry.write_text(layout_cache.encode(stored))
    misshapen = GoBinary(str(path), WISH_LIST)
    assert misshapen.struct_layout("runtime.g") == truth and "shape" in misshapen.cache_warning
    entry.parent.chmod(0o777)
    shared = GoBinary(str(path), WISH_LIST)
    assert shared.struct_layout("runtime.g") == truth and "writable by others" in shared.cache_warning
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gdbgomem: warning:")]
    assert len(warnings) == 3


def test_unwritable_cache_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "sub"))
    binary = GoBinary(str(build(VERSIONS[-1])))
    assert binary.struct_layout("runtime.g") is not None


def test_package_of():
    assert package_of("runtime._Gscan") == "runtime"
    assert package_of("internal/abi.StackSmall") == "internal/abi"
    assert package_of("golang.org/x/sys/unix.Errno") == "golang.org/x/sys/unix"
    assert package_of("sync/atomic.Pointer[internal/sync.entry]") == "sync/atomic"
    assert package_of("main") == "main"
