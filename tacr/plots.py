"""The shared figure style and output helpers of the notebooks.

Figures go to the run's results folder (:func:`tacr.profiles.outputs` decides it; notebooks
write through ``Study.save_*``), as PNG with stable names; tables as Markdown and CSV beside
them for people, and as parquet (:func:`save_data`) for :mod:`tacr.claims`, which never parses
the display text. Every write is atomic (temp file, then rename), so an interrupted run never
leaves half a figure.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .files import atomic_write

PAPER_COLOR = "0.35"
ORACLE_COLOR = "tab:red"


def kernel_shell():
    """The IPython shell when this process is a Jupyter kernel (papermill's or a person's), else None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def setup_style():
    """Seaborn's theme and the figure sizes; in a kernel the inline backend, so the executed
    notebook keeps its figures (run_all.sh sets ``MPLBACKEND=Agg`` for everything else)."""
    import matplotlib

    shell = kernel_shell()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    else:
        matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 130, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def save_figure(fig, name: str, folder) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png`` atomically; returns the path."""
    return atomic_write(Path(folder) / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png"))


def save_table(df: pd.DataFrame, name: str, folder, floatfmt: str = ".4f") -> Path:
    """Save ``df`` as ``<folder>/<name>.csv`` and ``.md`` atomically; returns the .md path."""
    atomic_write(Path(folder) / f"{name}.csv", lambda tmp: df.to_csv(tmp, index=False))
    md = df.to_markdown(index=False, floatfmt=floatfmt)
    return atomic_write(Path(folder) / f"{name}.md", lambda tmp: Path(tmp).write_text(md + "\n"))


def save_data(df: pd.DataFrame, name: str, folder) -> Path:
    """Save ``df`` as ``<folder>/<name>.parquet`` atomically: the machine-readable table that
    :mod:`tacr.claims` reads (per-run metrics, sweeps)."""
    return atomic_write(Path(folder) / f"{name}.parquet", lambda tmp: df.to_parquet(tmp, index=False))


def oracle_line(ax, value: float | None, label: str = "oracle AUC (true p_click)"):
    """Draw the simulator's ceiling as a dashed line (no-op for real data)."""
    if value is not None and np.isfinite(value):
        ax.axhline(value, ls="--", color=ORACLE_COLOR, lw=1.2, label=f"{label} = {value:.3f}")


def curve_with_band(ax, df: pd.DataFrame, x: str, y: str, hue: str, ci: float = 95):
    """Mean over seeds with a 95 % band (seaborn's bootstrap, seeded so a rerun draws the same
    figure), one line per ``hue`` value."""
    import seaborn as sns

    sns.lineplot(data=df, x=x, y=y, hue=hue, errorbar=("ci", ci), seed=0, marker="o", markersize=4, ax=ax)
    return ax


def epoch_curves(runs: pd.DataFrame, hue: str, title: str, oracle: float | None = None, figsize=(8, 4.6)):
    """One panel of test AUC per epoch, a line per ``hue`` value (mean over seeds, 95 % band),
    the oracle as a dashed line, the legend outside; returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    curve_with_band(ax, runs, "epoch", "test_auc", hue)
    oracle_line(ax, oracle)
    ax.set(title=title, xlabel="epoch", ylabel="test AUC")
    legend_outside(ax)
    return fig


def legend_outside(ax, **kwargs):
    """The legend to the right of the axes, so it never hides a curve."""
    return ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False, **kwargs)


def sweep_against_baseline(ax, runs: pd.DataFrame, x: str, baseline: pd.Series, label: str = "rGAN sampling",
                           baseline_label: str = "uniform sampling", y: str = "best_test_auc"):
    """A hyper-parameter sweep (mean over seeds with a 95 % band) against a baseline that does
    not depend on the swept value (its mean as a line, its 95 % t-interval as a band)."""
    import seaborn as sns

    from .stats import t_interval

    sns.lineplot(data=runs, x=x, y=y, marker="o", errorbar=("ci", 95), seed=0, label=label, ax=ax)
    ax.axhline(baseline.mean(), color="tab:orange", label=f"{baseline_label} = {baseline.mean():.4f}")
    lo, hi = t_interval(baseline)
    if np.isfinite(lo):
        ax.axhspan(lo, hi, color="tab:orange", alpha=0.15)
    return ax
