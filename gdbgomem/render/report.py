"""What a command returns: the JSON object and the text blocks that show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Union

SCHEMA_VERSION = 2  # 2: one name for one thing in every command (docs/json.md)


class Styled(NamedTuple):
    """Text with a semantic style name ('status.running', 'address', 'warning'...).
    A named tuple: a listing makes one per cell, and a tuple is made several times faster
    than a frozen dataclass."""

    text: str
    style: str

    def __str__(self) -> str:
        return self.text


class RawJsonArray:
    """A JSON array given as its elements' already-encoded texts, spliced in as is.

    For listings of 100 000 rows, where encoding row by row with cached
    fragments is several times faster than building dicts for json.dumps. The
    texts may come from a generator, made while the output is written (once:
    render the report once). Only allowed as a top-level value of Report.data.
    rows_per_text: how many elements each text holds, joined by commas already (listings
    made a batch at a time), so that the output's pieces stay about PIECE_ROWS rows.
    """

    def __init__(self, texts: Iterable[str], rows_per_text: int = 1):
        self.texts = texts
        self.rows_per_text = rows_per_text

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)


Cell = Union[str, int, None, Styled]

# shown in place of a value that cannot be true (gdbgomem.runtime.plausible); JSON has the raw one
CORRUPT = Styled("corrupt", "warning")


class Column(NamedTuple):
    """A table column given whole, for listings of 100 000 rows: no cell objects, one list of
    texts, and one style for every cell (or None) or a list of them (None for plain)."""

    texts: List[str]
    styles: Union[None, str, List[Optional[str]]] = None


@dataclass
class Table:
    """Given row by row (rows), or column by column (columns, one per header; rows then empty)."""

    headers: Sequence[str]
    rows: List[Sequence[Cell]]
    align: Optional[Sequence[str]] = None  # per column: "left" or "right"
    wrap: bool = False  # too wide for the terminal: wrap cells (True) or cut them with "..."
    # headers of the columns left out, in this order, while the table cannot fit even with its cells cut
    drop_order: Sequence[str] = ()
    cut_front: Sequence[str] = ()  # headers of columns whose cells keep their end when cut (file paths)
    columns: Optional[List[Column]] = None


def fields_table(fields: Sequence[Sequence[Cell]], headers: Sequence[str] = ("", "")) -> Table:
    """Name/value pairs, one per line, the names as headings; long values wrap rather than being cut."""
    return Table(list(headers), [[Styled(str(name), "heading"), value] for name, value in fields], wrap=True)


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
