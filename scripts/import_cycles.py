"""Fail when modules of ``src/unseen`` import each other in a circle, or import a
package of a higher layer.

Every import counts, also those inside functions (a lazy import hides a circle, it
does not remove it). Prints each circle as its modules joined by ``<->`` and each
import against the layer order; exits 1 if there is any. Run by ``make lint``.

The layers, lowest first; a module may import its own package and lower layers only:

    core, plugins < store < sources < analysis < engine
      < matching < internet < correlation < phones < intel
      < demo < validation, reports < review < cli

Where this differs from a plain "pipeline order":

- ``plugins`` (the entry-point loader) sits with ``core``: it imports only the hook
  declarations, and every stage asks it for the installed plugins.
- The analysis packages are ordered among themselves, not peers: correlation groups
  by matching's signal types; phones parse with internet's SQLite readers and
  timestamps and rank contacts with correlation's leads; intel matches a case with
  correlation's scene, sensor-noise and near-duplicate code and phones' facts, and
  exchange packages carry matching's hash sets. Peers importing each other would let
  packages depend on each other in a circle that no module circle shows.
- ``demo`` builds and processes a case (engine, matching, phones, intel) but needs no
  report, page or command; it sits below ``validation``, which measures on the
  demo's synthetic pictures, and below ``cli``, whose ``unseen demo`` builds it.

``ALLOWED`` lists the imports against the order that stay for now, each with its
reason.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "unseen").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The ``unseen`` modules a file imports (``from a import b`` counts ``a.b`` when b
    is a module)."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets.add(node.module)
            targets.update(f"{node.module}.{a.name}" for a in node.names)
    return {t for t in targets if t in known}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "plugins"),
    ("store",),
    ("sources",),
    ("analysis",),
    ("engine",),
    ("matching",),
    ("internet",),
    ("correlation",),
    ("phones",),
    ("intel",),
    ("demo",),
    ("validation", "reports"),
    ("review",),
    ("cli",),
)
RANK = {package: n for n, layer in enumerate(LAYERS) for package in layer}

# (importing module, imported module): why it may go against the layer order for now.
ALLOWED: dict[tuple[str, str], str] = {}


def package(module: str) -> str:
    """The ``unseen`` package a module belongs to (``unseen.review.app`` -> review)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def against_layers(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a higher layer's package (or of an unranked one) not allowed."""
    found = []
    for module in sorted(graph):
        mine = package(module)
        for target in sorted(graph[module]):
            theirs = package(target)
            if not mine or not theirs or theirs == mine or (module, target) in ALLOWED:
                continue
            if mine not in RANK or theirs not in RANK:
                found.append(f"no layer for {mine if mine not in RANK else theirs}: {module}")
            elif RANK[theirs] > RANK[mine]:
                found.append(f"layer order: {module} ({mine}) imports {target} ({theirs})")
    return found


def main() -> int:
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    found = circles(graph)
    for group in found:
        print("import circle: " + " <-> ".join(group))
    wrong = against_layers(graph)
    for line in wrong:
        print(line)
    stale = [pair for pair in ALLOWED if pair[1] not in graph.get(pair[0], set())]
    for module, target in stale:
        print(f"allowed but no longer imported (remove it from ALLOWED): {module} -> {target}")
    return 1 if found or wrong or stale else 0


if __name__ == "__main__":
    sys.exit(main())
