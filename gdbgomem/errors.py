"""Errors a user can act on. Every host prints them as one line: `gdbgomem: <what> (<hint>)`
(gdbgomem.commands.base.run_for_user)."""


class GoMemError(Exception):
    """A failure with a message meant for the user, and optionally what to do about it."""

    def __init__(self, what: str, hint: str = ""):
        super().__init__(what)
        self.what = what
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.what} ({self.hint})" if self.hint else self.what


class MemoryReadError(GoMemError):
    """The target could not give the bytes at an address (unmapped, or missing from a core)."""

    def __init__(self, address: int, size: int,
                 hint: str = "the address is not mapped in the process or not saved in the core"):
        super().__init__(f"cannot read {size} bytes at 0x{address:x}", hint)
        self.address = address
        self.size = size
