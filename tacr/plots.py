"""The shared figure style and output helpers of the notebooks.

Figures go to ``figures/`` at the repository root (or ``$TACR_FIGURES``), as PNG with stable
names; tables as Markdown and CSV beside them. Every write is atomic (temp file, then rename),
so an interrupted run never leaves half a figure.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

PAPER_COLOR = "0.35"
ORACLE_COLOR = "tab:red"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def figures_dir() -> Path:
    path = Path(os.environ.get("TACR_FIGURES", repo_root() / "figures"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup_style():
    import matplotlib

    matplotlib.use(os.environ.get("MPLBACKEND", "Agg") if "ipykernel" not in os.sys.modules else matplotlib.get_backend())
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 130, "savefig.bbox": "tight", "axes.titleweight": "bold"})


def _atomic_write(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def save_figure(fig, name: str) -> Path:
    """Save ``fig`` as ``figures/<name>.png`` atomically; returns the path."""
    return _atomic_write(figures_dir() / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png"))


def save_table(df: pd.DataFrame, name: str, floatfmt: str = ".4f") -> Path:
    """Save ``df`` as ``figures/<name>.csv`` and ``.md`` atomically; returns the .md path."""
    _atomic_write(figures_dir() / f"{name}.csv", lambda tmp: df.to_csv(tmp, index=False))
    md = df.to_markdown(index=False, floatfmt=floatfmt)
    return _atomic_write(figures_dir() / f"{name}.md", lambda tmp: Path(tmp).write_text(md + "\n"))


def oracle_line(ax, value: float | None, label: str = "oracle AUC (true p_click)"):
    """Draw the simulator's ceiling as a dashed line (no-op for real data)."""
    if value is not None and np.isfinite(value):
        ax.axhline(value, ls="--", color=ORACLE_COLOR, lw=1.2, label=f"{label} = {value:.3f}")


def curve_with_band(ax, df: pd.DataFrame, x: str, y: str, hue: str, ci: float = 95):
    """Mean over seeds with a confidence band, one line per ``hue`` value (seaborn lineplot)."""
    import seaborn as sns

    sns.lineplot(data=df, x=x, y=y, hue=hue, errorbar=("ci", ci), marker="o", markersize=4, ax=ax)
    return ax


def legend_outside(ax, **kwargs):
    """The legend to the right of the axes, so it never hides a curve."""
    return ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False, **kwargs)
