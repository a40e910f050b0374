"""The HTML report's page: tables, sections, the style sheet and the one inline script.

Everything is in the file (no link, no fetch), so it opens from disk and can be mailed.
Every string from the target goes through escape(); numeric cells carry their exact
value in data-value, so a reader (or a test) gets the bytes behind "1.2 MiB".
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple, Optional, Sequence

from gdbgomem.render.text import humanize


class Num(NamedTuple):
    """A number cell: the exact value, shown as text (humanized bytes or a count)."""

    value: Optional[int]
    text: str


def nbytes(value: Optional[int]) -> Num:
    return Num(value, humanize(value) if value is not None else "-")


def count(value: Optional[int]) -> Num:
    return Num(value, f"{value:,}" if value is not None else "-")


def table(table_id: str, headers: Sequence[str], rows, caption: str = "", keys: Sequence = ()) -> str:
    """A table whose cells are text (escaped here) or Num; keys, one a row, are written as
    data-key to find a row by."""
    out = [f'<table id="{escape(table_id)}">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    if any(headers):
        out.append("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr></thead>")
    out.append("<tbody>")
    for i, cells in enumerate(rows):
        key = keys[i] if i < len(keys) else None
        attr = f' data-key="{escape(str(key))}"' if key is not None else ""
        out.append(f"<tr{attr}>" + "".join(_cell(c) for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cell(cell) -> str:
    if isinstance(cell, Num):
        value = "" if cell.value is None else f' data-value="{cell.value}"'
        return f'<td class="n"{value}>{escape(cell.text)}</td>'
    return f"<td>{escape('' if cell is None else str(cell))}</td>"


def legend(items: Sequence[tuple]) -> str:
    """(css class, meaning) pairs as colored swatches."""
    return '<p class="legend">' + "".join(
        f'<span><svg width="12" height="12"><rect width="12" height="12" class="{css}"/></svg> {escape(text)}</span>'
        for css, text in items) + "</p>"


def figure(svg: str, tables: str) -> str:
    """A figure with its numbers beside it."""
    return f'<div class="fig"><div class="svg">{svg}</div><div class="nums">{tables}</div></div>'


def details(summary: str, body: str) -> str:
    """Content a reader opens when wanted (a long list), still in the page for search and print."""
    return f"<details><summary>{escape(summary)}</summary>{body}</details>"


def section(section_id: str, title: str, intro: str, body: str) -> str:
    return (f'<section id="{escape(section_id)}"><h2>{escape(title)}</h2>'
            + (f'<p class="intro">{escape(intro)}</p>' if intro else "") + body + "</section>")


def failed(section_id: str, title: str, why: str) -> str:
    """A section that could not be made says why, and the rest of the report stands."""
    return section(section_id, title, "", f'<p class="missing">{escape(why)}</p>')


def page(title: str, header: str, sections: Sequence[str]) -> str:
    nav = "".join(f'<a href="#{escape(sid)}">{escape(name)}</a>' for sid, name in _titles(sections))
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{escape(title)}</h1>{header}<nav>{nav}</nav></header>"
            + "".join(sections) + f'<footer><p id="load-time"></p></footer><script>{SCRIPT}</script></body></html>')


def _titles(sections: Sequence[str]):
    for text in sections:
        sid = text.split('id="', 1)[1].split('"', 1)[0]
        name = text.split("<h2>", 1)[1].split("</h2>", 1)[0]
        yield sid, name.replace("&amp;", "&")


STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 24px 40px;color:#222;background:#fff}
header{border-bottom:1px solid #ccc;margin-bottom:8px}h1{font-size:22px;margin:14px 0 4px}
nav a{margin-right:14px}summary{cursor:pointer;margin:6px 0}h2{font-size:18px;margin:26px 0 4px;border-top:1px solid #ddd;padding-top:10px}
.intro,.missing{max-width:1100px;color:#444}.missing{color:#a40}
.fig{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start;margin:8px 0}
.nums{max-height:520px;overflow:auto}
table{border-collapse:collapse;font-size:12px;margin:6px 0}caption{text-align:left;font-weight:600;padding:2px 0}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left}th{background:#f3f3f3;position:sticky;top:0}
td.n{white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}.mono,td{font-family:ui-monospace,monospace}
.t{font-size:11px;fill:#333}.legend span{margin-right:14px;font-size:12px}
.light{fill-opacity:.35}
.heap{fill:#2b7bb9}.stacks{fill:#e08a1e}.free{fill:#8fd18f}.scav{fill:#c9c9c9}.pad{fill:#b07ad6}
.program{fill:#7a5fc0}.meta{fill:#d94f70}.libs{fill:#6b8e23}.kernel{fill:#999}.reserved{fill:#ddd}
.other{fill:#4aa3a3}.used{fill:#2b7bb9}.slots{fill:#9cd}.tail{fill:#e08a1e}.garbage{fill:#c44}
#goroutines-groups td{white-space:pre}
.ram{fill:#2b7bb9}.part{fill:#9cd}.noram{fill:#eee}.count{fill:#2b7bb9}
.flame{fill:#f2a65a;stroke:#fff;stroke-width:.5}
"""

# the page's own load time, for a reader wondering whether the report is too big for the browser
SCRIPT = """addEventListener('load',()=>{const t=performance.now();document.getElementById('load-time')
.textContent='this page loaded in '+Math.round(t)+' ms';document.body.dataset.loadMs=Math.round(t)})"""
