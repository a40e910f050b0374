"""Reports and how they become text (tables, colors) or JSON."""

from gdbgomem.render.report import Report, Styled, Table  # noqa: F401
