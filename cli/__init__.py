"""The command line's subcommands: each module here registers one (see run.py)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from typing import Any


def subcommand_modules() -> list[Any]:
    """Every module in this package that defines `register(subparsers)`, in name order."""
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "register"):
            mods.append(mod)
    return mods


def emit(data: Any, fmt: str, text: str, scale: float | None = None) -> None:
    """Print `data` as JSON when fmt is json, else the human `text`; at a reduced population
    `scale` the first line (text) or first key (JSON, "REDUCED_SCALE") says so."""
    from scenarios.scaling import scale_line

    line = scale_line(scale) if scale is not None else ""
    if line and isinstance(data, dict):
        data = {"REDUCED_SCALE": line, **data}
    if line:
        text = line + "\n" + text
    if fmt == "json":
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, sort_keys=True, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


def add_format(parser: Any, choices: tuple[str, ...] = ("text", "json")) -> None:
    """Add the shared --format option."""
    parser.add_argument(
        "--format", choices=choices, default="text", help="output format (default: text)"
    )
