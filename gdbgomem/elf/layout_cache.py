"""What a binary's DWARF answered, kept on disk so a later session need not read DWARF again;
and, for a binary stripped of its symbols, where the runtime's code says its globals are
(symbol_finder: disassembly that costs more than the rest of a first command).

One JSON file per binary, in $GDBGOMEM_CACHE_DIR/binaries/<build id>.json (by default
under $XDG_CACHE_HOME/gdbgomem, i.e. ~/.cache/gdbgomem). A cache that answers wrongly is worse
than none, so an entry is used only when all of this holds, and is otherwise ignored, rebuilt
and reported in one warning line:
  - it was written for this very file: its build id, size and SHA-256 of its content (taken
    when the cache is first needed, not when the binary is opened);
  - its own content is intact: a checksum over its text, stored at its end;
  - every answer has the shape an answer has (a schema check);
  - it is ours: the directory was made 0700 and the file 0600 by this user; a directory or
    file owned by another user, or writable by others, is not used at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from typing import Any, Callable, Dict, Optional

CACHE_DIR_ENV = "GDBGOMEM_CACHE_DIR"
# Bump when what is stored (or how a layout is computed) changes: older files are ignored.
CACHE_FORMAT = 4
KINDS = ("layouts", "constants", "variables", "addresses", "found")  # found: link-time addresses from code


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


def content_hash(data) -> str:
    """SHA-256 of a file's bytes (a memory map: about 1.5 GB/s with the CPU's SHA instructions)."""
    return hashlib.sha256(data).hexdigest()


class LayoutCache:
    """The answers for one binary: a table per kind (name -> JSON value), and whether the
    whole wish list was resolved already (`prefetched`). path None: kept in memory only."""

    def __init__(self, path: Optional[str], identity: Callable[[], Dict[str, Any]]):
        """identity: the binary's build id, size and content hash, computed on first use."""
        self.path = path
        self._identity_of = identity
        self._identity: Optional[Dict[str, Any]] = None
        self._data: Optional[Dict[str, Any]] = None
        self.warning: Optional[str] = None  # what was wrong with the file on disk, if anything
        self.hit = False  # the file on disk held the whole wish list already

    def table(self, kind: str) -> Dict[str, Any]:
        return self._loaded()[kind]

    @property
    def prefetched(self) -> bool:
        return bool(self._loaded().get("prefetched"))

    def mark_prefetched(self) -> None:
        self._loaded()["prefetched"] = True

    def _loaded(self) -> Dict[str, Any]:
        if self._data is None:
            self._identity = {"format": CACHE_FORMAT, **self._identity_of()}
            self._data = self._load()
            self.hit = bool(self._data.get("prefetched"))
        return self._data

    def _empty(self) -> Dict[str, Any]:
        return {**self._identity, **{kind: {} for kind in KINDS}}

    def _load(self) -> Dict[str, Any]:
        if self.path is None or not self._ours(os.path.dirname(self.path), directory=True):
            return self._empty()
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                if not self._ours(self.path, directory=False, descriptor=handle.fileno()):
                    return self._empty()
                text = handle.read()
            stored = json.loads(text)
        except FileNotFoundError:
            return self._empty()
        except (OSError, ValueError) as exc:
            return self._rejected(f"it cannot be read ({exc})")
        if not isinstance(stored, dict) or stored.get("format") != CACHE_FORMAT:
            return self._empty()  # an older gdbgomem's: replaced without a word
        if any(stored.get(key) != value for key, value in self._identity.items()):
            return self._rejected("it was written for another file with the same build id")
        if not _intact(text):
            return self._rejected("its checksum does not match its content")
        if not _well_formed(stored):
            return self._rejected("an answer in it does not have the shape of one")
        return stored

    def _ours(self, path: str, directory: bool, descriptor: Optional[int] = None) -> bool:
        """A directory or file of this user that nobody else may write; a missing directory is fine."""
        try:
            info = os.fstat(descriptor) if descriptor is not None else os.stat(path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            self.path = None  # neither read nor written: another user could have put anything there
            self._warn(f"the layout cache {'directory' if directory else 'file'} {path} is not used: it is "
                       f"{'owned by another user' if info.st_uid != os.getuid() else 'writable by others'}")
            return False
        return True

    def _rejected(self, why: str) -> Dict[str, Any]:
        self._warn(f"ignored the layout cache {self.path}: {why}; it is rebuilt from the binary's DWARF")
        return self._empty()

    def _warn(self, text: str) -> None:
        self.warning = text
        sys.stderr.write(f"gdbgomem: warning: {text}\n")

    def save(self) -> None:
        """Write the file atomically, 0600 in a 0700 directory; a cache that cannot be written is no error."""
        if self.path is None or self._data is None:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(encode(self._data))
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass


CHECKSUM_KEY = ',"checksum":"'  # the file's last member: SHA-256 of the text before it, closed with "}"


def encode(data: Dict[str, Any]) -> str:
    """The file's text: the data (but a checksum it holds) as compact JSON, its checksum last."""
    body = json.dumps({key: value for key, value in data.items() if key != "checksum"}, separators=(",", ":"))
    return body[:-1] + CHECKSUM_KEY + hashlib.sha256(body.encode()).hexdigest() + '"}'


def _intact(text: str) -> bool:
    """The checksum at the end of the file's text is that of the text before it: checked on the
    bytes as read, not by encoding what they decode to again (which took more time than the rest
    of a cached session's first command)."""
    head, found, tail = text.rpartition(CHECKSUM_KEY)
    return bool(found) and tail.rstrip("\n") == hashlib.sha256((head + "}").encode()).hexdigest() + '"}'


def _well_formed(data: Dict[str, Any]) -> bool:
    """Every table a dict of name -> answer, each answer of its kind's shape (or None: absent)."""
    if not all(isinstance(data.get(kind), dict) for kind in KINDS):
        return False
    numbers = all(value is None or type(value) is int  # noqa: E721 (bool is not an answer)
                  for kind in ("constants", "variables", "addresses", "found") for value in data[kind].values())
    return numbers and all(value is None or _layout_shaped(value) for value in data["layouts"].values())


def _layout_shaped(value: Any, depth: int = 0) -> bool:
    if depth > 8 or not isinstance(value, dict) or not isinstance(value.get("name"), str) \
            or type(value.get("size")) is not int or not isinstance(value.get("fields"), dict):
        return False
    for member in value["fields"].values():
        if not (isinstance(member, list) and len(member) == 4 and type(member[0]) is int
                and type(member[1]) is int and isinstance(member[2], str)
                and (member[3] is None or _layout_shaped(member[3], depth + 1))):
            return False
    return True
