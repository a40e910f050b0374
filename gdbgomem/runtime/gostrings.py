"""Go strings and string arrays in target memory (runtime.buildVersion, waitReasonStrings)."""

from __future__ import annotations

import struct
from typing import List, Optional

from gdbgomem.runtime.target import Target

MAX_STRING = 1 << 16  # no runtime name table holds longer strings; bounds corrupt lengths


def read_string(target: Target, header_address: int) -> Optional[str]:
    """The Go string whose {ptr, len} header is at header_address; None if unreadable."""
    header = target.try_read(header_address, 16)
    if header is None:
        return None
    ptr, length = struct.unpack("<QQ", header)
    return _decode(target, ptr, length)


def read_string_array(target: Target, address: int, count: int) -> List[Optional[str]]:
    """A Go [count]string array: one read for the headers, one bulk read for the bytes."""
    headers = target.try_read(address, 16 * count)
    if headers is None:
        return [None] * count
    pairs = [struct.unpack_from("<QQ", headers, 16 * i) for i in range(count)]
    regions = [(ptr, length) if 0 < length <= MAX_STRING else (0, 0) for ptr, length in pairs]
    blobs = target.read_many(regions)
    out: List[Optional[str]] = []
    for (ptr, length), blob in zip(pairs, blobs):
        if length == 0:
            out.append("")
        elif blob is None:
            out.append(None)
        else:
            out.append(blob.decode("utf-8", "replace"))
    return out


def _decode(target: Target, ptr: int, length: int) -> Optional[str]:
    if length == 0:
        return ""
    if not 0 < length <= MAX_STRING:
        return None
    data = target.try_read(ptr, length)
    return data.decode("utf-8", "replace") if data is not None else None
