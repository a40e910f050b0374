"""The HTML report's drawing over made-up JSON: strings from the target are escaped, a section
without its data says why and the others stand, and a huge process stays a small page."""

from __future__ import annotations

from devtools.browser import Page
from gdbgomem.render.html_report import report_html
from gdbgomem.render.svg import cells_of, page_map

HOSTILE = '<script>alert("x")</script>&<img src=//evil.example/x>'


def mapping(start: int, size: int, role: str, path=None) -> dict:
    return {"start": start, "end": start + size, "size": size, "perms": "rw-p", "path": path, "role": role,
            "roles": [role], "rss": size // 2, "anonymous": 0, "swap": 0, "saved": None}


def gathered(goroutine_groups: int = 3, per_group: int = 2, arenas: int = 1) -> dict:
    groups = [{"key": HOSTILE, "count": per_group, "goids": list(range(i * per_group, (i + 1) * per_group)),
               "status": "waiting", "wait_reason": f"chan receive {HOSTILE}" if i % 2 else "select",
               "frames": [{"function": f"main.f{i}[{HOSTILE}]", "file": "/x/<b>.go", "line": 7}]}
              for i in range(goroutine_groups)]
    total = goroutine_groups * per_group
    arena_list = [{"index": i, "l1": 0, "l2": i, "base": 0xc000000000 + (i << 26), "heap_arena_address": 1,
                   "spans": 10, "pages_in_use": 4000, "span_starts_in_use": 1, "span_starts_marked": 1,
                   "map": ("#" * 4000 + "s" * 100 + "." * 1000 + "~" * 3092)} for i in range(arenas)]
    return {
        "info": {"go_version": "go1.27.3", "executable": f"/bin/{HOSTILE}", "goroutines": total, "threads": 3,
                 "gomaxprocs": 2, "layout_source": "DWARF", "pid": 1, "core": False},
        "maps": {"mappings": [mapping(0x400000, 1 << 20, "program .text", f"/bin/{HOSTILE}"),
                              mapping(0xc000000000, 64 << 20, "Go heap arena")],
                 "totals": {"vsz": 65 << 20, "rss": 1 << 20, "anonymous": 0, "swap": 0}, "kernel": None},
        "arenas": {"arenas": arena_list}, "resident": None,
        "pages": {"ranges": [{"base": 0xc000000000, "limit": 0xc004000000}], "chunks_in_use": 16,
                  "in_use_pages": 4100, "free_pages": 4092, "scavenged_pages": 3092, "padding_pages": 0,
                  "search_address": 0xc000000000, "largest_free_run_pages": 3092, "largest_free_run_address": 1},
        "spans": {"classes": [{"sizeclass": k, "noscan": k % 2 == 0, "elemsize": 8 * k, "spans": 100, "bytes": 819200,
                               "objects": 10, "capacity": 20, "bytes_in_use": 80 * k, "free_slot_bytes": 80 * k,
                               "tail_bytes": 16} for k in range(1, 68)], "total_spans": 6700, "note": "n"},
        "goroutines": {"by_status": {"waiting": total}, "total": total},
        "bt": {"group_by": "stack", "groups": groups, "goroutines": total},
        "longest": [{"goid": 5, "status": "waiting", "wait_reason": HOSTILE, "waited_ns": 3_000_000_000,
                     "waitsince": 12, "user_function": HOSTILE, "function": "runtime.gopark"}],
        "offheap": {"memstats": dict.fromkeys(("HeapSys", "StackInuse", "StackSys", "MSpanInuse", "MSpanSys",
                                               "MCacheInuse", "MCacheSys", "BuckHashSys", "GCSys", "OtherSys",
                                               "Sys"), 4096),
                    "structures": {"mspan_structs": 1, "mspan_size": 160, "mcache_structs": 2, "mcache_size": 2000,
                                   "heap_arenas": arenas, "heap_arena_size": 1 << 20,
                                   "heap_arena_metadata_bytes": arenas << 20, "os_stacks_bytes": 0,
                                   "gc_misc_bytes": 1, "gc_workbuf_bytes": 2, "gc_program_bits_bytes": 0}},
        "types": {"types": [{"type": f"main.T[{HOSTILE}]", "objects": 3, "bytes": 96}],
                  "reachable": {"objects": 3, "bytes": 96},
                  "unreachable": {"objects": 0, "bytes": 0, "types": []}},
    }


def test_strings_from_the_target_are_escaped():
    html = report_html(gathered(), f"pid 1 {HOSTILE}", on_core=False)
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img" in html
    assert html.count("<script>") == 1  # the page's own, and nothing else
    links = Page(html).links  # the hostile src is text, not an attribute
    assert links and all(link.startswith("#") for link in links), links


def test_a_section_without_its_data_says_why_and_the_rest_stands():
    data = gathered()
    data["types"] = "go-types could not be run: go-types needs numpy, which this Python cannot import"
    data["spans"] = "go-spans could not be run: <memory unreadable>"
    html = report_html(data, "core of pid 1", on_core=True)
    assert '<p class="missing">go-types could not be run: go-types needs numpy' in html
    assert "&lt;memory unreadable&gt;" in html
    for section in ("maps", "arenas", "goroutines", "offheap"):
        assert f'<section id="{section}">' in html
    assert 'id="spans-classes"' not in html and 'id="types-totals"' not in html


def test_a_huge_process_is_drawn_in_aggregate():
    """100 000 goroutines in 20 000 stacks and 160 arenas (10 GiB): groups listed up to a bound, page
    maps merged into runs; the page stays well under a few MiB."""
    html = report_html(gathered(goroutine_groups=20_000, per_group=5, arenas=160), "pid 1", on_core=False)
    assert len(html) < 3 << 20, len(html)
    assert html.count('<tr data-key=') < 2000
    assert "19,960 more stacks with 99,800 goroutines not listed" in html


def test_a_page_map_cell_shows_its_most_common_kind_and_runs_merge():
    assert cells_of("##s." + "...." + "~~##", 4, "#s~.p ") == "#.#"
    svg = page_map([("0xc000000000", "#" * 100 + "." * 28)], {"#": "heap", ".": "free"}, 64, "m")
    assert svg.count("<rect") == 3  # one run of 64, one of 36 and one of 28
