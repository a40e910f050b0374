"""What the benchmarks share: running gdb, timing and profiling inside it, reporting versions."""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools import hostrun  # noqa: E402

TIMEOUT = 600  # seconds per gdb run: runtime-gdb.py takes tens of seconds on 100k goroutines

# One command under cProfile inside gdb, in a session of its own (cold caches).
PROFILE_SNIPPET = """\
import cProfile, io, pstats
import gdb
_profile = cProfile.Profile()
_profile.enable()
gdb.execute({command!r}, to_string=True)
_profile.disable()
_text = io.StringIO()
for _order in ("cumulative", "tottime"):
    _text.write("sorted by %s:\\n" % _order)
    pstats.Stats(_profile, stream=_text).sort_stats(_order).print_stats({top})
with open({output!r}, "w") as _f:
    _f.write(_text.getvalue())
"""


class BenchError(RuntimeError):
    """A measurement could not be taken or its output is wrong: the figures would lie."""


def gdb_run(argv: List[str]) -> Tuple[float, str]:
    """Run gdb to completion; its wall time in seconds and its output."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=TIMEOUT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"gdb exited with {proc.returncode}: {' '.join(argv)}\n{proc.stdout[-3000:]}")
    return wall, proc.stdout


def base_argv(pid: int, load_ours: bool) -> List[str]:
    argv = ["gdb", "-nx", "-batch", "-p", str(pid)]
    if load_ours:
        argv += ["-x", str(hostrun.load_script())]
    return argv


def profile_command(workdir: Path, pid: int, command: str, top: int) -> str:
    """cProfile of one command inside a fresh gdb session, sorted by cumulative and own time."""
    snippet, output = workdir / "profile.py", workdir / "profile.txt"
    output.unlink(missing_ok=True)
    snippet.write_text(PROFILE_SNIPPET.format(command=command, top=top, output=str(output)))
    _, log = gdb_run(base_argv(pid, load_ours=True) + ["-x", str(snippet)])
    if not output.exists():
        raise BenchError(f"the profiling snippet left no result for {command!r}; gdb said:\n{log[-3000:]}")
    return output.read_text()


def tool_versions() -> Dict[str, str]:
    gdb = subprocess.run(["gdb", "--version"], capture_output=True, text=True).stdout.splitlines()
    from gdbgomem import __version__
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {"gdb": gdb[0] if gdb else "?", "gdbgomem": __version__, "host_python": platform.python_version(),
            "git_commit": git("rev-parse", "--short", "HEAD") or "?",
            "gdbgomem_uncommitted_changes": bool(git("status", "--porcelain", "--", "gdbgomem"))}


def median(samples: List[float]) -> float:
    return statistics.median(samples)


def write_results(kind: str, version: str, result: dict) -> None:
    """bench/results/<kind>-<go version>.json, which the README's tables quote."""
    import json
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{kind}-{version}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")
