"""The server's import graph, read from the source: which module imports which.

    python scripts/import_graph.py          # packages and the packages they import
    python scripts/import_graph.py --sizes  # hand-written module sizes in lines

tests/test_layers.py holds the rules (layers, grpc only under orchestrator/api, no import cycles).
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "orchestrator"


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str
    # False for imports inside functions or `if TYPE_CHECKING:` blocks (not run when the module loads).
    at_load: bool
    # True inside `if TYPE_CHECKING:` blocks: annotations only, never run.
    typing_only: bool = False


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, at_load: bool, typing_only: bool) -> Iterator[tuple[ast.AST, bool, bool]]:
    for child in ast.iter_child_nodes(node):
        typing = typing_only or (isinstance(child, ast.If) and _type_checking(child))
        lazy = typing or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield child, at_load and not lazy, typing
        yield from _walk(child, at_load and not lazy, typing)


def imports(path: Path) -> Iterator[Import]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node, at_load, typing_only in _walk(ast.parse(path.read_text()), True, False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, at_load, typing_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                # `from orchestrator.x import y` may name a module y or a name in x: keep the longest that exists.
                candidate = f"{base}.{alias.name}"
                yield Import(name, candidate if _is_module(candidate) else base, at_load, typing_only)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_imports() -> list[Import]:
    return [i for path in sorted(PACKAGE.rglob("*.py")) for i in imports(path)]


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "orchestrator" else parts[0]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for item in all_imports():
        source, target = package_of(item.importer), package_of(item.imported)
        if target.startswith("orchestrator.") and target != source:
            graph[source].add(target)
    return graph


def sizes() -> list[tuple[int, str]]:
    return sorted(
        ((len(p.read_text().splitlines()), str(p.relative_to(ROOT))) for p in PACKAGE.rglob("*.py")), reverse=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", action="store_true")
    args = parser.parse_args()
    if args.sizes:
        for lines, path in sizes():
            print(f"{lines:5d}  {path}")
        return
    for package, targets in sorted(package_graph().items()):
        print(f"{package:28s} -> {', '.join(sorted(t.removeprefix('orchestrator.') for t in targets))}")


if __name__ == "__main__":
    main()
