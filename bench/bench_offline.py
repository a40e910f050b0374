"""Benchmark: `gdbgomem core` on a core of 2+ GiB and on a core of 100 000 goroutines, no debugger.

Two fixture processes are started, one after the other, and each is dumped once with gdb's
`gcore` into a temporary directory (under --tmpdir, default /tmp) and stopped:

  heap        fixtures/heap -big-heap-mb M: a core of at least --min-core-gib (default 2) GiB
  goroutines  fixtures/goroutines -park N

Then every measurement is a fresh process, `.venv/bin/gdbgomem core BINARY CORE -- COMMAND`,
run under /usr/bin/time (GNU time) and reaped with os.wait4: its wall time (start to exit:
interpreter, imports, opening the binary and the core, the command, printing) and its peak
resident memory (ru_maxrss of that one process, as GNU time reports it; see measure() for why not
the rusage os.wait4 returns here):

  go-heap --json            on the heap core         goals: wall <= 2 s, peak RSS <= 300 MB
  go-goroutines --json      on the goroutines core   goals: wall <= 1 s, peak RSS <= 250 MB (warm),
                                                     runtime-gdb.py's info goroutines on the same
                                                     core in gdb (timed inside gdb) / ours >= 15x

each with the layout cache cold (GDBGOMEM_CACHE_DIR a fresh empty directory: DWARF is read) and
warm (the same directory again, filled by the cold run). For information, the fixed costs: the
interpreter alone (`python -c pass`), the interpreter and gdbgomem's imports, and opening the
binary and the core with no command; and, from one more run in a driver that reads its own
/proc/self/status at the end, how much of the RSS is anonymous memory and how much pages of mapped
files (the core is read through mmap: the pages of it that were read count in the RSS, though the
kernel can drop them at will). Python's bytecode is cached, as it is for an installed
package, in a directory of the benchmark's own (PYTHONPYCACHEPREFIX; an untimed run fills it).

Each figure is the median of --repeat runs. Every output is checked against the fixture's ground
truth (go-heap's heap_inuse_bytes = MemStats.HeapInuse; as many non-system goroutines as
runtime.NumGoroutine()); a mismatch aborts the run. A missed goal gets a cProfile of the same
command (same cache state) in a driver process of its own, printed after the table; --profile
profiles every command. The exit status is 0 whether or not a goal is met.

    .venv/bin/python bench/bench_offline.py [--go VERSION] [--big-heap-mb 2200] [--goroutines 100000] [--repeat 3]

Figures are written to bench/results/offline-<go version>.json. The cores are deleted at the end
of their scenario.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_goroutines import PEER_COMMAND, TIMED_SNIPPET, check_ours, check_peer  # noqa: E402
from bench.bench_heap import gdbgomem_diff  # noqa: E402
from bench.common import TIMEOUT, BenchError, gdb_run, median, tool_versions, write_results  # noqa: E402
from devtools import fixtures, hostrun  # noqa: E402
from gdbgomem import releases  # noqa: E402


DEFAULT_BIG_HEAP_MB = 2200
DEFAULT_GOROUTINES = 100_000
MIN_CORE_GIB = 2.0
DISK_FACTOR = 3  # free space wanted before writing a core: this many times its expected size
GOAL_HEAP_WALL_S = 2.0
GOAL_HEAP_RSS_MB = 300.0
GOAL_GOROUTINES_WALL_S = 1.0
GOAL_GOROUTINES_RATIO = 15.0     # issue 9: runtime-gdb.py's info goroutines on the same core in gdb / ours (warm)
GOAL_GOROUTINES_RSS_MB = 250.0
HEAP_COMMAND = ["go-heap", "--json"]
GOROUTINES_COMMAND = ["go-goroutines", "--json"]
MB = 1 << 20
GIB = 1 << 30
GNU_TIME = "/usr/bin/time"  # Debian package `time`: peak RSS of the command alone

# Imports what `gdbgomem core` imports, opens the binary and the core and checks them as it does
# before it runs a command (gdbgomem.hosts.standalone.main), then stops: the cost every command pays.
OPEN_ONLY = """\
import sys
import gdbgomem.cli, gdbgomem.hosts.standalone
from gdbgomem.runtime.goruntime import GoRuntime
from gdbgomem.hosts.standalone import CoreTarget
GoRuntime(CoreTarget(sys.argv[1], sys.argv[2])).check()
"""

# One `gdbgomem core BINARY CORE -- WORDS`, output thrown away, then the process's memory as the
# kernel counts it, written as JSON: peak RSS, and the RSS at exit split into anonymous memory and
# pages of mapped files (the core is read through mmap, so its pages that were read count in the
# RSS, though the kernel can drop them at will). argv: binary core output words...
MEMORY_DRIVER = """\
import contextlib, json, os, sys
binary, core, output, words = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
from gdbgomem.hosts import standalone
with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    status = standalone.main(binary, core, words)
found = {}
with open("/proc/self/status") as f:
    for line in f:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
            found[key] = int(value.split()[0]) * 1024
with open(output, "w") as f:
    json.dump(found, f)
sys.exit(status)
"""

# One `gdbgomem core BINARY CORE -- WORDS` under cProfile, imports included, the command's
# output thrown away. argv: binary core output top words...
PROFILE_DRIVER = """\
import contextlib, cProfile, io, os, pstats, sys
binary, core, output, top, words = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
profile = cProfile.Profile()
with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    profile.enable()
    from gdbgomem.hosts import standalone
    status = standalone.main(binary, core, words)
    profile.disable()
text = io.StringIO()
for order in ("cumulative", "tottime"):
    text.write("sorted by %s:\\n" % order)
    pstats.Stats(profile, stream=text).sort_stats(order).print_stats(top)
with open(output, "w") as f:
    f.write(text.getvalue())
sys.exit(status)
"""


class Measured:
    """One finished child process: wall time, peak RSS, exit status and what it printed."""

    def __init__(self, wall_s: float, maxrss_bytes: int, status: int, stdout: str, stderr: str):
        self.wall_s, self.maxrss_bytes, self.status, self.stdout, self.stderr = (
            wall_s, maxrss_bytes, status, stdout, stderr)

    @property
    def rss_mb(self) -> float:
        return self.maxrss_bytes / MB


def rss_method() -> str:
    """How peak RSS is taken: GNU time when installed, else os.wait4's rusage (an upper bound)."""
    return "/usr/bin/time" if os.access(GNU_TIME, os.X_OK) else "os.wait4"


def measure(argv: List[str], workdir: Path, env: Optional[Dict[str, str]] = None) -> Measured:
    """Run argv to completion; wall time from Popen to its exit, and its peak RSS.

    Linux counts in a process's ru_maxrss the memory of the process it was spawned from (at
    exec, the replaced address space's high-water mark is kept; Python spawns with vfork, so that
    is this script's own, which holds the parsed output of 100 000 goroutines). So the command runs
    under /usr/bin/time, a small C program that forks it and reports its ru_maxrss ("%M", KiB). Without
    GNU time the rusage os.wait4 returns for the command is used, and is an upper bound. Output
    goes to files, not pipes, so that nothing has to read them while it runs."""
    out_path, err_path, rss_path = workdir / "stdout.txt", workdir / "stderr.txt", workdir / "maxrss.txt"
    method = rss_method()
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_path), *argv] if method == "/usr/bin/time" else argv
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                   start_new_session=True)
        watchdog = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        watchdog.start()
        try:
            _, wait_status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - start
    status = os.waitstatus_to_exitcode(wait_status)
    process.returncode = status  # reaped here: Popen must not wait for it again
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    if status != 0:
        how = f"was killed after {TIMEOUT} s" if wall >= TIMEOUT else f"exited with {status}"
        raise BenchError(f"{' '.join(argv)} {how}:\n{stderr[-3000:]}{stdout[-1000:]}")
    if method == "/usr/bin/time":
        maxrss_kib = int(rss_path.read_text().split()[-1])
        rss_path.unlink()
    else:
        maxrss_kib = usage.ru_maxrss  # KiB on Linux
    return Measured(wall, maxrss_kib * 1024, status, stdout, stderr)


def gdbgomem_executable() -> Path:
    path = Path(sys.executable).parent / "gdbgomem"
    if not path.exists():
        raise BenchError(f"no {path}: run this script with the project's virtualenv (.venv/bin/python, "
                         f"gdbgomem installed in it)")
    return path


def json_output(measured: Measured, what: str) -> dict:
    if "truncated" in measured.stderr:
        raise BenchError(f"{what}: gdbgomem says the core is truncated, the figures would not be of a whole core:\n"
                         f"{measured.stderr[-2000:]}")
    try:
        return hostrun.json_of(measured.stdout)
    except (AssertionError, ValueError) as error:
        raise BenchError(f"{what}: no JSON in the output ({error})") from None


def check_heap(measured: Measured, truth: dict) -> dict:
    """go-heap --json: HeapInuse as the fixture read it."""
    data = json_output(measured, "go-heap --json")
    inuse = data["heap_inuse_bytes"]
    if inuse != truth["memstats"]["heap_inuse"]:
        raise BenchError(f"go-heap --json on the core: heap_inuse_bytes {inuse}, the fixture's MemStats.HeapInuse "
                         f"{truth['memstats']['heap_inuse']}")
    if data["spans"]["inuse"]["bytes"] != inuse:
        raise BenchError(f"go-heap --json on the core: its in-use spans hold {data['spans']['inuse']['bytes']} "
                         f"bytes, heap_inuse_bytes says {inuse}")
    return {"heap_inuse_bytes": inuse, "inuse_spans": data["spans"]["inuse"]["count"],
            "heap_objects": data["heap_objects"]}


def check_goroutines(measured: Measured, truth: dict) -> dict:
    json_output(measured, "go-goroutines --json")  # the truncation check and a readable error
    counts = check_ours(measured.stdout, truth)
    counts.pop("goids")
    return counts


def peer_on_core(workdir: Path, binary: Path, core: Path, go: str) -> dict:
    """Go's runtime-gdb.py `info goroutines` on the same core in gdb, timed inside gdb as
    bench_goroutines times it on the live process (the script is sourced untimed)."""
    snippet, output, result = workdir / "peer.py", workdir / "peer.txt", workdir / "peer.json"
    for path in (output, result):
        path.unlink(missing_ok=True)
    runtime_gdb = fixtures.goroot(go) / "src" / "runtime" / "runtime-gdb.py"
    snippet.write_text(TIMED_SNIPPET.format(command=PEER_COMMAND, setup=[f"source {runtime_gdb}"], output=str(output),
                                            result=str(result)))
    wall, log = gdb_run(["gdb", "-nx", "-batch", str(binary), str(core), "-x", str(snippet)])
    data = json.loads(result.read_text()) if result.exists() else {"error": log[-3000:]}
    if "error" in data:
        raise BenchError(f"runtime-gdb.py {PEER_COMMAND} on the core failed inside gdb: {data['error']}")
    data["output"] = output.read_text()
    return data


def expected_core_bytes(pid: int) -> int:
    """gcore saves every mapping of the process, the Go heap's reserved address space included:
    the core is about as large as VmSize."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no VmSize in /proc/{pid}/status")


def write_core(fixture: fixtures.RunningFixture, core: Path) -> Tuple[float, int]:
    """gcore the fixture into `core` after checking there is room for it; seconds taken, bytes written."""
    expected = expected_core_bytes(fixture.pid)
    free = shutil.disk_usage(core.parent).free
    if free < DISK_FACTOR * expected:
        raise BenchError(f"not enough free disk under {core.parent}: {free / GIB:.1f} GiB free, the core of pid "
                         f"{fixture.pid} will be about {expected / GIB:.1f} GiB and this benchmark wants "
                         f"{DISK_FACTOR}x that ({DISK_FACTOR * expected / GIB:.1f} GiB) free; use --tmpdir elsewhere "
                         f"or free some space")
    argv = ["gdb", "-nx", "-batch", "-p", str(fixture.pid), "-ex", f"gcore {core}"]
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not core.exists():
        raise BenchError(f"gcore wrote no core (gdb exited with {proc.returncode}): {' '.join(argv)}\n"
                         f"{proc.stdout[-3000:]}")
    if fixture.process.poll() is not None:
        raise BenchError(f"the fixture exited (status {fixture.process.returncode}) while gcore ran")
    return seconds, core.stat().st_size


def profile(workdir: Path, binary: Path, core: Path, words: List[str], env: Dict[str, str], top: int) -> str:
    """cProfile of one `gdbgomem core` run (imports included) in a fresh driver process."""
    driver, output = workdir / "profile_driver.py", workdir / "profile.txt"
    driver.write_text(PROFILE_DRIVER)
    output.unlink(missing_ok=True)
    measure([sys.executable, str(driver), str(binary), str(core), str(output), str(top), *words], workdir, env)
    text = output.read_text()
    output.unlink()
    return text


def memory_split(workdir: Path, binary: Path, core: Path, words: List[str], env: Dict[str, str]) -> dict:
    """One run of the command in a driver that reads its own /proc/self/status before exiting (MB)."""
    driver, output = workdir / "memory_driver.py", workdir / "memory.json"
    driver.write_text(MEMORY_DRIVER)
    output.unlink(missing_ok=True)
    measure([sys.executable, str(driver), str(binary), str(core), str(output), *words], workdir, env)
    found = json.loads(output.read_text())
    output.unlink()
    return {"peak_rss_mb": found["VmHWM"] / MB, "exit_rss_mb": found["VmRSS"] / MB,
            "exit_anon_mb": found["RssAnon"] / MB, "exit_file_mb": found["RssFile"] / MB}


def run_scenario(name: str, fixture_args: List[str], words: List[str], check, args, workdir_root: Path,
                 env: Dict[str, str], exe: Path) -> dict:
    """Start the fixture, gcore it, stop it; then the cold/warm runs of `words` and the open-only
    runs, every output checked. The core is deleted on the way out."""
    samples: Dict[str, List[float]] = {key: [] for key in (
        "cold_wall_s", "cold_rss_mb", "warm_wall_s", "warm_rss_mb",
        "open_cold_wall_s", "open_cold_rss_mb", "open_warm_wall_s", "open_warm_rss_mb")}
    print(f"starting fixtures/{name} {' '.join(fixture_args)} (Go {args.go}) ...", flush=True)
    started = time.perf_counter()
    fixture = fixtures.start(name, args.go, fixture_args, timeout=TIMEOUT)
    with tempfile.TemporaryDirectory(prefix=f"bench-offline-{name}-", dir=workdir_root) as tmp:
        workdir = Path(tmp)
        core = workdir / f"{name}.core"
        try:
            truth = fixture.truth
            print(f"ready in {time.perf_counter() - started:.1f} s: pid {fixture.pid}, {truth['go_version']}; "
                  f"gcore to {core} ...", flush=True)
            gcore_s, core_bytes = write_core(fixture, core)
        finally:
            fixture.stop()
        print(f"core written in {gcore_s:.1f} s: {core_bytes / GIB:.2f} GiB", flush=True)
        if name == "heap" and core_bytes < args.min_core_gib * GIB:
            raise BenchError(f"the core is {core_bytes / GIB:.2f} GiB, less than the {args.min_core_gib:g} GiB this "
                             f"benchmark needs: raise --big-heap-mb (now {args.big_heap_mb})")

        argv = [str(exe), "core", str(fixture.binary), str(core), "--", *words]
        open_argv = [sys.executable, "-c", OPEN_ONLY, str(fixture.binary), str(core)]
        # Untimed: fills the bytecode cache (PYTHONPYCACHEPREFIX) for every module the command imports.
        measure(argv, workdir, dict(env, GDBGOMEM_CACHE_DIR=str(tempfile.mkdtemp(prefix="warm-up-", dir=workdir))))
        checked: dict = {}
        warm_env: Dict[str, str] = {}
        for i in range(args.repeat):
            cache = Path(tempfile.mkdtemp(prefix="layout-cache-", dir=workdir))
            run_env = dict(env, GDBGOMEM_CACHE_DIR=str(cache))
            cold = measure(argv, workdir, run_env)
            checked = check(cold, truth)
            if not any(cache.rglob("*.json")):
                raise BenchError(f"the cold run wrote no layout cache into {cache}: the warm figures would be cold")
            warm = measure(argv, workdir, run_env)
            check(warm, truth)
            open_cold = measure(open_argv, workdir, dict(env, GDBGOMEM_CACHE_DIR=str(
                tempfile.mkdtemp(prefix="layout-cache-", dir=workdir))))
            open_warm = measure(open_argv, workdir, run_env)
            for key, m in (("cold", cold), ("warm", warm), ("open_cold", open_cold), ("open_warm", open_warm)):
                samples[f"{key}_wall_s"].append(m.wall_s)
                samples[f"{key}_rss_mb"].append(m.rss_mb)
            warm_env = run_env
            if name == "goroutines":
                peer = peer_on_core(workdir, fixture.binary, core, args.go)
                check_peer(peer.pop("output"), check_ours(warm.stdout, truth))
                samples.setdefault("peer_inside_s", []).append(peer["inside_s"])
            print(f"run {i + 1}/{args.repeat}: {' '.join(words)} cold {cold.wall_s:.2f} s / {cold.rss_mb:.0f} MB, "
                  f"warm {warm.wall_s:.2f} s / {warm.rss_mb:.0f} MB; open only cold {open_cold.wall_s:.2f} s, "
                  f"warm {open_warm.wall_s:.2f} s", flush=True)

        split = memory_split(workdir, fixture.binary, core, words, warm_env)
        med = {key: median(values) for key, values in samples.items()}
        goal_s = GOAL_HEAP_WALL_S if name == "heap" else GOAL_GOROUTINES_WALL_S
        goals = {
            "cold_wall": {"goal": goal_s, "value": med["cold_wall_s"], "pass": med["cold_wall_s"] <= goal_s},
            "warm_wall": {"goal": goal_s, "value": med["warm_wall_s"], "pass": med["warm_wall_s"] <= goal_s},
        }
        if name == "goroutines":
            ratio = med["peer_inside_s"] / med["warm_wall_s"]
            med["ratio_peer_over_warm"] = ratio
            goals["ratio"] = {"goal": GOAL_GOROUTINES_RATIO, "value": ratio, "pass": ratio >= GOAL_GOROUTINES_RATIO}
            goals["warm_rss"] = {"goal": GOAL_GOROUTINES_RSS_MB, "value": med["warm_rss_mb"],
                                 "pass": med["warm_rss_mb"] <= GOAL_GOROUTINES_RSS_MB}
        if name == "heap":
            goals["cold_rss"] = {"goal": GOAL_HEAP_RSS_MB, "value": med["cold_rss_mb"],
                                 "pass": med["cold_rss_mb"] <= GOAL_HEAP_RSS_MB}
            goals["warm_rss"] = {"goal": GOAL_HEAP_RSS_MB, "value": med["warm_rss_mb"],
                                 "pass": med["warm_rss_mb"] <= GOAL_HEAP_RSS_MB}

        profiles: Dict[str, str] = {}
        for state in ("cold", "warm"):
            missed = [key for key, g in goals.items() if key.startswith(state) and not g["pass"]]
            if missed or args.profile:
                profile_env = warm_env if state == "warm" else dict(env, GDBGOMEM_CACHE_DIR=str(
                    tempfile.mkdtemp(prefix="layout-cache-", dir=workdir)))
                print(f"profiling {' '.join(words)}, {state} layout cache"
                      f"{' (missed: ' + ', '.join(missed) + ')' if missed else ''} ...", flush=True)
                profiles[state] = profile(workdir, fixture.binary, core, words, profile_env, args.profile_top)

    return {"fixture": {"name": name, "args": fixture_args, "binary": str(fixture.binary.relative_to(ROOT))
                        if fixture.binary.is_relative_to(ROOT) else str(fixture.binary),
                        "go_version": truth["go_version"], "memstats": truth.get("memstats"),
                        "num_goroutine": truth.get("num_goroutine")},
            "core": {"bytes": core_bytes, "gcore_s": gcore_s},
            "command": "gdbgomem core BINARY CORE -- " + " ".join(words),
            "checked": checked, "memory_at_exit_warm": split, "samples": samples, "median": med, "goals": goals, "profiles": profiles}


def fixed_costs(workdir_root: Path, repeat: int, env: Dict[str, str]) -> dict:
    """The interpreter alone, then with the modules `gdbgomem core` imports before it opens anything."""
    samples: Dict[str, List[float]] = {"python_wall_s": [], "python_rss_mb": [], "imports_wall_s": [],
                                       "imports_rss_mb": []}
    with tempfile.TemporaryDirectory(prefix="bench-offline-startup-", dir=workdir_root) as tmp:
        workdir = Path(tmp)
        for run in range(repeat + 1):  # run 0 is untimed: it fills the bytecode cache
            for key, code in (("python", "pass"), ("imports", "import gdbgomem.cli, gdbgomem.hosts.standalone")):
                m = measure([sys.executable, "-c", code], workdir, env)
                if run == 0:
                    continue
                samples[f"{key}_wall_s"].append(m.wall_s)
                samples[f"{key}_rss_mb"].append(m.rss_mb)
    return {"samples": samples, "median": {key: median(values) for key, values in samples.items()}}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--go", default=releases.newest_release(),
                        help=f"Go toolchain version (default {releases.newest_release()}, the newest tested)")
    parser.add_argument("--big-heap-mb", type=int, default=DEFAULT_BIG_HEAP_MB,
                        help=f"MiB of extra small objects of the heap fixture (default {DEFAULT_BIG_HEAP_MB})")
    parser.add_argument("--min-core-gib", type=float, default=MIN_CORE_GIB,
                        help=f"stop unless the heap core is at least this large (default {MIN_CORE_GIB:g})")
    parser.add_argument("--goroutines", type=int, default=DEFAULT_GOROUTINES,
                        help=f"extra goroutines parked by the goroutines fixture (-park N, default {DEFAULT_GOROUTINES})")
    parser.add_argument("--only", choices=["heap", "goroutines"], help="run one scenario only")
    parser.add_argument("--tmpdir", default="/tmp", help="where the cores are written (default /tmp)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the median is kept")
    parser.add_argument("--profile", action="store_true",
                        help="profile every command (by default only those that miss a goal)")
    parser.add_argument("--profile-top", type=int, default=20, metavar="N")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.big_heap_mb < 0 or args.goroutines < 0:
        parser.error("--repeat must be >= 1, --big-heap-mb and --goroutines >= 0")
    if shutil.which("gdb") is None:
        raise BenchError("no gdb on PATH: it writes the cores (gcore)")
    exe = gdbgomem_executable()
    if rss_method() != "/usr/bin/time":
        print(f"warning: no {GNU_TIME} (Debian package time): peak RSS is taken from os.wait4, which also counts "
              f"this script's own peak RSS at the time it starts the command; the figures are upper bounds",
              flush=True)
    workdir_root = Path(args.tmpdir)
    diff_at_start = gdbgomem_diff()
    scenarios: Dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-offline-pycache-", dir=workdir_root) as pycache:
        # The measured processes inherit this environment; the layout cache directory is set per run.
        # Bytecode is cached as an installed package's would be, but in a directory of its own, so
        # that no __pycache__ is written into the source tree (PYTHONDONTWRITEBYTECODE is dropped).
        env = {key: value for key, value in os.environ.items()
               if key not in ("GDBGOMEM_CACHE_DIR", "PYTHONDONTWRITEBYTECODE")}
        env["PYTHONPYCACHEPREFIX"] = pycache
        startup = fixed_costs(workdir_root, args.repeat, env)
        if args.only in (None, "heap"):
            scenarios["heap"] = run_scenario("heap", ["-big-heap-mb", str(args.big_heap_mb)], HEAP_COMMAND,
                                             check_heap, args, workdir_root, env, exe)
        if args.only in (None, "goroutines"):
            scenarios["goroutines"] = run_scenario("goroutines", ["-park", str(args.goroutines)],
                                                   GOROUTINES_COMMAND, check_goroutines, args, workdir_root, env, exe)
    if gdbgomem_diff() != diff_at_start:
        print("warning: gdbgomem/ changed while the benchmark ran; the runs may have measured different code")

    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    go_version = next(iter(scenarios.values()))["fixture"]["go_version"] if scenarios else args.go
    s = startup["median"]
    rows = [
        ("Go version", go_version, "", ""),
        ("(info) python -c pass: wall (s) / peak RSS (MB)", f"{s['python_wall_s']:.3f} / {s['python_rss_mb']:.0f}",
         "", ""),
        ("(info) python + gdbgomem imports: wall (s) / RSS (MB)",
         f"{s['imports_wall_s']:.3f} / {s['imports_rss_mb']:.0f}", "", ""),
    ]
    for name, sc in scenarios.items():
        med, goals, checked = sc["median"], sc["goals"], sc["checked"]
        command = " ".join(HEAP_COMMAND if name == "heap" else GOROUTINES_COMMAND)
        if name == "heap":
            rows += [
                ("heap core size (GiB)", f"{sc['core']['bytes'] / GIB:.2f}", f">= {args.min_core_gib:g}", "ok"),
                ("heap in use (MiB, = MemStats.HeapInuse)", f"{checked['heap_inuse_bytes'] / MB:.1f}", "", "ok"),
                ("(info) in-use spans / heap objects", f"{checked['inuse_spans']} / {checked['heap_objects']}", "", ""),
            ]
        else:
            rows += [
                ("goroutines core size (GiB)", f"{sc['core']['bytes'] / GIB:.2f}", "", ""),
                ("goroutines listed / user / NumGoroutine",
                 f"{checked['rows']} / {checked['user']} / {sc['fixture']['num_goroutine']}", "", "ok"),
            ]
        rows += [
            ("(info) gcore (s)", f"{sc['core']['gcore_s']:.1f}", "", ""),
            (f"{command}, cold layout cache: wall (s)", f"{med['cold_wall_s']:.3f}",
             f"<= {goals['cold_wall']['goal']:g}", verdict(goals["cold_wall"]["pass"])),
            (f"{command}, warm layout cache: wall (s)", f"{med['warm_wall_s']:.3f}",
             f"<= {goals['warm_wall']['goal']:g}", verdict(goals["warm_wall"]["pass"])),
        ]
        if name == "heap":
            rows += [
                (f"{command}, cold: peak RSS (MB)", f"{med['cold_rss_mb']:.0f}", f"<= {GOAL_HEAP_RSS_MB:g}",
                 verdict(goals["cold_rss"]["pass"])),
                (f"{command}, warm: peak RSS (MB)", f"{med['warm_rss_mb']:.0f}", f"<= {GOAL_HEAP_RSS_MB:g}",
                 verdict(goals["warm_rss"]["pass"])),
            ]
        else:
            rows += [
                (f"{command}, cold / warm: peak RSS (MB)", f"{med['cold_rss_mb']:.0f} / {med['warm_rss_mb']:.0f}",
                 f"<= {GOAL_GOROUTINES_RSS_MB:g} (warm)", verdict(goals["warm_rss"]["pass"])),
                ("runtime-gdb.py info goroutines on the same core, inside gdb (s)", f"{med['peer_inside_s']:.3f}",
                 "", ""),
                ("ratio runtime-gdb.py / ours (warm wall)", f"{med['ratio_peer_over_warm']:.1f}x",
                 f">= {GOAL_GOROUTINES_RATIO:g}x", verdict(goals["ratio"]["pass"])),
            ]
        split = sc["memory_at_exit_warm"]
        rows += [("(info) warm, at exit: RSS = anon + mapped files (MB)",
                  f"{split['exit_rss_mb']:.0f} = {split['exit_anon_mb']:.0f} + {split['exit_file_mb']:.0f}", "", "")]
        rows += [("(info) imports + open binary and core, no command, cold / warm (s)",
                  f"{med['open_cold_wall_s']:.3f} / {med['open_warm_wall_s']:.3f}", "", "")]

    header = ("figure", "value", "goal", "")
    widths = [max(len(row[c]) for row in rows + [header]) for c in range(3)]
    print(f"\nmedian of {args.repeat} run(s), {os.cpu_count()} CPUs; each figure is a fresh process, wall time from "
          f"start to exit, peak RSS from {rss_method()}; the cores were just written, so they sit in the page cache\n")
    for row in [header] + rows:
        print("  " + "  ".join(f"{cell:<{widths[c]}}" for c, cell in enumerate(row[:3])) + "  " + row[3])

    for sc in scenarios.values():
        for state, text in sc["profiles"].items():
            print(f"\ncProfile of `{sc['command']}`, {state} layout cache (a driver process of its own, imports "
                  f"included; cProfile slows Python code down, so read the shares, not the seconds):\n{text}")

    result = {
        "benchmark": "offline",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "arch": platform.machine(), "kernel": platform.release()},
        "versions": {**tool_versions(), "gdbgomem_diff_sha256": diff_at_start, "go": go_version},
        "peer": f"runtime-gdb.py {PEER_COMMAND} on the goroutines core in gdb (timed inside gdb)",
        "repeat": args.repeat,
        "rss_method": rss_method(),
        "bytecode": "cached in a PYTHONPYCACHEPREFIX directory of its own, filled by an untimed run",
        "startup": startup,
        "scenarios": {name: {key: value for key, value in sc.items() if key != "profiles"}
                      for name, sc in scenarios.items()},
        "profiled": {name: sorted(sc["profiles"]) for name, sc in scenarios.items()},
    }
    if not args.no_write:
        # a run of one scenario (--only) has a file of its own, so it does not hide the other's figures
        write_results(f"offline-{args.only}" if args.only else "offline", args.go, result)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        sys.exit(f"bench_offline: {error}")
