"""Rows of text made from columns with array operations, a batch of rows at a time.

At 100 000 rows a row formatted in Python (an f-string of a dozen integers) costs
several microseconds, mostly in turning integers into decimals. Here each row is a
line of a byte matrix with a fixed slot per piece: constant texts broadcast, the
digits of a column of integers computed for the whole column at once, a text chosen
per row from a few (a code per row) copied as whole lines. Slots are padded with NUL
bytes, which no text holds (JSON escapes them, and the texts given here have none),
so dropping every NUL leaves the rows one after the other.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

_NULL = np.frombuffer(b"null", dtype=np.uint8)


class RowMatrix:
    """Rows of `count` pieces added left to right (text, numbers, choices), rendered a batch
    at a time, each row followed by a separator."""

    def __init__(self, count: int):
        self.count = count
        self._slots: List[tuple] = []  # (kind, width, data...)

    def text(self, text: str) -> None:
        """The same text in every row."""
        if text:
            self._slots.append(("text", *_table([text])))

    def numbers(self, values: np.ndarray, null: Optional[np.ndarray] = None) -> None:
        """Non-negative integers in decimal, "null" where null is True."""
        values = np.asarray(values, dtype=np.uint64)
        shown = values[~null] if null is not None else values
        width = len(str(int(shown.max()))) if len(shown) else 1
        if null is not None and null.any():
            width = max(width, len(_NULL))
        self._slots.append(("numbers", width, values, null))

    def choices(self, codes: np.ndarray, options: Sequence[str]) -> None:
        """options[codes[i]] in row i."""
        width, table = _table(options)
        self._slots.append(("choices", width, table, np.asarray(codes, dtype=np.int64)))

    def render(self, start: int, stop: int, separator: str = ",") -> str:
        """Rows start to stop, each followed by the separator but the last."""
        tail = separator.encode()
        count = stop - start
        width = sum(slot[1] for slot in self._slots) + len(tail)
        matrix = np.zeros((count, width), dtype=np.uint8)
        column = 0
        for kind, slot_width, *data in self._slots:
            window = matrix[:, column:column + slot_width]
            if kind == "text":
                window[:] = data[0][0]
            elif kind == "numbers":
                values, null = data
                window[:] = _digits(values[start:stop], slot_width)
                rows = null[start:stop] if null is not None else None
                if rows is not None and rows.any():  # then the slot is wide enough for "null"
                    window[rows] = 0
                    window[rows, :len(_NULL)] = _NULL
            else:
                table, codes = data
                window[:] = table[codes[start:stop]]
            column += slot_width
        if tail:
            matrix[:, column:] = np.frombuffer(tail, dtype=np.uint8)
        flat = matrix[matrix != 0]
        return flat[:len(flat) - len(tail)].tobytes().decode("utf-8")


def _table(options: Sequence[str]):
    """(width, matrix): each option's UTF-8 bytes as a NUL-padded row."""
    encoded = [option.encode("utf-8") for option in options]
    width = max((len(e) for e in encoded), default=0)
    table = np.zeros((max(len(encoded), 1), width), dtype=np.uint8)
    for i, e in enumerate(encoded):
        table[i, :len(e)] = np.frombuffer(e, dtype=np.uint8)
    return width, table


# the four ASCII digits of 0 to 9999, each as one little-endian uint32 ("0042" for 42)
_QUADS = np.frombuffer("".join(f"{n:04d}" for n in range(10000)).encode(), dtype="<u4")
_POWERS = np.array([10 ** k for k in range(1, 20)], dtype=np.uint64)  # a value has 1 + (those <= it) digits


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of each value right-aligned in width bytes, NULs before them: four
    digits at a time, from a table."""
    quads = -(-width // 4)
    out = np.empty((len(values), quads), dtype="<u4")
    rest = values.copy()
    for j in range(quads - 1, -1, -1):
        rest, low = np.divmod(rest, np.uint64(10000))
        out[:, j] = _QUADS[low]
    digits = out.view(np.uint8)[:, 4 * quads - width:]
    leading = width - 1 - np.searchsorted(_POWERS, values, side="right")
    digits[np.arange(width) < leading[:, None]] = 0
    return digits
