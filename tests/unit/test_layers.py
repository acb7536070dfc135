"""The package's import structure: no cycles, and no low layer importing a higher one.

Every `import alignlab...` statement counts, lazy ones inside functions included: a lazy import hides a
dependency from start-up time, not from the design. Imports under `if TYPE_CHECKING:` do not count (they
exist for annotations only). A module's parent package is not an edge (importing
`alignlab.eval.lm` runs `alignlab/eval/__init__.py`, but that is Python's doing, not the module's).
"""

from __future__ import annotations

import ast
from pathlib import Path

import alignlab

PACKAGE = Path(alignlab.__file__).resolve().parent
# Low layers: building blocks the rest of the package stands on. They may import each other and the base
# modules below, never a higher layer (algorithms, backends, eval, pipeline, cli, report, annotation, ...).
LOW = {"losses", "data", "models", "metrics", "config"}
BASE = {"errors", "registry", "paths", "methods", "hooks", "_version", "utils"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (annotations only: no import happens at run time)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            test = child.test if isinstance(child, ast.If) else None
            if test is not None and "TYPE_CHECKING" in ast.unparse(test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("alignlab"):
                targets.update(filter(None, (resolve(f"{node.module}.{alias.name}") for alias in node.names)))
            elif isinstance(node, ast.Import):
                targets.update(filter(None, (resolve(a.name) for a in node.names if a.name.startswith("alignlab"))))
        targets.discard(name)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "<package>"


def test_the_walker_sees_lazy_imports_and_finds_cycles():
    graph = _graph()
    assert "alignlab.methods" in graph["alignlab.cli.train"]  # imported inside a function
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_low_layers_import_no_higher_layer():
    allowed = LOW | BASE
    bad = sorted(f"{module} -> {target}" for module, targets in _graph().items() if _layer(module) in LOW
                 for target in targets if _layer(target) not in allowed)
    assert not bad, "low layer imports a higher one: " + ", ".join(bad)
