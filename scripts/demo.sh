#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds the goroutines fixture with one Go
# release, starts it, attaches gdb with gdbgomem loaded and runs the commands.
#   GO_VERSION=1.21.13 scripts/demo.sh       # another release (default: the newest in gdbgomem/releases.txt)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO_VERSION="${GO_VERSION:-$(grep -v '^#' "$ROOT/gdbgomem/releases.txt" | tail -1)}"
GO_VERSIONS="$GO_VERSION" "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/python -m devtools.demo "$GO_VERSION"
