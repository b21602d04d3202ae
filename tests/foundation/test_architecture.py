"""The domain knows no engine and no UI (STYLE.md rule 1)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"ray", "simpy", "streamlit", "fastapi", "starlette", "uvicorn"}


def test_the_twin_package_imports_no_engine_or_ui():
    offenders = []
    for path in sorted((ROOT / "twin").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
