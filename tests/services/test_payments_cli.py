"""`run.py ledger`: reconcile, balances and documents of a ledger file, through a subprocess."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from tests.services.pay_helpers import T0
from twin.identity import Assurance, Identity
from twin.services.certificates import CertificateParams, CertificateService


def _filled(small_city, path):
    svc = CertificateService.from_city(small_city, path, CertificateParams(kiosk_p_network_down=0.0,
                                                                          kiosk_p_paper_out=0.0))
    rid = int(small_city.residents.filter(pl.col("has_card"))["resident_id"][0])
    ident = Identity(rid, "jpki_user_cert", Assurance.HIGH, T0)
    svc.kiosk(1, 0).request(ident, "residence_record", T0, np.random.default_rng(0), request_key="k1")
    svc.ledger.top_up("t", rid, 1_000, T0)
    svc.ledger.store.close()
    return rid


def test_reconcile_prints_the_report_and_exits_0_for_a_sound_ledger(cli, small_city, tmp_path):
    _filled(small_city, tmp_path / "l.db")
    out = cli("ledger", "reconcile", str(tmp_path / "l.db"), "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["ok"], report["postings"], report["total"], report["by_kind"]["revenue"]) == (True, 2, 0, 200)


def test_reconcile_exits_1_and_names_the_problem_when_a_balance_was_tampered_with(cli, small_city, tmp_path):
    import sqlite3

    rid = _filled(small_city, tmp_path / "l.db")
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("UPDATE ledger_accounts SET balance = balance - 5 WHERE account_id = ?", (f"wallet:{rid}",))
    out = cli("ledger", "reconcile", str(tmp_path / "l.db"))
    assert out.returncode == 1
    assert "ledger NOT reconciled" in out.stdout
    assert f"wallet:{rid}: stored balance -1005 but its entries sum to -1000" in out.stdout


def test_balances_and_documents_list_the_rows(cli, small_city, tmp_path):
    rid = _filled(small_city, tmp_path / "l.db")
    out = cli("ledger", "balances", str(tmp_path / "l.db"), "--kind", "wallet", "--format", "json")
    assert json.loads(out.stdout) == [{"account_id": f"wallet:{rid}", "kind": "wallet", "balance": 1_000}]
    docs = cli("ledger", "documents", str(tmp_path / "l.db"), "--format", "csv")
    assert docs.stdout.splitlines()[0].startswith("seq,doc_no,request_key,resident_id,cert_type")
    assert "2026-K000000001,k1" in docs.stdout


def test_a_missing_file_or_a_file_that_is_not_a_ledger_is_an_error(cli, tmp_path):
    out = cli("ledger", "reconcile", str(tmp_path / "none.db"))
    assert out.returncode == 2 and "no ledger file at" in out.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE x (a INTEGER)")
    out = cli("ledger", "balances", str(tmp_path / "other.db"))
    assert out.returncode == 2 and "is not a ledger" in out.stderr
