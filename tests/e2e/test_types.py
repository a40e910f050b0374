"""go-types against a heap whose ownership the fixture built (fixtures/owners): every object
of its types counted where it is, reachable or garbage, in every host and build, live and on
cores."""

from __future__ import annotations

import subprocess

import pytest

from devtools import fixtures, hostrun
from tests.e2e.harness import BUILDS, COMMANDS, HOSTS, Look, subject

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


def globals_typed(h) -> bool:
    """A build with DWARF types its globals and its stack variables, and so what they point to
    (main.cache, main.shape, the holder's blobs)."""
    return h.build_kind in ("debug", "pie")


def typed_names(h) -> set:
    """The fixture's types go-types names exactly: the labelled ones and what they point to (main.tag
    and the payloads, small and never labelled) from 1.22 on; before, what the typed globals and
    the holder's typed stack variable reach, and the wards, whose finalizer record names their type
    in every build. Only the garbage, which nothing points to, stays untyped on 1.21."""
    if headers_name_types(h):
        return set(h.truth["types"])
    typed = {"main.record", "main.node", "main.tag", "[]main.octet", "main.blob"}
    return {"main.ward"} | (typed if globals_typed(h) else set())


def untyped_count(rows_json, slot, noscan=False):
    return sum(r["objects"] for r in rows_json if r["type"] is None and r["noscan"] == noscan
               and r["bytes"] == r["objects"] * slot)


def test_every_object_of_the_fixtures_types_is_where_its_owner_keeps_it(h):
    types = h.json("go-types --json")
    truth = h.truth["types"]
    typed = typed_names(h)
    for name, want in truth.items():
        listed = types["unreachable"]["types"] if name in h.truth["unreachable"] else types["types"]
        if name in typed:
            assert rows(listed, name) == [{"type": name, "objects": want["objects"],
                                           "bytes": want["objects"] * want["slot"]}], name
        else:  # counted in its size class, with others of the class
            assert untyped_count(listed, want["slot"], noscan=name == "[]main.octet") >= want["objects"], name
    if "main.blob" in typed:  # the holder's slice: its type from its header, or the holder's DWARF
        assert rows(types["types"], "[]*main.blob") == [{"type": "[]*main.blob", "objects": 1,
                                                          "bytes": h.truth["holder_blob_array_slot"]}]
    if headers_name_types(h):
        assert not rows(types["types"], "main.garbage") and not rows(types["types"], "[]*main.garbage")
        assert [r["objects"] for r in rows(types["unreachable"]["types"], "[]*main.garbage")] == [1]
    typing = types["typing"]
    assert (typing["typed_globals"] > 0, typing["typed_locals"] > 0) == (globals_typed(h), globals_typed(h))
    if globals_typed(h):  # the map that holds the records is named through main.cache's map type
        old_maps = h.truth["go_version"] < "go1.24" or "noswissmap" in h.truth["go_version"]
        maps = "runtime.hmap" if old_maps else "internal/runtime/maps.Map"
        assert rows(types["types"], maps) and rows(types["types"], maps)[0]["objects"] >= 1


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


def test_a_stack_object_with_a_gc_program_is_read_precisely(h):
    """tabler's local [20000]*tabled: up to 1.23 the compiler gives it a GC program, run here as
    the runtime's scanstack runs it; the frame is read through its maps, not word by word. From
    1.24 on, no local over 128 KiB stays on the stack: the array is a large heap object of its own."""
    roots = h.json("go-roots --json")["roots"]
    tabler = [r for r in roots if r["kind"] == "stack" and r["root"].endswith(" main.tabler")]
    on_heap = tuple(int(x) for x in h.truth["go_version"][2:].split(".")[:2]) >= (1, 24)
    array = -(-20000 * 8 // 8192) * 8192  # a large object: whole pages
    want = (2, array + h.truth["tabled_slot"]) if on_heap else (1, h.truth["tabled_slot"])
    assert [(r["retained_objects"], r["retained_bytes"], r["precise"]) for r in tabler] == [(*want, True)], tabler
    assert h.json("go-types --json")["roots"]["conservative_frames"] == 0


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
    finalizers = [r for r in roots if r["kind"] == "finalizer"]  # the runtime sets some too (os.File)
    assert all(r["root"].startswith("finalizer of 0x") and r["goid"] is None for r in finalizers)
    wards = [r for r in finalizers if r["root"] == f"finalizer of 0x{h.truth['finalized_addr']:x}"]
    assert [(r["retained_objects"], r["retained_bytes"]) for r in wards] == [
        (truth["main.ward"]["objects"], truth["main.ward"]["objects"] * truth["main.ward"]["slot"])]
    records = truth["main.record"]["objects"] * (truth["main.record"]["slot"] + h.truth["payload_slot"]
                                                 + truth["main.tag"]["slot"])
    cache = max(roots, key=lambda r: r["retained_bytes"])
    assert records <= cache["retained_bytes"] <= records * 1.05, cache  # plus names and the map's own memory
    assert cache["root"] == "main.cache" if named(h) else cache["kind"] == "global"
    if named(h):  # the runtime's globals are one root; no global of the runtime stands alone
        assert [r["kind"] for r in roots if r["root"] == "(runtime globals)"] == ["runtime"]
        assert not [r for r in roots if r["root"].startswith(("runtime.", "internal/runtime/"))]
    assert cache["reachable_bytes"] >= cache["retained_bytes"] and roots[0] == cache


def test_a_path_leads_from_the_owner_to_the_object(h):
    payload = h.json(f"go-path {h.truth['payload_addr']} --json")
    assert payload["path"][-1]["addr"] == h.truth["payload_addr"]
    record = payload["path"][-2]
    assert record["addr"] == h.truth["record_addr"]
    typed = "main.record" in typed_names(h)
    assert payload["path"][-1]["via"] == (".payload" if typed else "+0x18")
    node = h.json(f"go-path {h.truth['node_addr']} --json")
    assert node["path"][-1]["addr"] == h.truth["node_addr"] and len(node["path"]) == 4
    tag = h.json(f"go-path {h.truth['tag_addr']} --json")["path"]
    assert tag[-1]["addr"] == h.truth["tag_addr"] and tag[-2]["addr"] == h.truth["record_addr"]
    if typed:
        assert record["type"] == "main.record" and payload["path"][-1]["type"] == "[]main.octet"
        assert [p["via"] for p in node["path"]] == [None, ".left", ".right", ".left"]
        assert {p["type"] for p in node["path"]} == {"main.node"}
        assert (tag[-1]["type"], tag[-1]["via"]) == ("main.tag", ".extra")
    if named(h):
        assert payload["root"]["root"] == "main.cache" and node["root"]["root"] == "main.shape"
    assert "gdbgomem: go-path: 0x10 is in no allocated heap object" in h.outputs["go-path 0x10"]
    assert h.outputs[f"go-path {h.truth['payload_addr']}"].splitlines()[0].startswith("root: ")


def test_go_span_names_the_type_that_pointers_give_a_small_object(h):
    obj = h.json(f"go-span {h.truth['tag_addr']} --infer --json")["object"]
    assert obj["base"] == h.truth["tag_addr"] and obj["type_address"] is None  # no header: 16 bytes
    typed = "main.tag" in typed_names(h)
    assert (obj["type_name"], obj["type_inferred"]) == (("main.tag", True) if typed else (None, False))


# the releases that can still build the old hash maps (GOEXPERIMENT=noswissmap)
NO_SWISS = [v for v in fixtures.go_versions() if v.startswith(("1.24.", "1.25."))]


@pytest.mark.parametrize("build", ["debug", "stripped"])
@pytest.mark.parametrize("version", NO_SWISS)
def test_maps_without_swiss_tables(ptrace_allowed, version, build):
    """The old hash maps of a GOEXPERIMENT=noswissmap build, in gdb: typed as in a default build,
    though a stripped one's layouts come from the release's table, made from a swiss build."""
    fixture = fixtures.start("owners", version, experiment="noswissmap", build_kind=build)
    try:
        commands = COMMANDS["owners"](fixture.truth) + ["go-info --json"]
        out = hostrun.run_gdb(hostrun.attach(fixture.pid), commands)
    finally:
        fixture.stop()
    look = Look("gdb", False, fixture, {c: out[i] for i, c in enumerate(commands)}, [], build)
    assert look.json("go-info --json")["go_version"].endswith(" X:noswissmap")
    test_every_object_of_the_fixtures_types_is_where_its_owner_keeps_it(look)
    test_reachable_and_garbage_add_up_to_the_spans_allocation_counts(look)
    test_each_owner_retains_what_it_alone_holds(look)
    test_a_path_leads_from_the_owner_to_the_object(look)


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
