"""The package's shape, checked with the stdlib `ast` (no imports run): no import cycles, and
nothing imports upward. `vidseek.plugins` is the composition root: it imports every plugin and
anyone may call it, so it is left out of both checks."""

from __future__ import annotations

import ast
from pathlib import Path

from paths import ROOT

PACKAGE = ROOT / "vidseek"
# Low to high. A module may import its own layer and those below it, never above.
LAYERS: list[tuple[str, ...]] = [
    ("vidseek", "vidseek.types", "vidseek.errors", "vidseek.registry"),
    ("vidseek.weights",),
    ("vidseek.store",),
    ("vidseek.extract",),
    ("vidseek.index", "vidseek.metrics"),
    ("vidseek.models",),
    ("vidseek.search",),
    ("vidseek.report",),
    # what users call: the verbs, the Python API over them, the app over the API
    ("vidseek.pipelines", "vidseek.api", "vidseek.export", "vidseek.serve"),
    ("vidseek.cli",),
]
EXEMPT = {"vidseek.plugins"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # `if TYPE_CHECKING:` blocks never run
        nodes = [n for n in nodes if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))]
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in out if m == "vidseek" or m.startswith("vidseek.")}


def graph(top_level_only: bool) -> dict[str, set[str]]:
    mods = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    g: dict[str, set[str]] = {}
    for name, path in mods.items():
        if name in EXEMPT:
            continue
        targets = {t for t in imports(path, top_level_only) if t in mods and t not in EXEMPT}
        g[name] = targets - {name}
    return g


def layer_of(module: str) -> int:
    best, depth = -1, -1
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = i, len(prefix)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    """Counting every import, lazy ones inside functions included (a lazy import that closes a
    cycle only hides it until the first call)."""
    assert cycles(graph(top_level_only=False)) == []


def test_nothing_imports_upward() -> None:
    bad = [f"{src} -> {dst}" for src, targets in graph(top_level_only=False).items()
           for dst in targets
           if layer_of(dst) > layer_of(src) and not dst.startswith(src + ".")]
    assert sorted(bad) == []


def test_a_planted_cycle_is_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
