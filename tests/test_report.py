"""tacr.report: the results block of a run from the folder its notebooks wrote; the claim
rows come from tacr.claims' per-notebook functions, the functions the notebooks display."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tacr import claims, report
from test_claims import per_run


@pytest.fixture
def fig(tmp_path):
    per_run({"time_aware": 0.02, "gru": -0.01, "din": 0.0, "gru_attention": 0.005}).to_parquet(tmp_path / "table2_runs.parquet")
    per_run({"rgan": 0.01, "uniform": 0.0, "irgan": -0.02}, key="sampler").to_parquet(tmp_path / "table3_runs.parquet")
    (tmp_path / "table1_data.md").write_text("| a |\n|---|\n| 1 |\n")
    return tmp_path


def test_verdicts_are_the_notebooks_claim_functions_on_the_saved_tables(fig):
    got = report.verdicts(fig)
    expected = claims.table2(pd.read_parquet(fig / "table2_runs.parquet")) + claims.table3(pd.read_parquet(fig / "table3_runs.parquet"))
    assert [(v.claim, v.ours, v.verdict) for v in got] == [(v.claim, v.ours, v.verdict) for v in expected]
    rows = claims.with_holm(claims.embedding_claims(fig) + claims.sampler_claims(fig))
    assert [v.markdown_row() for v in got] == [v.markdown_row() for v in rows]


def test_no_claim_row_is_built_in_the_report(repo_root):
    """report.py concatenates; the claim functions live in tacr.claims (one per notebook)."""
    text = (repo_root / "tacr" / "report.py").read_text()
    assert "Verdict(" not in text and "claims.beats" not in text and "claims.all_claims" in text
    for nb in sorted((repo_root / "notebooks").glob("0[2-9]_*.py")):
        src = nb.read_text()
        judge = [name for name, f in claims.BY_NOTEBOOK.items() if name == nb.stem]
        assert judge, f"{nb.stem} has no claim function in tacr.claims.BY_NOTEBOOK"
        fn = claims.BY_NOTEBOOK[nb.stem].__name__
        assert f"claims.{fn}(S.figures)" in src, f"{nb.stem} does not display claims.{fn}"
        assert "Verdict(" not in src and "claims.beats(" not in src


def test_block_lists_every_verdict_and_skips_missing_tables(fig):
    from tacr.profiles import write_record

    write_record(fig, {"seconds": 600, "tacr": "9.9"})
    block = report.results_block(fig)
    rows = [line for line in block.splitlines() if line.startswith("| Table")]
    assert len(rows) == len(report.verdicts(fig))
    assert "took 10.0 minutes" in block and "fig7_reward_ablation.md not written" in block and "(tacr 9.9)" in block


def test_a_run_without_a_page_is_not_called_the_committed_run(tmp_path, fig):
    """`run_all.sh` writes every run's block to outputs/RESULTS.md; only a run that rewrites a
    committed page is "the committed run"."""
    out = tmp_path / "RESULTS.md"
    report.main(["--figures", str(fig), "--out", str(out)])
    assert out.read_text().startswith("## This run\n") and "committed run" not in out.read_text().splitlines()[0]


def test_update_between_replaces_only_the_block(tmp_path, fig):
    page = tmp_path / "page.md"
    page.write_text("# title\n\nprose\n<!-- RESULTS -->\nOLD-BLOCK\n<!-- /RESULTS -->\n\n## after\n")
    report.update_between(page, report.results_block(fig, home=tmp_path))
    text = page.read_text()
    assert text.startswith("# title\n\nprose\n<!-- RESULTS -->\n## The committed run")
    assert text.endswith("<!-- /RESULTS -->\n\n## after\n") and "OLD-BLOCK" not in text
    (tmp_path / "bad.md").write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        report.update_between(tmp_path / "bad.md", "x")


def test_links_are_relative_to_the_page(tmp_path, fig):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure().savefig(fig / "fig4_embedding_auc.png")
    home = tmp_path / "docs" / "results"
    home.mkdir(parents=True)
    block = report.results_block(fig, home=home)
    assert "![Fig. 4](../../fig4_embedding_auc.png)" in block  # the folder is tmp_path, two levels up
    assert "[glossary](" in block and (home / block.split("[glossary](")[1].split(")")[0]).resolve().name == "glossary.md"


def test_no_claim_threshold_outside_the_claims_module(repo_root):
    """Verdict thresholds live in tacr/claims.py only: notebooks and the report call it."""
    pattern = re.compile(r"(>|<)=?\s*[-+]?\d*\.\d+")
    for path in list((repo_root / "notebooks").glob("0[2-9]_*.py")) + [repo_root / "tacr" / "report.py"]:
        for line in path.read_text().splitlines():
            if re.search(r"support|verdict|reproduc|clear", line, re.I):
                assert not pattern.search(line), f"{path.name}: {line.strip()}"


def test_command_of_a_run():
    assert report.command_of({"dataset": "synthetic", "profile": "study", "seeds": [0, 1, 2, 3, 4]}) == \
        "`./run_all.sh` with no arguments"
    assert report.command_of({"dataset": "movielens-100k", "profile": "real", "seeds": [0, 1, 2]}) == \
        "`./run_all.sh -p dataset movielens-100k`"
    assert report.command_of({"dataset": "synthetic", "profile": "quick", "seeds": [0]}) == \
        "`./run_all.sh -p profile quick -p seeds '[0]'`"



def test_table3_rows_beyond_the_paper_and_baselines(tmp_path):
    """As notebook 03: the paper's claims on the rows whose variant is the sampler itself (the
    cosine and joint rGAN rows share sampler "rgan" and must not pair with it), the rows beyond
    the paper by variant, and the sanity baselines with the oracle gap (the baselines table's
    oracle row)."""
    per = per_run({"rgan": 0.01, "uniform": 0.0, "rgan_cosine": 0.03, "rgan_joint": 0.0}, key="variant")
    per["sampler"] = per["variant"].where(per["variant"].isin(["rgan", "uniform"]), "rgan")
    per = per.assign(best_epoch=4, selected_epoch=4, seconds=60.0, d_updates=90)  # the rest of a per_run table
    per.to_parquet(tmp_path / "table3_runs.parquet")
    pd.DataFrame({"baseline": ["item popularity", "one-hot logistic regression", "oracle (true p_click)"],
                  "test AUC": [0.60, 0.72, 0.80]}).to_csv(tmp_path / "table3_baselines.csv", index=False)
    got = [v.claim for v in report.verdicts(tmp_path)]
    main = per[per["variant"] == per["sampler"]]
    expected = [v.claim for v in claims.table3(main) + claims.beyond_paper_samplers(per)]
    assert got[:len(expected)] == expected and len(claims.table3(main)) == 1
    gap = report.verdicts(tmp_path)[-1]
    assert "gap from item popularity to the oracle" in gap.claim and gap.verdict == claims.SUPPORTED  # 0.73 vs 0.6 -> 0.8
    assert got[-3:-1] == ["the model of the table (the paper's model: rGAN) beats the item popularity baseline",
                          "the model of the table (the paper's model: rGAN) beats the one-hot logistic regression baseline"]
