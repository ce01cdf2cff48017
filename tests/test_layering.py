"""The architecture as a specification: which layers may import which (issue "one home per
concept"). Imports are read from the source (ast), so a forbidden arrow fails here the day
it is written, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "qharbor"

#: layer -> layers it must not import. ``api`` reaches the store only through the service,
#: except for the database handle itself (``store.db``), which the app opens and hands down.
FORBIDDEN: dict[str, set[str]] = {
    "engine": {"api", "service", "store", "dispatch", "settings", "cli"},
    "store": {"api", "service", "dispatch", "engine", "cli"},
    "core": {"api", "service", "store", "dispatch", "settings", "cli"},
    "dispatch": {"api", "service", "cli"},
    "service": {"api", "dispatch", "cli"},
    "api": {"store", "dispatch", "cli"},
    "settings": {"api", "service", "store", "dispatch", "engine", "cli"},
}
ALLOWED_EXCEPTIONS = {("api", "store.db")}

#: Arrows that exist today and are being removed. The list may only shrink: an entry that
#: no longer exists fails too.
DEBT: set[tuple[str, str]] = set()


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every qharbor module ``path`` imports, absolute and relative, at any depth."""
    here = _module(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.removeprefix("qharbor.") for a in node.names if a.name.startswith("qharbor.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.startswith("qharbor"):
                target = node.module.removeprefix("qharbor").lstrip(".")
            else:
                continue
            found.add(target)
            found |= {f"{target}.{a.name}".lstrip(".") for a in node.names}  # `from . import x`
    return {m for m in found if m and _exists(m)}


def _exists(module: str) -> bool:
    path = PACKAGE.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def arrows() -> set[tuple[str, str]]:
    return {(_module(p), target) for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts
            for target in _imports(p)}


def _forbidden(source: str, target: str) -> bool:
    layer, other = source.split(".")[0], target.split(".")[0]
    if layer == other or other not in FORBIDDEN.get(layer, set()):
        return False
    return not any(layer == a and (target == b or target.startswith(b + ".")) for a, b in ALLOWED_EXCEPTIONS)


def test_no_layer_imports_one_above_it() -> None:
    bad = {arrow for arrow in arrows() if _forbidden(*arrow)}
    assert bad - DEBT == set(), "forbidden imports: " + ", ".join(f"{a} -> {b}" for a, b in sorted(bad - DEBT))
    assert DEBT - bad == set(), f"gone, so remove from DEBT: {sorted(DEBT - bad)}"


def test_the_reader_sees_real_imports() -> None:
    """The checker itself: it finds arrows that are known to exist."""
    found = arrows()
    assert ("api.app", "store.db") in found
    assert ("engine.ideal", "engine.limits") in found
    assert ("dispatch.worker", "engine") in found
