"""Forest, funnel and bubble plots: files written in every format, data returned = data drawn."""

from __future__ import annotations

import numpy as np
import pytest

from lupuscell.errors import ValidationError
from lupuscell.evidence.effects import escalc
from lupuscell.evidence.meta import rma, subgroup_analysis
from lupuscell.evidence.plots import bubble_plot, forest_plot, funnel_plot
from lupuscell.reports.figures import save_figure as save

PAIRS = [(4, 4), (23, 83), (9, 12), (2, 3), (33, 50), (21, 24), (18, 22)]
GROUPS = ["msc", "msc", "msc", "msc", "hsct", "hsct", "hsct"]


def es():
    return escalc("PLO", [{"id": f"s{i}", "events": x, "total": n} for i, (x, n) in enumerate(PAIRS)])


def test_forest_plot_data_and_formats(tmp_path):
    fit = rma(es())
    fig, data = forest_plot(fit, extra={"Events/N": [f"{x}/{n}" for x, n in PAIRS]})
    studies = data[data["kind"] == "study"]
    assert list(studies["study"]) == list(fit.ids)
    np.testing.assert_allclose(studies["weight"], fit.weights)
    assert studies["weight"].sum() == pytest.approx(100)
    # study estimates on the proportion scale (0.5 added to the 4/4 study, as metafor)
    np.testing.assert_allclose(studies["estimate"].iloc[1:], [x / n for x, n in PAIRS[1:]], rtol=1e-12)
    assert studies["estimate"].iloc[0] == pytest.approx(4.5 / 5)
    overall = data[data["kind"] == "overall"].iloc[0]
    assert overall["estimate"] == pytest.approx(fit.back.estimate)
    pi = data[data["kind"] == "prediction"].iloc[0]
    assert (pi["ci_low"], pi["ci_high"]) == pytest.approx((fit.back.pred_low, fit.back.pred_high))
    for suffix in (".png", ".svg", ".pdf"):
        path = save(fig, tmp_path / f"forest{suffix}")
        assert path.stat().st_size > 1000
    with pytest.raises(ValidationError, match="unsupported figure format"):
        save(fig, tmp_path / "forest.jpg")


def test_forest_plot_with_subgroups_and_model_scale():
    e = es()
    sub = subgroup_analysis(e, GROUPS)
    _, data = forest_plot(sub, groups=GROUPS, transform=False)
    diamonds = data[data["kind"] == "subgroup"]
    assert list(diamonds["group"]) == ["hsct", "msc"]
    assert diamonds["estimate"].tolist() == pytest.approx(
        [sub.groups["hsct"].estimate, sub.groups["msc"].estimate]
    )
    assert list(data[data["kind"] == "header"]["label"]) == ["hsct", "msc"]
    with pytest.raises(ValueError, match="pass groups"):
        forest_plot(sub)


def test_forest_plot_common_effect_has_no_prediction_row():
    _, data = forest_plot(rma(es(), "EE"))
    assert "prediction" not in set(data["kind"])


def test_forest_plot_ratio_measure_on_log_axis():
    rr = escalc(
        "RR",
        [
            {"id": "a", "ai": 4, "bi": 119, "ci": 11, "di": 128},
            {"id": "b", "ai": 6, "bi": 300, "ci": 29, "di": 274},
        ],
    )
    fig, data = forest_plot(rma(rr, "DL"), refline=1.0)
    assert fig.axes[0].get_xscale() == "log"
    assert data[data["kind"] == "study"]["estimate"].iloc[0] == pytest.approx((4 / 123) / (11 / 139))


def test_funnel_plot_returns_points():
    fit = rma(es())
    _, data = funnel_plot(fit)
    np.testing.assert_allclose(data["sei"], np.sqrt(fit.vi))
    np.testing.assert_allclose(data["yi"], fit.yi)


def test_bubble_plot(tmp_path):
    e = es()
    years = [2009, 2013, 2017, 2018, 2004, 2017, 2019]
    fit = rma(e, mods={"year": years})
    fig, data = bubble_plot(fit, "year", transform=True)
    assert list(data["year"]) == years
    np.testing.assert_allclose(data["yi"], 1 / (1 + np.exp(-fit.yi)))
    save(fig, tmp_path / "bubble.png")
    with pytest.raises(ValueError, match="not in the model"):
        bubble_plot(fit, "ablat")
    with pytest.raises(ValueError, match="intercept-only"):
        forest_plot(fit)
