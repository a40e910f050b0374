"""Two ways of making the same output, compared on one core: a listing or a sum made from numpy
columns, and the object path it stands in for, which the views take below their thresholds or
where numpy cannot be imported. Each run is a standalone prompt in a Python process of its own."""

from __future__ import annotations

import subprocess
from typing import List, Optional

from devtools.fixtures import ROOT
from devtools.hostrun import text_env

MARK = "@@command@@"
COLUMNS = "@@columns@@"
# argv: binary core path commands...; path "objects": numpy cannot be imported, as in a debugger
# whose Python lacks it; "columns": SETUP (the test's) lowers the threshold and says, by printing
# COLUMNS, where the columns made the output
DRIVER = f"""
import sys
if sys.argv[3] == "objects":
    sys.modules["numpy"] = None
from gdbgomem.hosts import standalone
SETUP
prompt = standalone.Prompt(standalone.open_runtime(sys.argv[1], sys.argv[2]), None)
for line in sys.argv[4:]:
    print("{MARK}", line, flush=True)
    prompt.onecmd(line)
"""


def outputs(binary, core, path: str, setup: str, commands: List[str], columns: Optional[int]) -> str:
    """What the commands printed, each after a MARK line, the path taken (columns or objects)."""
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", DRIVER.replace("SETUP", setup),
                           str(binary), str(core), path, *commands],
                          capture_output=True, text=True, timeout=300, env=text_env(columns))
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return proc.stdout
