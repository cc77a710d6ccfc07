"""The architecture as pyproject.toml's import-linter contract writes it down, checked on every
import in every module, including those inside functions (lazy imports), TYPE_CHECKING
blocks and ``importlib.import_module`` calls with a literal name, which import-linter's
static graph may not see; and no import cycle between archiver's packages."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archiver"


def _contracts() -> dict[str, dict[str, object]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in data["tool"]["importlinter"]["contracts"]}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str | None = None) -> set[str]:
    """Every archiver module ``path`` (module ``name``) imports, wherever the statement is."""
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return {m for m in found if m.startswith("archiver.")}


def _graph() -> dict[str, set[str]]:
    """Module → the archiver modules it imports (names that are modules or packages)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # 'from archiver.x import name' names a module, or a thing in a module
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _layer_of(module: str, layers: list[list[str]]) -> tuple[int, str] | None:
    for index, siblings in enumerate(layers):
        for sibling in siblings:
            if module == sibling or module.startswith(sibling + "."):
                return index, sibling
    return None


def _layers() -> list[list[str]]:
    layers = _contracts()["layers"]["layers"]
    assert isinstance(layers, list)
    return [[s.strip() for s in str(layer).split("|")] for layer in layers]


def test_every_package_has_a_layer() -> None:
    layers = _layers()
    packages = {p.parent for p in PACKAGE.glob("*/__init__.py")}
    modules = {p for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    for path in sorted(packages | modules):
        name = _module_name(path / "__init__.py" if path.is_dir() else path)
        assert _layer_of(name, layers) is not None, f"{name} is in no layer of the contract"


def test_imports_point_down_the_layers_counting_imports_inside_functions() -> None:
    layers = _layers()
    wrong = []
    for module, targets in sorted(_graph().items()):
        here = _layer_of(module, layers)
        if here is None:
            continue  # archiver/__init__.py and __main__.py: the root
        for target in sorted(targets):
            there = _layer_of(target, layers)
            if there is None or there[1] == here[1]:
                continue
            if there[0] < here[0] or (there[0] == here[0] and there[1] != here[1]):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_workflows_are_independent_of_one_another() -> None:
    contract = _contracts()["workflows"]
    modules = contract["modules"]
    assert isinstance(modules, list)
    present = {_module_name(p) for p in (PACKAGE / "workflows").glob("*.py")} - {
        "archiver.workflows"
    }
    assert present == set(modules), "every workflow module is in the independence contract"
    graph = _graph()
    wrong = [
        f"{a} imports {b}"
        for a in modules
        for b in graph[a]
        if any(b == m or b.startswith(m + ".") for m in modules if m != a)
    ]
    assert wrong == []


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if not module.startswith("archiver.cli") and module != "archiver.__main__"
        for target in targets
        if target == "archiver.cli" or target.startswith("archiver.cli.")
    ]
    assert wrong == []


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, targets in _graph().items():
        for target in targets:
            a, b = _package(module), _package(target)
            if a != b and "archiver" not in (a, b):
                edges[a].add(b)
    # Tarjan's strongly connected components: every one must be a single package
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


def test_imports_inside_functions_and_import_module_calls_are_counted(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from archiver.model import findings\n"
        "def f():\n    from archiver.cli import main\n"
        "    from . import sibling\n"
        "    import importlib\n    importlib.import_module('archiver.cli.audit')\n",
        encoding="utf-8",
    )
    assert _imports(source, "archiver.storage.m") >= {
        "archiver.model.findings",
        "archiver.cli",
        "archiver.storage.sibling",
        "archiver.cli.audit",
    }


def test_import_linter_keeps_the_contracts() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
