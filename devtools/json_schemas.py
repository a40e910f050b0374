"""Write the JSON Schema of every command's --json output (docs/schema/<command>.json).

The schemas are inferred from what the commands print on the fixtures (gdb and lldb, debug and
stripped builds, the Go releases asked for), then kept in the repository: a test validates
every command's JSON against them, so a key renamed, dropped or given another type is a
failure, not a surprise for a user's script. Objects whose keys are data (by_status, labels...)
are listed in MAPS; keys that may be null whatever the samples showed, in NULLABLE.

    .venv/bin/python -m devtools.json_schemas [VERSION ...]      # default: the oldest and newest
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List

from devtools import fixtures, hostrun
from devtools.fixtures import ROOT

SCHEMAS = ROOT / "docs" / "schema"
# paths (keys joined by ".", [] for array items) of objects keyed by data, not by names
MAPS = {"by_status", "layouts", "spans", "labels", "goroutines.[].labels", "corrupt", "goroutines.[].corrupt",
        "threads.[].corrupt", "spans.[].corrupt", "span.corrupt"}
# maps whose values the fixtures never show (healthy processes have nothing corrupt)
MAP_VALUES = {"corrupt": {"type": "string"}}
# keys that may be null whatever the samples showed (a goroutine on no M, a thread without
# registers, a core with no /proc...), with the type they have otherwise
NULLABLE = {name: "integer" for name in (
    "m_id", "thread_id", "m_address", "p_id", "curg_goid", "lockedg_goid", "locked_m_address", "sp", "pc",
    "g0_address", "g0_stack_lo", "g0_stack_hi", "g0_stack_size", "gsignal_stack_lo", "gsignal_stack_hi",
    "user_line", "parent_goid", "waitsince", "waited_ns", "stack_used", "resident_bytes", "type_address",
    "large_type", "line", "frame_size", "size_on_stack", "locals_bytes", "entry", "largest_free_run_address",
    "gomaxprocs", "pid", "scavenged_resident_bytes",
    "rss", "anonymous", "swap", "saved", "reachable_objects", "reachable_bytes")}
NULLABLE.update({name: "string" for name in (
    "running_on", "live_counts_unavailable", "manual_use", "wait_reason", "user_function", "user_file", "function",
    "start_function", "file", "type_name", "layout_table", "executable", "manual_owner", "path")})
NULLABLE.update({"chunk_base": "integer", "alloc_address": "integer"})
NULLABLE.update({"chains": "array", "root": "object", "created_by": "object", "object": "object", "pointer_words": "array",
                 "bytes": "string", "kernel": "object", "prologue": "object", "page_faults": "object",
                 "madvise": "object"})
COMMANDS = {
    "goroutines": lambda truth: [
        "go-help --json", "go-info --json", "go-goroutines --all --json", f"go-g {truth['locked']['goid']} --json",
        f"go-g {truth['labeled']['goid']} --json", "go-threads --json", "go-stack --json",
        f"go-stack {truth['deep']['goid']} --frame-size 512 --json", "go-stack --m 0 --json",
        f"go-bt {truth['deep']['goid']} --json", "go-bt --all --json", "go-bt --all --group start --json",
        f"go-span {truth['chan_probes'][0]['local_addr']} --json", "go-sizeclasses --json",
        f"go-stack {truth['deep']['goid']} --explain --json"],
    "heap": lambda truth: [
        "go-heap --json", "go-spans --json", "go-spans --state free --json", "go-spans --summary --json",
        "go-arenas --json", "go-arenas --map --json", f"go-pages --level 4 --chunk {truth['samples'][0]['addr']} --json",
        "go-pages --json", "go-pages --find 40 --json", "go-pages --find 1 --json", "go-pages --find 1000000 --json"]
        + [f"go-span {s['addr']} --json" for s in truth["samples"]]
        + [f"go-span {truth['freed_addrs'][0]} --json", "go-maps --json", "go-maps runtime.mheap_ --json",
                                                           "go-offheap --json", "go-arenas --explain --json",
                                                           "go-arenas --resident --json"]
        + [f"go-span {s['addr']} --explain --json" for s in truth["samples"]],
    "owners": lambda truth: ["go-types --json", "go-roots --json", "go-roots --chains --json",
                             f"go-path {truth['payload_addr']} --json"],
}


def infer(values: List[Any], path: str = "") -> Dict[str, Any]:
    """The narrowest schema all values fit (and null where NULLABLE says)."""
    types = {_type(v) for v in values}
    name = path.rsplit(".", 1)[-1]
    if name in NULLABLE and path not in MAPS:
        types = types - {"null"} | {NULLABLE[name], "null"}
    ordered = sorted(types)
    schema: Dict[str, Any] = {"type": ordered[0] if len(ordered) == 1 else ordered}
    objects = [v for v in values if isinstance(v, dict)]
    if objects and path in MAPS:
        inner = [x for o in objects for x in o.values()]
        schema["additionalProperties"] = MAP_VALUES.get(name) or (infer(inner, path + ".*") if inner else {})
    elif objects:
        keys = sorted({k for o in objects for k in o})
        schema["properties"] = {k: infer([o[k] for o in objects if k in o], f"{path}.{k}".lstrip("."))
                                for k in keys}
        schema["required"] = [k for k in keys if all(k in o for o in objects)]
        schema["additionalProperties"] = False
    items = [x for v in values if isinstance(v, list) for x in v]
    if items:
        schema["items"] = infer(items, f"{path}.[]".lstrip("."))
    return schema


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def collect(versions: List[str]) -> Dict[str, List[dict]]:
    """Every command's JSON outputs, by command name, on the live fixtures, in gdb and lldb."""
    samples: Dict[str, List[dict]] = {}
    for version in versions:
        for name, commands_of in COMMANDS.items():
            for build_kind in ("debug", "stripped"):
                fixture = fixtures.start(name, version, build_kind=build_kind)
                try:
                    commands = commands_of(fixture.truth)
                    for host in ("gdb", "lldb"):
                        out = hostrun.run_host(host, commands, pid=fixture.pid)
                        for i, command in enumerate(commands):
                            samples.setdefault(command.split()[0], []).append(hostrun.json_of(out[i]))
                finally:
                    fixture.stop()
    return samples


def main(argv: List[str]) -> int:
    versions = argv or [fixtures.go_versions()[0], fixtures.go_versions()[-1]]
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for command, outputs in sorted(collect(versions).items()):
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"{command} --json",
                  **infer(outputs)}
        path = SCHEMAS / f"{command}.json"
        path.write_text(json.dumps(schema, indent=1) + "\n")
        print(f"wrote {path.relative_to(ROOT)} from {len(outputs)} outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
