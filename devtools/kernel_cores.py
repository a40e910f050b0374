"""Kernel cores of crashing Go programs (GOTRACEBACK=crash and SIGQUIT), for the tests.

The kernel writes a core where /proc/sys/kernel/core_pattern says: into the crashing
process's directory when the pattern is a plain file name (`core`), elsewhere or to a
helper program otherwise, where the tests cannot count on finding it.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional, Tuple

CORE_PATTERN = Path("/proc/sys/kernel/core_pattern")


def why_no_cores_here() -> Optional[str]:
    """None where a crashing process's core lands in its own directory, else why not."""
    pattern = CORE_PATTERN.read_text().strip()
    if pattern.startswith("|") or "/" in pattern:
        return f"core_pattern is {pattern!r}: cores do not land in the program's directory here"
    return None


def allow_cores() -> None:
    """preexec_fn of a process that must be able to dump a core of any size."""
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def crash(process: subprocess.Popen, directory: Path, timeout: float = 120) -> Tuple[str, Optional[Path]]:
    """SIGQUIT a process started with GOTRACEBACK=crash and allow_cores in directory: what it
    printed on stderr (the runtime's traceback) and the core the kernel wrote (None: none)."""
    process.send_signal(signal.SIGQUIT)
    _out, err = process.communicate(timeout=timeout)
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else (err or "")
    for _ in range(100):  # the kernel finishes writing after the process is reaped
        cores = sorted(p for p in directory.iterdir() if p.name.startswith("core"))
        if cores and cores[0].stat().st_size > 0:
            return text, cores[0]
        time.sleep(0.1)
    return text, None
