"""Run gdb in batch mode with gdbgomem loaded and split the output per command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from devtools.fixtures import ROOT

MARK = "@@gdbgomem-test@@"


def load_script() -> Path:
    """A gdb script that loads gdbgomem from this checkout (what `gdbgomem gdbinit` prints)."""
    path = ROOT / ".cache" / "gdbinit-test"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = subprocess.run([str(ROOT / ".venv" / "bin" / "gdbgomem"), "gdbinit"], check=True,
                          capture_output=True, text=True).stdout
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def gdb_argv(target: Sequence[str], commands: Sequence[str], pre: Sequence[str] = ()) -> List[str]:
    """gdb -batch argv: each command is preceded by an echo marker so outputs can be split."""
    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set width 0", *sum((["-ex", c] for c in pre), [])]
    argv += ["-x", str(load_script()), *target]
    for i, command in enumerate(commands):
        argv += ["-ex", f"echo {MARK}{i}\\n", "-ex", command]
    argv += ["-ex", f"echo {MARK}end\\n"]
    return argv


def run_gdb(target: Sequence[str], commands: Sequence[str], pre: Sequence[str] = (),
            timeout: float = 300) -> Dict[int, str]:
    """Output (stdout and stderr, in order) of each command, keyed by its index."""
    proc = subprocess.run(gdb_argv(target, commands, pre), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return split(proc.stdout, len(commands))


def split(output: str, count: int) -> Dict[int, str]:
    parts: Dict[int, str] = {}
    current: Optional[int] = None
    buf: List[str] = []
    for line in output.splitlines():
        if line.startswith(MARK):
            if current is not None:
                parts[current] = "\n".join(buf)
            tag = line[len(MARK):]
            current = None if tag == "end" else int(tag)
            buf = []
        elif current is not None:
            buf.append(line)
    if current is not None:
        parts[current] = "\n".join(buf)
    for i in range(count):
        parts.setdefault(i, "")
    return parts


def attach(pid: int) -> List[str]:
    return ["-p", str(pid)]


def json_of(text: str) -> dict:
    """The JSON object in a command's output (gdb may print attach noise before it)."""
    for line in text.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON object in output:\n{text[:3000]}")


def lldb_init_script() -> Path:
    """An lldb command file that loads gdbgomem from this checkout (`gdbgomem lldbinit`)."""
    path = ROOT / ".cache" / "lldbinit-test"
    text = subprocess.run([str(ROOT / ".venv" / "bin" / "gdbgomem"), "lldbinit"], check=True,
                          capture_output=True, text=True).stdout
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def run_lldb(target: Sequence[str], commands: Sequence[str], timeout: float = 300) -> Dict[int, str]:
    """Output of each command in one batch lldb session, keyed by index (like run_gdb).

    lldb's batch mode stops at the first failing command, so each command's output is
    marked by a `script print` line before it."""
    argv = ["lldb-16", "--no-lldbinit", "-b", *target, "-s", str(lldb_init_script())]
    for i, command in enumerate(commands):
        argv += ["-o", f"script print('{MARK}{i}')", "-o", command]
    argv += ["-o", f"script print('{MARK}end')"]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return split(proc.stdout, len(commands))
