"""go-info, go-goroutines, go-g, go-threads, go-stack and go-bt on the goroutines fixture, per Go
release and per host (gdb and lldb attached, the standalone reader on a core of the same state),
compared field by field with the fixture's ground truth, /proc and runtime-gdb.py."""

from __future__ import annotations

import re

import pytest

from devtools import go_traceback
from tests.e2e.harness import BUILDS, HOSTS, parse_peer, subject

pytestmark = pytest.mark.e2e

KIND_WAIT = {  # fixture function -> the wait reason its goroutines must show
    "main.chanWaiter": "chan receive",
    "main.selectWaiter": "select",
    "main.mutexWaiter": "sync.Mutex.Lock",
    "main.sleeper": "sleep",
}


def is_system(g: dict) -> bool:
    """runtime.isSystemGoroutine: goroutines started by runtime.* code, except runtime.main
    (the finalizer goroutine counts as a user goroutine only while it runs finalizers)."""
    start = g["start_function"] or ""
    return start.startswith("runtime.") and start != "runtime.main"


@pytest.fixture(params=[(host, build) for build in BUILDS for host in HOSTS], ids="-".join)
def s(request, running, go_version):
    """One host's look at the fixture, built one of the ways programs ship."""
    host, build = request.param
    return subject(running, "goroutines", go_version, build).look(host)


@pytest.fixture
def gdb_look(running, go_version):
    """gdb's look: runtime-gdb.py, the peer, runs in gdb only."""
    return subject(running, "goroutines", go_version).look("gdb")


def by_goid(s) -> dict:
    return {g["goid"]: g for g in s.json("go-goroutines --json")["goroutines"]}


def test_info_matches_ground_truth(s):
    info = s.json("go-info --json")
    assert info["schema_version"] == 2
    assert info["go_version"] == s.truth["go_version"]
    assert info["pid"] == s.truth["pid"]
    assert info["gomaxprocs"] == s.truth["gomaxprocs"]
    assert info["ps"] == s.truth["gomaxprocs"]
    assert info["pointer_size"] == 8 and info["core"] is s.on_core
    # layouts from the binary's DWARF where it has some, else from the table of its release
    dwarf = s.build_kind not in ("nodwarf", "stripped")
    assert info["layout_source"] == ("DWARF" if dwarf else "table")
    assert info["layout_table"] == (None if dwarf else s.truth["go_version"])
    listed = s.json("go-goroutines --json")["goroutines"]
    assert info["goroutines"] == len(listed)
    assert info["ms"] == len(s.json("go-threads --json")["threads"])


def test_user_goroutine_count_matches_runtime_numgoroutine(s):
    # runtime.NumGoroutine() leaves out system goroutines (gcount subtracts sched.ngsys).
    listed = s.json("go-goroutines --json")["goroutines"]
    assert sum(1 for g in listed if not is_system(g)) == s.truth["num_goroutine"]


def test_counts_and_wait_reasons_per_kind(s):
    listed = s.json("go-goroutines --json")["goroutines"]
    for kind, expected in s.truth["counts"].items():
        mine = [g for g in listed if g["start_function"] == kind]
        assert len(mine) == expected, kind
        for g in mine:
            assert g["status"] == "waiting", (kind, g)
            assert g["wait_reason"] == KIND_WAIT.get(kind, "chan receive"), (kind, g)
            assert g["created_by"]["function"] == "main.main"
            assert g["created_by"]["file"].endswith("fixtures/goroutines/main.go")


def test_wait_reason_totals_match_runtime_traceback(s):
    # The fixture counted "[reason]" headers of runtime.Stack(all=true), which lists user
    # goroutines only. Since then main itself blocked in `<-sig`: one more chan receive.
    user = [g for g in s.json("go-goroutines --json")["goroutines"] if not is_system(g)]
    for reason in ("select", "sync.Mutex.Lock", "sleep"):
        assert sum(g["wait_reason"] == reason for g in user) == s.truth["waits"][reason], reason
    assert sum(g["wait_reason"] == "chan receive" for g in user) == s.truth["waits"]["chan receive"] + 1


def test_locals_lie_in_their_goroutines_stacks(s):
    goroutines = by_goid(s)
    for probe in s.truth["chan_probes"]:
        g = goroutines[probe["goid"]]
        assert g["stack_lo"] <= g["sp"] <= probe["local_addr"] < g["stack_hi"], probe
        assert g["stack_size"] == g["stack_hi"] - g["stack_lo"]
        assert g["stack_used"] == g["stack_hi"] - g["sp"]
        assert g["user_function"] == "main.chanWaiter"


def test_deep_goroutine_stack_and_frames(s):
    deep = s.truth["deep"]
    g = by_goid(s)[deep["goid"]]
    span = deep["top_local"] - deep["deep_local"]
    assert g["stack_lo"] <= deep["deep_local"] < deep["top_local"] < g["stack_hi"]
    assert g["stack_size"] > span and g["stack_size"] & (g["stack_size"] - 1) == 0  # grown, power of two
    assert g["stack_size"] >= 64 * 1024
    stack = s.json(f"go-stack {deep['goid']} --json")
    assert (stack["stack_lo"], stack["stack_hi"], stack["sp"]) == (g["stack_lo"], g["stack_hi"], g["sp"])
    names = [f["function"] for f in stack["frames"]]
    assert names.count("main.recurse") == deep["depth"] + 1
    assert names[-2:] == ["main.deep", "runtime.goexit"]
    assert stack["stop_reason"] == "goexit"
    sps = [f["sp"] for f in stack["frames"]]
    assert sps == sorted(sps) and sps[0] == stack["sp"]
    physical = [f for f in stack["frames"] if not f["inlined"]]
    for a, b in zip(physical, physical[1:]):
        assert a["sp"] + a["size_on_stack"] == b["sp"]  # physical frames tile the stack
        assert a["size_on_stack"] == a["frame_size"] + 8  # the return address above the compiler's frame
    recurse = [f for f in stack["frames"] if f["function"] == "main.recurse"]
    assert all(f["frame_size"] >= deep["frame_pad"] for f in recurse)
    assert all(f["file"].endswith("fixtures/goroutines/main.go") and f["line"] > 0 for f in recurse)
    # the deepest local lies in the innermost recurse frame
    inner = recurse[0]
    assert inner["sp"] <= deep["deep_local"] < inner["sp"] + inner["size_on_stack"]


def test_stackguard_of_parked_goroutine(s):
    probe = s.truth["chan_probes"][0]
    stack = s.json(f"go-stack {probe['goid']} --json")
    assert stack["stack_guard"] == 928 or stack["stack_guard"] > 0
    if not stack["preempt_requested"]:
        assert stack["stackguard0"] == stack["stack_lo"] + stack["stack_guard"]
        assert stack["headroom"] == stack["sp"] - stack["stackguard0"]
    assert stack["used"] + stack["free"] == stack["stack_size"]
    assert [f["function"] for f in stack["frames"]][-2:] == ["main.chanWaiter", "runtime.goexit"]


def test_locked_thread(s):
    locked = s.truth["locked"]
    threads = s.json("go-threads --json")["threads"]
    mine = [t for t in threads if t["thread_id"] == locked["tid"]]
    assert len(mine) == 1
    assert mine[0]["lockedg_goid"] == locked["goid"]
    g = s.json(f"go-g {locked['goid']} --json")
    assert g["goid"] == locked["goid"] and g["locked_to_thread"] and g["locked_m_address"] == mine[0]["m_address"]
    assert g["wait_reason"] == "chan receive"


def test_threads_are_the_processes_tasks(s):
    threads = s.json("go-threads --json")["threads"]
    assert sorted(t["thread_id"] for t in threads) == s.tasks
    assert sum(t["selected"] for t in threads) == 1


def test_g0_stacks_and_their_origin(s):
    threads = s.json("go-threads --json")["threads"]
    m0 = [t for t in threads if t["is_m0"]]
    assert len(m0) == 1 and m0[0]["m_id"] == 0 and m0[0]["thread_id"] == s.truth["pid"]
    assert m0[0]["g0_origin"] == "kernel" and m0[0]["g0_stack_size"] == 64 * 1024
    for t in threads:
        assert t["g0_stack_lo"] < t["g0_stack_hi"]
        assert t["gsignal_stack_hi"] - t["gsignal_stack_lo"] == 32 * 1024
        if not t["is_m0"]:
            assert t["g0_origin"] == "runtime" and t["g0_stack_size"] == 16 * 1024
        if t["sp"] is not None and t["running_on"] == "g0":
            assert t["g0_stack_lo"] <= t["sp"] < t["g0_stack_hi"]


def test_default_stack_is_the_selected_threads(s):
    stack = s.json("go-stack --json")
    selected = [t for t in s.json("go-threads --json")["threads"] if t["selected"]][0]
    assert stack["m_id"] == selected["m_id"]
    assert stack["stack_lo"] <= stack["sp"] < stack["stack_hi"]
    # the thread's registers on its g0, or on the goroutine it runs; but from g.syscallsp, where the
    # runtime's traceback starts, while the thread is in a system call for a goroutine (it may be)
    status = by_goid(s)[stack["goid"]]["status"] if stack["kind"] == "goroutine" else "running"
    assert stack["sp_source"] == {"running": "thread registers", "syscall": "g.syscallsp"}[status]
    assert stack["frames"] and stack["frames"][0]["sp"] == stack["sp"]
    g0 = s.json("go-stack --m 0 --json")
    assert g0["kind"] == "g0" and g0["m_id"] == 0 and g0["stack_size"] == 64 * 1024


def test_cross_check_with_runtime_gdb_py(gdb_look):
    s = gdb_look
    peer = parse_peer(s.outputs["info goroutines"])
    ours = by_goid(s)
    assert set(peer) == set(ours)
    for goid, theirs in peer.items():
        g = ours[goid]
        status = g["status"] + ("+s" if g["scan"] else "")
        assert theirs["status"] == status, goid
        assert theirs["has_m"] == (g["m_id"] is not None), goid
        if g["status"] != "running" and theirs["function"]:
            assert theirs["function"] == g["function"], goid


def test_text_tables_render(s):
    text = s.outputs["go-goroutines"]
    assert "GOID" in text and "main.chanWaiter" in text
    assert "\x1b[" not in text  # not a terminal: no colors
    assert text.strip().splitlines()[-1].startswith(f"{len(by_goid(s))} goroutines:")
    assert "go-threads" not in s.outputs["go-threads"] and "G0 STACK" in s.outputs["go-threads"]
    deep_text = s.outputs[f"go-stack {s.truth['deep']['goid']}"]
    # depth+1 recurse frames, plus gopark, chanrecv, chanrecv1, deep and goexit; 20 + 5 shown
    total = s.truth["deep"]["depth"] + 6
    assert f"{total} frames, {total - 25} not shown (--json has them all)" in deep_text
    assert "headroom" in deep_text and "stack.hi" in deep_text


def test_wait_time_comes_from_the_gc_stamp(s):
    # The fixture ran one GC between two runtime.nanotime() readings; the GC stamps
    # g.waitsince of every waiting goroutine with its start time (mgcmark.go).
    before, after = s.truth["gc_window"]
    goroutines = by_goid(s)
    for probe in s.truth["chan_probes"]:
        g = goroutines[probe["goid"]]
        assert before <= g["waitsince"] <= after, probe
        if s.on_core:  # a core has no "now"
            assert g["waited_ns"] is None
        else:  # CLOCK_MONOTONIC is shared with the live process: the wait began before the host looked
            assert g["waited_ns"] is not None and g["waited_ns"] > 0


def test_listing_rows_equal_the_single_goroutine_view(s):
    # go-goroutines encodes its rows with a fast encoder; go-g builds a dict for json.dumps.
    locked = s.truth["locked"]["goid"]
    row = by_goid(s)[locked]
    full = s.json(f"go-g {locked} --json")
    # waited_ns is "now - waitsince", and the two commands ran at different moments
    waited, full_waited = row.pop("waited_ns"), full["waited_ns"]
    assert (waited is None and full_waited is None) if s.on_core else waited <= full_waited
    assert {k: full[k] for k in row} == row


def test_backtraces_grouped(s):
    groups = s.json("go-bt --all --json")["groups"]
    listed = by_goid(s)
    assert sorted(g for group in groups for g in group["goids"]) == sorted(listed)
    waiters = [grp for grp in groups if any(f["function"] == "main.chanWaiter" for f in grp["frames"])]
    assert len(waiters) == 1 and sorted(waiters[0]["goids"]) == sorted(p["goid"] for p in s.truth["chan_probes"])
    assert waiters[0]["count"] == s.truth["counts"]["main.chanWaiter"]
    probe = s.truth["chan_probes"][0]["goid"]
    assert s.json(f"go-bt {probe} --json")["frames"] == s.json(f"go-stack {probe} --json")["frames"]
    assert f"{s.truth['counts']['main.chanWaiter']} goroutines [waiting, chan receive]:" in s.outputs["go-bt --all"]


def test_backtrace_matches_runtime_gdb_py(gdb_look):
    s = gdb_look
    # runtime-gdb.py's `goroutine N bt` points gdb's own DWARF unwinder at the saved pc/sp
    probe = s.truth["chan_probes"][0]["goid"]
    theirs = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", s.outputs[f"goroutine {probe} bt"], re.M)
    ours = [f["function"] for f in s.json(f"go-bt {probe} --json")["frames"]]
    # gdb's unwinder goes on past goexit into "??"; the goroutine's own frames end there
    assert "runtime.goexit" in theirs and ours == theirs[:theirs.index("runtime.goexit") + 1]


def logical(frames):
    """What a traceback says of each frame: function, file:line, whether inlined."""
    return [(f["function"], f["file"], f["line"], f["inlined"]) for f in frames]


def test_every_backtrace_equals_the_runtimes(s):
    """go-bt of every goroutine the fixture made equals the runtime's own traceback of it
    (runtime.Stack, taken while they were parked): every function it shows, inlined calls included
    (three deep in one frame), file:line, the state and the `created by` line."""
    dumped = go_traceback.parse(s.truth["stacks"])
    made = {g["goid"]: g for g in s.json("go-goroutines --json")["goroutines"] if not is_system(g)}
    made.pop(s.truth["stacks_goid"])  # it was running runtime.Stack then; it waits for a signal now
    compared = 0
    for group in s.json("go-bt --all --json")["groups"]:
        for goid in (g for g in group["goids"] if g in made):
            theirs, ours = dumped[goid], go_traceback.shown_by_runtime_stack(group["frames"])
            assert (group["wait_reason"] or group["status"]) == theirs.state, goid
            if theirs.elided:  # the runtime prints the innermost and outermost 50
                assert len(ours) == len(theirs.frames) + theirs.elided, goid
                ours = ours[:50] + ours[-50:]
            assert logical(ours) == [(f.function, f.file, f.line, f.inlined) for f in theirs.frames], goid
            made_by = made[goid]["created_by"]
            assert (made_by["function"], made_by["file"], made_by["line"]) == \
                (theirs.created_by.function, theirs.created_by.file, theirs.created_by.line), goid
            compared += 1
    assert compared == len(made)
    chain = next(g for g in s.json("go-bt --all --json")["groups"]
                 if any(f["function"] == "main.inlineChain" for f in g["frames"]))["frames"]
    names = [f["function"] for f in chain]
    at = names.index("main.inlineC")
    assert names[at:at + 4] == ["main.inlineC", "main.inlineB", "main.inlineA", "main.inlineChain"]
    assert [f["inlined"] for f in chain[at:at + 4]] == [True, True, True, False]
    assert len({(f["sp"], f["pc"]) for f in chain[at:at + 4]}) == 1  # one physical frame
    user = made[next(goid for goid in made if made[goid]["start_function"] == "main.inlineChain")]
    assert (user["user_function"], user["user_line"]) == ("main.inlineC", chain[at]["line"])


def test_pprof_labels(s):
    """pprof.Do's labels, read from g.labels as each release stores them (a map up to 1.23, a
    list from 1.24), shown on the goroutine and matched by --label."""
    labeled = s.truth["labeled"]
    assert s.json(f"go-g {labeled['goid']} --json")["labels"] == labeled["labels"]
    assert by_goid(s)[labeled["goid"]]["labels"] == labeled["labels"]
    assert all(g["labels"] == {} for goid, g in by_goid(s).items() if goid != labeled["goid"])
    matched = s.json("go-goroutines --label job=fixture --label shard=3 --json")["goroutines"]
    assert [g["goid"] for g in matched] == [labeled["goid"]]
    assert s.json("go-goroutines --label job=other --json")["goroutines"] == []


def test_backtraces_grouped_by_other_things(s):
    by_start = {g["key"]: g for g in s.json("go-bt --all --group start --json")["groups"]}
    for kind, count in s.truth["counts"].items():
        if count:
            assert by_start[kind]["count"] == count, kind
    assert sum(g["count"] for g in by_start.values()) == len(by_goid(s))
    by_label = {g["key"]: g["goids"] for g in s.json("go-bt --all --group label:job --json")["groups"]}
    assert by_label["job=fixture"] == [s.truth["labeled"]["goid"]]
    assert len(by_label["job=(none)"]) == len(by_goid(s)) - 1
    by_go = {g["key"]: g["count"] for g in s.json("go-bt --all --group go --json")["groups"]}
    waiter = next(g for g in by_goid(s).values() if g["start_function"] == "main.chanWaiter")["created_by"]
    assert by_go[f"{waiter['function']} {waiter['file']}:{waiter['line']}"] == s.truth["counts"]["main.chanWaiter"]
    text = s.outputs["go-bt --all --group start"]
    assert f"{s.truth['counts']['main.chanWaiter']} goroutines start main.chanWaiter:" in text


def test_explain_derives_stackguard0(s):
    probe = s.truth["chan_probes"][0]["goid"]
    stack = s.json(f"go-stack {probe} --explain --json")
    assert stack["stack_lo"] + stack["explain"]["stack_guard"] == stack["stackguard0"]
    assert stack["explain"]["stack_guard"] == stack["explain"]["stack_nosplit"] + stack["explain"]["stack_small"]
    text = " ".join(s.outputs[f"go-stack {s.truth['deep']['goid']} --explain"].split())
    assert "StackGuard" in text and "morestack" in text
    # the compiler's own check, disassembled: SP (less the frame over StackSmall) against [r14 + stackguard0]
    check = stack["explain"]["prologue"]
    guard = f"[r14 + 0x{check['stackguard0_offset']:x}]"
    assert any(guard in i for i in check["instructions"]) and check["instructions"][-1].startswith("j")
    frame = check["frame_size"] - stack["explain"]["stack_small"]  # the compiler's frame over StackSmall
    assert (frame > 0) == any(f"[rsp - 0x{frame:x}]" in i for i in check["instructions"])
    # FRAME is the compiler's frame size: the prologue's push rbp (8 B) plus its sub rsp, N
    assert check["locals_bytes"] is None or check["locals_bytes"] + 8 == check["frame_size"]
    deep = s.json(f"go-stack {s.truth['deep']['goid']} --explain --json")
    recurse = deep["explain"]["prologue"]
    assert recurse["function"] == "main.recurse" and recurse["locals_bytes"] + 8 == recurse["frame_size"]
    assert {f["frame_size"] for f in deep["frames"] if f["function"] == "main.recurse"} == {recurse["frame_size"]}
    assert "main.recurse's own check: its frame is" in text and " SP - 0x" in text
