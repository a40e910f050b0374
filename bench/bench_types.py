"""Benchmark: go-types and go-roots on a heap of millions of objects and over 1 GiB.

Starts fixtures/owners with -records N -payload P (default 1 000 000 and 600: a map of a
million records, each with a 600-byte payload, a name and a small tag, about 4 million objects
and 1.3 GiB of heap), writes its core once with gdb's gcore, then measures, each in a process of its own
(caches cold):

  in gdb      `go-types --json` and `go-roots --json` attached to the live process, timed with
              time.perf_counter() inside gdb; gdb's VmRSS growth over the command
  offline     `.venv/bin/gdbgomem core BIN CORE -- go-types --json` (and go-roots): wall time
              and peak RSS of that process (ru_maxrss from os.wait4)

Goals (issue 11): offline <= 10 s and <= 1.5 GB peak RSS; in gdb within 1.5x of offline.
Every output is checked against the fixture's truth (main.record objects = N, the 200 garbage
objects unreachable; go-roots' first root retains every record); a mismatch aborts the run.

    .venv/bin/python bench/bench_types.py [--go 1.27.3] [--records 1000000] [--payload 600] [--repeat 1]

Figures go to bench/results/types-<go version>.json. The core is deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, BenchError, base_argv, gdb_run, median, tool_versions  # noqa: E402

from devtools import fixtures, hostrun  # noqa: E402

IN_GDB = """\
import json, time
import gdb
def _rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]) * 1024
_before = _rss()
_start = time.perf_counter()
_out = gdb.execute({command!r}, to_string=True)
_took = time.perf_counter() - _start
print('BENCH ' + json.dumps({{"seconds": _took, "rss_growth": _rss() - _before, "output": _out}}))
"""


def in_gdb(workdir: Path, pid: int, command: str) -> dict:
    script = workdir / "bench.py"
    script.write_text(IN_GDB.format(command=command))
    _, log = gdb_run(base_argv(pid, load_ours=True) + ["-x", str(script)])
    line = next((line for line in log.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"{command} printed no figure in gdb:\n{log[-3000:]}")
    return json.loads(line[len("BENCH "):])


def offline(binary: Path, core: Path, command: str, workdir: Path) -> dict:
    """Wall time and peak RSS of one `gdbgomem core` process (reaped with os.wait4 for its rusage)."""
    argv = [str(ROOT / ".venv" / "bin" / "gdbgomem"), "core", str(binary), str(core), "--", *command.split()]
    out_path = workdir / "offline.out"
    start = time.perf_counter()
    with open(out_path, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    output = out_path.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        raise BenchError(f"{' '.join(argv)} failed: {output[-2000:]}")
    return {"seconds": took, "peak_rss": usage.ru_maxrss * 1024, "output": output}


def check(command: str, output: str, truth: dict) -> None:
    data = hostrun.json_of(output)
    typed = not truth["go_version"].startswith("go1.21")
    if command.startswith("go-types"):
        records = [t for t in data["types"] if t["type"] == "main.record"]
        garbage = [t for t in data["unreachable"]["types"] if t["type"] == "main.garbage"]
        if typed and ([t["objects"] for t in records] != [truth["types"]["main.record"]["objects"]]
                      or [t["objects"] for t in garbage] != [truth["types"]["main.garbage"]["objects"]]):
            raise BenchError(f"go-types counted {records} records and {garbage} garbage objects: {truth['types']}")
    else:
        top = data["roots"][0]
        records = truth["types"]["main.record"]
        if top["root"] != "main.cache" or top["retained_objects"] < 2 * records["objects"]:
            raise BenchError(f"go-roots' first root is {top}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--payload", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    fixture = fixtures.start("owners", args.go, ["-records", str(args.records), "-payload", str(args.payload)],
                             timeout=600)
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-types-") as tmp:
        workdir, core = Path(tmp), Path(tmp) / "owners.core"
        try:
            for command in ("go-types --json", "go-roots --json"):
                runs = [in_gdb(workdir, fixture.pid, command) for _ in range(args.repeat)]
                check(command, runs[0]["output"], fixture.truth)
                figures[f"gdb {command}"] = {"seconds": median([r["seconds"] for r in runs]),
                                             "rss_growth": max(r["rss_growth"] for r in runs)}
            gdb_run(base_argv(fixture.pid, load_ours=False) + ["-ex", f"gcore {core}"])
        finally:
            fixture.stop()
        figures["core_bytes"] = core.stat().st_size
        for command in ("go-types --json", "go-roots --json"):
            runs = [offline(fixture.binary, core, command, workdir) for _ in range(args.repeat)]
            check(command, runs[0]["output"], fixture.truth)
            figures[f"offline {command}"] = {"seconds": median([r["seconds"] for r in runs]),
                                             "peak_rss": max(r["peak_rss"] for r in runs)}
    objects = hostrun.json_of(runs[0]["output"])["reachable"]
    print(f"Go {args.go}: {args.records} records, heap of {objects['objects']} reachable objects "
          f"({objects['bytes'] / 2**30:.2f} GiB), core {figures['core_bytes'] / 2**30:.2f} GiB")
    for command in ("go-types --json", "go-roots --json"):
        live, off = figures[f"gdb {command}"], figures[f"offline {command}"]
        ok = off["seconds"] <= 10 and off["peak_rss"] <= 1.5e9 and live["seconds"] <= 1.5 * off["seconds"]
        print(f"  {command:18} offline {off['seconds']:6.2f} s, peak RSS {off['peak_rss'] / 1e6:6.0f} MB; "
              f"in gdb {live['seconds']:6.2f} s ({live['seconds'] / off['seconds']:.2f}x offline), "
              f"gdb RSS +{live['rss_growth'] / 1e6:.0f} MB  {'PASS' if ok else 'MISS'}")
    if not args.no_write:
        out = ROOT / "bench" / "results" / f"types-{args.go}.json"
        out.write_text(json.dumps({"date": datetime.date.today().isoformat(), "nproc": os.cpu_count(),
                                   "records": args.records, "payload": args.payload, "figures": figures,
                                   **tool_versions()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
