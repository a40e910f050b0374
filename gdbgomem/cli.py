"""The `gdbgomem` console command: `gdbinit` and `lldbinit` print the lines that load the
extension into gdb or lldb; `core` runs the commands on a core dump without a debugger
(gdbgomem.hosts.standalone).

gdb embeds the system's Python, not the virtualenv gdbgomem was installed in,
so the printed lines put this package and its dependencies on gdb's sys.path.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional


def _import_roots() -> List[str]:
    """Directories that must be on sys.path for gdbgomem and its dependencies to import."""
    import capstone
    import elftools

    roots = []
    for module in (sys.modules["gdbgomem"], elftools, capstone):
        path = os.path.dirname(os.path.abspath(module.__file__))
        root = os.path.dirname(path) if os.path.basename(module.__file__) == "__init__.py" else path
        if root not in roots:
            roots.append(root)
    return roots


def gdbinit_text() -> str:
    roots = _import_roots()
    me = f"{sys.version_info.major}.{sys.version_info.minor}"
    return "\n".join([
        "# gdbgomem: Go runtime commands (go-help lists them)",
        "python",
        "import sys",
        f"for _p in {roots!r}:",
        "    if _p not in sys.path: sys.path.insert(0, _p)",
        "if sys.version_info[:2] < (3, 10): gdb.write('gdbgomem needs Python >= 3.10 in gdb; gdb has %d.%d\\n' % sys.version_info[:2])",
        "else:",
        "    import gdbgomem.hosts.gdb",
        f"# installed with Python {me}; gdbgomem and its dependencies are pure Python (capstone loads its C library "
        f"with ctypes), so gdb's own Python 3 may differ, except for numpy (go-types), built for Python {me}",
        "end",
    ])


def lldbinit_text() -> str:
    roots = _import_roots()
    return "\n".join([
        "# gdbgomem: Go runtime commands (go-help lists them)",
        f"script import sys; [sys.path.insert(0, p) for p in {roots!r} if p not in sys.path]",
        "command script import gdbgomem.hosts.lldb",
    ])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="gdbgomem", description="What the Go runtime sees inside a Go process or core dump: commands for gdb and lldb, and a reader of cores without a debugger.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("gdbinit", help="print the lines that load gdbgomem into gdb (append them to ~/.gdbinit)")
    sub.add_parser("lldbinit", help="print the lines that load gdbgomem into lldb (append them to ~/.lldbinit)")
    core = sub.add_parser("core", help="run a command on a core dump without a debugger (no command: a prompt)",
                          description="gdbgomem core BINARY CORE [-- COMMAND [ARGS]]: the go-* commands on a core "
                                      "dump, in plain Python. Without a command, an interactive prompt.")
    core.add_argument("binary", help="the program's executable")
    core.add_argument("core", help="the core dump")
    core.add_argument("--debug-file", metavar="FILE",
                      help="the executable's separate debug file (objcopy --only-keep-debug); by default one is "
                           "looked for where gdb looks: /usr/lib/debug/.build-id/ and the .gnu_debuglink name")
    core.add_argument("words", nargs="*", default=[], metavar="-- COMMAND [ARGS]",
                      help="one command to run, after --, e.g. -- go-goroutines --json")
    report = sub.add_parser("report", help="write the HTML report of a core dump (go-report) without a debugger",
                            description="gdbgomem report BINARY CORE -o FILE: one self-contained HTML page of the "
                                        "core (go-report FILE in gdb and lldb does the same on a live process).")
    report.add_argument("binary", help="the program's executable")
    report.add_argument("core", help="the core dump")
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    report.add_argument("--debug-file", metavar="FILE", help="the executable's separate debug file")
    argv = list(sys.argv[1:] if argv is None else argv)
    command: List[str] = []
    if "--" in argv:  # the command and its own options, never taken for gdbgomem's
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if args.command == "gdbinit":
        print(gdbinit_text())
        return 0
    if args.command == "lldbinit":
        print(lldbinit_text())
        return 0
    from gdbgomem.hosts import standalone
    if args.command == "report":
        return standalone.main(args.binary, args.core, ["go-report", args.output], args.debug_file)
    return standalone.main(args.binary, args.core, command or args.words, args.debug_file)


if __name__ == "__main__":
    sys.exit(main())
