"""Whatever data a loader is handed, it returns a whole valid Design or raises DesignError — nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from twin.design import Design, DesignError, design_fields, design_from_dict, with_overrides

SPECS = design_fields()
SECTION_KEYS = sorted({s.section for s in SPECS if s.section})
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.text(max_size=8),
    st.sampled_from(["kumamoto", "card_serial", "my_number", "library", "counter", "jpki", "school_aid"]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(max_size=5), scalars, max_size=3))
field_names = st.one_of(st.sampled_from([s.name for s in SPECS]), st.text(max_size=10))
sections = st.dictionaries(field_names, values, max_size=6)
designs = st.dictionaries(
    st.one_of(st.sampled_from(["name", "city", "description", *SECTION_KEYS]), st.text(max_size=8)),
    st.one_of(values, sections),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(designs)
def test_any_data_gives_a_valid_design_or_a_design_error(data):
    try:
        d = design_from_dict(data, "fuzz")
    except DesignError as exc:
        assert exc.problems and all(p.key and p.message for p in exc.problems)
        assert str(exc).startswith("fuzz: ")
        return
    assert isinstance(d, Design)
    assert design_from_dict(d.to_dict(), "again") == d


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from([s.key for s in SPECS]), st.text(max_size=12)), values, max_size=4))
def test_any_overrides_give_a_valid_design_or_a_design_error(overrides):
    try:
        d = with_overrides(Design(), overrides)
    except DesignError as exc:
        assert exc.problems
        return
    for key, value in overrides.items():
        got = d.value(key)
        assert got == (tuple(value) if isinstance(value, list) else value)
