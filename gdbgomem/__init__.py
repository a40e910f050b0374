"""gdbgomem: what the Go runtime sees inside a Go process, read from gdb.

Layers (dependencies point down only):
  target/    where bytes, symbols, types and threads come from (gdb, later lldb and core files)
  runtime/   pure decoders of the Go runtime's structures over a Target
  commands/  one module per command family: arguments -> runtime -> Report
  render/    Report -> text (tables, colors) or JSON
  frontends/ thin glue that registers the commands with a debugger
"""

__version__ = "0.1.0"
