"""Imports run one way: api -> workflows -> activities -> domain (with its ports) <- providers, and
core under them all. Every module's syntax tree is read, so an import inside a function (or under
`TYPE_CHECKING`) counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The packages a layer must never import: those above it (and, for the domain, the providers that
# implement its ports: the composition roots hand them in).
FORBIDDEN = {
    "core": {"domain", "api", "workflows", "activities", "providers"},
    "domain": {"api", "workflows", "activities", "providers"},
    "providers": {"api", "workflows", "activities"},
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> list[str]:
    name = module_name(path).split(".")
    return name if path.name == "__init__.py" else name[:-1]


def imported(source: str, package: list[str]) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, a module of `package`; relative
    imports resolved."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def upward_imports(layer: str) -> list[str]:
    forbidden = FORBIDDEN[layer]
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules(layer)
        for line, name in imported(path.read_text(encoding="utf-8"), package_of(path))
        if name.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_import_runs_back_up(layer: str) -> None:
    assert upward_imports(layer) == []


def test_the_guard_sees_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "import os\n"
        "def f():\n"
        "    from domain.accounts import service\n"
        "    import api.main\n"
        "class C:\n"
        "    def g(self):\n"
        "        from ..providers import storage\n"
        "        from . import db\n"
    )
    names = sorted(name for _, name in imported(source, ["core", "sub"]))
    assert names == ["api.main", "core.providers", "core.sub", "domain.accounts", "os"]
    assert modules("core") and modules("domain")  # the layers are where the guard looks


def test_importing_the_domain_loads_no_provider_sdk() -> None:
    """The Firebase SDK is the identity and push providers' own: the domain never loads it."""
    import subprocess
    import sys

    code = (
        "import sys, domain.accounts.auth, domain.notifications.service, "
        "domain.service_requests.photos, domain.models\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'firebase_admin', 'providers', 'stripe', 'razorpay', 'sendgrid', 'boto3'})\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
