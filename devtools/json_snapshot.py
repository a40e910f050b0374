"""Record every command's output on kept cores, and later check that a change left it the same.

For refactors that must not change behaviour: `record` starts the goroutines and heap
fixtures, writes a gcore core of each (kept, with a copy of its binary) and saves what
every command prints on that core, as JSON and as plain text, in gdb, lldb and
`gdbgomem core`. `compare` runs the same commands on the same cores with the code as it
is now and lists every difference.

    .venv/bin/python -m devtools.json_snapshot record /var/tmp/snap --go 1.21.13 1.27.3
    .venv/bin/python -m devtools.json_snapshot compare /var/tmp/snap
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, List

from devtools import fixtures, hostrun
from devtools.hostrun import HOSTS


def commands_for(name: str, truth: dict) -> List[str]:
    """Every command, with arguments taken from the fixture's truth; each as --json and as text."""
    if name == "goroutines":
        deep, locked = truth["deep"]["goid"], truth["locked"]["goid"]
        probe = truth["chan_probes"][0]
        plain = ["go-help", "go-info", "go-goroutines", "go-goroutines --all --limit 0", f"go-g {locked}",
                 "go-threads", "go-stack", f"go-stack {deep}", f"go-stack {probe['goid']} --frame-size 512",
                 "go-stack --m 0", f"go-bt {probe['goid']}", "go-bt --all",
                 f"go-span {probe['local_addr']}", "go-sizeclasses"]
    else:
        samples = [s["addr"] for s in truth["samples"]]
        plain = ["go-heap", "go-spans", "go-spans --summary", "go-spans --state free", "go-spans --class 5",
                 "go-arenas", "go-arenas --map", "go-pages", f"go-pages --level 4 --chunk {samples[0]}",
                 "go-sizeclasses"] + [f"go-span {a} --bytes 64" for a in samples[:6]]
        plain += [f"go-span {truth['freed_addrs'][0]}"]
    return [c for command in plain for c in (command + " --json", command)]


def run_host(host: str, binary: Path, core: Path, commands: List[str]) -> Dict[str, str]:
    out = hostrun.run_host(host, commands, binary=binary, core=core, timeout=600)
    return {command: out[i] for i, command in enumerate(commands)}


def record(directory: Path, versions: List[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for version in versions:
        for name in ("goroutines", "heap"):
            fixture = fixtures.start(name, version)
            try:
                stem = directory / f"{name}-{version}"
                core, binary = _beside(stem, ".core"), _beside(stem, ".bin")
                hostrun.run_gdb(hostrun.attach(fixture.pid), [f"gcore {core}"])
                shutil.copy2(fixture.binary, binary)
            finally:
                fixture.stop()
            commands = commands_for(name, fixture.truth)
            saved = {"truth": fixture.truth, "outputs": {h: run_host(h, binary, core, commands) for h in HOSTS}}
            _beside(stem, ".json").write_text(json.dumps(saved, indent=1))
            print(f"recorded {stem.name}: {len(commands)} commands x {len(HOSTS)} hosts", flush=True)


def _beside(stem: Path, suffix: str) -> Path:
    """stem + suffix (Path.with_suffix would take the '.13' of 'heap-1.21.13' for a suffix)."""
    return stem.parent / (stem.name + suffix)


def _normalized(text: str) -> object:
    """A command's JSON as an object (debugger noise before it dropped), else its text
    without lldb's echoes of command lines."""
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    return "\n".join(line for line in text.splitlines() if not line.startswith("(lldb) "))


def compare(directory: Path) -> int:
    differences = 0
    for saved_path in sorted(directory.glob("*.json")):
        saved = json.loads(saved_path.read_text())
        stem = saved_path.parent / saved_path.name[:-len(".json")]
        binary, core = _beside(stem, ".bin"), _beside(stem, ".core")
        for host in HOSTS:
            before = saved["outputs"][host]
            now = run_host(host, binary, core, list(before))
            for command, old in before.items():
                if _normalized(old) != _normalized(now[command]):
                    differences += 1
                    print(f"DIFFERS {saved_path.stem} {host} {command!r}\n--- before\n{old[:1500]}\n"
                          f"--- now\n{now[command][:1500]}\n")
        print(f"compared {saved_path.stem}", flush=True)
    print(f"{differences} differences")
    return 1 if differences else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("directory", type=Path)
    rec.add_argument("--go", nargs="+", default=fixtures.go_versions())
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.verb == "record":
        record(args.directory, args.go)
        return 0
    return compare(args.directory)


if __name__ == "__main__":
    sys.exit(main())
