"""Every command's --json, in every host and build, validates against its schema in docs/schema/,
and the schemas name one thing one way (docs/json.md)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from devtools.fixtures import ROOT
from tests.e2e.harness import BUILDS, HOSTS, subject
from tests.e2e.test_types import BETWEEN

pytestmark = pytest.mark.e2e
SCHEMAS = ROOT / "docs" / "schema"


def BETWEEN_RELEASES(params) -> bool:  # noqa: N802 (read by tests/e2e/conftest.py)
    """The owners fixture's looks on the releases between the oldest and the newest: those its own
    tests take there (test_types.BETWEEN)."""
    return params.get("fixture_name") != "owners" or (params.get("host"), params.get("build")) in {
        (host, build) for host, build, _core in BETWEEN}


def schema_of(command: str) -> dict:
    return json.loads((SCHEMAS / f"{command.split()[0]}.json").read_text())


@pytest.mark.parametrize("fixture_name", ["goroutines", "heap", "owners"])
@pytest.mark.parametrize("host,build", [(h, b) for b in BUILDS for h in HOSTS],
                         ids=[f"{h}-{b}" for b in BUILDS for h in HOSTS])
def test_every_json_output_fits_its_schema(running, go_version, fixture_name, host, build):
    look = subject(running, fixture_name, go_version, build).look(host)
    checked = 0
    for command in look.outputs:
        if "--json" in command:
            jsonschema.validate(look.json(command), schema_of(command))
            checked += 1
    assert checked >= (1 if fixture_name == "owners" else 8)


def names(schema, found):
    for key, inner in schema.get("properties", {}).items():
        found.add(key)
        names(inner, found)
    for inner in (schema.get("items"), schema.get("additionalProperties")):
        if isinstance(inner, dict):
            names(inner, found)
    return found


def test_one_name_for_one_thing():
    """Ids and addresses say what they are: thread_id, m_id, goid, g_address... never a bare id,
    procid, address (but go-span's, the address asked about), g, curg or *_addr."""
    every = set()
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        found = names(schema, set())
        every |= found
        assert "schema_version" in schema["required"], path.name
        top = set(schema.get("properties", {}))
        assert not (found & {"id", "procid", "g", "curg", "lockedg", "lockedm", "p", "g0"}), path.name
        assert not [n for n in found if n.endswith("_addr")], path.name
        if path.stem != "go-span":
            assert "address" not in found, path.name
        else:
            assert "address" in top and "address" not in names(schema["properties"]["span"], set())
    assert {"thread_id", "m_id", "goid", "g_address", "m_address"} <= every
