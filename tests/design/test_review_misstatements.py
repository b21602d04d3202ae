"""Each statement issue 16 found contradicting or misquoting the report, checked against the report's own words."""

from __future__ import annotations

from pathlib import Path

from tests.design.test_review_provenance import at_lines, squeeze
from twin.design import Design, load_design, with_overrides
from twin.policy import review
from twin.policy_report import review_markdown, review_text
from twin.policy_rules import policy_data

ROOT = Path(__file__).resolve().parents[2]


def only(service: str, **fields) -> Design:
    return with_overrides(Design(name="t", city="kumamoto"), {f"{service}.enabled": True, **{f"{service}.{k}": v for k, v in fields.items()}})


def safety_rows(service: str) -> list:
    return [f for f in review(only(service)).service(service).findings if f.point == 5]


def test_certificates_no_pia_is_a_reading_because_l562_563_only_asks_for_the_security_policy():
    assert squeeze("情報セキュリティポリシー等に基づき、適切にシステムを運用、管理しなければならない") in at_lines("L562-563")
    assert "PIA" not in at_lines("L562-563")
    rows = safety_rows("certificates")
    on_562 = [f for f in rows if "L562-563" in f.ref]
    assert [f.basis.kind for f in on_562] == ["report"] and "PIA" not in on_562[0].text
    no_pia = [f for f in rows if "no PIA" in f.text]
    assert [f.basis.kind for f in no_pia] == ["reading"] and "L562" not in no_pia[0].ref


def test_business_no_pia_is_a_reading_because_l893_894_only_asks_for_the_security_policy():
    assert "PIA" not in at_lines("L893-894") and squeeze("情報セキュリティポリシー等に基づき") in at_lines("L893-894")
    rows = safety_rows("business")
    assert [f.basis.kind for f in rows if "L893-894" in f.ref] == ["report"]
    assert [f.basis.kind for f in rows if "no PIA" in f.text] == ["reading"]


def test_payments_without_the_chip_app_name_the_magnetic_stripe_and_say_it_is_not_modelled():
    assert squeeze("ICチップに搭載されたアプリや磁気ストライプ部分を活用して") in at_lines("L1102-1103")
    s = review(only("payments", uses_free_area_app=False)).service("payments")
    legal = s.point(1)[0]
    assert "magnetic stripe" in legal.text and "standard app" not in legal.text and "does not model" in legal.text
    assert legal.basis.quote == "磁気ストライプ部分の利用について、現行法では特段の規定は見受けられない"
    assert any("magnetic stripe" in f.text and "L1102-1103" in f.ref for f in s.not_modelled)


def test_vitals_consent_is_still_open_in_the_report_so_the_refusal_is_a_reading():
    assert squeeze("本人同意やプライバシールールのあり方の検討が必要である") in at_lines("L640-641")
    r = review(only("vitals", clinic_consent_required=False))
    (x,) = r.refusals
    assert x.rule == "vitals_without_consent" and x.basis.kind == "reading" and "あり方の検討が必要" in x.reason
    sensitive = [f for f in r.service("vitals").point(5) if "L639-641" in f.ref][0]
    assert "still to be worked out" in sensitive.text and sensitive.basis.quote.endswith("あり方の検討が必要である")


def test_the_vitals_non_card_path_is_a_reading_since_l646_is_about_clinics():
    assert squeeze("医療機関や介護事業者が利用することも想定される") in at_lines("L646-647")
    ncp = [f for f in review(only("vitals")).service("vitals").point(6) if "paper handbooks" in f.text][0]
    assert ncp.basis.kind == "reading" and "clinics" in ncp.basis.why


def test_child_watch_asks_guardians_to_be_told_not_to_consent_so_the_refusal_is_a_reading():
    words = at_lines("L997-998")
    assert squeeze("保護者への説明が必要である") in words and "同意" not in words
    r = review(only("safety", child_watch=True, child_watch_guardian_consent=False))
    (x,) = r.refusals
    assert x.basis.kind == "reading" and "保護者への説明" in x.reason and "reads that as needing their consent" in x.reason


def test_the_linkage_limit_keeps_similar_tasks_and_says_the_task_table_is_the_twins_own():
    assert squeeze("いわゆる3分野その他の類する事務に限られる") in at_lines("L298")
    d = only("linkage", internal_tasks=["child_allowance", "library_registration"])
    r = review(d)
    (x,) = r.refusals
    assert "その他の類する事務" in x.reason and "linkage_tasks.toml" in x.reason and x.basis.kind == "reading"
    for out in (review_text(r), review_markdown(review(load_design(ROOT / "designs" / "phased.toml")))):
        assert "the twin's own task table (linkage_tasks.toml): the report names no tasks" in out


def test_the_linkage_pia_is_conditional_on_holding_a_file_as_l321_says():
    assert squeeze("特定個人情報保護ファイルの保有することとなる場合、PIAの実施が必要") in at_lines("L321")
    rows = review(only("linkage", internal_tasks=["child_allowance"])).service("linkage").point(5)
    report_row = [f for f in rows if f.basis.kind == "report" and "PIA" in f.text][0]
    assert "保有することとなる場合" in report_row.text and "where a specific-personal-information file comes to be held" in report_row.text
    assert [f.basis.kind for f in rows if "a PIA is needed." in f.text] == ["reading"]


def test_business_ordinances_keep_that_the_my_number_use_is_unknown():
    assert squeeze("マイナンバー等が利用されるかどうかは不明であるが") in at_lines("L876-877")
    (row,) = review(only("business")).service("business").point(2)
    assert "it was not known whether the corporate portal would use the My Number" in row.text and row.basis.quote.startswith("マイナンバー等が利用されるかどうかは不明であるが")


def test_the_citation_slips_are_fixed():
    assert squeeze("規則連携は、法別表第2に準ずる範囲に限られる") in at_lines("L299")
    tasks = (ROOT / "twin" / "policy_data" / "linkage_tasks.toml").read_text(encoding="utf-8")
    assert "(L299)" in tasks and "その他の類する事務" in tasks
    permissions = (ROOT / "calibration" / "data" / "linkage_permissions.csv").read_text(encoding="utf-8")
    assert "19(8)" not in permissions and "Art. 19(14) as numbered in the report, L136" in permissions
    assert "第19条第14号" in at_lines("L136")
    other = policy_data()["services"]["certificates"]["other"][0]
    assert "FACTS.md" in other["ref"] and other["basis"] == "assumption" and "FACTS.md" in other["source"]
    baseline = (ROOT / "designs" / "baseline.toml").read_text(encoding="utf-8")
    assert "no independent use (独自活用)" not in baseline and "L255-261" in baseline
    assert squeeze("コンビニ交付") in at_lines("L255")


def test_chapter_3_has_six_viewpoints_and_the_seventh_row_is_chapter_4s():
    chapter3 = at_lines("L110-186")
    assert "６住民及び他団体への影響" in chapter3 and "７" not in chapter3
    assert "⑦その他" in at_lines("L425")
    header = (ROOT / "twin" / "policy_data" / "services.toml").read_text(encoding="utf-8")[:600]
    assert "six viewpoints" in header and "⑦その他 appears only there" in header
