"""tacr.claims: each verdict rule on hand-made per-run tables with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from tacr import claims, paper


def per_run(effects: dict, key: str = "model", seeds=5, noise=0.001, seed_sd=0.01, rng=0):
    """A per-run table: config ``key`` -> mean AUC offset; a shared per-seed effect."""
    g = np.random.default_rng(rng)
    shared = g.normal(0, seed_sd, seeds)
    rows = []
    for k, eff in effects.items():
        for s in range(seeds):
            v = 0.70 + eff + shared[s] + g.normal(0, noise)
            rows.append({key: k, "seed": s, "val_selected_test_auc": v, "best_test_auc": v + 0.003})
    return pd.DataFrame(rows)


def test_beats_supported_refuted_inconclusive():
    df = per_run({"a": 0.01, "b": 0.0, "c": 0.02, "d": 0.0102})
    assert claims.beats(df, "model", "a", "b", "T", "a beats b").verdict == claims.SUPPORTED
    assert claims.beats(df, "model", "a", "c", "T", "a beats c").verdict == claims.REFUTED
    assert claims.beats(df, "model", "a", "d", "T", "a beats d").verdict == claims.INCONCLUSIVE
    v = claims.beats(df, "model", "a", "b", "T", "a beats b")
    assert v.low > 0 and v.seeds == 5 and np.isfinite(v.mdd) and "MDD" in v.ours


def test_interval_below_the_papers_effect():
    """Zero inside the interval: "refuted at the paper's size" when the whole interval is below
    the paper's effect, inconclusive when it reaches it (time_aware over din: paper about +0.016
    on a 0.70 base)."""
    small = per_run({"time_aware": 0.0005, "din": 0.0}, noise=0.001)
    v = claims.beats(small, "model", "time_aware", "din", "Table 2", "x", paper_table=paper.TABLE2)
    assert v.low < 0 < v.high < v.paper_effect and v.verdict == claims.BELOW_PAPER
    wide = per_run({"time_aware": 0.0005, "din": 0.0}, noise=0.02)
    w = claims.beats(wide, "model", "time_aware", "din", "Table 2", "x", paper_table=paper.TABLE2)
    assert w.low < 0 and w.high > w.paper_effect and w.verdict == claims.INCONCLUSIVE
    assert claims.beats(small, "model", "time_aware", "din", "T", "x").verdict == claims.INCONCLUSIVE  # no paper effect


def test_paper_effect_is_relaimpr_on_our_base():
    df = per_run({"time_aware": 0.02, "din": 0.0})
    v = claims.beats(df, "model", "time_aware", "din", "Table 2", "x", paper_table=paper.TABLE2)
    din = df[df.model == "din"]["val_selected_test_auc"].mean()
    ri = ((paper.TABLE2["time_aware"][0] - 0.5) / (paper.TABLE2["din"][0] - 0.5) - 1)
    assert v.paper_effect == pytest.approx(ri * (din - 0.5), rel=1e-9)


def test_relaimpr_size():
    df = per_run({"x": 0.02, "y": 0.0}, noise=0.0005)
    v = claims.relaimpr_size(df, "model", "x", "y", 50.0, "T", "size")
    assert v.verdict == "smaller" and v.high < 50
    assert claims.relaimpr_size(df, "model", "x", "y", 0.5, "T", "size").verdict == "larger"
    assert claims.relaimpr_size(df, "model", "x", "y", (v.diff - 1, v.diff + 1), "T", "size").verdict == "consistent"


def test_table2_and_null_world_verdicts():
    df = per_run({"time_aware": 0.02, "gru": -0.02, "din": 0.0, "gru_attention": 0.0})
    out = {v.claim: v.verdict for v in claims.table2(df)}
    assert out["time-aware attention beats two-layer GRU"] == claims.SUPPORTED
    assert out["GRU attention beats DIN"] == claims.INCONCLUSIVE or out["GRU attention beats DIN"] in (claims.SUPPORTED, claims.REFUTED)
    null = per_run({"time_aware": 0.0, "gru_attention": 0.0})
    [v] = claims.null_world(null)
    assert v.verdict.startswith("control passed") or v.verdict.startswith("control failed")
    [v2] = claims.null_world(per_run({"time_aware": 0.03, "gru_attention": 0.0}))
    assert v2.verdict.startswith("control failed")


def test_kendall_claims():
    rows = []
    rng = np.random.default_rng(1)
    for seed in range(4):
        for epoch in range(1, 7):
            tau = 0.1 + 0.05 * epoch + rng.normal(0, 0.01)
            rows.append({"seed": seed, "epoch": epoch, "tau_penalty": tau, "tau_random": rng.normal(0, 0.01),
                         "test_auc": 0.6 + tau / 2 + rng.normal(0, 0.001)})
    above, link = claims.kendall(pd.DataFrame(rows))
    assert above.verdict == claims.SUPPORTED and link.verdict == claims.SUPPORTED and link.diff > 0.9


def test_sweep_effect_uses_friedman_over_seeds():
    df = per_run({1.0: 0.0, 10.0: 0.01, 20.0: 0.02}, key="temperature", noise=0.001)
    v = claims.sweep_effect(df, "temperature", "Fig. 10", "T matters")
    wide = df.pivot_table(index="seed", columns="temperature", values="val_selected_test_auc")
    p = st.friedmanchisquare(*[wide[c] for c in wide.columns]).pvalue
    assert f"Friedman p = {p:.3f}" in v.ours and v.verdict == claims.SUPPORTED
    flat = per_run({1.0: 0.0, 10.0: 0.0, 20.0: 0.0}, key="temperature", noise=0.001, seed_sd=0.0)
    assert claims.sweep_effect(flat, "temperature", "Fig. 10", "T matters").verdict in (claims.INCONCLUSIVE, claims.SUPPORTED)


def test_best_value():
    df = per_run({1.0: 0.0, 20.0: 0.02, 30.0: 0.01}, key="temperature")
    assert claims.best_value(df, "temperature", 20.0, "F", "best").verdict == claims.SUPPORTED
    assert claims.best_value(df, "temperature", 30.0, "F", "best").verdict == claims.REFUTED
    assert claims.best_value(df, "temperature", 5.0, "F", "best").verdict == claims.INCONCLUSIVE


def test_calibration_verdict():
    low = pd.DataFrame({"seed": range(5), "error vs realised (%)": [0.1, -0.2, 0.15, 0.05, -0.1]})
    assert claims.calibration(low)[0].verdict == "reproduced"
    high = pd.DataFrame({"seed": range(5), "error vs realised (%)": [8.0, 9.0, 7.5, 8.5, 9.2]})
    assert claims.calibration(high)[0].verdict == "not reproduced"


def test_markdown_lists_every_verdict():
    df = per_run({"time_aware": 0.02, "din": 0.0})
    text = claims.markdown(claims.table2(df))
    assert text.count("\n| Table 2 |") == 2


def test_oracle_gap_judged_on_the_interval():
    """The best model "closes half the gap from item popularity to the oracle" only when the low
    end of its interval does; refuted when the high end does not; inconclusive between."""
    base = pd.DataFrame({"baseline": ["item popularity"], "test AUC": [0.60]})

    def gap(mean, low, high):
        summary = pd.DataFrame({"model": ["m"], "seeds": [5], "val_selected_auc": [mean], "val_ci_low": [low],
                                "val_ci_high": [high], "selected_valid_auc": [0.7]})
        return claims.against_baselines(summary, base, "model", oracle=0.80)[-1]

    v = gap(0.72, 0.71, 0.73)  # shares 60 % [55 %, 65 %]
    assert v.verdict == claims.SUPPORTED and (v.diff, v.low, v.high) == pytest.approx((0.60, 0.55, 0.65))
    assert gap(0.70, 0.69, 0.72).verdict == claims.INCONCLUSIVE  # [45 %, 60 %]
    assert gap(0.68, 0.67, 0.69).verdict == claims.REFUTED  # [35 %, 45 %]


# ------------------------------------------------------------------ what a verdict rests on (evidence, Holm, comparators)
def _folder(tmp_path, simulator: bool):
    from tacr.profiles import write_record

    tmp_path.mkdir(parents=True, exist_ok=True)
    per = per_run({"time_aware": 0.02, "gru": -0.01, "din": 0.0, "gru_attention": 0.0})
    per.to_parquet(tmp_path / "table2_runs.parquet")
    per_run({"time_aware": 0.0, "gru_attention": 0.0}).to_parquet(tmp_path / "table2_null_runs.parquet")
    per_run({"rgan": 0.004, "uniform": 0.0, "irgan": -0.003}, key="sampler").to_parquet(tmp_path / "table3_runs.parquet")
    write_record(tmp_path, {"simulator": simulator})
    return tmp_path


def test_every_row_names_its_evidence(tmp_path):
    sim = {v.claim: v.evidence for v in claims.all_claims(_folder(tmp_path / "sim", True))}
    assert sim["time-aware attention beats DIN"] == claims.PLANTED
    assert sim["GRU attention beats DIN"] == claims.SIMULATED and sim["rGAN beats uniform"] == claims.SIMULATED
    assert [e for c, e in sim.items() if c.startswith("(control)")] == [claims.CONTROL]
    real = claims.all_claims(_folder(tmp_path / "real", False))
    assert {v.evidence for v in real if v.source != "Table 2, null world"} == {claims.REAL}
    assert all(f"| {v.evidence} |" in v.markdown_row() for v in real)


def test_ablation_rows_planted_only_where_the_two_sides_see_different_time(tmp_path):
    """On the simulator a row is 'planted' when one side sees a time input the other does not;
    time-aware attention against DIN given every same time input differs only in the readout."""
    from tacr.profiles import write_record

    per_run({"time_aware": 0.02, "din": 0.0, "din_time": 0.0, "din_time_dt": 0.01, "time_aware_no_dt": 0.0}
            ).to_parquet(tmp_path / "table2_runs.parquet")
    write_record(tmp_path, {"simulator": True})
    rows = {v.claim: v for v in claims.embedding_claims(tmp_path)}
    same = rows["(ablation) time-aware attention beats DIN given the same absolute- and relative-time inputs"]
    assert same.evidence == claims.SIMULATED
    assert same.verdict == claims.SUPPORTED  # +0.01 at 5 seeds, noise 0.001
    assert rows["(ablation) relative-time inputs improve DIN given absolute time"].evidence == claims.PLANTED
    assert rows["(ablation) time-aware attention beats DIN given the same absolute-time inputs"].evidence == claims.PLANTED
    assert "DIN + absolute and relative time 0." in same.ours
    assert rows["time-aware attention beats DIN"].evidence == claims.PLANTED
    assert rows["time-aware attention brings 9.4 % RelaImpr over DIN"].evidence == claims.PLANTED


def test_holm_over_the_folders_family(tmp_path):
    """Every row judged by a test of "no difference" carries Holm's adjusted p-value over the
    folder's family (the control left out); a row supported alone can lose it after Holm."""
    from tacr.stats import holm

    rows = claims.all_claims(_folder(tmp_path, True))
    family = [v for v in rows if np.isfinite(v.p_value) and v.evidence != claims.CONTROL]
    assert len(family) == 5 + 3 and all(v.holm for v in family)
    np.testing.assert_allclose([v.p_holm for v in family], holm([v.p_value for v in family]))
    control = [v for v in rows if v.evidence == claims.CONTROL]
    assert control and not control[0].holm and np.isfinite(control[0].p_value)
    for v in family:
        assert v.holm == (claims.INCONCLUSIVE if v.p_holm >= 0.05 else claims.SUPPORTED if v.diff > 0 else claims.REFUTED)
    weak = claims.with_holm([claims.Verdict("T", f"c{i}", "", claims.SUPPORTED, diff=0.01, p_value=0.02, evidence=claims.REAL)
                             for i in range(3)])
    assert [v.holm for v in weak] == [claims.INCONCLUSIVE] * 3 and weak[0].verdict == claims.SUPPORTED


def test_the_comparator_is_chosen_without_the_test_split():
    """The model a baseline row compares with is the best on validation, never the best on
    test; without validation AUCs it is the paper's model, fixed in advance."""
    from tacr.stats import summarise

    per = per_run({"time_aware": 0.0, "din": 0.02, "gru": -0.01})
    per["selected_valid_auc"] = per["model"].map({"time_aware": 0.71, "din": 0.70, "gru": 0.69})
    per = per.assign(best_epoch=3, selected_epoch=3, seconds=1.0, d_updates=1)
    base = pd.DataFrame({"baseline": ["item popularity"], "test AUC": [0.6]})
    [v] = claims.against_baselines(summarise(per, "model"), base, "model")
    assert "best on validation: time_aware" in v.claim  # din has the best test AUC, time_aware the best validation AUC
    [v] = claims.against_baselines(summarise(per.drop(columns="selected_valid_auc"), "model"), base, "model")
    assert "the paper's model: time_aware" in v.claim


def test_rows_show_each_seeds_selected_epoch_and_pre_training():
    per = per_run({"rgan": 0.01, "irgan": 0.0}, key="sampler", seeds=3)
    per["selected_epoch"] = per["sampler"].map({"rgan": 5, "irgan": 1})
    per["epochs"], per["game_epochs"] = 6, 5  # one pre-training epoch
    v = claims.beats(per, "sampler", "rgan", "irgan", "Table 3", "rGAN beats IRGAN")
    assert "selected epochs rgan 5,5,5 / irgan 1,1,1" in v.ours
    assert v.ours.endswith("(irgan: its pre-training epoch on 3 of 3 seeds)")


def test_headline_sets_each_datasets_verdict_side_by_side(tmp_path):
    table = claims.headline({"simulator": _folder(tmp_path / "sim", True), "real": _folder(tmp_path / "real", False),
                             "none": tmp_path / "empty"})
    row = table[table["claim (paper)"] == "time-aware attention beats DIN"].iloc[0]
    assert row["simulator"].startswith("**supported** (planted)") and "(planted)" not in row["real"]
    assert (table["none"] == "not run").all() and not table["claim (paper)"].str.contains("control").any()


def test_calibration_verdict_weighs_the_error_against_both_draws():
    errors = pd.DataFrame({"seed": [0, 1, 2], "error vs realised (%)": [4.0, 5.0, 6.0],
                           "realised CTR noise (%)": [0.5] * 3, "fitted level noise (%)": [2.0] * 3})
    [v] = claims.calibration(errors)
    assert f"±{np.hypot(0.5, 2.0):.2f} %" in v.ours and f"{5.0 / np.hypot(0.5, 2.0):.1f} times that noise" in v.ours


def test_paper_size_test_matches_the_interval_and_is_adjusted_too():
    """"Refuted at the paper's size" rests on a test of "the effect is at least the paper's":
    its p-value is below 0.05 exactly when the interval's top lies below the paper's effect,
    and after Holm the verdict keeps it only if the adjusted p-value does."""
    small = per_run({"time_aware": 0.0005, "din": 0.0}, noise=0.001)
    v = claims.beats(small, "model", "time_aware", "din", "Table 2", "t beats d", paper_table=paper.TABLE2)
    assert v.verdict == claims.BELOW_PAPER and v.p_paper < 0.05 and v.p_value >= 0.05
    assert (v.p_paper < 0.05) == (v.high < v.paper_effect)
    [alone] = claims.with_holm([v])
    assert alone.holm == claims.BELOW_PAPER and alone.p_holm == pytest.approx(v.p_paper)
    crowd = [claims.Verdict("T", f"c{i}", "", claims.BELOW_PAPER, diff=0.0, p_value=0.9, p_paper=0.02) for i in range(4)]
    assert {x.holm for x in claims.with_holm(crowd)} == {claims.INCONCLUSIVE}  # 4 x 0.02 > 0.05
