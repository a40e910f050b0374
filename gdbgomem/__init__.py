"""gdbgomem: what the Go runtime sees inside a Go process, read from gdb or from a core file.

Layers (docs/architecture.md says what may import what):
  elf/       files on disk: the Go binary (ELF, symbols, DWARF, layout cache), core files
  runtime/   pure decoders of the Go runtime's structures over a Target (no debugger imports)
  commands/  one module per subject: arguments -> runtime -> Report
  render/    Report -> text (tables, colors) or JSON
  hosts/     one module per way in (gdb, lldb, standalone): its Target, its commands, its events
  api.py     the same decoders for scripts: open_core(), current()
"""

__version__ = "0.1.0"


def open_core(binary: str, core: str, debug_file=None):
    """A core dump of a Go program, read without a debugger (see gdbgomem.api)."""
    from gdbgomem.api import open_core as _open_core
    return _open_core(binary, core, debug_file)


def current():
    """Inside gdb: the selected inferior as a gdbgomem.api.GoProgram."""
    from gdbgomem.api import current as _current
    return _current()
