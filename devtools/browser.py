"""Headless Chromium over a go-report page, and the page read back: the DOM the browser built
(after its script ran), a screenshot, and the report's tables as values, so tests compare
what a reader sees with the commands' JSON."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

CHROMIUM = "chromium"


def available() -> Optional[str]:
    return shutil.which(CHROMIUM)


def _argv(*extra: str) -> List[str]:
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root without it
    return [CHROMIUM, "--headless", "--disable-gpu", "--hide-scrollbars", *sandbox, *extra]


def dump_dom(page: Path, timeout: float = 120) -> Tuple[str, float]:
    """The DOM after the page loaded, and the seconds Chromium took to start, load and dump it."""
    started = time.monotonic()
    proc = subprocess.run(_argv("--dump-dom", page.resolve().as_uri()), capture_output=True, text=True,
                          timeout=timeout, check=True)
    return proc.stdout, time.monotonic() - started


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 2400, timeout: float = 120) -> Tuple[int, int]:
    """Write a PNG of the page's top; returns the image's size, read from its header."""
    png.unlink(missing_ok=True)
    subprocess.run(_argv(f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri()),
                   capture_output=True, timeout=timeout, check=True)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", head
    return struct.unpack(">II", head[16:24])


class Cell:
    def __init__(self):
        self.text = ""
        self.value: Optional[int] = None


class Page(HTMLParser):
    """What a test needs of a report's DOM: sections (id -> their 'missing' notes), tables
    (id -> rows of cells, by data-key), the body's attributes and every src/href."""

    def __init__(self, dom: str):
        super().__init__(convert_charrefs=True)
        self.sections: Dict[str, List[str]] = {}
        self.tables: Dict[str, Dict[str, List[Cell]]] = {}
        self.body: Dict[str, str] = {}
        self.links: List[str] = []
        self._section = self._table = self._row = None
        self._cell: Optional[Cell] = None
        self._missing: Optional[List[str]] = None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "body":
            self.body = {k: v or "" for k, v in attrs}
        elif tag == "section":
            self._section = a.get("id")
            self.sections[self._section] = []
        elif tag == "p" and "missing" in (a.get("class") or "").split() and self._section:
            self._missing = [""]
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("id"), {})
        elif tag == "tr" and self._table is not None and "data-key" in a:
            self._row = self._table.setdefault(a["data-key"], [])
        elif tag == "td" and self._row is not None:
            self._cell = Cell()
            if a.get("data-value") is not None:
                self._cell.value = int(a["data-value"])
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "p" and self._missing is not None:
            self.sections[self._section].append(self._missing[0])
            self._missing = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.text += data
        if self._missing is not None:
            self._missing[0] += data

    def values(self, table: str, column: int) -> Dict[str, Optional[int]]:
        """data-key -> the exact value of one column."""
        return {key: cells[column].value for key, cells in self.tables[table].items()}
