"""What a command returns: the JSON object and the text blocks that show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

SCHEMA_VERSION = 2  # 2: one name for one thing in every command (docs/json.md)


@dataclass(frozen=True)
class Styled:
    """Text with a semantic style name ('status.running', 'address', 'warning'...)."""

    text: str
    style: str

    def __str__(self) -> str:
        return self.text


class RawJsonArray(list):
    """A JSON array given as its elements' already-encoded texts, spliced in as is.

    For listings of 100 000 rows, where encoding row by row with cached
    fragments is several times faster than building dicts for json.dumps, and
    joining once at the end avoids copying tens of megabytes several times.
    Only allowed as a top-level value of Report.data.
    """


Cell = Union[str, int, None, Styled]

# shown in place of a value that cannot be true (gdbgomem.runtime.plausible); JSON has the raw one
CORRUPT = Styled("corrupt", "warning")


@dataclass
class Table:
    headers: Sequence[str]
    rows: List[Sequence[Cell]]
    align: Optional[Sequence[str]] = None  # per column: "left" or "right"


Block = Union[str, Styled, Table, List[Cell]]


@dataclass
class Report:
    """data is the JSON object (without "schema_version"); blocks are rendered in order as text."""

    data: Dict[str, Any]
    blocks: List[Block] = field(default_factory=list)

    def add(self, block: Block) -> "Report":
        self.blocks.append(block)
        return self

    def json_object(self) -> Dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **self.data}
