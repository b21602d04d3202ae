"""The review checklist as data: load twin/policy_data/services.toml and check that it is sound.

The file encodes the report's chapter 3 (six viewpoints, L110-186) and chapter 4 (one table
per service, rows ①-⑦). This module only reads and checks it, including that every row states
its basis (twin/policy_basis.py); twin/policy.py evaluates it for a design.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from twin.design import SERVICE_KEYS
from twin.design_sections import DEPENDENCY_KEYS
from twin.errors import ValidationError
from twin.policy_basis import basis_of, laws
from twin.policy_context import CONDITION_OPS

DATA_FILE = Path(__file__).resolve().parent / "policy_data" / "services.toml"
# The seven rows of every chapter-4 table (①-⑦). Chapter 3 has six viewpoints (L110-186): ⑦その他
# appears only in chapter 4's tables.
POINTS = {
    1: "legal provisions (法令の規定)",
    2: "ordinances (条例・要綱の整備)",
    3: "systems (システム対応)",
    4: "business processes (業務プロセス)",
    5: "safety measures and PIA (安全管理措置等)",
    6: "residents and other bodies (住民・他団体への影響)",
    7: "other (その他)",
}
# table name in the data file -> checklist point
ROW_TABLES = {"legal": 1, "ordinances": 2, "systems": 3, "processes": 4, "safety": 5, "impact": 6, "other": 7}
REQUIRED_TABLES = ("legal", "ordinances", "systems", "processes", "safety")  # point 6 may sit in non_card_path alone
LEGAL_STATUSES = ("allowed", "ordinance", "not_allowed")  # in order of strictness
ORDINANCE_KINDS = ("number", "city", "basis")
BASIS_KEYS = {"ref", "basis", "quote", "why", "source", "law"}
ROW_KEYS = {"text", "when", "status", "articles", "ordinance", "system", "spi_file", "agency_fee", "publicity"} | BASIS_KEYS
SYSTEM_RUNNERS = ("city", "other_local", "nation", "private")  # L149-152, in the report's order
DEPENDENCY_WHO = ("nation", "other_local", "private")


@cache
def policy_data() -> dict[str, Any]:
    """The checked review data (cached)."""
    with open(DATA_FILE, "rb") as fh:
        data = tomllib.load(fh)
    check_policy_data(data)
    return data


def check_policy_data(data: dict[str, Any]) -> None:
    """Raise ValidationError naming the first unsound entry of the review data."""
    services = data.get("services", {})
    if set(services) != set(SERVICE_KEYS):
        raise ValidationError(f"review data: services must be exactly {SERVICE_KEYS}, got {tuple(services)}")
    for o_key, o in data["ordinances"].items():
        if o.get("kind") not in ORDINANCE_KINDS or not o.get("ref") or not o.get("label"):
            raise ValidationError(f"review data: ordinance {o_key!r} needs a label, a ref and a kind in {ORDINANCE_KINDS}")
        basis_of(o, f"review data: ordinance {o_key!r}")
    for s_key, sysrow in data["systems"].items():
        if not isinstance(sysrow, dict) or not sysrow.get("label") or not isinstance(sysrow.get("change"), bool):
            raise ValidationError(f"review data: system {s_key!r} needs a label and change = true/false")
        if sysrow.get("runs") not in SYSTEM_RUNNERS:
            raise ValidationError(f"review data: system {s_key!r} needs runs = one of {SYSTEM_RUNNERS}")
    deps = data.get("dependencies", {})
    if set(deps) != set(DEPENDENCY_KEYS):
        raise ValidationError(f"review data: dependencies must be exactly {DEPENDENCY_KEYS} (the design's [dependencies] keys), got {tuple(deps)}")
    for d_key, dep in deps.items():
        if not (dep.get("what") and dep.get("until")) or dep.get("who") not in DEPENDENCY_WHO:
            raise ValidationError(f"review data: dependency {d_key!r} needs what, until and who in {DEPENDENCY_WHO}")
        basis_of(dep, f"review data: dependency {d_key!r}")
    for i, row in enumerate(data.get("common", [])):
        _check_row(data, f"common[{i}]", row)
        if row.get("point") not in POINTS:
            raise ValidationError(f"review data: common[{i}] needs a point from 1 to 7")
    for key, svc in services.items():
        _check_service(data, key, svc)


def _check_service(data: dict[str, Any], key: str, svc: dict[str, Any]) -> None:
    """One service's table: every point present, rows well formed, a non-card path stated."""
    where = f"services.{key}"
    for table in ROW_TABLES:
        rows = svc.get(table, [])
        if table in REQUIRED_TABLES and not rows:
            raise ValidationError(f"review data: {where}.{table} is empty; every chapter-4 table has this point")
        for i, row in enumerate(rows):
            _check_row(data, f"{where}.{table}[{i}]", row)
    if not any("status" in r for r in svc["legal"]):
        raise ValidationError(f"review data: {where}.legal states no status")
    if not any("spi_file" in r for r in svc["safety"]):
        raise ValidationError(f"review data: {where}.safety says nothing about a specific-personal-information file")
    ncp = svc.get("non_card_path")
    if not isinstance(ncp, dict) or "card_needed" not in ncp or not ncp.get("ref"):
        raise ValidationError(f"review data: {where}.non_card_path needs card_needed and a ref")
    if ncp["card_needed"] and not (ncp.get("given_when") and ncp.get("path") and ncp.get("offer")):
        raise ValidationError(f"review data: {where}.non_card_path needs given_when, path and offer when a card is needed")
    if not ncp["card_needed"] and not ncp.get("reason"):
        raise ValidationError(f"review data: {where}.non_card_path needs reason when no card is needed")
    basis_of(ncp, f"review data: {where}.non_card_path")
    for i, row in enumerate(svc.get("refuse", [])):
        if not (row.get("rule") and row.get("reason") and row.get("ref") and row.get("when")):
            raise ValidationError(f"review data: {where}.refuse[{i}] needs rule, reason, ref and when")
        _check_when(f"{where}.refuse[{i}]", row["when"])
        basis_of(row, f"review data: {where}.refuse[{i}]")
    _check_extras(data, where, svc)


def _check_extras(data: dict[str, Any], where: str, svc: dict[str, Any]) -> None:
    """Dependencies, effects, unmodelled scope and the proposal count of one service."""
    from twin.policy_benefits import MEASURES

    for i, row in enumerate(svc.get("depends", [])):
        if row.get("on") not in data.get("dependencies", {}):
            raise ValidationError(f"review data: {where}.depends[{i}] names unknown dependency {row.get('on')!r}")
        _check_when(f"{where}.depends[{i}]", row.get("when", []))
    if not svc.get("effects"):
        raise ValidationError(f"review data: {where}.effects is empty; every chapter-4 page lists its main effects (主な効果)")
    for i, row in enumerate(svc["effects"]):
        basis_of(row, f"review data: {where}.effects[{i}]")
        if not row.get("text") or bool(row.get("measure")) == bool(row.get("not_computed")):
            raise ValidationError(f"review data: {where}.effects[{i}] needs a text and either measure or not_computed")
        if row.get("measure") and row["measure"] not in MEASURES:
            raise ValidationError(f"review data: {where}.effects[{i}] names unknown measure {row['measure']!r}; known: {sorted(MEASURES)}")
    for i, row in enumerate(svc.get("not_modelled", [])):
        basis_of(row, f"review data: {where}.not_modelled[{i}]")
    if not isinstance(svc.get("proposals"), int) or not svc.get("proposals_ref") or not svc.get("proposals_quote"):
        raise ValidationError(f"review data: {where} needs proposals (a count), proposals_ref and proposals_quote")


def _check_row(data: dict[str, Any], where: str, row: dict[str, Any]) -> None:
    """One fact row: text and ref, known extras, known ordinance / system / status names."""
    extra = set(row) - ROW_KEYS - {"point"}
    if extra:
        raise ValidationError(f"review data: {where} has unknown keys {sorted(extra)}")
    if not row.get("text") or not row.get("ref"):
        raise ValidationError(f"review data: {where} needs a text and a ref")
    basis_of(row, f"review data: {where}")
    for a in row.get("articles", []):
        if a not in laws()["articles"]:
            raise ValidationError(f"review data: {where} cites article {a!r}, which laws.toml does not list")
    if "status" in row and row["status"] not in LEGAL_STATUSES:
        raise ValidationError(f"review data: {where}.status must be one of {LEGAL_STATUSES}")
    if "ordinance" in row and row["ordinance"] not in data["ordinances"]:
        raise ValidationError(f"review data: {where} names unknown ordinance {row['ordinance']!r}")
    if "system" in row and row["system"] not in data["systems"]:
        raise ValidationError(f"review data: {where} names unknown system {row['system']!r}")
    _check_when(where, row.get("when", []))


def _check_when(where: str, when: Any) -> None:
    """A `when` list: conditions with a key and exactly one known operator."""
    if not isinstance(when, list):
        raise ValidationError(f"review data: {where}.when must be a list of conditions")
    for c in when:
        ops = set(c) - {"key"}
        if "key" not in c or len(ops) != 1 or not ops <= set(CONDITION_OPS):
            raise ValidationError(f"review data: {where}.when has a bad condition {c!r}; expected key and one of {CONDITION_OPS}")
