"""Benchmark: list 100 000 goroutines of a live process, gdbgomem against Go's runtime-gdb.py.

One fixture process (fixtures/goroutines -park N) is started once; every
measurement attaches gdb to it in batch mode:

  attach alone   wall time of `gdb -nx -batch -p PID -x <load script> -ex echo`
                 (attach, load gdbgomem, detach: the floor every gdb run pays)
  ours           `go-goroutines --json`, timed inside gdb around gdb.execute(..., to_string=True),
                 and the wall time of the whole gdb run; beyond attach = wall - attach alone
  peer           `info goroutines` of $GOROOT/src/runtime/runtime-gdb.py (same toolchain),
                 loaded with `source` (not timed), then timed inside gdb the same way

Each figure is the median of --repeat runs. Both outputs are checked against the
fixture's ground truth; a mismatch aborts the run. The goals (ours <= 0.5 s beyond
attach; peer/ours >= 25x for --json, 15x for the whole text table, 10x for go-bt --all, 15x
for --json in lldb) are reported as PASS/MISS; the exit status is 0 either way,
since this is a measurement, not a test.

    .venv/bin/python bench/bench_goroutines.py [--go VERSION] [--goroutines 100000] [--repeat 3] [--profile]

Figures are written to bench/results/goroutines-<go version>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import TIMEOUT, BenchError, base_argv, gdb_run, median, profile_command, tool_versions, write_results  # noqa: E402
from devtools import fixtures, hostrun  # noqa: E402
from gdbgomem import releases  # noqa: E402

GOAL_BEYOND_ATTACH_S = 0.5
GOAL_RATIO = 25.0  # issue 9's goals, each a ratio to runtime-gdb.py's info goroutines in the same run
GOAL_LLDB_BEYOND_ATTACH_S = 1.0
GOAL_LLDB_RATIO = 15.0
GOAL_BT_RATIO = 10.0
BT_ALL_COMMAND = "go-bt --all"  # every goroutine's stack, grouped: checked to count every goroutine
OURS_COMMAND = "go-goroutines --json"
# Informational: every goroutine read and decoded, but one stack walked and one row
# serialized: the floor of any listing (status counts need every g).
DECODE_ONLY_COMMAND = "go-goroutines --json --limit 1"
# The whole text table, and the default view (the first 200 rows of it), as a user at a terminal sees them.
TEXT_ALL_COMMAND = "go-goroutines --limit 0"
TEXT_DEFAULT_COMMAND = "go-goroutines"
GOAL_TEXT_RATIO = 15.0
PEER_COMMAND = "info goroutines"
# A line of runtime-gdb.py's `info goroutines`: "* 17 syscall  runtime.notetsleepg".
PEER_LINE = re.compile(r"^[ *] (\d+) ")
# The runtime's isSystemGoroutine (traceback.go): a goroutine whose start function
# is in package runtime, except these. runtime.NumGoroutine leaves system goroutines
# out; the finalizer and cleanup goroutines count as system while they run no user
# code, which is always the case in the fixture.
USER_RUNTIME_STARTS = {"runtime.main", "runtime.corostart", "runtime.handleAsyncEvent"}

# Runs inside gdb (gdb -x file.py). Times one command; the output is then written
# to a file for checking, and that write is timed too, so it can be taken off the
# wall time of the run.
TIMED_SNIPPET = """\
import json, sys, time
import gdb
_result = {{"python": sys.version.split()[0]}}
try:
    for _command in {setup!r}:
        gdb.execute(_command, to_string=True)
    _t = time.perf_counter()
    _out = gdb.execute({command!r}, to_string=True)
    _result["inside_s"] = time.perf_counter() - _t
    with open("/proc/self/status") as _status:
        _result["peak_rss_mb"] = [int(_l.split()[1]) / 1024 for _l in _status if _l.startswith("VmHWM:")][0]
    _t = time.perf_counter()
    with open({output!r}, "w") as _f:
        _f.write(_out)
    _result["post_s"] = time.perf_counter() - _t
except Exception as _e:
    _result["error"] = "%s: %s" % (type(_e).__name__, _e)
with open({result!r}, "w") as _f:
    json.dump(_result, _f)
"""

def timed_command(workdir: Path, pid: int, command: str, load_ours: bool, setup: List[str] = ()) -> dict:
    """Run one gdb session that times `command` inside gdb; its timings and output."""
    snippet, output, result = workdir / "timed.py", workdir / "output.txt", workdir / "result.json"
    for path in (output, result):
        path.unlink(missing_ok=True)
    snippet.write_text(TIMED_SNIPPET.format(command=command, setup=list(setup), output=str(output),
                                            result=str(result)))
    wall, log = gdb_run(base_argv(pid, load_ours) + ["-x", str(snippet)])
    if not result.exists():
        raise BenchError(f"the timing snippet left no result for {command!r}; gdb said:\n{log[-3000:]}")
    data = json.loads(result.read_text())
    if "error" in data:
        raise BenchError(f"{command!r} failed inside gdb: {data['error']}")
    data["wall_s"] = wall - data["post_s"]
    data["output"] = output.read_text()
    return data


LLDB_TIMED_SNIPPET = """\
import json, time
import lldb
_result = lldb.SBCommandReturnObject()
_t = time.perf_counter()
lldb.debugger.GetCommandInterpreter().HandleCommand({command!r}, _result)
_inside = time.perf_counter() - _t
with open({output!r}, "w") as _f:
    _f.write(_result.GetOutput() or "")
with open({result!r}, "w") as _f:
    json.dump({{"inside_s": _inside, "error": _result.GetError() or None}}, _f)
"""


# Runs inside gdb, attached to nothing: gdb.write of a given text in pieces of PIECE bytes
# from a command, captured with gdb.execute(..., to_string=True) as the timed commands are.
# What gdb itself costs to carry ours' output, whoever makes it.
FLOOR_SNIPPET = """\
import json, time
import gdb
_text = open({text!r}).read()
_pieces = [_text[i:i + {piece}] for i in range(0, len(_text), {piece})]
class _WriteAll(gdb.Command):
    def __init__(self):
        super().__init__("bench-write-all", gdb.COMMAND_USER)
    def invoke(self, argument, from_tty):
        for piece in _pieces:
            gdb.write(piece)
_WriteAll()
_t = time.perf_counter()
_out = gdb.execute("bench-write-all", to_string=True)
_inside = time.perf_counter() - _t
with open({result!r}, "w") as _f:
    json.dump({{"inside_s": _inside, "same": _out == _text}}, _f)
"""
FLOOR_PIECE = 5 << 20  # about what one piece of go-goroutines --json holds (8192 rows)


def output_floor(workdir: Path, text: str) -> float:
    """Seconds gdb takes to write `text` from a Python command and hand it to to_string."""
    source, snippet, result = workdir / "floor.txt", workdir / "floor.py", workdir / "floor.json"
    source.write_text(text)
    snippet.write_text(FLOOR_SNIPPET.format(text=str(source), piece=FLOOR_PIECE, result=str(result)))
    result.unlink(missing_ok=True)
    _, log = gdb_run(["gdb", "-nx", "-batch", "-x", str(snippet)])
    if not result.exists():
        raise BenchError(f"the output floor snippet left no result; gdb said:\n{log[-3000:]}")
    data = json.loads(result.read_text())
    if not data["same"]:
        raise BenchError("gdb gave back another text than the output floor snippet wrote")
    return data["inside_s"]


def lldb_argv(pid: int, *commands: str) -> List[str]:
    argv = ["lldb-16", "--no-lldbinit", "-b", "-p", str(pid), "-s", str(hostrun.lldb_init_script())]
    for command in commands:
        argv += ["-o", command]
    return argv


def lldb_timed_command(workdir: Path, pid: int, command: str) -> dict:
    """One lldb session that times `command` inside lldb; its timings and output."""
    snippet, output, result = workdir / "lldb_timed.py", workdir / "lldb_output.txt", workdir / "lldb_result.json"
    for path in (output, result):
        path.unlink(missing_ok=True)
    snippet.write_text(LLDB_TIMED_SNIPPET.format(command=command, output=str(output), result=str(result)))
    wall, log = gdb_run(lldb_argv(pid, f"script exec(open({str(snippet)!r}).read())"))
    if not result.exists():
        raise BenchError(f"the lldb timing snippet left no result; lldb said:\n{log[-3000:]}")
    data = json.loads(result.read_text())
    if data["error"]:
        raise BenchError(f"{command!r} failed inside lldb: {data['error']}")
    data["wall_s"] = wall
    data["output"] = output.read_text()
    return data


def check_ours(text: str, truth: dict) -> dict:
    """go-goroutines --json must list every live goroutine the runtime counts."""
    data = hostrun.json_of(text)
    rows = data["goroutines"]
    if len(rows) != data["total"]:
        raise BenchError(f"go-goroutines --json: {len(rows)} rows but total {data['total']}")
    system = [g for g in rows if (g["start_function"] or "").startswith("runtime.")
              and g["start_function"] not in USER_RUNTIME_STARTS]
    user = len(rows) - len(system)
    if user != truth["num_goroutine"]:
        raise BenchError(f"go-goroutines --json lists {len(rows)} goroutines, {len(system)} of them system "
                         f"goroutines, so {user} user goroutines; the fixture's runtime.NumGoroutine() is "
                         f"{truth['num_goroutine']}")
    parked = sum(1 for g in rows if g["user_function"] == "main.parked")
    if parked != truth["counts"]["main.parked"]:
        raise BenchError(f"go-goroutines --json: {parked} goroutines in main.parked, "
                         f"the fixture parked {truth['counts']['main.parked']}")
    return {"rows": len(rows), "system": len(system), "user": user, "goids": {g["goid"] for g in rows}}


def check_text(text: str, rows: int, total: int, command: str) -> None:
    """The text table: a header, one line per goroutine shown, and the total in the last line."""
    lines = [line for line in text.splitlines() if re.match(r"^\d+  ", line)]  # GOID column, not the total
    if len(lines) != rows or not text.rstrip().splitlines()[-1].startswith(f"{total} goroutines: "):
        raise BenchError(f"{command!r} printed {len(lines)} goroutine lines (expected {rows}) "
                         f"and ended {text.rstrip().splitlines()[-1][:80]!r} (expected the total {total})")


def check_bt(text: str, rows: int) -> None:
    """go-bt --all: its last line counts every goroutine the listing has."""
    last = text.rstrip().splitlines()[-1] if text.strip() else ""
    if not last.startswith(f"{rows} goroutines in "):
        raise BenchError(f"{BT_ALL_COMMAND!r} ended {last[:80]!r}; expected {rows} goroutines in its groups")


def check_peer(text: str, ours: dict) -> dict:
    """runtime-gdb.py's info goroutines: one line per goroutine, the same goroutines as ours."""
    goids = []
    for line in text.splitlines():
        match = PEER_LINE.match(line)
        if match:
            goids.append(int(match.group(1)))
    if len(goids) != ours["rows"] or set(goids) != ours["goids"]:
        missing, extra = len(ours["goids"] - set(goids)), len(set(goids) - ours["goids"])
        raise BenchError(f"runtime-gdb.py info goroutines printed {len(goids)} goroutine lines, go-goroutines "
                         f"{ours['rows']} ({missing} of ours missing there, {extra} not in ours)")
    return {"lines": len(goids)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go", default=releases.newest_release(),
                        help=f"Go toolchain version (default {releases.newest_release()}, the newest tested)")
    parser.add_argument("--goroutines", type=int, default=100_000,
                        help="extra goroutines parked by the fixture (-park N, default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is kept")
    parser.add_argument("--profile", action="store_true",
                        help="also run go-goroutines --json under cProfile inside gdb and print the top entries")
    parser.add_argument("--profile-top", type=int, default=15, metavar="N")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results/*.json")
    parser.add_argument("--no-peer", action="store_true",
                        help="time ours alone, in gdb (no runtime-gdb.py, no lldb, no ratios): for --goroutines "
                             "1000000, where runtime-gdb.py takes minutes a run")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.goroutines < 0:
        parser.error("--repeat must be >= 1 and --goroutines >= 0")

    runtime_gdb = fixtures.goroot(args.go) / "src" / "runtime" / "runtime-gdb.py"
    if not runtime_gdb.exists():
        raise SystemExit(f"no {runtime_gdb}: is Go {args.go} installed (scripts/setup.sh)?")

    print(f"starting fixtures/goroutines -park {args.goroutines} (Go {args.go}) ...", flush=True)
    started = time.perf_counter()
    fixture = fixtures.start("goroutines", args.go, ["-park", str(args.goroutines)], timeout=TIMEOUT)
    samples: Dict[str, List[float]] = {"attach_alone_s": [], "ours_inside_s": [], "ours_wall_s": [],
                                       "ours_decode_only_inside_s": [], "ours_text_all_inside_s": [],
                                       "ours_text_default_inside_s": [], "ours_bt_all_inside_s": [],
                                       "peer_inside_s": [], "peer_wall_s": [],
                                       "lldb_attach_alone_s": [], "lldb_inside_s": [], "lldb_wall_s": [],
                                       "output_floor_s": [], "ours_gdb_peak_rss_mb": []}
    profile = None
    try:
        truth = fixture.truth
        print(f"ready in {time.perf_counter() - started:.1f} s: pid {fixture.pid}, {truth['go_version']}, "
              f"NumGoroutine {truth['num_goroutine']}", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-goroutines-") as tmp:
            workdir = Path(tmp)
            gdb_python = "?"
            for i in range(args.repeat):
                samples["attach_alone_s"].append(gdb_run(base_argv(fixture.pid, load_ours=True) + ["-ex", "echo"])[0])

                ours = timed_command(workdir, fixture.pid, OURS_COMMAND, load_ours=True)
                json_text = ours.pop("output")
                counts = check_ours(json_text, truth)
                samples["output_floor_s"].append(output_floor(workdir, json_text))
                samples["ours_inside_s"].append(ours["inside_s"])
                samples["ours_gdb_peak_rss_mb"].append(ours["peak_rss_mb"])
                samples["ours_wall_s"].append(ours["wall_s"])
                gdb_python = ours["python"]

                lean = timed_command(workdir, fixture.pid, DECODE_ONLY_COMMAND, load_ours=True)
                lean_total = hostrun.json_of(lean.pop("output"))["total"]
                if lean_total != counts["rows"]:
                    raise BenchError(f"{DECODE_ONLY_COMMAND!r} counts {lean_total} goroutines, "
                                     f"{OURS_COMMAND!r} listed {counts['rows']}")
                samples["ours_decode_only_inside_s"].append(lean["inside_s"])

                for command, key, rows in ((TEXT_ALL_COMMAND, "ours_text_all_inside_s", counts["rows"]),
                                           (TEXT_DEFAULT_COMMAND, "ours_text_default_inside_s", 200)):
                    text = timed_command(workdir, fixture.pid, command, load_ours=True)
                    check_text(text.pop("output"), rows, counts["rows"], command)
                    samples[key].append(text["inside_s"])

                bt = timed_command(workdir, fixture.pid, BT_ALL_COMMAND, load_ours=True)
                check_bt(bt.pop("output"), counts["rows"])
                samples["ours_bt_all_inside_s"].append(bt["inside_s"])

                if not args.no_peer:
                    peer = timed_command(workdir, fixture.pid, PEER_COMMAND, load_ours=False,
                                         setup=[f"source {runtime_gdb}"])
                    peer_counts = check_peer(peer.pop("output"), counts)
                    samples["peer_inside_s"].append(peer["inside_s"])
                    samples["peer_wall_s"].append(peer["wall_s"])

                    samples["lldb_attach_alone_s"].append(gdb_run(lldb_argv(fixture.pid, "script pass"))[0])
                    in_lldb = lldb_timed_command(workdir, fixture.pid, OURS_COMMAND)
                    if check_ours(in_lldb.pop("output"), truth)["rows"] != counts["rows"]:
                        raise BenchError("lldb listed another number of goroutines than gdb")
                    samples["lldb_inside_s"].append(in_lldb["inside_s"])
                    samples["lldb_wall_s"].append(in_lldb["wall_s"])

                if fixture.process.poll() is not None:
                    raise BenchError(f"the fixture exited (status {fixture.process.returncode}) during the run")
                print(f"run {i + 1}/{args.repeat}: attach {samples['attach_alone_s'][-1]:.2f} s, "
                      f"ours {ours['inside_s']:.2f} s inside / {ours['wall_s']:.2f} s wall"
                      + ("" if args.no_peer else f", peer {peer['inside_s']:.2f} s inside"), flush=True)
            if args.profile:
                profile = profile_command(workdir, fixture.pid, OURS_COMMAND, args.profile_top)
    finally:
        fixture.stop()

    med = {name: median(values) for name, values in samples.items() if values}
    beyond = med["ours_wall_s"] - med["attach_alone_s"]
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    goals = {"ours_beyond_attach_le_0_5_s": {"goal": GOAL_BEYOND_ATTACH_S, "value": beyond,
                                             "pass": beyond <= GOAL_BEYOND_ATTACH_S}}
    rows = [
        ("Go version", truth["go_version"]),
        ("goroutines (listed / NumGoroutine)", f"{counts['rows']} / {truth['num_goroutine']}"),
        ("gdb attach alone (s)", f"{med['attach_alone_s']:.3f}"),
        ("ours: go-goroutines --json inside gdb (s)", f"{med['ours_inside_s']:.3f}"),
        ("ours: beyond attach (s)", f"{beyond:.3f}"),
        ("ours: gdb's peak RSS after --json (MB)", f"{med['ours_gdb_peak_rss_mb']:.0f}"),
        ("(info) ours --limit 1: decode all, walk 1, 1 row (s)", f"{med['ours_decode_only_inside_s']:.3f}"),
        ("ours: go-goroutines --limit 0, the whole text table (s)", f"{med['ours_text_all_inside_s']:.3f}"),
        ("ours: go-goroutines, the default 200 rows (s)", f"{med['ours_text_default_inside_s']:.3f}"),
        ("ours: go-bt --all inside gdb (s)", f"{med['ours_bt_all_inside_s']:.3f}"),
        ("(info) gdb alone writing ours' --json text, captured (s)", f"{med['output_floor_s']:.3f}"),
        (f"goal: ours <= {GOAL_BEYOND_ATTACH_S} s beyond attach", verdict(goals["ours_beyond_attach_le_0_5_s"]["pass"])),
    ]
    ratios = {}
    if not args.no_peer:
        ratio = med["peer_inside_s"] / med["ours_inside_s"]
        text_ratio = med["peer_inside_s"] / med["ours_text_all_inside_s"]
        bt_ratio = med["peer_inside_s"] / med["ours_bt_all_inside_s"]
        lldb_ratio = med["peer_inside_s"] / med["lldb_inside_s"]
        lldb_beyond = med["lldb_wall_s"] - med["lldb_attach_alone_s"]
        ratios = {"ours_beyond_attach_s": beyond, "ratio_peer_over_ours": ratio,
                  "text_ratio_peer_over_ours": text_ratio, "bt_ratio_peer_over_ours": bt_ratio,
                  "lldb_ratio_peer_over_ours": lldb_ratio, "lldb_beyond_attach_s": lldb_beyond}
        goals.update({
            "ratio_peer_over_ours_ge_25": {"goal": GOAL_RATIO, "value": ratio, "pass": ratio >= GOAL_RATIO},
            "bt_ratio_peer_over_ours_ge_10": {"goal": GOAL_BT_RATIO, "value": bt_ratio,
                                              "pass": bt_ratio >= GOAL_BT_RATIO},
            "lldb_ratio_peer_over_ours_ge_15": {"goal": GOAL_LLDB_RATIO, "value": lldb_ratio,
                                                "pass": lldb_ratio >= GOAL_LLDB_RATIO},
            "text_ratio_peer_over_ours_ge_15": {"goal": GOAL_TEXT_RATIO, "value": text_ratio,
                                                "pass": text_ratio >= GOAL_TEXT_RATIO},
            "lldb_beyond_attach_le_1_s": {"goal": GOAL_LLDB_BEYOND_ATTACH_S, "value": lldb_beyond,
                                          "pass": lldb_beyond <= GOAL_LLDB_BEYOND_ATTACH_S},
        })
        rows += [
            ("runtime-gdb.py info goroutines inside gdb (s)", f"{med['peer_inside_s']:.3f}"),
            ("ratio peer/ours (inside gdb)", f"{ratio:.1f}x"),
            ("(info) the ratio were ours nothing but gdb's write", f"{med['peer_inside_s'] / med['output_floor_s']:.1f}x"),
            ("ratio peer/ours, the whole text table", f"{text_ratio:.1f}x"),
            ("ratio peer/ours, go-bt --all", f"{bt_ratio:.1f}x"),
            (f"goal: go-bt --all ratio >= {GOAL_BT_RATIO:.0f}x", verdict(goals["bt_ratio_peer_over_ours_ge_10"]["pass"])),
            (f"goal: text ratio >= {GOAL_TEXT_RATIO:.0f}x", verdict(goals["text_ratio_peer_over_ours_ge_15"]["pass"])),
            (f"goal: ratio >= {GOAL_RATIO:.0f}x", verdict(goals["ratio_peer_over_ours_ge_25"]["pass"])),
            ("lldb attach alone (s)", f"{med['lldb_attach_alone_s']:.3f}"),
            ("ours in lldb: go-goroutines --json inside lldb (s)", f"{med['lldb_inside_s']:.3f}"),
            ("ours in lldb: beyond attach (s)", f"{lldb_beyond:.3f}"),
            ("ratio peer (in gdb) / ours in lldb, --json", f"{lldb_ratio:.1f}x"),
            (f"goal: lldb ratio >= {GOAL_LLDB_RATIO:.0f}x", verdict(goals["lldb_ratio_peer_over_ours_ge_15"]["pass"])),
            (f"goal: lldb <= {GOAL_LLDB_BEYOND_ATTACH_S} s beyond attach",
             verdict(goals["lldb_beyond_attach_le_1_s"]["pass"])),
        ]
    width = max(len(name) for name, _ in rows)
    print(f"\nmedian of {args.repeat} run(s), {os.cpu_count()} CPUs")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")

    if profile:
        print(f"\ncProfile of {OURS_COMMAND} inside gdb (a separate run, after the timed ones):\n{profile}")

    result = {
        "benchmark": "goroutines",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "arch": platform.machine(), "kernel": platform.release()},
        "versions": {**tool_versions(), "gdb_python": gdb_python, "go": truth["go_version"]},
        "fixture": {"park": args.goroutines, "num_goroutine": truth["num_goroutine"],
                    "listed": counts["rows"], "system_goroutines": counts["system"],
                    "peer_lines": None if args.no_peer else peer_counts["lines"]},
        "commands": {"ours": OURS_COMMAND, "ours_decode_only": DECODE_ONLY_COMMAND, "ours_text_all": TEXT_ALL_COMMAND,
                     "ours_text_default": TEXT_DEFAULT_COMMAND, "ours_bt_all": BT_ALL_COMMAND, "peer": f"source {runtime_gdb.relative_to(fixtures.goroot(args.go))}; "
                                                  f"{PEER_COMMAND}"},
        "repeat": args.repeat,
        "median": {**med, "ours_beyond_attach_s": beyond, **ratios},
        "samples": samples,
        "goals": goals,
    }
    if not args.no_write:
        # a run without the peer, or at another count, is kept apart from the one the README's ratios quote
        kind = "goroutines" if not args.no_peer and args.goroutines == 100_000 else \
            f"goroutines-{args.goroutines}{'-no-peer' if args.no_peer else ''}"
        write_results(kind, args.go, result)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench_goroutines: {error}")
