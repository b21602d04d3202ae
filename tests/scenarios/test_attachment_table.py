"""The attachments' table of city-issued certificates, worked out once per linkage setting."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from scenarios.certificate_demand import _attachment_table
from scenarios.certificates_params import CERT_TYPES
from scenarios.runner import make_params
from twin.services.linkage_applications import certificates_avoided


def test_the_kept_table_is_what_the_linkage_service_answers_and_cannot_be_changed():
    p = make_params("certificates", "full")
    internal, external = p.linkage_internal_tasks, p.linkage_external_tasks
    apps, certs, avoided, avoided_held = _attachment_table(internal, external)
    for held, got in ((False, avoided), (True, avoided_held)):
        rows = certificates_avoided(internal, external, held).filter(
            pl.col("issued_by") == "city")
        assert np.array_equal(got, rows["copies_avoided"].to_numpy())
        assert apps.tolist() == rows["application"].to_list()
        assert [CERT_TYPES[c] for c in certs] == rows["certificate"].to_list()
    assert avoided.sum() > 0  # the full design's linkage avoids some
    with pytest.raises(ValueError):
        avoided[0] = 0  # shared by every run of the process: read-only


def test_each_linkage_setting_has_its_own_table():
    p = make_params("certificates", "full")
    on = _attachment_table(p.linkage_internal_tasks, p.linkage_external_tasks)
    off = _attachment_table((), ())
    assert off[2].sum() == 0 and on[2].sum() > 0
