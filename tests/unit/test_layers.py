"""Imports point one way: domain ← db ← service ← protocol, web; `common` below everything;
the appliance never imports the server, devices/ neither of them; no framework in the domain.

Read from the source with `ast`, so a wrong-way import fails here before it can run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each layer may import from this project (itself always). The app factory, the command
# line and the process entry points put the layers together and may import them all.
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "server.domain": {"common"},
    "server.db": {"common", "server.domain"},
    "server.service": {"common", "server.domain", "server.db"},
    "server.protocol": {"common", "server.domain", "server.db", "server.service"},
    "server.web": {"common", "server.domain", "server.db", "server.service"},
    "server.simulation": {"common", "server.domain", "server.db", "server.service", "devices"},
    "devices": {"common"},
    "appliance": {"common", "devices"},
}
COMPOSITION_ROOTS = {
    "server",
    "server.__main__",
    "server.app",
    "server.cli",
    "server.config",
    "server.logs",
    "server.serve",
    "server.asgi",
    "server.transport",
    "server.workers",
}
FRAMEWORKS_OUT_OF_DOMAIN = (
    *("flask", "flask_socketio", "socketio", "engineio", "sqlalchemy", "alembic", "pymysql", "redis"),
    *("evdev", "serial", "escpos", "requests", "socket", "threading", "subprocess"),
)
PROJECT = ("common", "server", "appliance", "devices")


def modules() -> Iterator[tuple[str, Path]]:
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def imports_of(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def layer_of(module: str) -> str | None:
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def wrong_way() -> list[str]:
    problems = []
    for name, path in modules():
        if name in COMPOSITION_ROOTS:
            continue
        own = layer_of(name)
        if own is None:
            problems.append(f"{name}: in no layer (add it to ALLOWED or COMPOSITION_ROOTS)")
            continue
        for target in imports_of(name, path):
            if not target.startswith(PROJECT):
                continue
            theirs = layer_of(target)
            if theirs is None:
                if target in COMPOSITION_ROOTS - {"server"}:
                    problems.append(f"{name} imports {target}, which assembles the layers")
                continue
            if theirs != own and theirs not in ALLOWED[own]:
                problems.append(f"{name} ({own}) imports {target} ({theirs})")
    return problems


def test_imports_point_one_way() -> None:
    assert wrong_way() == []


def test_the_domain_imports_no_framework_or_io() -> None:
    for name, path in modules():
        if layer_of(name) != "server.domain" and name != "common.wire":
            continue
        bad = {t for t in imports_of(name, path) if t.split(".")[0] in FRAMEWORKS_OUT_OF_DOMAIN}
        assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize(
    ("module", "source", "problem"),
    [
        ("server.service.x", "from ..protocol import schema", "server.service.x (server.service) imports server.pro"),
        ("server.domain.x", "from ..db.models import Staff", "server.domain.x (server.domain) imports server.db"),
        ("appliance.x", "from server.domain import money", "appliance.x (appliance) imports server.domain"),
        ("server.web.x", "from ..protocol.dispatcher import ok", "server.web.x (server.web) imports server.protocol"),
    ],
)
def test_the_check_catches_a_wrong_way_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str, problem: str
) -> None:
    fake = tmp_path / "m.py"
    fake.write_text(source + "\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["modules"]), "modules", lambda: iter([(module, fake)]))
    assert any(p.startswith(problem) for p in wrong_way()), wrong_way()
