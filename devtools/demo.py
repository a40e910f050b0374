"""The README's demo: a live Go program, gdb attached with gdbgomem, the commands run."""

from __future__ import annotations

import subprocess
import sys

from devtools import fixtures, hostrun
from gdbgomem import releases


def main(version: str) -> int:
    fixture = fixtures.start("goroutines", version)
    truth = fixture.truth
    try:
        print(f"# fixture {fixture.binary.name} built by {truth['go_version']}, pid {fixture.pid}; "
              f"gdb -p {fixture.pid} with gdbgomem loaded\n", flush=True)
        commands = ["go-help", "go-info", "go-goroutines --limit 10", "go-threads",
                    f"go-g {truth['locked']['goid']}",
                    f"go-stack {truth['deep']['goid']} --frame-size 512", "go-stack", "go-offheap",
                    "go-maps --role program", "go-maps --role arena", "go-types --top 8", "go-roots --top 6"]
        argv = ["gdb", "-nx", "-batch", "-q", "-ex", "set pagination off", "-x", str(hostrun.load_script()),
                "-p", str(fixture.pid)]
        for command in commands:
            argv += ["-ex", f"echo \\n(gdb) {command}\\n", "-ex", command]
        gdb = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started = False
        for line in gdb.stdout.splitlines():  # drop gdb's attach chatter before the first command
            started = started or line.startswith("(gdb) ")
            if started:
                print(line)
        return gdb.returncode
    finally:
        fixture.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else releases.newest_release()))
