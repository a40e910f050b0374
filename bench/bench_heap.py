"""Benchmark: decode a heap of about 158 000 spans (1.4 GiB of small objects) of a live process.

One fixture process (fixtures/heap -big-heap-mb M) is started once; every
measurement attaches a fresh gdb to it in batch mode, so gdbgomem's caches are cold:

  attach alone   wall time of `gdb -nx -batch -p PID -x <load script> -ex echo`
                 (attach, load gdbgomem, detach: the floor every gdb run pays)
  go-spans       `go-spans --summary --json`, timed inside gdb around gdb.execute(..., to_string=True)
  go-heap        `go-heap --json`, timed the same way
  go-span        `go-span ADDR --json` for a sample object of the fixture, first command of its
                 session (cold), then once more in the same session (warm)
  memory         VmRSS of gdb (/proc/self/status, read inside gdb) before and after
                 go-spans --summary --json, go-heap --json and go-span ADDR --json in one session

No other tool decodes the Go allocator (runtime-gdb.py has no heap commands), so
the figures are absolute, with no peer to compare against. Each figure is the
median of --repeat runs. Every output is checked against the fixture's ground
truth (in-use span count, MemStats.HeapInuse, the sample's address); a mismatch
aborts the run. The goals are reported as PASS/MISS; the exit status is 0 either
way, since this is a measurement, not a test.

    .venv/bin/python bench/bench_heap.py [--go VERSION] [--big-heap-mb 1300] [--repeat 3] [--profile]

Figures are written to bench/results/heap-<go version>.json.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
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


DEFAULT_BIG_HEAP_MB = 1300
MIN_SPANS = 150_000  # the heap: at least this many in-use spans
GOAL_SPANS_S = 0.5  # issue 9: the first heap command after attach at most 0.5 s over gdb's own attach
GOAL_HEAP_S = 0.5
GOAL_SPAN_S = 0.02
GOAL_RSS_MB = 200.0
SPANS_COMMAND = "go-spans --summary --json"
HEAP_COMMAND = "go-heap --json"
SPAN_COMMAND = "go-span {address} --json"
MB = 1 << 20

# Runs inside gdb (gdb -x file.py). Reads gdb's own memory, then runs the commands
# in order, each timed on its own, then reads the memory again; the outputs are
# written out only after the second reading.
SESSION_SNIPPET = """\
import json, sys, time
import gdb

def _memory():
    _found = {{}}
    with open("/proc/self/status") as _f:
        for _line in _f:
            _key, _, _value = _line.partition(":")
            if _key in ("VmRSS", "VmHWM"):
                _found[_key] = int(_value.split()[0]) * 1024
    return _found

_result = {{"python": sys.version.split()[0], "runs": []}}
_outputs = []
try:
    _result["before"] = _memory()
    for _command in {commands!r}:
        _t = time.perf_counter()
        _out = gdb.execute(_command, to_string=True)
        _result["runs"].append({{"command": _command, "inside_s": time.perf_counter() - _t}})
        _outputs.append(_out)
    _result["after"] = _memory()
except Exception as _e:
    _result["error"] = "%s: %s" % (type(_e).__name__, _e)
_result["outputs"] = _outputs
with open({result!r}, "w") as _f:
    json.dump(_result, _f)
"""

def session(workdir: Path, pid: int, commands: List[str]) -> dict:
    """One fresh gdb attach that runs `commands` in order; per-command times, outputs, gdb's memory."""
    snippet, result = workdir / "session.py", workdir / "session.json"
    result.unlink(missing_ok=True)
    snippet.write_text(SESSION_SNIPPET.format(commands=list(commands), result=str(result)))
    wall, log = gdb_run(base_argv(pid, load_ours=True) + ["-x", str(snippet)])
    if not result.exists():
        raise BenchError(f"the session snippet left no result for {commands}; gdb said:\n{log[-3000:]}")
    data = json.loads(result.read_text())
    if "error" in data:
        raise BenchError(f"{commands} failed inside gdb: {data['error']}")
    data["wall_s"] = wall
    return data

def check_spans(text: str, min_spans: int) -> dict:
    """go-spans --summary --json: enough in-use spans for the figures to mean anything."""
    data = hostrun.json_of(text)
    total = data["total_spans"]
    if sum(c["spans"] for c in data["classes"]) != total:
        raise BenchError(f"{SPANS_COMMAND}: the classes add up to {sum(c['spans'] for c in data['classes'])} "
                         f"spans, total_spans says {total}")
    if total < min_spans:
        raise BenchError(f"{SPANS_COMMAND} counts {total} in-use spans, fewer than the {min_spans} this benchmark "
                         f"needs: raise --big-heap-mb (or lower --min-spans for a quick run)")
    return {"spans": total, "objects": sum(c["objects"] for c in data["classes"]),
            "bytes": sum(c["bytes"] for c in data["classes"])}

def check_heap(text: str, truth: dict, spans: dict) -> dict:
    """go-heap --json: HeapInuse as the fixture read it, and the same in-use spans as go-spans."""
    data = hostrun.json_of(text)
    inuse = data["heap_inuse_bytes"]
    if inuse != truth["memstats"]["heap_inuse"]:
        raise BenchError(f"{HEAP_COMMAND}: heap_inuse_bytes {inuse}, the fixture's MemStats.HeapInuse "
                         f"{truth['memstats']['heap_inuse']}")
    count = data["spans"]["inuse"]["count"]
    if count != spans["spans"] or inuse != spans["bytes"]:
        raise BenchError(f"{HEAP_COMMAND} counts {count} in-use spans of {inuse} bytes, {SPANS_COMMAND} "
                         f"{spans['spans']} of {spans['bytes']} bytes")
    return {"heap_inuse_bytes": inuse, "inuse_spans": count, "heap_objects": data["heap_objects"]}

def check_span(text: str, sample: dict) -> None:
    """go-span ADDR --json: the sample object, allocated, holding what the fixture wrote in it."""
    data = hostrun.json_of(text)
    obj = data["object"]
    if obj is None or obj["base"] != sample["addr"] or not obj["allocated"]:
        raise BenchError(f"go-span 0x{sample['addr']:x}: expected the allocated object at that address, got "
                         f"{json.dumps(obj)[:500]}")
    if obj["bytes"] and bytes.fromhex(obj["bytes"])[:8] != sample["word0"].to_bytes(8, "little"):
        raise BenchError(f"go-span 0x{sample['addr']:x}: word 0 is {obj['bytes'][:16]}, the fixture wrote "
                         f"{sample['word0']}")

def gdbgomem_diff() -> Optional[str]:
    """A fingerprint of uncommitted changes to gdbgomem/ (None when there are none): figures taken
    while the code is being edited can then be told apart."""
    diff = subprocess.run(["git", "diff", "HEAD", "--", "gdbgomem"], cwd=ROOT, capture_output=True).stdout
    return hashlib.sha256(diff).hexdigest()[:12] if diff else None

def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go", default=releases.newest_release(),
                        help=f"Go toolchain version (default {releases.newest_release()}, the newest tested)")
    parser.add_argument("--big-heap-mb", type=int, default=DEFAULT_BIG_HEAP_MB,
                        help=f"MiB of extra small objects the fixture allocates (default {DEFAULT_BIG_HEAP_MB})")
    parser.add_argument("--min-spans", type=int, default=MIN_SPANS,
                        help=f"stop unless the heap has at least this many in-use spans (default {MIN_SPANS})")
    parser.add_argument("--sample-kind", default="small", choices=["small", "ptr", "large_noscan", "large_scan"],
                        help="kind of the fixture's sample object go-span looks up (default small)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is kept")
    parser.add_argument("--profile", action="store_true",
                        help="also run each command under cProfile inside gdb (fresh attach) and print the top entries")
    parser.add_argument("--profile-top", type=int, default=20, metavar="N")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.big_heap_mb < 0 or args.min_spans < 0:
        parser.error("--repeat must be >= 1, --big-heap-mb and --min-spans >= 0")

    diff_at_start = gdbgomem_diff()
    print(f"starting fixtures/heap -big-heap-mb {args.big_heap_mb} (Go {args.go}) ...", flush=True)
    started = time.perf_counter()
    fixture = fixtures.start("heap", args.go, ["-big-heap-mb", str(args.big_heap_mb)], timeout=TIMEOUT)
    samples: Dict[str, List[float]] = {
        "attach_alone_s": [], "spans_inside_s": [], "spans_wall_s": [], "heap_inside_s": [], "heap_wall_s": [],
        "span_cold_inside_s": [], "span_warm_inside_s": [], "rss_added_mb": [], "peak_rss_added_mb": [],
        "rss_before_mb": [], "rss_after_mb": [], "memory_session_spans_s": [], "memory_session_heap_s": [],
        "memory_session_span_s": []}
    profiles: Dict[str, str] = {}
    try:
        truth = fixture.truth
        chosen = [s for s in truth["samples"] if s["kind"] == args.sample_kind]
        if not chosen:
            raise BenchError(f"the fixture printed no sample of kind {args.sample_kind}")
        sample = chosen[0]
        span_command = SPAN_COMMAND.format(address=f"0x{sample['addr']:x}")
        print(f"ready in {time.perf_counter() - started:.1f} s: pid {fixture.pid}, {truth['go_version']}, "
              f"HeapInuse {truth['memstats']['heap_inuse'] / MB:.0f} MiB, "
              f"{truth['memstats']['heap_objects']} objects", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-heap-") as tmp:
            workdir = Path(tmp)
            gdb_python = "?"
            for i in range(args.repeat):
                samples["attach_alone_s"].append(gdb_run(base_argv(fixture.pid, load_ours=True) + ["-ex", "echo"])[0])

                run = session(workdir, fixture.pid, [SPANS_COMMAND])
                spans = check_spans(run["outputs"][0], args.min_spans)
                samples["spans_inside_s"].append(run["runs"][0]["inside_s"])
                samples["spans_wall_s"].append(run["wall_s"])
                gdb_python = run["python"]

                run = session(workdir, fixture.pid, [HEAP_COMMAND])
                heap = check_heap(run["outputs"][0], truth, spans)
                samples["heap_inside_s"].append(run["runs"][0]["inside_s"])
                samples["heap_wall_s"].append(run["wall_s"])

                run = session(workdir, fixture.pid, [span_command, span_command])
                for text in run["outputs"]:
                    check_span(text, sample)
                samples["span_cold_inside_s"].append(run["runs"][0]["inside_s"])
                samples["span_warm_inside_s"].append(run["runs"][1]["inside_s"])

                run = session(workdir, fixture.pid, [SPANS_COMMAND, HEAP_COMMAND, span_command])
                check_spans(run["outputs"][0], args.min_spans)
                check_heap(run["outputs"][1], truth, spans)
                check_span(run["outputs"][2], sample)
                before, after = run["before"], run["after"]
                samples["rss_before_mb"].append(before["VmRSS"] / MB)
                samples["rss_after_mb"].append(after["VmRSS"] / MB)
                samples["rss_added_mb"].append((after["VmRSS"] - before["VmRSS"]) / MB)
                samples["peak_rss_added_mb"].append(max(0, after["VmHWM"] - before["VmRSS"]) / MB)
                for key, timed in zip(("memory_session_spans_s", "memory_session_heap_s", "memory_session_span_s"),
                                      run["runs"]):
                    samples[key].append(timed["inside_s"])

                if fixture.process.poll() is not None:
                    raise BenchError(f"the fixture exited (status {fixture.process.returncode}) during the run")
                print(f"run {i + 1}/{args.repeat}: attach {samples['attach_alone_s'][-1]:.2f} s, "
                      f"go-spans {samples['spans_inside_s'][-1]:.3f} s, go-heap {samples['heap_inside_s'][-1]:.3f} s, "
                      f"go-span {samples['span_cold_inside_s'][-1] * 1000:.1f} ms cold / "
                      f"{samples['span_warm_inside_s'][-1] * 1000:.1f} ms warm, "
                      f"gdb RSS +{samples['rss_added_mb'][-1]:.0f} MB", flush=True)
            if args.profile:
                for command in (SPANS_COMMAND, HEAP_COMMAND, span_command):
                    profiles[command] = profile_command(workdir, fixture.pid, command, args.profile_top)
    finally:
        fixture.stop()

    if gdbgomem_diff() != diff_at_start:
        print("warning: gdbgomem/ changed while the benchmark ran; the runs may have measured different code")
    med = {name: median(values) for name, values in samples.items()}
    # issue 9's figure: the first heap command's whole gdb run beyond gdb's own attach (and load)
    med["spans_beyond_attach_s"] = med["spans_wall_s"] - med["attach_alone_s"]
    med["heap_beyond_attach_s"] = med["heap_wall_s"] - med["attach_alone_s"]
    goals = {
        "go_spans_summary_le_0_5_s": {"goal": GOAL_SPANS_S, "value": med["spans_beyond_attach_s"],
                                      "pass": med["spans_beyond_attach_s"] <= GOAL_SPANS_S},
        "go_heap_le_0_5_s": {"goal": GOAL_HEAP_S, "value": med["heap_beyond_attach_s"],
                             "pass": med["heap_beyond_attach_s"] <= GOAL_HEAP_S},
        "go_span_cold_le_20_ms": {"goal": GOAL_SPAN_S, "value": med["span_cold_inside_s"],
                                  "pass": med["span_cold_inside_s"] <= GOAL_SPAN_S},
        "gdb_rss_added_le_200_mb": {"goal": GOAL_RSS_MB, "value": med["rss_added_mb"],
                                    "pass": med["rss_added_mb"] <= GOAL_RSS_MB},
    }

    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    rows = [
        ("Go version", truth["go_version"], "", ""),
        ("in-use spans (go-spans / go-heap)", f"{spans['spans']} / {heap['inuse_spans']}", f">= {args.min_spans}",
         "ok"),
        ("heap in use (MiB, = MemStats.HeapInuse)", f"{heap['heap_inuse_bytes'] / MB:.1f}", "", "ok"),
        ("gdb attach alone (s)", f"{med['attach_alone_s']:.3f}", "", ""),
        (f"{SPANS_COMMAND} inside gdb (s)", f"{med['spans_inside_s']:.3f}", "", ""),
        (f"{SPANS_COMMAND}, the gdb run beyond attach (s)", f"{med['spans_beyond_attach_s']:.3f}",
         f"<= {GOAL_SPANS_S:g}", verdict(goals["go_spans_summary_le_0_5_s"]["pass"])),
        (f"{HEAP_COMMAND} inside gdb (s)", f"{med['heap_inside_s']:.3f}", "", ""),
        (f"{HEAP_COMMAND}, the gdb run beyond attach (s)", f"{med['heap_beyond_attach_s']:.3f}",
         f"<= {GOAL_HEAP_S:g}", verdict(goals["go_heap_le_0_5_s"]["pass"])),
        ("go-span ADDR --json, cold (ms)", f"{med['span_cold_inside_s'] * 1000:.1f}", f"<= {GOAL_SPAN_S * 1000:g}",
         verdict(goals["go_span_cold_le_20_ms"]["pass"])),
        ("go-span ADDR --json, warm (ms)", f"{med['span_warm_inside_s'] * 1000:.1f}", "", ""),
        ("gdb RSS added by the three commands (MB)", f"{med['rss_added_mb']:.0f}", f"<= {GOAL_RSS_MB:g}",
         verdict(goals["gdb_rss_added_le_200_mb"]["pass"])),
        ("(info) gdb RSS before / after (MB)", f"{med['rss_before_mb']:.0f} / {med['rss_after_mb']:.0f}", "", ""),
        ("(info) gdb peak RSS over before (MB)", f"{med['peak_rss_added_mb']:.0f}", "", ""),
        ("(info) same session: go-spans, go-heap, go-span (s)",
         (f"{med['memory_session_spans_s']:.3f}, {med['memory_session_heap_s']:.3f}, "
          f"{med['memory_session_span_s']:.4f}"), "", ""),
    ]
    header = ("figure", "value", "goal", "")
    widths = [max(len(row[c]) for row in rows + [header]) for c in range(3)]
    print(f"\nmedian of {args.repeat} run(s), {os.cpu_count()} CPUs; go-span looks up the {sample['kind']} sample "
          f"0x{sample['addr']:x}")
    print("no peer tool decodes the Go allocator (runtime-gdb.py has no heap commands): absolute figures only\n")
    for row in [header] + rows:
        print("  " + "  ".join(f"{cell:<{widths[c]}}" for c, cell in enumerate(row[:3])) + "  " + row[3])

    for command, text in profiles.items():
        print(f"\ncProfile of {command} inside gdb (a fresh attach, after the timed runs):\n{text}")

    result = {
        "benchmark": "heap",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "arch": platform.machine(), "kernel": platform.release()},
        "versions": {**tool_versions(), "gdbgomem_diff_sha256": diff_at_start, "gdb_python": gdb_python,
                     "go": truth["go_version"]},
        "peer": None,
        "fixture": {"big_heap_mb": args.big_heap_mb, "inuse_spans": spans["spans"],
                    "heap_inuse_bytes": heap["heap_inuse_bytes"], "heap_objects": heap["heap_objects"],
                    "memstats": truth["memstats"], "counts": truth["counts"],
                    "span_sample": sample, "sample_objects": truth["samples"]},
        "commands": {"spans": SPANS_COMMAND, "heap": HEAP_COMMAND, "span": span_command,
                     "memory_session": [SPANS_COMMAND, HEAP_COMMAND, span_command]},
        "repeat": args.repeat,
        "median": med,
        "samples": samples,
        "goals": goals,
    }
    if not args.no_write:
        write_results("heap", args.go, result)
    return 0

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench_heap: {error}")
