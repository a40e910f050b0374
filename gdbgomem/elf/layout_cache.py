"""What a binary's DWARF answered, kept on disk so a later session need not read DWARF again.

One JSON file per binary, in $GDBGOMEM_CACHE_DIR/binaries/<build id>.json (by default
under $XDG_CACHE_HOME/gdbgomem, i.e. ~/.cache/gdbgomem). An entry counts only when the
binary's build id, size and modification time match those it was written for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any, Dict, Optional

CACHE_DIR_ENV = "GDBGOMEM_CACHE_DIR"
# Bump when what is stored (or how a layout is computed) changes: older files are ignored.
CACHE_FORMAT = 1
KINDS = ("layouts", "constants", "variables", "addresses")


def default_cache_dir() -> str:
    base = os.environ.get(CACHE_DIR_ENV)
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "gdbgomem")
    return os.path.join(base, "binaries")


def cache_file(cache_dir: Optional[str], build_id: Optional[str], path: str) -> str:
    directory = cache_dir or default_cache_dir()
    if build_id and re.fullmatch(r"[0-9a-f]{8,128}", build_id):
        stem = build_id
    else:  # Go's build id has slashes; no build id at all: key the file by the binary's path
        stem = hashlib.sha256((build_id or "path:" + os.path.realpath(path)).encode()).hexdigest()[:40]
    return os.path.join(directory, stem + ".json")


class LayoutCache:
    """The answers for one binary: a table per kind (name -> JSON value), and whether the
    whole wish list was resolved already (`prefetched`). path None: kept in memory only."""

    def __init__(self, path: Optional[str], build_id: Optional[str], size: int, mtime_ns: int):
        self.path = path
        self._identity = {"format": CACHE_FORMAT, "build_id": build_id, "size": size, "mtime_ns": mtime_ns}
        self._data = self._load()

    def table(self, kind: str) -> Dict[str, Any]:
        return self._data[kind]

    @property
    def prefetched(self) -> bool:
        return bool(self._data.get("prefetched"))

    def mark_prefetched(self) -> None:
        self._data["prefetched"] = True

    def _empty(self) -> Dict[str, Any]:
        return {**self._identity, **{kind: {} for kind in KINDS}}

    def _load(self) -> Dict[str, Any]:
        empty = self._empty()
        if self.path is None:
            return empty
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError):
            return empty
        if not isinstance(stored, dict) or any(stored.get(key) != value for key, value in self._identity.items()):
            return empty
        if not all(isinstance(stored.get(kind), dict) for kind in KINDS):
            return empty
        return stored

    def save(self) -> None:
        """Write the file atomically; a cache that cannot be written is no error."""
        if self.path is None:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self._data, handle, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
