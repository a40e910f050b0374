"""One module per way of reaching a Go process: gdb, lldb, standalone (a core, no debugger).

Each holds its Target, the registration of every command and the events that drop its
caches. Only gdb*.py import gdb (gdb_goroutine.py: gdb's own frames inside a goroutine;
gdb_watch_stack.py: internal breakpoints that log stack growth)
and only lldb*.py import lldb.
"""
