"""Tables and the council report: the figures the page shows are the ones the report carries."""

from __future__ import annotations

import base64
import io
import math
import re
import tomllib
import zipfile

import polars as pl
import pytest

from dashboards import compute, export, tables
from dashboards.plots import cost_items, equipment
from scenarios.registry import names as scenario_names
from scenarios.registry import scenario as scenario_module
from twin.design import design_from_dict, load_design, with_overrides
from twin.policy import review

SCENARIOS = ("disaster", "payments")


@pytest.fixture
def run(quick_run):
    return quick_run


@pytest.mark.parametrize("headline", tables.HEADLINES, ids=lambda h: f"{h.scenario}.{h.kpi}")
def test_every_key_figure_names_a_kpi_its_scenario_reports(headline):
    assert headline.scenario in scenario_names()
    assert headline.kpi in [k.name for k in scenario_module(headline.scenario).KPIS]


def test_an_interval_reads_mean_low_high_and_one_replication_gives_the_mean_alone():
    assert tables.ci_text(12.34, 10.0, 14.5, "min") == "12.3 [10.0, 14.5]"
    assert tables.ci_text(0.5, math.nan, math.nan, "share") == "0.500"


def test_the_key_figures_are_the_sweep_tables_means_and_paired_differences(run):
    spec, sweeps, reviews = run
    frame = tables.headline_frame(sweeps, reviews)
    row = frame.filter(pl.col("figure") == "shelter check-in wait, 95th percentile").row(
        0, named=True)
    t = sweeps["disaster"].table().filter(pl.col("kpi") == "checkin_wait_p95_min")
    base = t.filter(pl.col("design") == "baseline").row(0, named=True)
    assert row["baseline"] == tables.ci_text(base["mean"], base["ci_low"], base["ci_high"], "min")
    d = sweeps["disaster"].differences().filter(pl.col("kpi") == "checkin_wait_p95_min").row(
        0, named=True)
    assert row["phased − baseline"].startswith(
        tables.ci_text(d["difference"], d["ci_low"], d["ci_high"], "min"))
    assert row["phased − baseline"].endswith(d["verdict"])


def test_the_review_tables_mark_what_each_design_needs(run):
    _, _, reviews = run
    ords = tables.ordinances_frame(reviews)
    art18 = ords.filter(pl.col("ordinance").str.starts_with("Art. 18 ordinance")).row(0, named=True)
    assert (art18["baseline"], art18["phased"]) == (tables.NO, tables.YES)
    phased = reviews[1]
    assert tables.systems_frame(reviews)["phased"].to_list().count(tables.YES) == len(
        phased.systems_touched)
    assert tables.pias_frame(reviews)["phased"].to_list().count(tables.YES) == len(
        phased.pias_needed)


def test_a_refused_design_lists_each_refusal_with_its_reason_and_report_line():
    bad = with_overrides(load_design("designs/phased.toml"),
                         {"name": "bad", "safety.check_in_key": "my_number"})
    rv = review(bad, "kumamoto")
    frame = tables.refusals_frame([review(load_design("designs/phased.toml"), "kumamoto"), rv])
    assert frame["design"].to_list() == ["bad"] * len(rv.refusals)
    assert frame["reason"].to_list() == [x.reason for x in rv.refusals]
    assert frame["lines"].to_list() == [x.ref for x in rv.refusals]
    assert frame["basis"].to_list() == [x.basis.label() for x in rv.refusals]
    assert all(b.startswith(("report ", "reading of ", "law: ")) for b in frame["basis"])


def test_benefits_sit_beside_costs_per_service_and_per_design_and_conditions_are_listed():
    reviews = [review(load_design(f"designs/{n}.toml"), "kumamoto") for n in ("baseline", "full")]
    money = tables.money_frame(reviews)
    full = money.filter(pl.col("design") == "full")
    assert full["service"].to_list()[-1] == "(design)" and full.height == len(reviews[1].services) + 1
    assert full["costs to the horizon (¥M)"][:-1].sum() == pytest.approx(full["costs to the horizon (¥M)"][-1])
    effects = tables.effects_frame(reviews)
    assert effects.height == sum(len(r.effects) for r in reviews)
    faces = with_overrides(load_design("designs/full.toml"), {"name": "faces", "dependencies.face_photo_access": ""})
    cond = tables.conditions_frame([review(faces, "kumamoto")])
    assert cond["service"].to_list() == ["faceid"] and cond["who must act"].to_list() == ["nation"]
    assert "L1131-1132" in cond["basis"][0]


def test_costs_break_down_the_reviews_prices_and_the_scenarios_cost_kpis(run):
    _, sweeps, reviews = run
    items = cost_items(sweeps, reviews)
    phased = items.filter(pl.col("design") == "phased")
    systems = phased.filter(pl.col("item") == "system changes")["yen"].item()
    assert systems == reviews[1].costs.system_changes_yen
    disaster = phased.filter(pl.col("item") == "disaster check-in")["yen"].item()
    assert disaster == pytest.approx(sweeps["disaster"].values(1, "cost_yen").mean())


def test_the_map_equips_shelters_and_kiosks_as_the_design_says(run):
    spec, _, _ = run
    f = compute.facilities(city="kumamoto", seed=0, scale=0.01)
    base = equipment(f, load_design("designs/baseline.toml"))
    full_design = load_design("designs/full.toml")
    full = equipment(f, full_design)
    shelters = f.filter(pl.col("kind") == "shelter").height
    assert base["shelter, paper forms only"].height == shelters
    assert full["shelter with card readers"].height == shelters
    sites = f.filter(pl.col("kind") == "public_kiosk_site").group_by("ward").len()["len"]
    want = int(sites.clip(upper_bound=full_design.certificates.public_kiosks_per_ward).sum())
    assert full["public kiosk"].height == want and base["public kiosk"].height == 0


def test_the_report_carries_the_key_figures_review_costs_map_and_every_scenario(run):
    spec, sweeps, reviews = run
    md, pngs = compute.report_parts(spec=spec)
    assert md.splitlines()[0] == ("# Rollout designs for kumamoto: baseline vs phased — reduced "
                                  f"scale {spec.scale:g} (population share)")
    for heading in ("## Key figures",
                    "## The review, side by side", "### Benefits beside costs", "### Refusals",
                    "## Costs",
                    "## Service points", "## disaster: disaster check-in",
                    "## payments: payment throughput", "# Appendix: each design's review",
                    "## Review of design `phased` — kumamoto (熊本市)"):
        assert heading in md.splitlines(), heading
    assert tables.markdown(tables.headline_frame(sweeps, reviews)) in md
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert sorted(linked) == sorted(pngs) and {export.COSTS_PNG, export.MAP_PNG} <= set(pngs)
    assert all(p.startswith(b"\x89PNG") for p in pngs.values())


def test_the_zip_holds_the_report_its_plots_and_designs_that_load_back(run):
    spec, _, _ = run
    md, pngs = compute.report_parts(spec=spec)
    z = zipfile.ZipFile(io.BytesIO(export.report_zip(spec, md, pngs)))
    assert z.read("report.md").decode() == md
    assert set(z.namelist()) == {"report.md", *pngs, "designs/baseline.toml",
                                 "designs/phased.toml"}
    back = design_from_dict(tomllib.loads(z.read("designs/phased.toml").decode()), "zip")
    assert back == load_design("designs/phased.toml")


def test_the_single_file_report_embeds_every_plot(run):
    spec, _, _ = run
    md, pngs = compute.report_parts(spec=spec)
    one = export.inline_images(md, pngs)
    assert not re.findall(r"\]\([^)]+\.png\)", one)
    uri = re.search(r"\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", one).group(1)
    assert base64.b64decode(uri) in pngs.values()


def test_markdown_tables_escape_pipes_in_cells():
    frame = pl.DataFrame({"a": ["x|y"], "b": [None]}, schema={"a": pl.Utf8, "b": pl.Utf8})
    assert tables.markdown(frame) == "| a | b |\n|---|---|\n| x\\|y |  |"
