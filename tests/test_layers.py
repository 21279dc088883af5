"""The server's layers, read from its imports: transport -> pipeline -> routing -> providers, nothing reaching up.

grpc (and the generated stubs) only under orchestrator/api; no import cycle among modules at load time; no
hand-written module over 400 lines.
"""

from __future__ import annotations

from collections import defaultdict

from scripts.import_graph import all_imports, package_of, sizes

# Lower first. A package may import itself and any package listed before it, never one after it.
LAYERS = [
    ["orchestrator.errors", "orchestrator.domain", "orchestrator.redaction", "orchestrator.catalog_defaults"],
    ["orchestrator.config", "orchestrator.observe", "orchestrator.logs", "orchestrator.startup"],
    [
        "orchestrator.telemetry",
        "orchestrator.state",
        "orchestrator.context",
        "orchestrator.schemas",
        "orchestrator.evaluation",
    ],
    [
        "orchestrator.providers",
        "orchestrator.templates",
        "orchestrator.policy",
        "orchestrator.conversations",
        "orchestrator.knowledge",
        "orchestrator.feedback",
    ],
    ["orchestrator.routing"],
    ["orchestrator.pipeline"],
    ["orchestrator.runtime"],
    ["orchestrator.app"],
    ["orchestrator.api", "orchestrator.workers"],  # workers: the process supervisor; no grpc (see below)
    ["orchestrator.cli"],
    ["orchestrator.__main__"],
]
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
TRANSPORT = ("grpc", "grpc_health", "grpc_reflection", "grpc_status", "orchestrator_client", "google.rpc")
MAX_MODULE_LINES = 400


def test_every_package_has_a_layer() -> None:
    packages = {package_of(i.importer) for i in all_imports()}

    assert packages - RANK.keys() == set()


def test_no_package_imports_a_higher_layer() -> None:
    upward = {
        (i.importer, i.imported)
        for i in all_imports()
        if i.imported.startswith("orchestrator.")
        and package_of(i.imported) != package_of(i.importer)
        and RANK[package_of(i.imported)] >= RANK[package_of(i.importer)]
    }

    assert upward == set()


def test_grpc_is_imported_only_by_the_transport() -> None:
    outside = {
        (i.importer, i.imported)
        for i in all_imports()
        if i.imported.startswith(TRANSPORT) and package_of(i.importer) not in ("orchestrator.api", "orchestrator.cli")
    }

    assert outside == set()


def test_no_import_cycles_between_modules() -> None:
    """Deferred imports (inside functions) count too: they are dependencies all the same."""
    graph: dict[str, set[str]] = defaultdict(set)
    for i in all_imports():
        if not i.typing_only and i.imported.startswith("orchestrator") and i.imported != i.importer:
            graph[i.importer].add(i.imported)

    cycles = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            # A package's __init__ importing its own submodules is how packages re-export, not a cycle.
            if module.startswith(f"{target}."):
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [module, target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])

    assert cycles == []


def test_no_hand_written_module_is_over_400_lines() -> None:
    large = [(lines, path) for lines, path in sizes() if lines > MAX_MODULE_LINES]

    assert large == []
