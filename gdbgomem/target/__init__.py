"""Where bytes, symbols, struct layouts and threads come from. See base.Target."""

from gdbgomem.target.base import Field, StructLayout, Target, ThreadRegs  # noqa: F401
