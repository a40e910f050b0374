"""pprof labels of a goroutine (runtime/pprof.Do, SetGoroutineLabels): what g.labels points at.

g.labels holds the *labelMap of runtime/pprof, whose shape changed in Go 1.24 (label.go):
up to 1.23 `type labelMap map[string]string`, so a pointer to a map, read here bucket by
bucket as runtime/map.go lays out a map[string]string; from 1.24 `struct{ LabelSet }`, whose
`list []label` holds {key, value string} pairs in order. It is a library's representation,
not a runtime structure with DWARF of its own in every binary, so the release decides.
"""

from __future__ import annotations

import struct
from typing import Dict, List, Optional, Tuple

from gdbgomem.runtime.goruntime import GoRuntime

LABEL_SLICE_RELEASE = (1, 24)   # labelMap became struct{ LabelSet }
MAX_LABELS = 1024               # bounds a corrupt list or map
MAX_TEXT = 4096                 # bounds a corrupt key or value
# runtime.hmap (map.go, 1.21-1.23): count at 0, flags at 8, B at 9, buckets at 16, oldbuckets at 24
HMAP = struct.Struct("<QBB6xQQ")
SAME_SIZE_GROW = 8              # hmap.flags: the old buckets are as many as the new ones
BUCKET_ENTRIES = 8              # abi.OldMapBucketCount
# a map[string]string bucket: 8 tophash bytes, 8 keys, 8 values (16 bytes each), the overflow pointer
BUCKET_SIZE = BUCKET_ENTRIES + 2 * 16 * BUCKET_ENTRIES + 8
MIN_TOP_HASH = 5                # tophash values below it mark empty or evacuated slots
MAX_BUCKETS_LOG = 16


def goroutine_labels(rt: GoRuntime, labels_address: int) -> Dict[str, str]:
    """The labels at a g.labels value, {} for none or where memory cannot be read."""
    if not labels_address:
        return {}
    pairs = _from_list(rt, labels_address) if rt.version[:2] >= LABEL_SLICE_RELEASE else \
        _from_map(rt, labels_address)
    return dict(sorted(pairs))


def _from_list(rt: GoRuntime, address: int) -> List[Tuple[str, str]]:
    header = rt.target.try_read(address, 24)
    if header is None:
        return []
    array, length, _cap = struct.unpack("<QQQ", header)
    data = rt.target.try_read(array, 32 * length) if 0 < length <= MAX_LABELS else None
    if data is None:
        return []
    return [pair for i in range(length) if (pair := _pair(rt, data, 32 * i)) is not None]


def _from_map(rt: GoRuntime, address: int) -> List[Tuple[str, str]]:
    word = rt.target.try_read(address, 8)
    hmap = struct.unpack("<Q", word)[0] if word else 0
    head = rt.target.try_read(hmap, HMAP.size) if hmap else None
    if head is None:
        return []
    count, flags, log_buckets, buckets, oldbuckets = HMAP.unpack(head)
    if not 0 < count <= MAX_LABELS or log_buckets > MAX_BUCKETS_LOG:
        return []
    pairs: List[Tuple[str, str]] = []
    old = 1 << (log_buckets if flags & SAME_SIZE_GROW else max(0, log_buckets - 1))
    for table, n in ((buckets, 1 << log_buckets), (oldbuckets, old)):  # a map that is growing has both
        for i in range(n if table else 0):
            pairs += _bucket_chain(rt, table + i * BUCKET_SIZE, count)
    return list(dict(pairs).items())[:count]


def _bucket_chain(rt: GoRuntime, bucket: int, count: int) -> List[Tuple[str, str]]:
    pairs: List[Tuple[str, str]] = []
    for _ in range(count + 1):  # a chain holds no more buckets than the map has entries
        data = rt.target.try_read(bucket, BUCKET_SIZE) if bucket else None
        if data is None:
            break
        for slot in range(BUCKET_ENTRIES):
            if data[slot] >= MIN_TOP_HASH:
                key = _text(rt, data, BUCKET_ENTRIES + 16 * slot)
                value = _text(rt, data, BUCKET_ENTRIES + 16 * BUCKET_ENTRIES + 16 * slot)
                if key is not None and value is not None:
                    pairs.append((key, value))
        bucket = struct.unpack_from("<Q", data, BUCKET_SIZE - 8)[0]
    return pairs


def _pair(rt: GoRuntime, data: bytes, offset: int) -> Optional[Tuple[str, str]]:
    key, value = _text(rt, data, offset), _text(rt, data, offset + 16)
    return (key, value) if key is not None and value is not None else None


def _text(rt: GoRuntime, data: bytes, offset: int) -> Optional[str]:
    pointer, length = struct.unpack_from("<QQ", data, offset)
    if length == 0:
        return ""
    raw = rt.target.try_read(pointer, length) if 0 < length <= MAX_TEXT else None
    return raw.decode("utf-8", "replace") if raw is not None else None
