"""Generate the Python stubs from protos/ into the client distribution (the only copy).

protoc names modules after the proto path (orchestrator/v1/x.proto -> orchestrator.v1.x_pb2), which
would collide with the server's own `orchestrator` package, so the stubs live under the client's
import name and their imports are rewritten (the approach temporalio's SDK takes).

    python scripts/gen_protos.py          # regenerate
    python scripts/gen_protos.py --check  # exit 1 if the committed stubs are stale
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PROTO_PACKAGE = "orchestrator/v1"
OUT_DIR = ROOT / "clients/python/orchestrator_client/v1"
IMPORT_FROM = re.compile(r"^from orchestrator\.v1 import ", re.MULTILINE)
IMPORT_TO = "from orchestrator_client.v1 import "
# The contract with its comments, for server reflection (`grpcurl describe`) and for tools (-protoset).
DESCRIPTOR_SET = "orchestrator_v1.binpb"
INIT = '"""Generated protobuf and gRPC stubs for orchestrator.v1 (do not edit; run `make proto`)."""\n'


def generate(dest: Path) -> None:
    (dest / PROTO_PACKAGE).mkdir(parents=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / PROTO_PACKAGE).glob("*.proto"))
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={dest}",
        f"--pyi_out={dest}",
        f"--grpc_python_out={dest}",
        f"--descriptor_set_out={dest / PROTO_PACKAGE / DESCRIPTOR_SET}",
        "--include_source_info",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def rendered_files() -> dict[str, bytes]:
    """Generate into a scratch directory and return {file name: final content}."""
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        produced = Path(scratch) / PROTO_PACKAGE
        files = {
            p.name: p.read_bytes() if p.name == DESCRIPTOR_SET else IMPORT_FROM.sub(IMPORT_TO, p.read_text()).encode()
            for p in sorted(produced.iterdir())
        }
    files["__init__.py"] = INIT.encode()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are stale")
    check = parser.parse_args().check

    wanted = rendered_files()
    present = {p.name for p in OUT_DIR.glob("*") if p.is_file()}
    stale = sorted(
        name
        for name in wanted.keys() | present
        if name not in present or name not in wanted or (OUT_DIR / name).read_bytes() != wanted[name]
    )
    if check:
        if stale:
            print(f"generated stubs are stale (run `make proto`): {', '.join(stale)}", file=sys.stderr)
            return 1
        print(f"generated stubs are up to date ({len(wanted)} files)")
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in present - wanted.keys():
        (OUT_DIR / name).unlink()
    for name, content in wanted.items():
        (OUT_DIR / name).write_bytes(content)
    print(f"wrote {len(wanted)} files to {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
