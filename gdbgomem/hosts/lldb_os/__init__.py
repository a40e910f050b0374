"""The file lldb loads as its OS plugin (see gdbgomem.hosts.lldb_goroutine), alone in its directory."""
