"""Run commands in each host (gdb, lldb in batch mode; the standalone core reader) and split
the output per command: the one way tests, benchmarks and the demo drive gdbgomem."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
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


def text_env(columns: Optional[int]) -> Dict[str, str]:
    """The environment of a host writing into a pipe: text fitted to `columns` (COLUMNS), or
    not at all, whatever the COLUMNS of the shell that runs the tests."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = str(columns)
    return env


def run_lldb(target: Sequence[str], commands: Sequence[str], timeout: float = 300,
             columns: Optional[int] = None) -> Dict[int, str]:
    """Output of each command in one batch lldb session, keyed by index (like run_gdb).

    The commands are sourced from a file, each after a `script print` marker, with lldb told
    to go on after a failing one (batch mode's -o commands would stop there)."""
    lines = []
    for i, command in enumerate(commands):
        lines += [f"script print('{MARK}{i}')", command]
    lines.append(f"script print('{MARK}end')")
    with tempfile.NamedTemporaryFile("w", suffix=".lldb", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    argv = ["lldb-16", "--no-lldbinit", "-b", "-O", "settings set interpreter.stop-command-source-on-error false",
            *target, "-s", str(lldb_init_script()), "-s", script.name]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=text_env(columns))
    finally:
        os.unlink(script.name)
    parts = split(proc.stdout, len(commands))
    # lldb echoes each command line before its output: drop the echoes of the command and the next marker
    for i, command in enumerate(commands):
        echoes = {f"(lldb) {command}", f"(lldb) script print('{MARK}{i + 1}')", f"(lldb) script print('{MARK}end')"}
        parts[i] = "\n".join(line for line in parts[i].splitlines() if line not in echoes)
    return parts


# The standalone host as `gdbgomem core BINARY CORE < commands` runs piped command lines, in
# one process (opening the core once), with a marker before each. argv: binary core commands...
_STANDALONE_DRIVER = f"""
import sys
from gdbgomem.errors import GoMemError
from gdbgomem.hosts import standalone
try:
    prompt = standalone.Prompt(standalone.open_runtime(sys.argv[1], sys.argv[2]), None)
except GoMemError as exc:
    prompt = None
    print(f"gdbgomem: {{exc}}", file=sys.stderr)
for i, line in enumerate(sys.argv[3:]):
    print("{MARK}%d" % i, flush=True)
    if prompt is not None:
        prompt.onecmd(line)
print("{MARK}end")
"""


def run_standalone(binary: Path, core: Path, commands: Sequence[str], timeout: float = 300,
                   columns: Optional[int] = None) -> Dict[int, str]:
    """Output of each command run on a core without a debugger, keyed by index (like run_gdb)."""
    argv = [str(ROOT / ".venv" / "bin" / "python"), "-u", "-c", _STANDALONE_DRIVER, str(binary), str(core),
            *commands]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=text_env(columns))
    return split(proc.stdout, len(commands))


HOSTS = ("gdb", "lldb", "standalone")


def run_host(host: str, commands: Sequence[str], pid: Optional[int] = None, binary: Optional[Path] = None,
             core: Optional[Path] = None, timeout: float = 300) -> Dict[int, str]:
    """Run commands in one host, attached to pid or on binary + core (standalone: a core only)."""
    if host == "gdb":
        return run_gdb(attach(pid) if core is None else [str(binary), str(core)], commands, timeout=timeout)
    if host == "lldb":
        return run_lldb(["-p", str(pid)] if core is None else [str(binary), "--core", str(core)], commands,
                        timeout=timeout)
    if host == "standalone" and core is not None:
        return run_standalone(binary, core, commands, timeout=timeout)
    raise ValueError(f"no way to run {host} on {'a core' if core else 'a live process'}")

