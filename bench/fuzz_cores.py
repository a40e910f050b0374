"""Benchmark: corrupt real cores at random and count what escapes gdbgomem (not run in CI).

Two fixtures (goroutines, heap) are started and dumped once with gdb's `gcore`. A mutation
patches one to three words of the runtime's structures in a core (devtools/core_mutations: slice
headers, list links, g/m/mspan fields, pageAlloc; an interesting or random value, a flipped bit, a
pointer to another patched place, or a run of random bytes). A case is one command on one mutated
core; every command of docs/schema's sample set runs on each mutation, in text or --json.

Escapes, the figures that must be 0:
  traceback  anything but gdbgomem's one-line error (GoMemError) left a command
  hang       a command took over --hang-seconds (default 2)
  write      the core or the binary changed on disk (all hosts open them read-only)

Standalone cases run in-process (`gdbgomem core`'s reader over the mutated memory), --jobs
workers at once. --gdb-cases mutations also run in gdb itself on a mutated copy of the core file,
every command, where an escape is also gdb dying, Python's own traceback or "internal error"
reaching the terminal, or a register changed (`info registers` before and after).

    .venv/bin/python bench/fuzz_cores.py [--go VERSION] [--cases 10000] [--gdb-cases 40] [--seed 1] [--jobs 2]

Figures go to bench/results/fuzz-<go version>.json, escapes with what reproduces them.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import multiprocessing
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import tool_versions, write_results  # noqa: E402
from devtools import fixtures, hostrun  # noqa: E402
from devtools.core_mutations import Patch, PatchedTarget, places, random_mutation  # noqa: E402
from devtools.json_schemas import COMMANDS as SAMPLE_COMMANDS  # noqa: E402
from gdbgomem.commands import COMMANDS  # noqa: E402
from gdbgomem.commands.base import execute  # noqa: E402
from gdbgomem.elf.corefile import CoreFile  # noqa: E402
from gdbgomem.errors import GoMemError  # noqa: E402
from gdbgomem.hosts.standalone import CoreTarget  # noqa: E402
from gdbgomem.runtime.goruntime import GoRuntime  # noqa: E402

BY_NAME = {c.name: c for c in COMMANDS}
GDB_DONE = "@@fuzz-done@@"


class Hang(BaseException):
    """Raised by the interval timer in a command that ran too long (BaseException: no
    `except Exception` in the code under test may swallow it)."""


def _on_alarm(_signum, _frame):
    raise Hang()


def commands_for(truth: dict, fixture: str) -> List[str]:
    """The sample command lines of docs/schema, each also in text form (without --json)."""
    lines = SAMPLE_COMMANDS[fixture](truth)
    return lines + [line.replace(" --json", "") for line in lines]


# -- in-process cases -------------------------------------------------------------------------
_WORKER: Dict[str, tuple] = {}


def _worker_init(cores: Dict[str, Tuple[str, str, List[str]]], hang_seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    for name, (binary, core, commands) in cores.items():
        target = CoreTarget(binary, core)
        rt = GoRuntime(target)
        healthy = {line: _output(rt, line) for line in commands}
        _WORKER[name] = (target, places(target), commands, hang_seconds, healthy)


def _output(rt: GoRuntime, line: str) -> str:
    name, _, argument = line.partition(" ")
    return execute(BY_NAME[name], argument, lambda: rt, False)


def run_mutation(task: Tuple[str, int, int]) -> dict:
    """Every command on one mutated core: counts, slowest time, and each escape."""
    fixture, seed, index = task
    target, where, commands, hang_seconds, healthy = _WORKER[fixture]
    rng = random.Random(f"{seed}/{fixture}/{index}")
    names, patches = random_mutation(rng, where, target)
    rt = GoRuntime(PatchedTarget(target, patches))
    result = {"output": 0, "changed": 0, "error": 0, "escapes": [], "slowest": 0.0}
    for line in commands:
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, hang_seconds)
        escape = None
        try:
            changed = _output(rt, line) != healthy[line]
            result["output"] += 1
            result["changed"] += changed
        except GoMemError:
            result["error"] += 1
        except Hang:
            escape = ("hang", f"over {hang_seconds} s")
        except Exception as exc:  # noqa: BLE001 - what the benchmark counts
            where_raised = traceback.extract_tb(exc.__traceback__)[-1]
            escape = ("traceback", f"{type(exc).__name__}: {exc} at {Path(where_raised.filename).name}:"
                                   f"{where_raised.lineno}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        result["slowest"] = max(result["slowest"], time.perf_counter() - started)
        if escape:
            result["escapes"].append({"kind": escape[0], "what": escape[1][:300], "command": line,
                                      "fixture": fixture, "seed": seed, "index": index, "places": names,
                                      "patches": [(hex(at), value.hex()) for at, value in patches]})
    return result


# -- gdb cases -----------------------------------------------------------------------------
GDB_DRIVER = """\
import gdb, json, time
_results = []
_regs = gdb.execute("info registers", to_string=True)
for _line in {commands!r}:
    _t = time.perf_counter()
    try:
        _out, _err = gdb.execute(_line, to_string=True), None
    except gdb.error as _e:
        _out, _err = "", str(_e)
    _results.append({{"command": _line, "seconds": time.perf_counter() - _t, "output": _out[-2000:], "error": _err}})
print({done!r} + json.dumps({{"results": _results,
                             "registers_kept": _regs == gdb.execute("info registers", to_string=True)}}))
"""


def file_offsets(core: CoreFile, patches: List[Patch]) -> List[Tuple[int, bytes]]:
    """Patches as (file offset, bytes), for the ones the core file holds."""
    out = []
    for at, value in patches:
        for vaddr, memsz, offset, filesz, _flags in core.segments():
            if vaddr <= at and at + len(value) <= vaddr + min(memsz, filesz):
                out.append((offset + at - vaddr, value))
                break
    return out


def run_in_gdb(binary: str, core_path: str, commands: List[str], patches: List[Patch], workdir: Path,
               hang_seconds: float) -> List[dict]:
    """One mutated copy of the core in gdb: the escapes found."""
    mutated = workdir / "mutated.core"
    shutil.copyfile(core_path, mutated)
    with CoreFile(core_path) as core:
        in_file = file_offsets(core, patches)
    with open(mutated, "r+b") as f:
        for offset, value in in_file:
            f.seek(offset)
            f.write(value)
    driver = workdir / "driver.py"
    driver.write_text(GDB_DRIVER.format(commands=commands, done=GDB_DONE))
    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-x", str(hostrun.load_script()),
            binary, mutated.as_posix(), "-x", str(driver)]
    limit = 30 + hang_seconds * len(commands)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return [{"kind": "hang", "what": f"gdb did not finish in {limit:.0f} s", "command": "all"}]
    line = next((x for x in proc.stdout.splitlines() if x.startswith(GDB_DONE)), None)
    if line is None:
        return [{"kind": "traceback", "what": f"gdb ended ({proc.returncode}) before the last command: "
                                              f"{(proc.stderr or proc.stdout)[-300:]}", "command": "all"}]
    report = json.loads(line[len(GDB_DONE):])
    escapes = []
    if not report["registers_kept"]:
        escapes.append({"kind": "write", "what": "a register changed", "command": "all"})
    for r in report["results"]:
        text = f"{r['output']}\n{r['error'] or ''}"
        if "Traceback" in text or "internal error" in text or "Python Exception" in text:
            escapes.append({"kind": "traceback", "what": text.strip()[-300:], "command": r["command"]})
        if r["seconds"] > hang_seconds:
            escapes.append({"kind": "hang", "what": f"{r['seconds']:.1f} s", "command": r["command"]})
    return escapes


# -- setup and report ------------------------------------------------------------------------
def make_cores(version: str, workdir: Path) -> Dict[str, Tuple[str, str, List[str]]]:
    cores = {}
    for name in ("goroutines", "heap"):
        fixture = fixtures.start(name, version)
        path = workdir / f"{name}.core"
        try:
            hostrun.run_gdb(hostrun.attach(fixture.pid), [f"gcore {path}"])
        finally:
            fixture.stop()
        cores[name] = (str(fixture.binary), str(path), commands_for(fixture.truth, name))
    return cores


def replay(args) -> int:
    """One mutation again, each command profiled: where an escape spends its time."""
    import cProfile
    import pstats
    fixture, _, index = args.replay.partition(":")
    with tempfile.TemporaryDirectory(prefix="gdbgomem-fuzz-", dir=args.tmpdir) as tmp:
        cores = make_cores(args.go, Path(tmp))
        _worker_init({fixture: cores[fixture]}, args.hang_seconds)
        profile = cProfile.Profile()
        result = profile.runcall(run_mutation, (fixture, args.seed, int(index)))
    for e in result["escapes"]:
        print(f"{e['kind']}: {e['command']} ({', '.join(e['places'])}): {e['what']}")
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    return 0


def digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--go", default=fixtures.go_versions()[-1])
    parser.add_argument("--cases", type=int, default=10_000, help="in-process cases (command x mutation)")
    parser.add_argument("--gdb-cases", type=int, default=40, help="mutations also run in gdb, every command")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--hang-seconds", type=float, default=2.0)
    parser.add_argument("--tmpdir", default=None)
    parser.add_argument("--no-write", action="store_true", help="leave bench/results alone")
    parser.add_argument("--replay", metavar="FIXTURE:INDEX",
                        help="rerun one in-process mutation of --seed under cProfile (an escape's fixture and index)")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(args)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gdbgomem-fuzz-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        cores = make_cores(args.go, workdir)
        files = sorted({p for binary, core, _ in cores.values() for p in (binary, core)})
        before = {p: digest(p) for p in files}
        per_mutation = {name: len(c[2]) for name, c in cores.items()}
        tasks, total = [], 0
        while total < args.cases:
            fixture = ("goroutines", "heap")[len(tasks) % 2]
            tasks.append((fixture, args.seed, len(tasks)))
            total += per_mutation[fixture]
        sums = {"output": 0, "changed": 0, "error": 0, "slowest": 0.0}
        escapes: List[dict] = []
        with multiprocessing.Pool(args.jobs, _worker_init, (cores, args.hang_seconds)) as pool:
            for r in pool.imap_unordered(run_mutation, tasks, chunksize=4):
                sums["output"] += r["output"]
                sums["changed"] += r["changed"]
                sums["error"] += r["error"]
                sums["slowest"] = max(sums["slowest"], r["slowest"])
                escapes.extend(r["escapes"])
        in_process_seconds = time.perf_counter() - started
        gdb_escapes: List[dict] = []
        gdb_started = time.perf_counter()
        for i in range(args.gdb_cases):
            fixture = ("goroutines", "heap")[i % 2]
            binary, core, commands = cores[fixture]
            target = CoreTarget(binary, core)
            rng = random.Random(f"gdb/{args.seed}/{fixture}/{i}")
            names, patches = random_mutation(rng, places(target), target)
            for e in run_in_gdb(binary, core, commands, patches, workdir, args.hang_seconds):
                gdb_escapes.append({**e, "fixture": fixture, "places": names,
                                    "patches": [(hex(at), v.hex()) for at, v in patches]})
        gdb_seconds = time.perf_counter() - gdb_started
        writes = [p for p in files if digest(p) != before[p]]
    gdb_commands = sum(len(cores[("goroutines", "heap")[i % 2]][2]) for i in range(args.gdb_cases))
    kinds = ("traceback", "hang", "write")
    count = {k: sum(1 for e in escapes if e["kind"] == k) for k in kinds}
    count["write"] += len(writes)
    gdb_count = {k: sum(1 for e in gdb_escapes if e["kind"] == k) for k in kinds}
    cases = sums["output"] + sums["error"] + len(escapes)
    print(f"Go {args.go}: {len(tasks)} mutations of 2 cores, {cases} cases "
          f"({sums['output']} with output, {sums['changed']} of them changed by the mutation, "
          f"{sums['error']} with a one-line error) in {in_process_seconds:.0f} s "
          f"({args.jobs} jobs); slowest command {sums['slowest']:.2f} s")
    print(f"  escapes: {count['traceback']} tracebacks, {count['hang']} hangs over {args.hang_seconds:g} s, "
          f"{count['write']} writes")
    print(f"gdb: {args.gdb_cases} mutations, {gdb_commands} cases in {gdb_seconds:.0f} s; escapes: "
          f"{gdb_count['traceback']} tracebacks, {gdb_count['hang']} hangs, {gdb_count['write']} writes")
    for e in (escapes + gdb_escapes)[:20]:
        print(f"  {e['kind']}: {e['command']} on {e['fixture']} ({', '.join(e['places'])}): {e['what']}")
    if not args.no_write:
        write_results("fuzz", args.go, {
            "date": datetime.date.today().isoformat(), "tools": tool_versions(), "seed": args.seed,
            "jobs": args.jobs, "hang_seconds": args.hang_seconds, "mutations": len(tasks), "cases": cases,
            "with_output": sums["output"], "output_changed": sums["changed"], "with_error": sums["error"], "slowest_seconds": sums["slowest"],
            "seconds": in_process_seconds, "escapes": count, "gdb_mutations": args.gdb_cases,
            "gdb_cases": gdb_commands, "gdb_seconds": gdb_seconds, "gdb_escapes": gdb_count,
            "examples": (escapes + gdb_escapes)[:50], "written_files": writes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
