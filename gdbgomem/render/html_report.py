"""The HTML report as one page: each section from the JSON of the commands that show the
same thing, a section whose data could not be read replaced by the reason, so one missing
piece (numpy for go-types, a core without the heap) leaves the rest of the report standing."""

from __future__ import annotations

from typing import Callable, Dict, List, Union

from gdbgomem.render.html_page import failed, page
from gdbgomem.render.report_memory import arenas_section, maps_section, offheap_section, spans_section
from gdbgomem.render.report_program import goroutines_section, header, roots_section, types_section

Gathered = Dict[str, Union[dict, list, str, None]]  # a command's JSON, or why it could not be had (a str)

# (section id, title, the gathered parts it needs, how it is drawn)
SECTIONS = (
    ("maps", "Process map", ("maps",), lambda g, core: maps_section(g["maps"], core)),
    ("arenas", "Heap arenas and pages", ("arenas", "pages"),
     lambda g, core: arenas_section(g["arenas"], g.get("resident"), g["pages"])),
    ("spans", "Span utilization by size class", ("spans",), lambda g, core: spans_section(g["spans"])),
    ("goroutines", "Goroutines", ("goroutines", "bt", "longest"),
     lambda g, core: goroutines_section(g["goroutines"]["by_status"], g["bt"], g["longest"], core)),
    ("offheap", "MemStats and off-heap memory", ("offheap",), lambda g, core: offheap_section(g["offheap"])),
)


def report_html(gathered: Gathered, target: str, on_core: bool) -> str:
    sections: List[str] = []
    for sid, title, needs, draw in SECTIONS:
        sections.append(_section(sid, title, needs, draw, gathered, on_core))
    for key, draw_data in (("types", types_section), ("roots", roots_section)):
        got = gathered.get(key)
        sections.append(draw_data(None, got) if isinstance(got, str) else draw_data(got, None))
    info = gathered.get("info")
    top = header(info, target) if isinstance(info, dict) else ""
    return page(f"gdbgomem report: {target}", top, sections)


def _section(sid: str, title: str, needs, draw: Callable, gathered: Gathered, on_core: bool) -> str:
    for name in needs:
        if isinstance(gathered.get(name), str):
            return failed(sid, title, gathered[name])
    return draw(gathered, on_core)
