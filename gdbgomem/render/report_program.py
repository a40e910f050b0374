"""The report's header (go-info) and its sections on what the program does: goroutines
grouped by stack and wait reason (go-goroutines, go-bt --all), objects per type (go-types) and
who holds them (go-roots).
Goroutines are drawn as groups, never one element each, so 100 000 of them stay a small page."""

from __future__ import annotations

from typing import List, Optional

from gdbgomem.render.html_page import count, failed, figure, nbytes, section, table
from gdbgomem.render.svg import flame, stacked_bars
from gdbgomem.render.text import humanize

GROUPS_SHOWN = 40   # stack groups listed; the rest are summed in one line
FRAMES_SHOWN = 12   # frames of a group's stack
TYPES_SHOWN = 30
FLAME_ROWS = 25     # chains listed beside the flame graph


def header(info: dict, target: str) -> str:
    rows = [["Go", info["go_version"]], ["executable", info["executable"]], ["target", target],
            ["goroutines", count(info["goroutines"])], ["threads (Ms with an OS thread)", count(info["threads"])],
            ["GOMAXPROCS", count(info["gomaxprocs"])], ["layouts from", info["layout_source"]]]
    return table("info", ["", ""], rows, keys=["go_version", "executable", "target", "goroutines", "threads",
                                               "gomaxprocs", "layout_source"])


def _state(status: str, reason: Optional[str]) -> str:
    return status + (f", {reason}" if reason else "")


def goroutines_section(by_status: dict, bt: dict, longest: List[dict], on_core: bool) -> str:
    groups = bt["groups"]
    statuses = sorted(by_status.items(), key=lambda kv: -kv[1])
    status_table = table("goroutines-status", ["STATUS", "GOROUTINES"],
                         [[s, count(n)] for s, n in statuses] + [["all", count(sum(by_status.values()))]],
                         keys=[s for s, _n in statuses] + ["all"])
    waits: dict = {}
    for g in groups:
        entry = waits.setdefault(_state(g["status"], g["wait_reason"]), [0, 0])
        entry[0] += g["count"]
        entry[1] += 1
    ordered = sorted(waits.items(), key=lambda kv: -kv[1][0])
    wait_bars = stacked_bars([(state, [(n, "count", f"{n:,} goroutines")]) for state, (n, _k) in ordered],
                             "goroutines by status and wait reason")
    wait_table = table("goroutines-waits", ["STATUS, WAIT REASON", "GOROUTINES", "STACKS"],
                       [[state, count(n), count(k)] for state, (n, k) in ordered], keys=[s for s, _v in ordered])
    shown = groups[:GROUPS_SHOWN]
    group_rows = [[count(g["count"]), _state(g["status"], g["wait_reason"]), _frames_text(g["frames"]),
                   ", ".join(map(str, g["goids"][:8])) + (" ..." if len(g["goids"]) > 8 else "")] for g in shown]
    rest = groups[GROUPS_SHOWN:]
    group_table = table("goroutines-groups", ["GOROUTINES", "STATE", "STACK", "GOIDS"], group_rows,
                        f"{len(groups):,} distinct stacks" + (f"; {len(rest):,} more stacks with "
                                                             f"{sum(g['count'] for g in rest):,} goroutines not listed"
                                                             if rest else ""),
                        keys=list(range(len(shown))))
    body = figure(wait_bars, status_table + wait_table) + "<h3>Identical stacks</h3>" + group_table
    body += "<h3>Longest waits</h3>" + _longest_table(longest, on_core)
    intro = (f"{bt['goroutines']:,} goroutines (dead ones left out), grouped by their status and wait reason, and by "
             "identical stacks (as go-bt --all groups them).")
    return section("goroutines", "Goroutines", intro, body)


def _frames_text(frames: List[dict]) -> str:
    lines = [f"{f['function']} {f['file']}:{f['line']}" for f in frames[:FRAMES_SHOWN]]
    if len(frames) > FRAMES_SHOWN:
        lines.append(f"... {len(frames) - FRAMES_SHOWN} more frames")
    return "\n".join(lines)


def _longest_table(longest: List[dict], on_core: bool) -> str:
    if not longest:
        return ('<p class="intro">No goroutine has a recorded wait start: the runtime stamps g.waitsince only when a '
                "GC finds a goroutine blocked.</p>")
    note = ("A core has no clock reading of its own: waits are ordered by when they began (g.waitsince, the runtime's "
            "nanotime)." if on_core else "Waited: from g.waitsince (stamped by the GC) to now.")
    rows = [[count(g["goid"]), _state(g["status"], g["wait_reason"]),
             _duration(g["waited_ns"]) if g["waited_ns"] is not None else "-", count(g["waitsince"]),
             g["user_function"] or g["function"] or "?"] for g in longest]
    return f'<p class="intro">{note}</p>' + table("goroutines-longest", ["GOID", "STATE", "WAITED", "WAITSINCE",
                                                                        "WHERE"], rows, keys=[g["goid"] for g in longest])


def _duration(ns: int) -> str:
    seconds = ns / 1e9
    if seconds < 1:
        return f"{ns / 1e6:.1f} ms"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def types_section(data: Optional[dict], why_not: Optional[str]) -> str:
    if data is None:
        return failed("types", "Objects per type", why_not or "")
    live, dead = data["types"], data["unreachable"]["types"]
    name = _type_name
    top = live[:TYPES_SHOWN]
    bars = stacked_bars([(name(t), [(t["bytes"], "used", f"{t['objects']:,} objects, {humanize(t['bytes'])}")])
                         for t in top], "reachable bytes by type")
    totals = table("types-totals", ["", "OBJECTS", "BYTES"],
                   [["reachable", count(data["reachable"]["objects"]), nbytes(data["reachable"]["bytes"])],
                    ["garbage (unreachable)", count(data["unreachable"]["objects"]), nbytes(data["unreachable"]["bytes"])]],
                   keys=["reachable", "unreachable"])
    live_table = table("types-reachable", ["TYPE", "OBJECTS", "BYTES"],
                       [[name(t), count(t["objects"]), nbytes(t["bytes"])] for t in top],
                       f"top {len(top)} of {len(live):,} types by bytes", keys=[name(t) for t in top])
    dead_table = table("types-garbage", ["TYPE", "OBJECTS", "BYTES"],
                       [[name(t), count(t["objects"]), nbytes(t["bytes"])] for t in dead[:TYPES_SHOWN]],
                       f"garbage: top {min(len(dead), TYPES_SHOWN)} of {len(dead):,} types",
                       keys=[name(t) for t in dead[:TYPES_SHOWN]])
    intro = ("The heap marked from its roots as the GC marks; objects no root reaches are garbage the next GC frees. "
             "Bytes are slot bytes. Objects whose release keeps no type are grouped by size class.")
    return section("types", "Objects per type", intro, figure(bars, totals + live_table) + dead_table)


def roots_section(data: Optional[dict], why_not: Optional[str]) -> str:
    """Who holds the heap (go-roots): the roots that retain the most, each beside what it reaches."""
    if data is None:
        return failed("roots", "Who holds the heap", why_not or "")
    top = [r for r in data["roots"] if r["reachable_bytes"] is not None]
    bars = stacked_bars([(r["root"], [(r["retained_bytes"], "used", f"retains {humanize(r['retained_bytes'])}"),
                                      (max(0, r["reachable_bytes"] - r["retained_bytes"]), "free",
                                       f"reaches {humanize(r['reachable_bytes'])} in all")])
                         for r in top], "retained and reachable bytes by root")
    totals = table("roots-totals", ["", "OBJECTS", "BYTES"],
                   [["shared by several roots", count(data["shared"]["objects"]), nbytes(data["shared"]["bytes"])],
                    ["reachable in all", count(data["reachable"]["objects"]), nbytes(data["reachable"]["bytes"])]],
                   keys=["shared", "reachable"])
    roots = table("roots-top", ["ROOT", "KIND", "RETAINED", "OBJECTS", "REACHES"],
                  [[r["root"], r["kind"], nbytes(r["retained_bytes"]), count(r["retained_objects"]),
                    nbytes(r["reachable_bytes"])] for r in top],
                  f"top {len(top)} of {len(data['roots']):,} roots by retained bytes", keys=[r["root"] for r in top])
    intro = ("Each root (a global variable, a goroutine's stack frame) with the heap bytes it retains: what only it "
             "reaches, which would be garbage if it let go. go-roots --pprof writes the same as a pprof profile.")
    return section("roots", "Who holds the heap", intro, figure(bars, totals + roots) + _flame(data.get("chains")))


def _flame(stacks: Optional[list]) -> str:
    """Reachable bytes as a flame graph: each owner on top, the chain of types below it."""
    if not stacks:
        return ""
    svg = flame([(s["chain"], s["bytes"]) for s in stacks], "reachable bytes by owner and chain of types")
    top = stacks[:FLAME_ROWS]
    rows = table("roots-stacks", ["OWNER -> TYPES", "OBJECTS", "BYTES"],
                 [[" -> ".join(s["chain"]), count(s["objects"]), nbytes(s["bytes"])] for s in top],
                 f"top {len(top)} of {len(stacks):,} chains by bytes", keys=[" -> ".join(s["chain"]) for s in top])
    return ("<h3>Retained memory as a flame graph</h3><p class=\"intro\">Every reachable object under its owner, "
            "then the types the pointers to it pass through (a run of one type drawn once); width is bytes.</p>"
            + figure(svg, rows))


def _type_name(t: dict) -> str:
    if t.get("type"):
        return t["type"]
    return f"size class {t.get('size_class')} {'noscan' if t.get('noscan') else 'scan'} (no type recorded)"
