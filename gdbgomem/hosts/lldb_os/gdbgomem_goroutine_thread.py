"""lldb's OS plugin for go-goroutine: lldb imports this file by its path and takes the class
OperatingSystemPlugIn from it; the class and its state live in gdbgomem.hosts.lldb_goroutine."""

from gdbgomem.hosts.lldb_goroutine import GoroutineThreads as OperatingSystemPlugIn  # noqa: F401
