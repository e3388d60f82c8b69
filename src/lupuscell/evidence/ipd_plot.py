"""Plot a digitised Kaplan-Meier curve against the curve of the data rebuilt from it.

The check every reader of a reconstruction wants to see (Guyot et al. 2012, Figure 3; R
``IPDfromKM::survreport``): the digitised points and their step curve, the Kaplan-Meier curve
of the rebuilt patients on top, and under the plot the numbers at risk, published and rebuilt,
at the risk-table times. Returns a matplotlib ``Figure`` (built without pyplot); writing it is
the caller's job (:func:`lupuscell.reports.figures.save_figure`).

References
----------
Guyot P, Ades AE, Ouwens MJNM, Welton NJ. BMC Med Res Methodol 2012;12:9.
doi:10.1186/1471-2288-12-9.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from lupuscell.evidence.ipd import Reconstruction
from lupuscell.evidence.ipd_km import km_step_curve, step_value


def plot_reconstruction(
    rec: Reconstruction,
    *,
    title: str = "Digitised vs reconstructed Kaplan-Meier curve",
    time_unit: str = "months",
) -> Figure:
    """Draw the digitised curve, the refitted curve and a numbers-at-risk table.

    Parameters
    ----------
    rec
        Output of :func:`lupuscell.evidence.ipd.reconstruct_ipd`.
    title
        Figure title; ``n`` and the fit RMSE are added to it.
    time_unit
        Label of the time axis (the unit of the digitised times).
    """
    fig = Figure(figsize=(7.5, 5.6))
    ax, tab = fig.subplots(2, 1, gridspec_kw={"height_ratios": [4.2, 1.0], "hspace": 0.08}, sharex=True)
    curve = rec.curve
    ax.step(curve.time, curve.survival, where="post", color="0.55", lw=2.4, label="digitised curve")
    ax.plot(curve.time, curve.survival, "o", ms=2.5, color="0.35", label=f"digitised points ({len(curve)})")
    x, y = km_step_curve(rec.ipd["time"], rec.ipd["event"])
    ax.step(
        x, y, where="post", color="C3", lw=1.3, label=f"reconstructed KM (n = {rec.n}, {rec.events} events)"
    )
    cens = rec.ipd.loc[rec.ipd["event"] == 0, "time"].to_numpy()
    ax.plot(cens, step_value(x, y, cens), "|", color="C3", ms=6, mew=0.8, label="censored (reconstructed)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("Survival probability")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax.set_title(
        f"{title}\nfit RMSE = {rec.fit.rmse:.4f}, max |error| = {rec.fit.max_abs_error:.4f}", fontsize=10
    )

    times = rec.risk_table.time
    rebuilt = rec.n_risk_at(times)
    tab.set_ylim(-0.5, 1.5)
    tab.set_yticks([1, 0], ["published", "reconstructed"], fontsize=8)
    for tt, pub, rb in zip(times, rec.risk_table.n_risk, rebuilt, strict=True):
        tab.text(tt, 1, f"{int(pub)}", ha="center", va="center", fontsize=8)
        tab.text(
            tt,
            0,
            f"{int(rb)}",
            ha="center",
            va="center",
            fontsize=8,
            color="C3" if int(rb) != int(pub) else "black",
        )
    tab.tick_params(axis="y", length=0, pad=14)
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    tab.set_xlabel(f"Time ({time_unit})")
    tab.text(0.0, 1.02, "Number at risk", transform=tab.transAxes, fontsize=8, va="bottom")
    ax.set_xlim(left=0, right=float(curve.time[-1]) * 1.02 if curve.time[-1] > 0 else 1.0)
    fig.subplots_adjust(left=0.2, right=0.97, top=0.9, bottom=0.1)
    return fig
