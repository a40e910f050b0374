"""gdbgomem: what the Go runtime sees inside a Go process, read from gdb or from a core file.

Layers (dependencies point down only):
  target/    where bytes, symbols, types and threads come from (gdb, core files)
  runtime/   pure decoders of the Go runtime's structures over a Target
  commands/  one module per command family: arguments -> runtime -> Report
  render/    Report -> text (tables, colors) or JSON
  frontends/ thin glue that registers the commands with a debugger
  api.py     the same decoders for scripts: open_core(), current()
"""

__version__ = "0.1.0"


def open_core(binary: str, core: str):
    """A core dump of a Go program, read without a debugger (see gdbgomem.api)."""
    from gdbgomem.api import open_core as _open_core
    return _open_core(binary, core)


def current():
    """Inside gdb: the selected inferior as a gdbgomem.api.GoProgram."""
    from gdbgomem.api import current as _current
    return _current()
