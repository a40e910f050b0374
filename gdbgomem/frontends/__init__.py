"""Debugger front ends: thin glue that registers every command in gdbgomem.commands."""
