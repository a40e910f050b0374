"""One module per way of reaching a Go process: gdb, lldb, standalone (a core, no debugger).

Each holds its Target, the registration of every command and the events that drop its
caches. Only gdb.py imports gdb and only lldb.py imports lldb.
"""
