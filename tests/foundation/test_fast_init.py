"""`fast_init` builds the same objects as the dataclass's own `__init__`, with the same arguments and errors."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from twin.fast_init import fast_init
from twin.identity import Assurance, Identity
from twin.services.certificate_rules import CertificateIssued, Document
from twin.services.ledger_requests import FeePayment
from twin.trust_events import Authenticated

DOC = ("2026-K000000001", "v1", 7, "residence_record", 2, "kiosk", 3, -1, 600, "cert:v1", "jpki_user_cert", 3,
       "issued", "", 1.5)
CASES = [(Document, DOC, {}), (Document, DOC, {"replayed": True}), (CertificateIssued, (1.5, "d", 7, "r", "kiosk", 3, 0), {}),
         (Identity, (7, "jpki_user_cert", Assurance.HIGH, 1.5), {}), (Identity, (7, "m", Assurance.LOW, 2.0, 99), {}),
         (FeePayment, ("k", 7, "residence_record", 300), {}), (FeePayment, ("k", 7, "x", 1, "kiosk", "cash", 4), {}),
         (Authenticated, (1.5, 99, 7, "jpki_user_cert", "kiosk-network", False), {})]


def _reference(cls: type, *args: object, **kwargs: object) -> object:
    obj = object.__new__(cls)
    cls.__dataclass_init__(obj, *args, **kwargs)
    return obj


def _every_field(obj: object) -> tuple:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


@pytest.mark.parametrize(("cls", "args", "kwargs"), CASES)
def test_positional_keyword_and_default_arguments_build_the_same_object(cls, args, kwargs):
    want = _reference(cls, *args, **kwargs)
    names = [f.name for f in dataclasses.fields(cls)]
    by_name = dict(zip(names, args, strict=False)) | kwargs
    for got in (cls(*args, **kwargs), cls(**by_name)):
        assert type(got) is cls and got == want and _every_field(got) == _every_field(want)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(cls(*args, **kwargs), names[0], None)


@pytest.mark.parametrize(("cls", "args", "kwargs"), CASES)
def test_missing_and_unexpected_arguments_are_refused_alike(cls, args, kwargs):
    n_required = sum(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                     for f in dataclasses.fields(cls))
    for bad_args, bad_kwargs in ((args[: n_required - 1], {}), (args, kwargs | {"nonsense": 1}),
                                 ((*args, *([0] * (len(dataclasses.fields(cls)) + 1 - len(args)))), {})):
        with pytest.raises(TypeError):
            cls(*bad_args, **bad_kwargs)
        with pytest.raises(TypeError):
            _reference(cls, *bad_args, **bad_kwargs)


def test_default_factories_give_each_object_its_own_value():
    @fast_init
    @dataclass(frozen=True, slots=True)
    class Box:
        name: str
        items: list = field(default_factory=list)

    a, b = Box("a"), Box("b")
    assert a.items == [] and a.items is not b.items and Box("c", [1]).items == [1]


def test_classes_it_cannot_speed_up_exactly_are_refused():
    @dataclass(slots=True)
    class Loose:
        x: int

    @dataclass(frozen=True)
    class NoSlots:
        x: int

    @dataclass(frozen=True, slots=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    for cls in (Loose, NoSlots, Checked):
        with pytest.raises(TypeError):
            fast_init(cls)
