"""go-types against a heap whose ownership the fixture built (fixtures/owners): every object
of its types counted where it is, reachable or garbage, in every host and build, live and on
cores."""

from __future__ import annotations

import subprocess

import pytest

from devtools import fixtures, hostrun
from tests.e2e.harness import BUILDS, HOSTS, subject

pytestmark = pytest.mark.e2e
# between the oldest and the newest release: each host once, live and on a core, debug and stripped
BETWEEN = {("gdb", "debug", False), ("lldb", "debug", True), ("standalone", "stripped", True)}


def BETWEEN_RELEASES(params) -> bool:  # noqa: N802 (read by tests/e2e/conftest.py)
    return "h" not in params or params["h"] in BETWEEN


LOOKS = [(host, build, core) for build in BUILDS for host in HOSTS for core in (False, True)
         if not (host == "standalone" and not core)]


@pytest.fixture(params=LOOKS, ids=lambda p: f"{p[0]}-{p[1]}-{'core' if p[2] else 'live'}")
def h(request, running, go_version):
    host, build, core = request.param
    return subject(running, "owners", go_version, build).look(host, on_core=core)


def rows(rows_json, name):
    return [r for r in rows_json if r["type"] == name]


def headers_name_types(h) -> bool:
    """From Go 1.22 on an object over 512 B with pointers carries a malloc header naming its type."""
    return not h.truth["go_version"].startswith("go1.21")


def test_every_object_of_the_fixtures_types_is_where_its_owner_keeps_it(h):
    types = h.json("go-types --json")
    truth = h.truth["types"]
    if headers_name_types(h):
        for name in ("main.record", "main.node", "main.blob"):
            assert rows(types["types"], name) == [{"type": name, "objects": truth[name]["objects"],
                                                   "bytes": truth[name]["objects"] * truth[name]["slot"]}], name
        assert rows(types["types"], "[]*main.blob") == [{"type": "[]*main.blob", "objects": 1,
                                                          "bytes": h.truth["holder_blob_array_slot"]}]
        assert not rows(types["types"], "main.garbage") and not rows(types["types"], "[]*main.garbage")
        garbage = truth["main.garbage"]
        assert rows(types["unreachable"]["types"], "main.garbage") == [
            {"type": "main.garbage", "objects": garbage["objects"], "bytes": garbage["objects"] * garbage["slot"]}]
        assert [r["objects"] for r in rows(types["unreachable"]["types"], "[]*main.garbage")] == [1]
    else:  # no type in the heap: the fixture's objects are counted in their size classes
        def untyped(rows_json, slot):
            return sum(r["objects"] for r in rows_json if r["type"] is None and not r["noscan"]
                       and r["bytes"] == r["objects"] * slot)
        for name in ("main.record", "main.node", "main.blob"):
            assert untyped(types["types"], truth[name]["slot"]) >= truth[name]["objects"], name
        assert untyped(types["unreachable"]["types"], truth["main.garbage"]["slot"]) >= truth["main.garbage"]["objects"]
    payloads = [r for r in types["types"] if r["type"] is None and r["noscan"]
                and r["bytes"] == r["objects"] * h.truth["payload_slot"]]
    assert sum(r["objects"] for r in payloads) >= truth["main.record"]["objects"]


def test_reachable_and_garbage_add_up_to_the_spans_allocation_counts(h):
    types = h.json("go-types --json")
    spans = h.json("go-spans --json")["spans"]
    allocated = sum(s["alloc_count"] for s in spans if s["state"] == "inuse")
    assert types["reachable"]["objects"] + types["unreachable"]["objects"] == allocated
    assert types["reachable"]["objects"] == sum(r["objects"] for r in types["types"])
    assert types["unreachable"]["bytes"] == sum(r["bytes"] for r in types["unreachable"]["types"])
    assert types["roots"]["global_words"] > 0 and types["roots"]["stacks"] >= 3
    assert types["dangling_pointers"] == 0 and types["conservative_objects"] == 0  # every mask read or built


def test_the_text_names_the_top_types_and_the_garbage(h):
    text = h.outputs["go-types"]
    assert text.splitlines()[0].split()[:3] == ["TYPE", "OBJECTS", "BYTES"]
    assert "unreachable (garbage the next GC frees)" in text and "--top 0 shows all" in text
    everything = h.outputs["go-types --top 0"]
    assert "more types" not in everything
    if headers_name_types(h):
        assert "main.record" in text and "main.garbage x200" in text


def named(h) -> bool:
    """Globals are named by their symbols; a stripped binary has none (.bss+0x.. instead)."""
    return h.build_kind != "stripped"


def test_each_owner_retains_what_it_alone_holds(h):
    roots = h.json("go-roots --json")["roots"]
    truth = h.truth["types"]
    tree = truth["main.node"]["objects"] * truth["main.node"]["slot"]
    shape = [r for r in roots if r["kind"] == "global" and r["retained_bytes"] == tree]
    assert len(shape) == 1 and shape[0]["retained_objects"] == truth["main.node"]["objects"], shape
    assert shape[0]["root"] == "main.shape" if named(h) else shape[0]["root"].startswith((".bss+", ".data+"))
    blobs = truth["main.blob"]["objects"] * truth["main.blob"]["slot"] + h.truth["holder_blob_array_slot"]
    holder = [r for r in roots if r["kind"] == "stack" and r["root"].endswith(" main.holder")]
    assert [(r["retained_bytes"], r["retained_objects"], r["precise"]) for r in holder] == [
        (blobs, truth["main.blob"]["objects"] + 1, True)]
    records = truth["main.record"]["objects"] * (truth["main.record"]["slot"] + h.truth["payload_slot"])
    cache = max(roots, key=lambda r: r["retained_bytes"])
    assert records <= cache["retained_bytes"] <= records * 1.05, cache  # plus names and the map's own memory
    assert cache["root"] == "main.cache" if named(h) else cache["kind"] == "global"
    assert cache["reachable_bytes"] >= cache["retained_bytes"] and roots[0] == cache


def test_a_path_leads_from_the_owner_to_the_object(h):
    payload = h.json(f"go-path {h.truth['payload_addr']} --json")
    assert payload["path"][-1]["addr"] == h.truth["payload_addr"]
    record = payload["path"][-2]
    assert record["addr"] == h.truth["record_addr"]
    assert payload["path"][-1]["via"] == (".payload" if headers_name_types(h) else "+0x18")
    node = h.json(f"go-path {h.truth['node_addr']} --json")
    assert node["path"][-1]["addr"] == h.truth["node_addr"] and len(node["path"]) == 4
    if headers_name_types(h):
        assert record["type"] == "main.record"
        assert [p["via"] for p in node["path"]] == [None, ".left", ".right", ".left"]
        assert {p["type"] for p in node["path"]} == {"main.node"}
    if named(h):
        assert payload["root"]["root"] == "main.cache" and node["root"]["root"] == "main.shape"
    assert "gdbgomem: go-path: 0x10 is in no allocated heap object" in h.outputs["go-path 0x10"]
    assert h.outputs[f"go-path {h.truth['payload_addr']}"].splitlines()[0].startswith("root: ")


@pytest.mark.parametrize("host,on_core", [("gdb", False), ("lldb", True), ("standalone", True)])
def test_the_pprof_profile_is_what_go_tool_pprof_reads_and_adds_up(running, go_version, tmp_path, host, on_core):
    look = subject(running, "owners", go_version).look("gdb")  # the core of what it saw, for the core hosts
    s = subject(running, "owners", go_version)
    profile = tmp_path / "retained.pb.gz"
    command = f"go-roots --pprof {profile} --json"
    where = dict(binary=look.fixture.binary, core=s.core) if on_core else dict(pid=look.fixture.pid)
    roots = hostrun.json_of(hostrun.run_host(host, [command], **where)[0])
    assert roots["pprof"]["path"] == str(profile) and roots["pprof"]["bytes"] == profile.stat().st_size
    go = fixtures.goroot(go_version) / "bin" / "go"
    traces = subprocess.run([str(go), "tool", "pprof", "-traces", "-sample_index=inuse_space", str(profile)],
                            capture_output=True, text=True, check=True).stdout
    blocks = [[line for line in block.splitlines()[1:] if line.strip()] for block in traces.split("-----------+")[1:]]
    samples = [lines for lines in blocks if lines]
    by_root = {}
    for lines in samples:
        value, leaf = lines[0].split(None, 1)
        by_root[lines[-1].strip()] = by_root.get(lines[-1].strip(), 0) + _bytes(value)
    cache = roots["roots"][0]
    assert abs(by_root[cache["root"]] - cache["retained_bytes"]) <= 0.01 * cache["retained_bytes"]
    reached = roots["reachable"]["bytes"]
    assert abs(sum(by_root.values()) - reached) <= 0.01 * reached
    if headers_name_types(look):
        chains = [[line.strip().split(None, 1)[-1] if i == 0 else line.strip() for i, line in enumerate(lines)]
                  for lines in samples]
        assert any(c[:2] == ["main.blob", "[]*main.blob"] and c[2].endswith(" main.holder") for c in chains)


def _bytes(text: str) -> float:
    """pprof's rounded figures: 187.50kB, 1.17MB, 896B."""
    for unit, scale in (("kB", 1024), ("MB", 1024 ** 2), ("GB", 1024 ** 3), ("B", 1)):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * scale
    return float(text)
