"""Tests for gdbgomem.runtime.pclntab, using the Go toolchain as the oracle.

For every toolchain named in GO_VERSIONS (default: all seven, as for every test) a small
program is built once; its .gopclntab is decoded and compared with
`go tool nm`, `go tool addr2line` and `go tool objdump`.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devtools import fixtures
from gdbgomem.runtime.pclntab import Func, PclnTab

REPO = Path(__file__).resolve().parents[2]
VERSIONS = fixtures.go_versions()

MAIN_GO = """\
package main

import (
	"fmt"
	"os"
	"strings"
)

// bigframe has a 4 KiB local array, so it gets a large frame and calls
// out (non-leaf); noinline keeps it a real function.
//
//go:noinline
func bigframe(n int) int {
	var buf [4096]byte
	for i := range buf {
		buf[i] = byte(i * n)
	}
	s := 0
	for _, b := range buf[n%16:] {
		s += int(b)
	}
	fmt.Fprintln(os.Stderr, s)
	return s
}

type pair[T any] struct{ a, b T }

//go:noinline
func (p pair[T]) swap() pair[T] { return pair[T]{p.b, p.a} }

func main() {
	p := pair[string]{"x", "y"}.swap()
	q := pair[int]{1, 2}.swap()
	done := make(chan int)
	go func() { done <- bigframe(len(os.Args)) }()
	fmt.Println(strings.ToUpper(p.a), q.a, <-done)
}
"""

GO_MOD = "module example.com/pclntabtest\n\ngo 1.21\n"


@dataclass
class Built:
    version: Tuple[int, ...]
    go: Path
    goroot: Path
    prog: Path
    source: Path
    data: bytes  # .gopclntab contents
    text: int  # runtime.text symbol
    nm: List[Tuple[int, int, str]]  # (addr, size, name) of T/t symbols
    tab: PclnTab


def _go_env() -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("GOROOT", None)
    env.update(GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off", CGO_ENABLED="0")
    return env


def _go(go: Path, *args: str, cwd: Path, stdin: str | None = None) -> str:
    r = subprocess.run([str(go), *args], cwd=cwd, env=_go_env(), input=stdin,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"go {' '.join(args)} failed:\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"go{v}")
def built(request, tmp_path_factory) -> Built:
    v = request.param
    goroot = fixtures.goroot(v)
    if not goroot.is_dir():
        reason = f"Go toolchain {v} not installed at {goroot} (run scripts/setup.sh)"
        print(reason)
        pytest.skip(reason)
    go = goroot / "bin" / "go"
    d = tmp_path_factory.mktemp(f"pclntab-go{v}")
    (d / "main.go").write_text(MAIN_GO)
    (d / "go.mod").write_text(GO_MOD)
    _go(go, "build", "-o", "prog", cwd=d)
    prog = d / "prog"
    with open(prog, "rb") as fh:
        elf = ELFFile(fh)
        data = elf.get_section_by_name(".gopclntab").data()
        text = [s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()
                if s.name == "runtime.text"][0]
    nm = []
    for line in _go(go, "tool", "nm", "-size", str(prog), cwd=d).splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in ("T", "t"):
            nm.append((int(parts[0], 16), int(parts[1]), parts[3]))
    version = tuple(int(x) for x in v.split("."))
    return Built(version, go, goroot, prog, d / "main.go", data, text, nm,
                 PclnTab(data, text_start=text))


def _nm_to_pclntab_name(name: str) -> str:
    """The ELF symbol table spells some names differently from pclntab:
    ABI0 functions that also have an ABIInternal wrapper get ".abi0"
    appended (cmd/link mangleABIName), and "·" is rewritten to "." for
    ASCII-only tools (cmd/link putelfsym)."""
    if name.endswith(".abi0"):
        name = name[: -len(".abi0")]
    return name


def _func(tab: PclnTab, name: str) -> Func:
    found = [f for f in tab.funcs() if f.name == name]
    assert found, f"{name} not in pclntab"
    return found[0]


# --------------------------------------------------------------- header


def test_header_text_start(built: Built):
    """Go <= 1.25 stores textStart in the pcHeader; 1.26+ writes 0 there."""
    if built.version < (1, 26):
        tab = PclnTab(built.data)
        assert tab.text_start == built.text
        assert tab.header_text_start == built.text
    else:
        with pytest.raises(ValueError, match="text_start"):
            PclnTab(built.data)
        assert PclnTab(built.data, text_start=built.text).header_text_start == 0
    assert built.tab.text_start == built.text
    assert built.tab.nfunc == sum(1 for _ in built.tab.funcs())


def test_relocated_text_start(built: Built):
    """PIE: the caller passes the relocated text start; everything shifts."""
    bias = 0x7F0000000000
    tab = PclnTab(built.data, text_start=built.text + bias)
    f0 = built.tab.find_func(built.text + 0x10)
    f1 = tab.find_func(built.text + bias + 0x10)
    assert f0 is not None and f1 is not None
    assert (f1.name, f1.entry) == (f0.name, f0.entry + bias)
    assert tab.find_func(built.text + 0x10) is None
    main = _func(tab, "main.bigframe")
    assert tab.file_line(main, main.entry) == built.tab.file_line(
        _func(built.tab, "main.bigframe"), main.entry - bias)


# ------------------------------------------------------------ find_func


def test_find_func_matches_nm(built: Built):
    tab = built.tab
    checked = 0
    for addr, size, name in built.nm:
        if addr == 0:
            continue
        if size == 0 and name in ("runtime.text", "runtime.etext"):
            continue  # section markers, not functions
        f = tab.find_func(addr)
        assert f is not None, f"no function at {addr:#x} ({name})"
        assert f.entry == addr, f"{name}: entry {f.entry:#x} != {addr:#x}"
        assert f.name.replace("·", ".") == _nm_to_pclntab_name(name)
        if size > 1:
            g = tab.find_func(addr + size - 1)
            assert g is not None and g.entry == addr
        checked += 1
    assert checked > 1000


def test_find_func_bounds(built: Built):
    tab = built.tab
    funcs = list(tab.funcs())
    assert [f.entry for f in funcs] == sorted(f.entry for f in funcs)
    first, last = funcs[0], funcs[-1]
    assert tab.find_func(first.entry) == first
    assert tab.find_func(first.entry - 1) is None
    assert tab.find_func(last.end - 1) == last
    assert tab.find_func(last.end) is None
    assert tab.find_func(0) is None
    assert tab.find_func(-5) is None
    assert tab.find_func(1 << 64) is None


def test_func_ids_and_flags(built: Built):
    """func_id is compared with the numbering in this toolchain's
    internal/abi/symtab.go (it changes between releases)."""
    src = (built.goroot / "src" / "internal" / "abi" / "symtab.go").read_text()
    block = src[src.index("type FuncID uint8"):]
    block = block[block.index("const ("):block.index("\n)")]
    ids = {}
    for line in block.splitlines():
        m = re.match(r"\s*(FuncID\w*)", line)
        if m:
            ids[m.group(1)] = len(ids)
    assert ids["FuncIDNormal"] == 0
    tab = built.tab
    by_name: Dict[str, List[Func]] = {}
    for f in tab.funcs():
        by_name.setdefault(f.name, []).append(f)
    for fname, idname in [("runtime.goexit", "FuncID_goexit"), ("runtime.mcall", "FuncID_mcall"),
                          ("runtime.morestack", "FuncID_morestack"), ("runtime.gogo", "FuncID_gogo"),
                          ("runtime.systemstack", "FuncID_systemstack"),
                          ("runtime.main", "FuncID_runtime_main"), ("runtime.mstart", "FuncID_mstart"),
                          ("runtime.rt0_go", "FuncID_rt0_go"), ("runtime.sigpanic", "FuncID_sigpanic"),
                          ("runtime.asyncPreempt", "FuncID_asyncPreempt")]:
        assert any(f.func_id == ids[idname] for f in by_name[fname]), (fname, by_name[fname])
    TOPFRAME, ASM = 1, 4
    assert any(f.flag & TOPFRAME for f in by_name["runtime.goexit"])
    assert any(f.flag & TOPFRAME for f in by_name["runtime.rt0_go"])
    assert any(f.flag & ASM for f in by_name["runtime.gogo"])
    bf = by_name["main.bigframe"][0]
    assert (bf.flag, bf.func_id) == (0, 0)
    lines = built.source.read_text().splitlines()
    assert bf.start_line == 1 + next(i for i, l in enumerate(lines) if l.startswith("func bigframe("))


# ------------------------------------------------------------ file_line


def test_file_line_matches_addr2line(built: Built):
    tab = built.tab
    rng = random.Random(1234)
    funcs = [(a, s, n) for a, s, n in built.nm
             if a and s > 0 and n not in ("runtime.text", "runtime.etext")]
    sample = rng.sample(funcs, 80) + [x for x in funcs if x[2].startswith("main.")]
    pcs = []
    for addr, size, _ in sample:
        pcs.append(addr)
        pcs.append(addr + rng.randrange(size))
        pcs.append(addr + size - 1)
    pcs.extend(rng.randrange(built.text, funcs[-1][0]) for _ in range(20))
    out = _go(built.go, "tool", "addr2line", str(built.prog), cwd=built.prog.parent,
              stdin="".join(f"{pc:#x}\n" for pc in pcs)).splitlines()
    assert len(out) == 2 * len(pcs)
    for i, pc in enumerate(pcs):
        name, fileline = out[2 * i], out[2 * i + 1]
        file, line = fileline.rsplit(":", 1)
        f = tab.find_func(pc)
        assert f is not None and f.name == name, (hex(pc), name, f)
        got = tab.file_line(f, pc)
        if int(line) < 1:
            # Not covered by the tables (alignment padding after the
            # function, or marker functions without tables).  The runtime
            # says "?" there; debug/gosym says -1 (or decodes junk for
            # functions whose pcln offset is 0).
            assert got is None, (hex(pc), name, got)
        else:
            assert got == (file, int(line)), (hex(pc), name, fileline, got)


def test_file_line_of_main(built: Built):
    tab = built.tab
    f = _func(tab, "main.bigframe")
    assert tab.file_line(f, f.entry) == (str(built.source), f.start_line)
    # The same answer again comes from the cache.
    assert tab.file_line(f, f.entry) == (str(built.source), f.start_line)


# ------------------------------------------------------------- sp_delta


def test_sp_delta_zero_at_entry(built: Built):
    tab = built.tab
    n = 0
    for f in tab.funcs():
        d = tab.sp_delta(f, f.entry)
        if d is None:
            # Only marker functions (e.g. go:textfipsstart) have no pcsp table.
            assert f._pcsp == 0, f
            continue
        assert d == 0, (f.name, d)
        n += 1
    assert n >= tab.nfunc - 4


def test_sp_delta_matches_objdump(built: Built):
    """runtime.funcspdelta is frame.fp - frame.sp before the return address
    is added (traceback.go), so for amd64 after `PUSHQ BP; SUBQ $N, SP` it
    is N + 8 and stays so until the epilogue's `ADDQ $N, SP`."""
    tab = built.tab
    out = _go(built.go, "tool", "objdump", "-s", r"^main\.bigframe$", str(built.prog),
              cwd=built.prog.parent)
    insns = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[1].startswith("0x"):
            insns.append((int(parts[1], 16), parts[3].split("\t")[0].strip()))
    assert insns
    f = tab.find_func(insns[0][0])
    assert f is not None and f.name == "main.bigframe" and f.entry == insns[0][0]
    assert tab.sp_delta(f, f.entry) == 0
    addrs = [a for a, _ in insns]
    ops = [o for _, o in insns]
    push = ops.index("PUSHQ BP")
    sub = next(i for i, o in enumerate(ops) if re.fullmatch(r"SUBQ \$0x[0-9a-f]+, SP", o))
    frame = int(ops[sub].split("$")[1].split(",")[0], 16)
    add = next(i for i, o in enumerate(ops) if o == f"ADDQ ${frame:#x}, SP")
    assert frame >= 4096
    assert tab.sp_delta(f, addrs[push]) == 0
    assert tab.sp_delta(f, addrs[push + 1]) == 8
    for i in range(sub + 1, add + 1):
        assert tab.sp_delta(f, addrs[i]) == frame + 8, (hex(addrs[i]), ops[i])
    assert ops[add + 1] == "POPQ BP"
    assert tab.sp_delta(f, addrs[add + 1]) == 8
    assert ops[add + 2] == "RET"
    assert tab.sp_delta(f, addrs[add + 2]) == 0


# ---------------------------------------------------------- bad input


def test_bad_magic(built: Built):
    d = built.data
    for magic in (0xFFFFFFF0, 0xFFFFFFFA, 0xFFFFFFFB, 0, 0x12345678):
        with pytest.raises(ValueError, match="magic"):
            PclnTab(struct.pack("<I", magic) + d[4:], text_start=built.text)
    with pytest.raises(ValueError, match="big-endian"):
        PclnTab(struct.pack(">I", 0xFFFFFFF1) + d[4:], text_start=built.text)
    with pytest.raises(ValueError, match="pointer size"):
        PclnTab(d[:7] + b"\x04" + d[8:], text_start=built.text)


def test_truncated(built: Built):
    d = built.data
    for n in (0, 3, 7, 8, 40, 71):
        with pytest.raises(ValueError, match="truncated"):
            PclnTab(d[:n], text_start=built.text)
    pcln_off = struct.unpack_from("<Q", d, 8 + 7 * 8)[0]
    for n in (pcln_off - 1, pcln_off + 100):
        with pytest.raises(ValueError, match="truncated"):
            PclnTab(d[:n], text_start=built.text)


def test_truncated_tables_return_none(built: Built):
    """A table cut right after the ftab still answers find_func where it can,
    and never raises."""
    d = built.data
    pcln_off, nfunc = struct.unpack_from("<Q", d, 8 + 7 * 8)[0], struct.unpack_from("<Q", d, 8)[0]
    tab = PclnTab(d[: pcln_off + nfunc * 8 + 4], text_start=built.text)
    for f in itertools.islice(built.tab.funcs(), 0, None, 50):
        assert tab.find_func(f.entry) is None  # _func records are gone
        assert tab.sp_delta(f, f.entry) is None or isinstance(tab.sp_delta(f, f.entry), int)
        r = tab.file_line(f, f.entry)
        assert r is None or isinstance(r, tuple)


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(draw=st.data())
def test_corruption_never_raises(built: Built, draw):
    """Random byte/word corruption (and truncation) of a valid table:
    construction may reject it with ValueError; after that, lookups
    return values or None but never raise."""
    d = bytearray(built.data)
    clean = built.tab
    nfunc = clean.nfunc
    pcln_off = struct.unpack_from("<Q", d, 8 + 7 * 8)[0]
    pctab_off = struct.unpack_from("<Q", d, 8 + 6 * 8)[0]
    funcs = list(clean.funcs())
    for _ in range(draw.draw(st.integers(1, 24), label="mutations")):
        # Header words are rarely worth hitting: almost any change there is
        # (rightly) rejected by the constructor.
        region = draw.draw(st.sampled_from(
            ["any", "any", "ftab", "func", "func", "func", "pctab", "pctab", "header"]))
        if region == "header":
            pos = draw.draw(st.integers(8, 71))
        elif region == "ftab":
            pos = draw.draw(st.integers(pcln_off, pcln_off + nfunc * 8))
        elif region == "func":
            f = draw.draw(st.sampled_from(funcs))
            pos = f._off + draw.draw(st.integers(0, 40))
        elif region == "pctab":
            pos = draw.draw(st.integers(pctab_off, pcln_off - 1))
        else:
            pos = draw.draw(st.integers(0, len(d) - 1))
        width = draw.draw(st.sampled_from([1, 4]))
        value = draw.draw(st.integers(0, (1 << (8 * width)) - 1))
        d[pos:pos + width] = value.to_bytes(width, "little")
    cut = draw.draw(st.sampled_from(["none", "none", "after-ftab", "anywhere"]), label="truncate")
    if cut == "after-ftab":
        del d[draw.draw(st.integers(pcln_off + nfunc * 8 + 4, len(d))):]
    elif cut == "anywhere":
        del d[draw.draw(st.integers(0, len(d))):]
    try:
        tab = PclnTab(bytes(d), text_start=built.text)
    except ValueError:
        event("constructor rejected the table")
        return
    event("constructed")
    rng = random.Random(draw.draw(st.integers(0, 1 << 30), label="seed"))
    sample = rng.sample(funcs, min(40, len(funcs)))
    sample.append(_func(clean, "main.bigframe"))
    for f in sample:
        for pc in (f.entry, f.entry + (f.end - f.entry) // 2, f.end - 1, f.end + 3):
            g = tab.find_func(pc)
            for h in (g, f):  # the corrupt table's Func and a foreign clean one
                if h is None:
                    continue
                sd = tab.sp_delta(h, pc)
                assert sd is None or isinstance(sd, int)
                fl = tab.file_line(h, pc)
                assert fl is None or (isinstance(fl[0], str) and isinstance(fl[1], int))
    for pc in (rng.randrange(0, 1 << 64) for _ in range(20)):
        tab.find_func(pc)
    for g in tab.funcs():
        assert isinstance(g, Func)
