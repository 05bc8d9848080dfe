"""tacr.report: the README's results block from the committed figures/ tables."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tacr import report


def test_judge_follows_the_interval_rule():
    a, b = report.Row("a", 0.72, 0.71, 0.73), report.Row("b", 0.70, 0.69, 0.705)
    assert report.judge(a, b) == "supported (intervals apart)"
    assert report.judge(report.Row("a", 0.72, 0.70, 0.74), b).startswith("weakly supported")
    assert report.judge(b, a) == "not supported"


def test_claims_quote_the_tables(repo_root):
    fig = repo_root / "figures"
    rows, facts = report.claims(fig)
    assert len(rows) == 13
    t3 = pd.read_csv(fig / "table3_sampler.csv").set_index("sampler")
    rgan = t3.loc["rGAN", "ours: avg optimal AUC"]
    assert facts["rgan"] == pytest.approx(rgan)
    assert f"rGAN {rgan:.4f}" in rows[3][1]
    tau = pd.read_csv(fig / "fig8_kendall_tau.csv")
    assert f"tau {tau['tau_penalty'].mean():.2f}" in rows[10][1]
    temp = pd.read_csv(fig / "fig10_temperature.csv")
    best = temp.loc[temp.avg_optimal_auc.idxmax(), "temperature"]
    assert f"best T = {best:g}" in rows[12][1]


def test_update_readme_replaces_only_the_block(tmp_path, repo_root):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\n<!-- RESULTS -->\nold\n<!-- /RESULTS -->\n\n## after\n")
    block = report.results_block(repo_root / "figures", seconds=600)
    report.update_readme(readme, block)
    text = readme.read_text()
    assert text.startswith("# title\n\n<!-- RESULTS -->\n## Results of the committed run")
    assert text.endswith("<!-- /RESULTS -->\n\n## After\n".replace("After", "after")) and "old" not in text
    assert "took 10.0 minutes" in text
    (tmp_path / "bad.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        report.update_readme(tmp_path / "bad.md", block)


def test_committed_readme_block_is_current(repo_root):
    """The README shows what the committed figures say (rerun `python -m tacr.report --readme
    README.md --seconds S` after regenerating figures)."""
    text = (repo_root / "README.md").read_text()
    block = text.split(report.START, 1)[1].split(report.END, 1)[0].strip()
    fresh = report.results_block(repo_root / "figures")
    strip = lambda s: re.sub(r" The notebooks of the run that wrote this block took .*?retrained\)\.", "", s)  # noqa: E731
    assert strip(block) == strip(fresh.strip())
