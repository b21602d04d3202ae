"""Scenario parameters: frozen, validated when built, layered, unknown keys named."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from scenarios.params import ScenarioParams, param, parse_jst, parse_overrides
from twin.clock import jst
from twin.errors import ValidationError


@dataclass(frozen=True)
class QueueParams(ScenarioParams):
    """A small parameter set for the tests."""

    scenario = "test"
    windows: int = param(4, unit="windows", doc="counter windows", lo=1, hi=50)
    service_s: float = param(120.0, unit="s", doc="mean service", lo=0.0)
    mix: tuple[float, ...] = param((0.5, 0.5), unit="shares", doc="a mix", lo=0.0)
    mode: str = param("fifo", unit="", doc="queue discipline", choices=("fifo", "lifo"))

    @classmethod
    def from_design(cls, design):
        return {"design": design["name"], "windows": design["windows"]} if design else {}

    @classmethod
    def calibrated(cls):
        return {"service_s": 90.0}


def test_layers_apply_in_order_defaults_calibration_design_overrides():
    p = QueueParams.build("sendai", {"name": "wide", "windows": 8}, {"mode": "lifo"})
    assert (p.city, p.design, p.windows, p.service_s, p.mode) == ("sendai", "wide", 8, 90.0, "lifo")
    p2 = QueueParams.build("sendai", {"name": "wide", "windows": 8}, {"windows": 2})
    assert p2.windows == 2


def test_parameters_are_frozen():
    p = QueueParams.build()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.windows = 9


def test_an_unknown_override_is_named_with_the_nearest_field():
    with pytest.raises(ValidationError, match=r"unknown parameter 'windws' in the overrides "
                                              r"\(did you mean 'windows'\?\)"):
        QueueParams.build(overrides={"windws": 3})


@pytest.mark.parametrize("bad, match", [
    ({"windows": 0}, r"'windows' must be in \[1, 50\] windows, got 0"),
    ({"windows": 2.5}, r"'windows' must be int"),
    ({"windows": True}, r"'windows' must be int"),
    ({"service_s": "fast"}, r"'service_s' must be float"),
    ({"service_s": float("inf")}, r"'service_s' must be float"),
    ({"mix": [0.5, -1]}, r"'mix' must be in"),
    ({"mode": "random"}, r"'mode' must be one of \['fifo', 'lifo'\]"),
    ({"scale": 0.0}, r"'scale' must be in"),
])
def test_out_of_range_and_wrongly_typed_values_are_refused_naming_the_field(bad, match):
    with pytest.raises(ValidationError, match=match):
        QueueParams.build(overrides=bad)


def test_an_unknown_city_is_refused_with_the_valid_ones():
    with pytest.raises(ValidationError, match="unknown city 'kumamato'.*did you mean 'kumamoto'"):
        QueueParams.build("kumamato")


def test_ints_become_floats_and_lists_tuples():
    p = QueueParams.build(overrides={"service_s": 60, "mix": [1, 3]})
    assert p.service_s == 60.0 and isinstance(p.service_s, float)
    assert p.mix == (1.0, 3.0)
    assert p.to_dict()["mix"] == [1.0, 3.0]


def test_replace_validates_again_and_refuses_unknown_fields():
    p = QueueParams.build()
    assert p.replace(windows=5).windows == 5
    with pytest.raises(ValidationError):
        p.replace(windows=-1)
    with pytest.raises(ValidationError, match="unknown parameter 'speed'"):
        p.replace(speed=2)


def test_describe_lists_each_field_with_unit_and_range():
    rows = {r["name"]: r for r in QueueParams.describe()}
    assert (rows["windows"]["unit"], rows["windows"]["lo"], rows["windows"]["hi"]) == ("windows", 1, 50)
    assert rows["mix"]["default"] == (0.5, 0.5)
    assert list(rows)[:4] == ["city", "scale", "city_seed", "design"]


def test_overrides_parse_json_values_and_keep_plain_strings():
    assert parse_overrides(["a=3", "b=0.5", "c=[1, 2]", "d=true", "e=fifo"]) == {
        "a": 3, "b": 0.5, "c": [1, 2], "d": True, "e": "fifo"}
    with pytest.raises(ValidationError, match="KEY=VALUE"):
        parse_overrides(["novalue"])


def test_jst_times_parse_to_posix_seconds():
    assert parse_jst("2016-04-16T01:25") == jst(2016, 4, 16, 1, 25)
    with pytest.raises(ValidationError, match="must look like"):
        parse_jst("16 April 2016")
