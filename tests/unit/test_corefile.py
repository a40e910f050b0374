"""CoreFile against real cores: gdb's gcore (checked against the same gdb session's view of the
live process) and kernel cores of a GOTRACEBACK=crash abort; plus truncated, foreign and
hand-built files for the edge cases.

Cores are large (a gcore of a Go process is about 1 GiB: the heap's reserved address
space is dumped), so each lives in a tmp directory and is deleted as soon as its tests end.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools import fixtures, kernel_cores
from gdbgomem.elf.corefile import PF_R, PF_W, CoreFile

VERSIONS = [v for v in fixtures.go_versions() if v in (fixtures.go_versions()[0], fixtures.go_versions()[-1])]

# Runs inside the gdb session that wrote the core: what gdb sees of the live, stopped process.
ORACLE = r'''
import json
import gdb

params = json.loads(PARAMS)
inf = gdb.selected_inferior()
out = {"selected_tid": gdb.selected_thread().ptid[1], "threads": [], "memory": [], "boundaries": []}


def grab(address, size, what):
    try:
        data = bytes(inf.read_memory(address, size)).hex()
    except gdb.MemoryError:
        data = None
    out["memory"].append({"what": what, "address": address, "size": size, "hex": data})
    return data


for thread in sorted(inf.threads(), key=lambda t: t.num):
    thread.switch()
    frame = gdb.newest_frame()
    regs = {name: int(frame.read_register(name)) & (2**64 - 1) for name in ("rip", "rsp", "rbp", "fs_base")}
    out["threads"].append(dict(tid=thread.ptid[1], **regs))
    grab(regs["rsp"], 64, "stack of thread %d" % thread.ptid[1])

symbol = gdb.lookup_global_symbol("runtime.allgs")
allgs = int(symbol.value().address)
header = grab(allgs, 24, "runtime.allgs")
array = int.from_bytes(bytes.fromhex(header)[:8], "little")
grab(array, 64, "*runtime.allgs")
for what, address, size in params["locals"]:
    grab(address, size, what)

# Adjacent anonymous mappings: gdb writes one PT_LOAD per mapping, so a read across
# their border crosses two segments of the core.
maps = [line.split() for line in open("/proc/%d/maps" % inf.pid)]
for a, b in zip(maps, maps[1:]):
    a_start, a_end = (int(x, 16) for x in a[0].split("-"))
    b_start = int(b[0].split("-")[0], 16)
    anonymous = a[4] == "0" and b[4] == "0" and len(a) == 5 and len(b) == 5
    if a_end == b_start and anonymous and len(out["boundaries"]) < 6:
        if grab(a_end - 32, 64, "across 0x%x" % a_end) is not None:
            out["boundaries"].append(a_end)

with open(OUT, "w") as f:
    json.dump(out, f)
'''


def binary_loads(binary):
    """The binary's PT_LOAD segments as (vaddr, bytes in the file, flags)."""
    with open(binary, "rb") as f:
        elf = ELFFile(f)
        return [(seg["p_vaddr"], seg.data(), seg["p_flags"]) for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD"]


def binary_reader(binary):
    """fallback(address, size) over the executable's file-backed bytes: what the owner's Target does."""
    loads = binary_loads(binary)

    def read(address, size):
        for vaddr, data, _flags in loads:
            if vaddr <= address and address + size <= vaddr + len(data):
                return data[address - vaddr:address - vaddr + size]
        return None
    return read


def binary_facts(binary):
    """Symbol addresses and build ids of the binary, read with pyelftools (independent of CoreFile)."""
    with open(binary, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        symbols = {name: symtab.get_symbol_by_name(name)[0]["st_value"]
                   for name in ("runtime.allgs", "runtime.buildVersion")}
        go = gnu = None
        for section in elf.iter_sections():
            if section["sh_type"] != "SHT_NOTE":
                continue
            for note in section.iter_notes():
                # pyelftools names type 4 by GNU's table (NT_GNU_GOLD_VERSION) whatever the owner
                if note["n_name"] == "Go" and note["n_type"] in (4, "NT_GNU_GOLD_VERSION"):
                    desc = note["n_desc"]
                    go = (desc if isinstance(desc, str) else desc.decode()).rstrip("\0")
                elif note["n_type"] == "NT_GNU_BUILD_ID":
                    gnu = note["n_desc"]
    return symbols, go, gnu


def sparse_copy(source, target, length):
    """Copy the first length bytes, leaving holes for zero blocks (cores are mostly zeros)."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        left = length
        while left > 0:
            block = src.read(min(left, 1 << 20))
            if not block:
                break
            if block.count(0) == len(block):
                dst.seek(len(block), os.SEEK_CUR)
            else:
                dst.write(block)
            left -= len(block)
        dst.truncate(length)


def assert_threads_sane(core):
    for thread in core.threads:
        assert thread.fs_base != 0, thread  # every Go M sets its TLS base
        assert core.read(thread.sp, 8) is not None, f"stack of {thread.tid} not in the core"
        assert thread.register("rip") == thread.pc and thread.register("rsp") == thread.sp


def assert_build_ids(core, binary):
    _symbols, go, gnu = binary_facts(binary)
    ids = core.executable_build_ids
    assert ids is not None, f"no build ids for {core.executable}: {core.build_ids}"
    assert (ids.go, ids.gnu) == (go, gnu)
    assert go is not None


def assert_go_globals(core, binary, truth):
    """runtime.allgs and runtime.buildVersion decoded from the core (+ the binary's own bytes)."""
    symbols, _go, _gnu = binary_facts(binary)
    header = core.read(symbols["runtime.allgs"], 24)
    assert header is not None
    array, length, capacity = struct.unpack("<3Q", header)
    assert truth["num_goroutine"] <= length <= capacity < 100000
    gs = core.read(array, 8 * length)
    assert gs is not None and all(struct.unpack(f"<{length}Q", gs))
    string = core.read(symbols["runtime.buildVersion"], 16)
    assert string is not None
    pointer, size = struct.unpack("<2Q", string)
    text = core.read(pointer, size, fallback=binary_reader(binary))
    assert text is not None and text.decode() == truth["go_version"]


# -- gcore ------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=VERSIONS)
def gcore(request, tmp_path_factory, ptrace_allowed):
    """A gcore core of the goroutines fixture, and what the same gdb session saw of the process."""
    version = request.param
    tmp = tmp_path_factory.mktemp(f"gcore-{version}")
    core, out, script = tmp / "goroutines.core", tmp / "oracle.json", tmp / "oracle.py"
    running = fixtures.start("goroutines", version)
    truth = running.truth
    try:
        locals_ = [["chan local", truth["chan_probes"][0]["local_addr"], 16],
                   ["deep local", truth["deep"]["deep_local"], 8],
                   ["deep top local", truth["deep"]["top_local"], 8]]
        script.write_text(f"PARAMS = {json.dumps(json.dumps({'locals': locals_}))}\nOUT = {str(out)!r}\n" + ORACLE)
        result = subprocess.run(["gdb", "-nx", "-batch", "-p", str(running.pid), "-ex", "set pagination off",
                                 "-ex", f"gcore {core}", "-ex", f"source {script}"],
                                check=False, capture_output=True, text=True, timeout=600,
                                stdin=subprocess.DEVNULL)
    finally:
        running.stop()
    try:
        assert core.exists() and out.exists(), f"gdb wrote no core or oracle: {result.stderr[-2000:]}"
        yield {"core": core, "truth": truth, "oracle": json.loads(out.read_text()),
               "binary": running.binary, "version": version, "tmp": tmp}
    finally:
        core.unlink(missing_ok=True)


def test_gcore_threads_and_pid_match_gdb(gcore):
    with CoreFile(str(gcore["core"])) as core:
        oracle, truth = gcore["oracle"], gcore["truth"]
        assert core.pid == truth["pid"]
        assert not core.truncated
        assert os.path.realpath(core.executable) == os.path.realpath(gcore["binary"])
        assert core.threads[0].tid == oracle["selected_tid"] == truth["main_tid"]
        mine = {t.tid: (t.pc, t.sp, t.bp, t.fs_base) for t in core.threads}
        gdbs = {t["tid"]: (t["rip"], t["rsp"], t["rbp"], t["fs_base"]) for t in oracle["threads"]}
        assert mine == gdbs
        assert truth["locked"]["tid"] in mine
        assert_threads_sane(core)


def test_gcore_memory_matches_gdb(gcore):
    fallback = binary_reader(gcore["binary"])
    with CoreFile(str(gcore["core"])) as core:
        checked = 0
        for item in gcore["oracle"]["memory"]:
            if item["hex"] is None:
                continue
            expected = bytes.fromhex(item["hex"])
            got = core.read(item["address"], item["size"])
            if item["what"].startswith(("runtime.allgs", "*runtime.allgs", "chan", "deep", "stack", "across")):
                assert got == expected, item["what"]  # anonymous memory: gcore must have saved it
                checked += 1
            assert core.read(item["address"], item["size"], fallback=fallback) == expected, item["what"]
        assert checked >= 5 + len(core.threads)


def test_gcore_reads_across_adjacent_segments(gcore):
    boundaries = gcore["oracle"]["boundaries"]
    assert boundaries, "no adjacent anonymous mappings found in /proc/PID/maps"
    with CoreFile(str(gcore["core"])) as core:
        ends = {vaddr + memsz for vaddr, memsz, _o, _f, _fl in core.segments()}
        starts = {vaddr for vaddr, _m, _o, _f, _fl in core.segments()}
        crossing = [b for b in boundaries if b in ends and b in starts]
        assert crossing, f"none of {list(map(hex, boundaries))} is a border between two core segments"
        expected = {item["address"] + 32: bytes.fromhex(item["hex"]) for item in gcore["oracle"]["memory"]
                    if item["what"].startswith("across")}
        for border in crossing:
            assert core.read(border - 32, 64) == expected[border]
            assert core.read(border - 32, 64) == core.read(border - 32, 32) + core.read(border, 32)


def test_gcore_text_and_build_ids_agree_with_the_binary(gcore):
    binary = gcore["binary"]
    with CoreFile(str(gcore["core"])) as core:
        assert_build_ids(core, binary)
        assert_go_globals(core, binary, gcore["truth"])
        paths = {path for _s, _e, _o, path in core.mapped_files()}
        assert os.path.realpath(binary) in {os.path.realpath(p) for p in paths}
        fallback = binary_reader(binary)
        for vaddr, data, flags in binary_loads(binary):
            if flags & PF_W:
                continue  # data segments change at run time
            # Read-only file-backed bytes: either the core kept them, or the read says so.
            for address in (vaddr, vaddr + len(data) // 2, vaddr + len(data) - 64):
                saved = core.read(address, 64)
                assert saved is None or saved == data[address - vaddr:address - vaddr + 64]
                assert core.read(address, 64, fallback=fallback) == data[address - vaddr:address - vaddr + 64]


def test_gcore_bad_addresses_return_none(gcore):
    with CoreFile(str(gcore["core"])) as core:
        for address, size in [(0, 8), (-8, 16), (1 << 64, 8), ((1 << 64) - 4, 8), (0x10, 1 << 40),
                              (1 << 47, 8), (0x1000, -1)]:
            assert core.read(address, size) is None, (address, size)
        vaddr = core.segments()[0][0]
        assert core.read(vaddr, 0) == b""
        assert core.read(vaddr, 8, fallback=lambda a, n: None) is not None
        assert core.read(0, 8, fallback=lambda a, n: b"x") is None  # a fallback of the wrong size


def test_gcore_read_speed(gcore):
    with CoreFile(str(gcore["core"])) as core:
        saved = [s for s in core.segments() if s[3] >= 4096]
        rng = random.Random(7)
        addresses = []
        for _ in range(100000):
            vaddr, _memsz, _offset, filesz, _flags = rng.choice(saved)
            addresses.append(vaddr + rng.randrange(filesz - 456))
        read = core.read
        for address in addresses[:20000]:
            read(address, 456)  # fault the pages in once
        begin = time.perf_counter()
        for address in addresses:
            read(address, 456)
        elapsed = time.perf_counter() - begin
        print(f"\n100000 random 456-byte reads of a {gcore['version']} gcore core: {elapsed:.3f} s "
              f"({elapsed * 10:.2f} us each)")
        assert all(read(a, 456) is not None for a in addresses[:1000])
        assert elapsed < 5.0


def test_truncated_gcore_opens_and_reads_none_past_the_end(gcore):
    source = gcore["core"]
    size = source.stat().st_size
    half = gcore["tmp"] / "half.core"
    sparse_copy(source, half, size // 2)
    try:
        with CoreFile(str(source)) as whole, CoreFile(str(half)) as core:
            assert core.truncated
            cut = size // 2
            cut_segment = [s for s in core.segments() if s[2] < cut < s[2] + s[3]]
            past = [s for s in core.segments() if s[2] >= cut and s[3] > 0]
            assert cut_segment or past
            for vaddr, memsz, offset, filesz, _flags in core.segments():
                for address in (vaddr, vaddr + memsz // 2, vaddr + memsz - 8):
                    got = core.read(address, 8)  # never raises
                    file_at = offset + address - vaddr
                    if address - vaddr < filesz and file_at + 8 <= cut:
                        assert got == whole.read(address, 8)
                    else:
                        assert got is None
            for vaddr, _memsz, offset, _filesz, _flags in cut_segment:
                border = vaddr + cut - offset
                assert core.read(border - 16, 32) is None  # straddles the end of the file
                assert core.read(border - 16, 16) == whole.read(border - 16, 16)
                assert core.read(border - 16, 32, fallback=lambda a, n: bytes(n)) == \
                    whole.read(border - 16, 16) + bytes(16)
    finally:
        half.unlink(missing_ok=True)


# -- kernel cores -----------------------------------------------------------------------------


def kernel_core(version, tmp, coredump_filter):
    """Crash the goroutines fixture (GOTRACEBACK=crash, SIGQUIT -> SIGABRT) and return the
    kernel's core, the truth, the tids seen before the crash; pytest.skip where this system
    does not write cores into the process's directory."""
    if kernel_cores.why_no_cores_here():
        pytest.skip(kernel_cores.why_no_cores_here())
    binary = fixtures.build("goroutines", version)
    env = dict(os.environ, GOTRACEBACK="crash", GODEBUG="gcshrinkstackoff=1")
    process = subprocess.Popen([str(binary)], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=kernel_cores.allow_cores)
    try:
        if not select.select([process.stdout], [], [], 120)[0]:
            raise AssertionError("the fixture printed no truth")
        truth = json.loads(process.stdout.readline())
        Path(f"/proc/{process.pid}/coredump_filter").write_text(coredump_filter)
        tids = {int(t) for t in os.listdir(f"/proc/{process.pid}/task")}
        err, core = kernel_cores.crash(process, tmp)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert core is not None, f"the kernel wrote no core into {tmp} (exit status {process.returncode}, " \
                             f"stderr ends {err[-200:]!r})"
    return core, truth, tids, binary


@pytest.mark.parametrize("coredump_filter", ["0x33", "0x7f"])
@pytest.mark.parametrize("version", VERSIONS)
def test_kernel_core(version, coredump_filter, tmp_path):
    path, truth, tids, binary = kernel_core(version, tmp_path, coredump_filter)
    try:
        with CoreFile(str(path)) as core:
            assert core.pid == truth["pid"]
            assert not core.truncated
            assert os.path.realpath(core.executable) == os.path.realpath(binary)
            got = [t.tid for t in core.threads]
            assert len(got) == len(set(got)) and tids <= set(got)
            assert truth["main_tid"] in got and truth["locked"]["tid"] in got
            assert core.threads[0].signal == signal.SIGABRT
            assert core.signal_info is not None and core.signal_info.signo == signal.SIGABRT
            assert_threads_sane(core)
            for probe in truth["chan_probes"]:
                assert core.read(probe["local_addr"], 16) == bytes(16)  # chanWaiter's local array is zero
            for key in ("deep_local", "top_local"):
                assert core.read(truth["deep"][key], 8) is not None
            assert_go_globals(core, binary, truth)
            assert_build_ids(core, binary)
            # The text: the default filter keeps only its ELF header page (bit 4);
            # 0x7f keeps it all (bit 2, file-backed private).
            text_vaddr, text, _flags = binary_loads(binary)[0]
            segment = next(s for s in core.segments() if s[0] == text_vaddr)
            assert segment[1] >= len(text)
            if coredump_filter == "0x33":
                assert segment[3] == 4096
                assert core.read(text_vaddr + 4096, 16) is None
                assert core.read(text_vaddr + 4096 - 8, 16) is None  # half saved
            else:
                assert segment[3] == segment[1]
                assert core.read(text_vaddr + 4096, 16) == text[4096:4112]
            fallback = binary_reader(binary)
            assert core.read(text_vaddr + 4096 - 8, 16, fallback=fallback) == text[4096 - 8:4096 + 8]
            threads = core.threads
        # Notes come first in a kernel core: a cut copy still has its threads.
        cut = tmp_path / "cut.core"
        sparse_copy(path, cut, path.stat().st_size * 6 // 10)
        with CoreFile(str(cut)) as core:
            assert core.truncated and core.threads == threads and core.pid == truth["pid"]
            last = max((s for s in core.segments() if s[3]), key=lambda s: s[2])
            assert core.read(last[0], 8) is None
    finally:
        for leftover in tmp_path.iterdir():
            if leftover.name.startswith(("core", "cut")):
                leftover.unlink()


# -- files that are not x86-64 cores ----------------------------------------------------------


def test_not_a_core_raises_value_error(tmp_path):
    binary = fixtures.build("goroutines", VERSIONS[0] if VERSIONS else fixtures.go_versions()[0])
    with pytest.raises(ValueError, match=r"not a core file \(ELF EXEC"):
        CoreFile(str(binary))
    noise = tmp_path / "noise"
    noise.write_bytes(random.Random(3).randbytes(8192))
    with pytest.raises(ValueError, match="not an ELF file"):
        CoreFile(str(noise))
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not an ELF file"):
        CoreFile(str(empty))
    arm = tmp_path / "arm.core"
    arm.write_bytes(synthetic_core([], machine=183))
    with pytest.raises(ValueError, match="core dump for AArch64, not x86-64"):
        CoreFile(str(arm))
    for path in (binary, noise, empty, arm):
        try:
            CoreFile(str(path))
        except ValueError as error:
            assert "\n" not in str(error) and str(path) in str(error)


# -- a hand-built core for the corner cases ---------------------------------------------------


def synthetic_core(loads, notes=(), machine=62):
    """An ELF core: loads are (vaddr, memsz, data saved); notes are (name, type, desc)."""
    phnum = len(loads) + 1
    note_bytes = b""
    for name, ntype, desc in notes:
        raw = name + b"\0"
        note_bytes += struct.pack("<III", len(raw), len(desc), ntype) + raw.ljust(-(-len(raw) // 4) * 4, b"\0")
        note_bytes += desc.ljust(-(-len(desc) // 4) * 4, b"\0")
    offset = 64 + 56 * phnum
    headers = [struct.pack("<IIQQQQQQ", 4, 0, offset, 0, 0, len(note_bytes), 0, 4)]
    body = note_bytes
    offset += len(note_bytes)
    for vaddr, memsz, data in loads:
        headers.append(struct.pack("<IIQQQQQQ", 1, PF_R | PF_W, offset, vaddr, 0, len(data), memsz, 1))
        body += data
        offset += len(data)
    ident = b"\x7fELF\x02\x01\x01".ljust(16, b"\0")
    ehdr = struct.pack("<16sHHIQQQIHHHHHH", ident, 4, machine, 1, 0, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    return ehdr + b"".join(headers) + body


def prstatus(tid, signo, rip, rsp, rbp, fs_base):
    regs = [0] * 27
    regs[16], regs[19], regs[4], regs[21] = rip, rsp, rbp, fs_base
    return (struct.pack("<iii", signo, 0, 0) + struct.pack("<h", signo) + b"\0" * 18 + struct.pack("<i", tid)
            + b"\0" * 76 + struct.pack("<27Q", *regs) + b"\0" * 8)


def test_synthetic_core_corner_cases(tmp_path):
    a, b = bytes(range(256)) * 16, bytes(255 - i for i in range(256)) * 16
    nt_file = struct.pack("<QQ", 1, 4096) + struct.pack("<QQQ", 0x400000, 0x401000, 2) + b"/bin/prog\0"
    auxv = struct.pack("<4Q", 9, 0x400100, 0, 0)
    psinfo = b"\0" * 24 + struct.pack("<i", 4242) + b"\0" * 12 + b"prog".ljust(16, b"\0") + b"prog -x".ljust(80, b"\0")
    data = synthetic_core(
        [(0x10000, 4096, a), (0x11000, 4096, b),     # adjacent, both saved
         (0x20000, 8192, a),                         # only the first half saved
         (0x30000, 4096, b"")],                      # not saved at all
        [(b"CORE", 1, prstatus(4243, 11, 0x401234, 0x7000, 0x7100, 0x9000)),
         (b"CORE", 3, psinfo), (b"CORE", 6, auxv), (b"CORE", 0x46494C45, nt_file),
         (b"CORE", 1, prstatus(4242, 0, 0x401000, 0x8000, 0x8100, 0xA000))])
    path = tmp_path / "synthetic.core"
    path.write_bytes(data)
    with CoreFile(str(path)) as core:
        assert core.pid == 4242 and core.name == "prog" and core.command == "prog -x"
        assert core.executable == "/bin/prog"  # the NT_FILE mapping that holds AT_ENTRY
        assert core.mapped_files() == [(0x400000, 0x401000, 2 * 4096, "/bin/prog")]
        assert [(t.tid, t.pc, t.sp, t.bp, t.fs_base, t.signal) for t in core.threads] == \
            [(4243, 0x401234, 0x7000, 0x7100, 0x9000, 11), (4242, 0x401000, 0x8000, 0x8100, 0xA000, 0)]
        assert not core.truncated and core.build_ids == {}
        assert core.read(0x10000, 16) == a[:16]
        assert core.read(0x10ff0, 32) == a[-16:] + b[:16]  # across two segments
        assert core.read(0x10000, 8192) == a + b
        assert core.read(0x11ff8, 16) is None             # runs off the end into a gap
        assert core.read(0x20ff8, 8) == a[-8:]
        assert core.read(0x20ff8, 16) is None             # into the unsaved half
        assert core.read(0x21000, 8) is None and core.is_mapped(0x21000) and not core.is_saved(0x21000)
        assert core.read(0x30000, 8) is None and core.read(0x40000, 8) is None
        def filler(address, size):
            return bytes([address & 0xFF]) * size

        assert core.read(0x20ff8, 16, fallback=filler) == a[-8:] + b"\0" * 8
        assert core.read(0x11ff8, 16, fallback=filler) == b[-8:] + b"\0" * 8
        assert core.read(0x30000, 4, fallback=filler) == b"\0" * 4
    # Cut inside the second segment's bytes.
    cut = tmp_path / "cut.core"
    cut.write_bytes(data[:data.index(b) + 100])
    with CoreFile(str(cut)) as core:
        assert core.truncated
        assert core.read(0x11000, 100) == b[:100]
        assert core.read(0x11000, 101) is None
        assert core.read(0x20000, 8) is None


def corner_case_core():
    a = bytes(range(256)) * 16
    nt_file = struct.pack("<QQ", 1, 4096) + struct.pack("<QQQ", 0x10000, 0x11000, 0) + b"/bin/prog\0"
    return synthetic_core([(0x10000, 4096, a), (0x11000, 8192, a)],
                          [(b"CORE", 1, prstatus(7, 11, 1, 2, 3, 4)), (b"CORE", 0x46494C45, nt_file),
                           (b"CORE", 6, struct.pack("<4Q", 9, 0x10010, 0, 0))])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 1400), st.integers(0, 255)), max_size=12),
       cut=st.integers(0, 20000),
       reads=st.lists(st.tuples(st.integers(-(1 << 65), 1 << 65), st.integers(-8, 1 << 20)), max_size=8))
def test_corrupt_cores_open_or_raise_value_error(tmp_path, edits, cut, reads):
    """Flipped header/note bytes and cuts: CoreFile opens or raises ValueError; reads never raise."""
    data = bytearray(corner_case_core())
    for at, value in edits:
        if at < len(data):
            data[at] = value
    path = tmp_path / "corrupt.core"
    path.write_bytes(bytes(data[:cut]))
    try:
        core = CoreFile(str(path))
    except ValueError:
        return
    with core:
        for address, size in reads + [(0x10000, 64), (0x10ff0, 64), (0x11000, 8192)]:
            got = core.read(address, size)
            assert got is None or len(got) == max(size, 0)
        core.build_ids, core.mapped_files(), core.threads, core.segments()
        assert core.read(None, 8) is None
