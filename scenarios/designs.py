"""Finding and loading rollout designs for scenarios (a name in designs/ or a TOML path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twin.errors import ValidationError

DESIGNS_DIR = Path(__file__).resolve().parent.parent / "designs"


def available() -> list[str]:
    """The design names shipped in designs/."""
    return sorted(p.stem for p in DESIGNS_DIR.glob("*.toml"))


def resolve(name_or_path: str) -> Path:
    """The design file for a name ('full') or a path ('designs/full.toml', '~/my.toml')."""
    p = Path(name_or_path).expanduser()
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ValidationError(f"no design file at {p}")
        return p
    candidate = DESIGNS_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    raise ValidationError(f"unknown design {name_or_path!r}: not a file, and designs/ has "
                          f"{', '.join(available()) or 'no designs'}")


def load(name_or_path: str, overrides: dict[str, Any] | None = None) -> Any:
    """The validated Design, with dotted design-key overrides applied ('safety.readers_per_shelter')."""
    from twin.design import load_design, with_overrides

    design = load_design(resolve(name_or_path))
    return with_overrides(design, overrides, "--set") if overrides else design


def split_overrides(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split KEY=VALUE overrides into design keys (dotted) and scenario parameters (plain)."""
    design = {k: v for k, v in values.items() if "." in k}
    params = {k: v for k, v in values.items() if "." not in k}
    return design, params
