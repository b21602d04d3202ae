"""Validation of the synthetic cities: card ownership, age structure, household size."""

from __future__ import annotations

from calibration.checks import Check, Published, check
from calibration.data import DATA_DIR, row
from twin.population import build_city
from twin.presets import presets

TOL_POPULATION = 0.03  # synthetic shares against the published ones (1 % scale: ~1 % sampling error)


def ownership_checks(seed: int = 0, scale: float = 0.01) -> list[Check]:
    """Every preset's card ownership against the share of card holders in its built city."""
    out = []
    for name, p in sorted(presets().items()):
        summary = build_city(name, seed=seed, scale=scale).summary()
        src = dict(p.sources).get("card_ownership", "cities.csv")
        out.append(check("city", f"{name}: card ownership", Published(p.card_ownership, p.card_ownership),
                         float(summary["card_ownership"]), "share", TOL_POPULATION,
                         f"card holders / residents of build_city({name!r}, scale={scale})", src))
    return out


def structure_checks(city: str = "kumamoto", seed: int = 0, scale: float = 0.05) -> list[Check]:
    """Age shares and the mean household size of one built city against the census."""
    c = build_city(city, seed=seed, scale=scale)
    ages = c.residents["age"].to_numpy()
    twin = {
        "age_share_0_14": float((ages <= 14).mean()),
        "age_share_15_64": float(((ages >= 15) & (ages <= 64)).mean()),
        "age_share_65_plus": float((ages >= 65).mean()),
        "household_size_mean_large_city": c.residents.height / c.households.height,
    }
    how = f"build_city({city!r}, scale={scale})"
    out = []
    for fig, value in twin.items():
        r = row("population_structure", figure=fig)
        unit = "persons" if "household" in fig else "share"
        out.append(check("city", f"{city}: {fig}", Published(r["value"], r["value"]), value, unit,
                         TOL_POPULATION if unit == "share" else 0.1, how, r["source"]))
    return out


__all__ = ["DATA_DIR", "ownership_checks", "structure_checks"]
