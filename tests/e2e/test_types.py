"""go-types against a heap whose ownership the fixture built (fixtures/owners): every object
of its types counted where it is, reachable or garbage, in every host and build, live and on
cores."""

from __future__ import annotations

import pytest

from tests.e2e.harness import BUILDS, HOSTS, subject

pytestmark = pytest.mark.e2e
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
