"""go-heap, go-spans, go-span, go-arenas, go-pages and go-sizeclasses on the heap fixture, per Go
release and per host (gdb and lldb attached, the standalone reader on a core of the same state),
compared with the runtime.MemStats the fixture read at a quiet point and with its sample objects."""

from __future__ import annotations

import re

import pytest

from devtools import fixtures, hostrun
from tests.e2e.harness import BUILDS, HOSTS, chunk_probes, subject, type_mask_command

pytestmark = pytest.mark.e2e
PAGE = 8192


@pytest.fixture(params=[(host, build) for build in BUILDS for host in HOSTS], ids="-".join)
def h(request, running, go_version):
    """One host's look at the heap fixture, built one of the ways programs ship."""
    host, build = request.param
    return subject(running, "heap", go_version, build).look(host)


def span_of(h, address):
    return h.json(f"go-span {address} --json --bytes 64")


def version(h):
    return tuple(int(x) for x in h.truth["go_version"][2:].split("."))


def test_heap_totals_equal_memstats(h):
    ms, heap = h.truth["memstats"], h.json("go-heap --json")
    assert heap["heap_inuse_bytes"] == ms["heap_inuse"]
    assert heap["stack_inuse_bytes"] == ms["stack_inuse"]  # manual spans other than GC work buffers
    # An object allocated from a span a P holds in its mcache reaches MemStats only when the span
    # leaves the cache (mcache.go refill/releaseAll); the fixture's last write may leave one such span.
    assert heap["heap_objects"] - heap["objects_not_in_memstats"] == ms["heap_objects"]
    assert 0 <= heap["objects_not_in_memstats"] <= 8
    pages = heap["pages"]
    # Free pages: the page allocator's, plus pages a P took into its page cache (marked allocated there,
    # idle for MemStats), plus the random padding of 1.26+ heaps (allocated and scavenged, never used).
    assert (pages["free"] + pages["cached_free"] + pages["padding"]) * PAGE == ms["heap_idle"]
    assert (pages["scavenged"] + pages["cached_scavenged"]) * PAGE == ms["heap_released"]
    assert pages["total"] * PAGE == ms["heap_sys"] + ms["stack_inuse"] + heap["workbuf_bytes"] + heap["gcprog_bytes"]
    # the randomized heap base (1.26+) pads with a random 0 to 511 pages (mheap.go grow): 0 one time in 512
    assert pages["padding"] == 0 or version(h) >= (1, 26)
    # resident memory: the host asks /proc/PID/smaps of a live local process; a core has no /proc
    assert heap["resident_bytes"] is None if h.on_core else 0 < heap["resident_bytes"] <= pages["total"] * PAGE
    # the kernel's figures need /proc; the madvise mode is read from memory, so a core has it too
    assert (heap["page_faults"] is None) == h.on_core == (heap["scavenged_resident_bytes"] is None)
    assert (heap["madvise"]["madvdontneed"], heap["madvise"]["advice"]) == (1, "MADV_DONTNEED")
    spans = h.json("go-spans --json")["spans"]
    assert all((s["resident_bytes"] is None) == h.on_core for s in spans)


# go-offheap's figure -> the fixture's runtime.MemStats field
MEMSTATS = {"HeapSys": "heap_sys", "StackInuse": "stack_inuse", "StackSys": "stack_sys", "MSpanInuse": "mspan_inuse",
            "MSpanSys": "mspan_sys", "MCacheInuse": "mcache_inuse", "MCacheSys": "mcache_sys",
            "BuckHashSys": "buck_hash_sys", "GCSys": "gc_sys", "OtherSys": "other_sys", "Sys": "sys"}


def test_off_heap_memory_equals_memstats(h):
    """Every off-heap figure, read from where ReadMemStats reads it, equals the program's own MemStats."""
    off = h.json("go-offheap --json")
    assert {k: off["memstats"][k] for k in MEMSTATS} == {k: h.truth["memstats"][v] for k, v in MEMSTATS.items()}
    structures = off["structures"]
    assert structures["mspan_structs"] * structures["mspan_size"] == off["memstats"]["MSpanInuse"]
    assert structures["mcache_structs"] >= h.truth["gomaxprocs"]  # one per P at least
    assert structures["heap_arena_metadata_bytes"] <= structures["gc_misc_bytes"]  # heapArena structs count there
    assert "MSpanInuse" in h.outputs["go-offheap"] and "found through mheap_.spanalloc.stat" in h.outputs["go-offheap"]


def test_explain_does_the_runtimes_arithmetic(h):
    """--explain's numbers against the runtime's own: mspan.spanclass, nelems, the arenas' index."""
    for sample in h.truth["samples"]:
        out = h.json(f"go-span {sample['addr']} --explain --json")
        span, why = out["span"], out["explain"]
        assert why["spanclass"] == span["spanclass"]  # sizeclass << 1 | noscan, as the runtime stored it
        assert why["slots_bytes"] == span["nelems"] * span["elemsize"]
        assert why["slots_bytes"] + why["tail_bytes"] + why["heap_bits_bytes"] + why["inline_mark_bytes"] == \
            span["bytes"]
        assert 0 <= why["tail_bytes"] < span["elemsize"]  # the runtime's nelems fills the rest
        in_span = version(h) >= (1, 22) and span["sizeclass"] and not span["noscan"] and span["elemsize"] <= 512
        assert why["heap_bits_bytes"] == (span["bytes"] // 64 if in_span else 0)
    arenas = h.json("go-arenas --explain --json")
    by_base = {a["base"]: a for a in arenas["arenas"]}
    for a in arenas["explain"]["arenas"]:
        assert (a["l1"], a["l2"]) == (by_base[a["base"]]["l1"], by_base[a["base"]]["l2"])
    assert "arenaBaseOffset" in h.outputs["go-arenas --explain"]


def test_spans_add_up(h):
    spans = h.json("go-spans --json")["spans"]
    assert {s["state"] for s in spans} <= {"inuse", "manual"}
    inuse = [s for s in spans if s["state"] == "inuse"]
    assert sum(s["bytes"] for s in inuse) == h.truth["memstats"]["heap_inuse"]
    table = {c["class"]: c for c in h.json("go-sizeclasses --json")["classes"]}
    for s in inuse:
        # the true tail and what the runtime reserves at the end add up to the span, given the
        # runtime's own nelems: initSpan's nelems = (bytes - reserved) // elemsize leaves < elemsize
        assert s["nelems"] * s["elemsize"] + s["tail_bytes"] + s["heap_bits_bytes"] + s["inline_mark_bytes"] \
            == s["bytes"]
        assert 0 <= s["tail_bytes"] < s["elemsize"] or not s["sizeclass"]
        if s["sizeclass"] and not s["heap_bits_bytes"] and not s["inline_mark_bytes"]:
            assert s["tail_bytes"] == table[s["sizeclass"]]["tail_waste"]  # sizeclasses.go's own column
        if s["sizeclass"]:
            assert s["elemsize"] == table[s["sizeclass"]]["size"]
            assert s["npages"] == table[s["sizeclass"]]["npages"]
            assert 0 <= s["alloc_count"] <= s["nelems"] <= table[s["sizeclass"]]["objects"]
        else:
            assert s["nelems"] == 1 and s["alloc_count"] == 1 and s["elemsize"] <= s["bytes"]
    free = h.json("go-spans --json --state free")["spans"]
    assert free and all(s["state"] == "free" for s in free)
    summary = h.json("go-spans --summary --json")
    assert sum(c["spans"] for c in summary["classes"]) == len(inuse)
    assert sum(c["objects"] for c in summary["classes"]) == sum(s["alloc_count"] for s in inuse)


def test_size_class_table_is_the_runtimes(h):
    root = fixtures.goroot(h.fixture.version) / "src"
    source = next(p for p in (root / "internal/runtime/gc/sizeclasses.go", root / "runtime/sizeclasses.go")
                  if p.exists()).read_text()
    rows = re.findall(r"^//\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)%", source, re.M)
    classes = h.json("go-sizeclasses --json")["classes"]
    assert classes[0]["class"] == 0 and classes[0]["size"] == 0
    assert [(c["class"], c["size"], c["span_bytes"], c["objects"], c["tail_waste"]) for c in classes[1:]] == \
        [tuple(int(x) for x in r[:5]) for r in rows]
    assert [c["max_waste_pct"] for c in classes[1:]] == [float(r[5]) for r in rows]
    live = {c["class"]: c["live_objects"] for c in classes}
    assert live[5] >= h.truth["counts"]["small_kept"]  # 48-byte class holds the kept small objects


def slots_per_span(h, elemsize, noscan):
    """Slots of a one-page span of elemsize, by the layout rules of the binary's release:
    1.22+ scan spans of small objects keep 128 B of heap bits at the end, Green Tea GC
    (1.26+) keeps 128 B of inline mark bits for objects of 16..512 B."""
    reserved = 0
    if not noscan and version(h) >= (1, 22):
        reserved += PAGE // 64
    if version(h) >= (1, 26) and 16 <= elemsize <= 512:
        reserved += 128
    return (PAGE - reserved) // elemsize


def test_samples_are_found_in_their_spans(h):
    for sample in h.truth["samples"]:
        got = span_of(h, sample["addr"])
        span, obj = got["span"], got["object"]
        assert span["state"] == "inuse" and span["noscan"] == sample["noscan"], sample
        assert obj["base"] == sample["addr"] and obj["offset"] == 0 and obj["allocated"] is True
        assert bytes.fromhex(obj["bytes"])[:8] == sample["word0"].to_bytes(8, "little")
        if sample["large"]:
            assert span["sizeclass"] == 0 and span["base"] == sample["addr"]
            assert span["npages"] == -(-sample["size"] // PAGE)
        else:
            assert span["elemsize"] == sample["size"] and span["npages"] == 1
            assert span["nelems"] == slots_per_span(h, sample["size"], sample["noscan"])


def test_pointer_bits_come_from_the_right_place(h):
    by_kind = {}
    for sample in h.truth["samples"]:
        by_kind.setdefault(sample["kind"], span_of(h, sample["addr"]))
    small, ptr, large_scan = by_kind["small"]["object"], by_kind["ptr"]["object"], by_kind["large_scan"]["object"]
    assert small["pointer_bits"] == "none (noscan)" and not any(small["pointer_words"])
    if version(h) < (1, 22):
        assert ptr["pointer_bits"] == large_scan["pointer_bits"] == "arena bitmap"
    else:
        green = version(h) >= (1, 26)
        assert ptr["pointer_bits"] == ("span heap bits + inline marks" if green else "span heap bits")
        assert large_scan["pointer_bits"] == "largeType"
        assert large_scan["type_name"] and large_scan["type_name"].startswith("main.")
    # the 64-byte object holds one pointer, in its first word; the large one holds nothing but
    # pointers, and its span's slack past the object's 40000 bytes holds none
    assert ptr["pointer_words"] == [True] + [False] * 7
    size = next(s["size"] for s in h.truth["samples"] if s["kind"] == "large_scan")
    assert all(large_scan["pointer_words"][:size // 8]) and not any(large_scan["pointer_words"][size // 8:])


def test_gc_program_object(h):
    """A large object whose type the compiler describes with a GC program (over 16384 pointer-data
    words, up to 1.23): its pointer words repeat 1001 whichever way the release keeps them; 1.22-1.23
    keep its type's program unrolled in a manual span of their own, which its largeType points at,
    and which MemStats counts in GCSys, not in StackInuse (test_heap_totals_equal_memstats)."""
    sample = next(s for s in h.truth["samples"] if s["kind"] == "gcprog")
    got = span_of(h, sample["addr"])
    words = sample["size"] // 8
    assert got["object"]["pointer_words"][:words] == [True, False, False, True] * (words // 4)
    assert not any(got["object"]["pointer_words"][words:])
    manual = h.json("go-spans --json --state manual")["spans"]
    unrolled = [s for s in manual if s["manual_use"] == "gcprog"]
    heap = h.json("go-heap --json")
    if (1, 22) <= version(h) < (1, 24):
        assert [s["base"] for s in unrolled] == [got["span"]["large_type"]] and unrolled[0]["npages"] == 1
        assert heap["gcprog_bytes"] == PAGE and "GC programs" in h.outputs["go-heap"]
        assert got["object"]["type_name"] is None and any("GC program" in n for n in got["object"]["notes"])
    else:
        assert unrolled == [] and heap["gcprog_bytes"] == 0 and "GC programs" not in h.outputs["go-heap"]
        assert got["object"]["type_name"] == ("main.gcProgObj" if version(h) >= (1, 24) else None)
    if h.host == "gdb" and not h.on_core:
        # the type's own mask: 1.21-1.23 run its GC program, 1.24+ build it from the element type
        mask = h.outputs[type_mask_command(h.truth)].split("MASK", 1)[1].split()[0]
        assert mask == "1001" * (words // 4)


def test_freed_slots_are_free(h):
    for address in h.truth["freed_addrs"] + h.truth["freed_ptr_addrs"]:
        obj = span_of(h, address)["object"]
        assert obj["base"] == address and obj["allocated"] is False


def test_arenas_hold_every_sample(h):
    arenas = h.json("go-arenas --json")["arenas"]
    size = 64 << 20
    assert arenas and all(a["base"] % size == 0 for a in arenas)
    for sample in h.truth["samples"]:
        assert any(a["base"] <= sample["addr"] < a["base"] + size for a in arenas), sample
    spans = h.json("go-spans --json")["spans"]
    assert sum(a["pages_in_use"] for a in arenas) == sum(s["npages"] for s in spans if s["state"] == "inuse")
    assert sum(a["span_starts_in_use"] for a in arenas) == sum(1 for s in spans if s["state"] == "inuse")


def test_text_views(h):
    assert "in-use spans" in h.outputs["go-heap"] and "returned to the OS" in h.outputs["go-heap"]
    assert "FREE SLOTS" in h.outputs["go-spans --summary"]
    picture = h.outputs["go-arenas --map"]
    assert re.search(r"\|[#s.~p ]+\|", picture) and "#" in picture


def test_the_arena_map_tells_padding_from_never_used(h):
    """1.26+ randomizes the heap's base: the pages skipped are allocated and scavenged, no span's;
    the map draws them as 'p', as many as go-heap counts (from the page allocator's own bits)."""
    drawn = sum(a["map"].count("p") for a in h.json("go-arenas --map --json")["arenas"])
    assert drawn == h.json("go-heap --json")["pages"]["padding"]
    assert drawn == 0 or version(h) >= (1, 26)  # 0 to 511 random pages; none before 1.26
    assert ("p random padding" in h.outputs["go-arenas --map"]) == (drawn > 0)


def test_stack_spans_show_no_object_counts(h):
    """A manual span (goroutine stacks, gsignal stacks) holds no objects: ALLOC, FREE and UTIL are '-'."""
    manual = h.json("go-spans --json --state manual")["spans"]
    rows = {row["BASE"]: row for row in table_rows(h.outputs["go-spans --state manual"])}
    assert manual and len(rows) == len(manual)
    for s in manual:
        row = rows[f"0x{s['base']:x}"]
        assert row["STATE"].startswith("manual (") and (row["ALLOC"], row["FREE"], row["UTIL"]) == ("-", "-", "-")


def table_rows(text: str) -> list:
    """A text table's rows as {header: cell}, cut at the columns' starts (cells may hold spaces)."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("BASE"))
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", lines[header])]
    ends = [s for s, _ in starts[1:]] + [None]
    return [{name: line[start:end].strip() for (start, name), end in zip(starts, ends)}
            for line in lines[header + 1:] if line.startswith("0x")]


def test_size_classes_say_why_live_spans_hold_fewer_objects(h):
    """From 1.22 a span of small pointerful objects keeps its heap bits in its last span_bytes/64 bytes,
    so it holds fewer objects than the class table counts; go-sizeclasses says so, with the spans' own count."""
    table = {c["class"]: c for c in h.json("go-sizeclasses --json")["classes"]}
    fewer = {s["sizeclass"]: s["nelems"] for s in h.json("go-spans --json")["spans"]
             if s["state"] == "inuse" and s["sizeclass"] and s["nelems"] < table[s["sizeclass"]]["objects"]}
    text = " ".join(h.outputs["go-sizeclasses"].split())
    if version(h) < (1, 22):
        assert not fewer and "hold fewer objects" not in text
        return
    klass = min(fewer)
    c = table[klass]
    assert fewer[klass] == (c["span_bytes"] - c["span_bytes"] // 64) // c["size"]  # heap bits: 1 bit a word
    assert (f"live spans of {len(fewer)} classes hold fewer objects than OBJECTS (class {klass}: {fewer[klass]}, "
            f"not {c['objects']})") in text


def runs(picture: str):
    """(start, max, end) free pages of a chunk map, as a pallocSum would hold them."""
    free = [c in ".~" for c in picture]
    start = next((i for i, f in enumerate(free) if not f), len(free))
    end = next((i for i, f in enumerate(reversed(free)) if not f), len(free))
    best = run = 0
    for f in free:
        run = run + 1 if f else 0
        best = max(best, run)
    return start, best, end


def test_page_summaries_agree_with_chunk_bitmaps(h):
    pages = h.json("go-pages --json")
    heap = h.json("go-heap --json")
    assert (pages["in_use_pages"], pages["free_pages"], pages["scavenged_pages"]) == \
        (heap["pages"]["in_use"], heap["pages"]["free"], heap["pages"]["scavenged"])
    assert [lvl["level"] for lvl in pages["levels"]] == [0, 1, 2, 3, 4]
    # the runtime keeps the summaries and the bitmaps separately; at rest they must agree
    for address in chunk_probes(h.truth):
        got = h.json(f"go-pages --json --level 4 --chunk {address}")
        chunk = got["chunk"]
        leaf = next(e for e in got["levels"][0]["entries"] if e["base"] == chunk["base"])
        assert (leaf["start"], leaf["max"], leaf["end"]) == runs(chunk["map"]), hex(chunk["base"])
        assert chunk["base"] <= address < chunk["base"] + 512 * PAGE
    # the root's longest run is the longest run of free pages anywhere in the heap
    assert max(e["max"] for e in pages["levels"][0]["entries"]) == pages["largest_free_run_pages"]
    assert "summary level 4" in h.outputs["go-pages"]


@pytest.mark.skipif("1.25.5" not in fixtures.go_versions(), reason="needs Go 1.25.5 (GO_VERSIONS)")
def test_green_tea_experiment_is_detected_by_feature_not_version(ptrace_allowed):
    # Go 1.25 ships the Green Tea GC as an experiment, off by default: built with it, the binary
    # has the inline-mark-bits type, and spans of small objects give up 128 more bytes.
    fixture = fixtures.start("heap", "1.25.5", ["-small", "1000", "-ptr", "1000", "-large", "2"],
                             experiment="greenteagc")
    try:
        ptr = next(s for s in fixture.truth["samples"] if s["kind"] == "ptr")
        got = hostrun.json_of(hostrun.run_gdb(hostrun.attach(fixture.pid), [f"go-span {ptr['addr']} --json"])[0])
    finally:
        fixture.stop()
    assert got["object"]["pointer_bits"] == "span heap bits + inline marks"
    assert got["span"]["nelems"] == (PAGE - 128 - 128) // 64
    assert got["object"]["pointer_words"] == [True] + [False] * 7
