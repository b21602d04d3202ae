"""The data behind the scenario plots: exceedance curves, horizons, fault markers, words, fonts."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from scenarios import certificates, disaster, payments
from scenarios.plots import cjk_font, draw, exceedance, plot_data, use_fonts
from scenarios.report import markdown_report
from scenarios.runner import make_params
from scenarios.sweep import run_sweep
from tests.conftest import require


def sweep(name: str, designs: tuple[str, ...], reps: int = 1, **over):
    params = [make_params(name, d, "kumamoto", 0.01, over) for d in designs]
    return run_sweep(name, params, reps, 3, executor="local")


@pytest.fixture(scope="module")
def disaster_sweep():
    return sweep("disaster", ("baseline", "full"), horizon_h=12.0)


@pytest.fixture(scope="module")
def certificate_sweep():
    return sweep("certificates", ("baseline",), days=2, requests_per_resident_per_year=0.25)


def test_the_disaster_headline_is_the_share_who_waited_longer_with_the_answer_in_words(
        disaster_sweep):
    plot = disaster.PLOTS[0]
    data = plot_data(disaster_sweep, plot)
    assert plot.kind == "exceed" and data["question"].startswith("How long do evacuees wait")
    waited = disaster_sweep.frame("evacuees").filter(pl.col("design") == "baseline")["waited_min"]
    line = data["lines"]["baseline"]
    assert np.all((line["y"] >= 0) & (line["y"] <= 1)) and np.all(np.diff(line["y"]) <= 0)
    assert line["y"][0] == pytest.approx(float((waited.drop_nulls() > 0).mean()))
    p95 = disaster_sweep.values(0, "checkin_wait_p95_min")[0]
    assert any(t.startswith("95th percentile") and f"baseline {p95:.3g}" in t
               for t in data["answer"])
    assert data["title"].endswith("(reduced scale 0.01)")


def test_exceedance_counts_values_strictly_above_each_point():
    assert exceedance(np.array([0.0, 0.0, 5.0, np.nan]), np.array([0.0, 4.0, 5.0])).tolist() == [
        pytest.approx(1 / 3), pytest.approx(1 / 3), 0.0]
    assert exceedance(np.array([]), np.array([1.0])).tolist() == [0.0]


def test_the_certificate_series_stop_at_the_last_simulated_day(certificate_sweep):
    for plot in certificates.PLOTS[:2]:
        x = plot_data(certificate_sweep, plot)["lines"]["baseline"]["x"]
        assert x.max() == pytest.approx(2 * 24.0)


def test_family_register_kiosk_visits_set_out_in_their_hours_so_no_one_bin_spike_at_nine(
        certificate_sweep):
    v = certificate_sweep.frame("visits")
    fr = v.filter(pl.col("cert_type").str.starts_with("family_register")
                  & (pl.col("planned_channel") == "kiosk"))
    assert fr.height > 0
    hour = (fr["set_out_h"] % 24).to_numpy()
    assert hour.min() >= 9.0 and hour.max() < 17.0
    s = plot_data(certificate_sweep, certificates.PLOTS[1])["lines"]["baseline"]
    busy = dict(zip(s["x"].tolist(), s["y"].tolist(), strict=True))
    for day in (0, 1):
        at9 = busy[24.0 * day + 9.0]
        around = max(busy[24.0 * day + 8.5], busy[24.0 * day + 9.5])
        assert at9 <= 2 * around + 3, (day, at9, around)
    assert "whole city" in certificates.PLOTS[1].title
    assert "store kiosks of the whole city" in certificates.PLOTS[1].ylabel


def test_payment_plots_mark_every_injected_fault_and_say_when_two_lines_are_the_same():
    p = make_params("payments", "baseline", "kumamoto", 0.01, {
        "duration_s": 12.0, "writer_kill_before_commit_at_s": [3.0],
        "writer_kill_after_commit_at_s": [8.0], "network_drop_at_s": [5.0], "network_drop_s": 2.0})
    sw = run_sweep("payments", [p, p.replace(design="copy")], 1, 1, executor="local")
    data = plot_data(sw, payments.PLOTS[0])
    assert sorted(data["markers"]) == [(3.0, "writer killed before a commit"),
                                       (8.0, "writer killed after a commit")]
    assert data["spans"] == [(5.0, 7.0, "network down")]
    assert data["lines"]["copy"]["same_as"] == "baseline"
    assert data["lines"]["baseline"]["same_as"] == ""
    assert any("must be 0" in t for t in data["answer"])


def test_the_report_and_every_plot_title_say_the_reduced_scale(disaster_sweep, tmp_path):
    report = markdown_report([disaster_sweep], {"disaster": {"plots": []}}, "Study", [], tmp_path)
    assert report.read_text().splitlines()[0] == "# Study — reduced scale 0.01 (population share)"
    for plot in disaster.PLOTS:
        assert plot_data(disaster_sweep, plot)["title"].endswith("(reduced scale 0.01)")
    png = draw(disaster_sweep, disaster.PLOTS[0], tmp_path / "headline.png")
    assert png is not None and png.stat().st_size > 10_000


def test_japanese_text_renders_with_a_cjk_font_not_boxes(tmp_path: Path):
    require(cjk_font() is not None, "a CJK font (Debian fonts-noto-cjk)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    use_fonts()
    fig, ax = plt.subplots()
    ax.set_title("熊本市: 避難所のチェックイン")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "ja.png")
    plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
