"""A copy of an issuance server (a run's copy of a per-process template) answers as the original and
shares nothing: a move-out recorded on the copy leaves the original as it was."""

from __future__ import annotations

import numpy as np

from twin.services.certificate_rules import CERTIFICATE_TYPES, IssuanceServer
from twin.services.certificates import CertificateService


def test_a_copied_server_answers_as_the_original_and_shares_nothing(small_city):
    original = IssuanceServer(small_city.residents)
    copy = original.copy()
    ids = small_city.residents["resident_id"].to_numpy()[:500]
    for cert in CERTIFICATE_TYPES:
        assert np.array_equal(copy.eligible(ids, cert), original.eligible(ids, cert))
    copy.record_move_out(ids[:10])
    assert not copy.eligible(ids[:10], "residence_record").any()
    assert original.eligible(ids[:10], "residence_record").all()
    svc = CertificateService(small_city.residents, server=copy)
    assert svc.server is copy
