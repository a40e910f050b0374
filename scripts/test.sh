#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the whole test suite.
#   GO_VERSIONS="1.27.3" scripts/test.sh     # one Go version (default: all of gdbgomem/releases.txt)
#   scripts/test.sh -k threads               # extra arguments go to pytest
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/python -m pytest -ra "$@"
