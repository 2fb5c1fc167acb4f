"""The package's shape, read from the source with ``ast`` (nothing is imported).

- The library (every package but ``cli``, ``experiments`` and ``plotting``) imports none
  of those three, nor matplotlib, and holds no ``*showcase*`` or ``*plots*`` module:
  presentation sits on top of the library, never inside.
- ``experiments`` and ``plotting`` do not import the CLI.
- Every module has at most 600 lines.
- ``metricflow.cy`` has no import cycle (function-level imports included).

Modules that other branches of issue 12 are rewriting are listed in :data:`KNOWN_PENDING`
with the branch that fixes them; the test fails both on a new offender and on a listed
module that no longer offends (then delete its entry), so the set only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "metricflow"
PRESENTATION = ("metricflow.cli", "metricflow.experiments", "metricflow.plotting")
MAX_LINES = 600

#: (rule, module) -> the branch that removes the offence. Empty it as they merge.
KNOWN_PENDING: dict[tuple[str, str], str] = {}

#: library modules that may import matplotlib, and why
MATPLOTLIB_ALLOWED = {
    "metricflow.io": "save_figure_atomic writes and closes a figure it is given; it draws nothing",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Every module an ``import`` statement anywhere in the file may load (for ``from M
    import n``: both ``M`` and ``M.n``, since ``n`` may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _offences() -> set[tuple[str, str]]:
    found = set()
    for name, path in _modules().items():
        imports = _imports(name, path)
        if name in ("metricflow.__main__",):  # the console entry point runs the CLI
            continue
        if not _under(name, PRESENTATION):
            if any(_under(m, PRESENTATION) for m in imports):
                found.add(("presentation", name))
            if name not in MATPLOTLIB_ALLOWED and any(_under(m, ("matplotlib",)) for m in imports):
                found.add(("matplotlib", name))
            if "showcase" in name.rsplit(".", 1)[-1] or "plots" in name.rsplit(".", 1)[-1]:
                found.add(("showcase", name))
        elif not _under(name, ("metricflow.cli",)) and any(_under(m, ("metricflow.cli",)) for m in imports):
            found.add(("presentation", name))
        if len(path.read_text().splitlines()) > MAX_LINES:
            found.add(("lines", name))
    return found


def test_layering_and_module_size():
    offences = _offences()
    new = sorted(offences - set(KNOWN_PENDING))
    fixed = sorted(set(KNOWN_PENDING) - offences)
    assert not new, ("library modules importing cli/experiments/plotting/matplotlib, or over "
                     f"{MAX_LINES} lines: {new}")
    assert not fixed, f"these no longer offend: delete them from KNOWN_PENDING: {fixed}"


def test_the_checker_sees_offences(tmp_path, monkeypatch):
    """The walker finds a function-level import of a presentation package, a relative import,
    and a long module (so the test above can fail)."""
    pkg = tmp_path / "metricflow"
    (pkg / "symbolic").mkdir(parents=True)
    (pkg / "experiments").mkdir()
    for init in (pkg, pkg / "symbolic", pkg / "experiments"):
        (init / "__init__.py").write_text("")
    (pkg / "symbolic" / "bad.py").write_text("def f():\n    from metricflow.experiments import demo\n")
    (pkg / "symbolic" / "rel.py").write_text("from ..plotting import cy\n")
    (pkg / "symbolic" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (pkg / "symbolic" / "showcase.py").write_text("")
    (pkg / "experiments" / "ok.py").write_text("import matplotlib\nfrom metricflow.symbolic import bad\n")
    monkeypatch.setitem(globals(), "PACKAGE", pkg)
    assert _offences() == {("presentation", "metricflow.symbolic.bad"),
                           ("presentation", "metricflow.symbolic.rel"),
                           ("lines", "metricflow.symbolic.long"),
                           ("showcase", "metricflow.symbolic.showcase")}


def test_cy_has_no_import_cycle():
    """Imports inside metricflow.cy go one way: hypersurface <- geometry <- pointset <-
    sampling <- _jax_sampling, measures, distances <- clustering (function-level imports count)."""
    mods = {n: p for n, p in _modules().items() if _under(n, ("metricflow.cy",)) and n != "metricflow.cy"}
    graph = {n: {m for m in _imports(n, p) if m in mods and m != n} for n, p in mods.items()}
    state: dict[str, int] = {}

    def visit(n, stack):
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                raise AssertionError(f"import cycle: {' -> '.join(stack[stack.index(m):] + [m])}")
            if m not in state:
                visit(m, stack + [m])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])
