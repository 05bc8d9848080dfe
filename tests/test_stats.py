"""tacr.stats: intervals, paired differences and the minimum detectable difference against
scipy's independent computations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from tacr.stats import min_detectable, paired, per_run, t_interval


def test_t_interval_matches_scipy():
    x = np.array([0.71, 0.73, 0.70, 0.74, 0.72])
    lo, hi = t_interval(x)
    ref = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)
    assert np.isnan(t_interval([0.7])[0])


def test_min_detectable_has_the_stated_power():
    """Simulated paired t-tests at a true difference equal to the MDD reject in 80 % of
    repetitions (Monte Carlo, 40,000 repetitions: standard error 0.002)."""
    rng = np.random.default_rng(0)
    for n in (3, 5, 10):
        sd = 0.004
        mdd = min_detectable(sd, n)
        d = rng.normal(mdd, sd, size=(40_000, n))
        p = st.ttest_1samp(d, 0.0, axis=1).pvalue
        assert abs((p < 0.05).mean() - 0.80) < 0.01, (n, (p < 0.05).mean())
    assert min_detectable(0.004, 5) < min_detectable(0.004, 3) and min_detectable(0.0, 5) == 0.0
    assert np.isnan(min_detectable(0.01, 1))


def runs_table():
    rows = []
    rng = np.random.default_rng(0)
    for seed in range(5):
        base = 0.70 + rng.normal(0, 0.01)  # seed effect shared by both configs: pairing removes it
        rows += [{"model": "a", "seed": seed, "val_selected_test_auc": base + 0.004 + rng.normal(0, 0.001)},
                 {"model": "b", "seed": seed, "val_selected_test_auc": base + rng.normal(0, 0.001)}]
    rows.append({"model": "a", "seed": 9, "val_selected_test_auc": 0.9})  # unmatched seed: ignored
    return pd.DataFrame(rows)


def test_paired_difference_matches_scipy_paired_t():
    df = runs_table()
    p = paired(df, {"model": "a"}, {"model": "b"})
    a = df[(df.model == "a") & (df.seed < 5)].sort_values("seed")["val_selected_test_auc"].to_numpy()
    b = df[df.model == "b"].sort_values("seed")["val_selected_test_auc"].to_numpy()
    d = a - b
    assert p.n == 5 and p.mean == pytest.approx(d.mean(), rel=1e-12)
    ref = st.ttest_rel(a, b).confidence_interval(0.95)
    assert (p.low, p.high) == pytest.approx((ref.low, ref.high), rel=1e-9)
    assert p.excludes_zero and p.low > 0
    # unpaired intervals overlap (the seed effect dominates) although the paired one excludes zero
    lo_a, hi_a = t_interval(a)
    lo_b, hi_b = t_interval(b)
    assert lo_a < hi_b
    assert p.mdd == pytest.approx(min_detectable(d.std(ddof=1), 5))


def test_paired_refuses_ambiguous_selection():
    df = pd.concat([runs_table(), runs_table().assign(lr=1)], ignore_index=True)
    with pytest.raises(ValueError, match="several runs per seed"):
        paired(df, {"model": "a"}, {"model": "b"})


def test_papers_metric_skips_pre_training_epochs():
    """The paper's metric (best test AUC) is taken over the game epochs only: an adversarial
    run's pre-training epoch (game_epoch 0, uniform negatives) is never its best epoch, even
    when its test AUC is the highest. The validation selection looks at every epoch (a
    pre-trained D is a model one could deploy)."""
    df = pd.DataFrame({"sampler": "rgan", "seed": 0, "epoch": [1, 2, 3], "game_epoch": [0, 1, 2],
                       "test_auc": [0.80, 0.70, 0.72], "valid_auc": [0.81, 0.69, 0.71]})
    r = per_run(df, by=["sampler"]).iloc[0]
    assert (r["best_test_auc"], r["best_epoch"], r["selected_epoch"], r["val_selected_test_auc"]) == (0.72, 3, 1, 0.80)
    assert r["game_epochs"] == 2
    plain = per_run(df.drop(columns="game_epoch"), by=["sampler"]).iloc[0]  # no game epochs: every epoch counts
    assert (plain["best_test_auc"], plain["best_epoch"]) == (0.80, 1)


def test_t_test_p_matches_scipy():
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 12):
        d = rng.normal(0.01, 0.02, n)
        assert paired_p(d) == pytest.approx(st.ttest_1samp(d, 0.0).pvalue, rel=1e-10)
    assert np.isnan(paired_p([0.1])) and paired_p([0.0, 0.0]) == 1.0 and paired_p([0.1, 0.1]) == 0.0


def paired_p(d):
    from tacr.stats import t_test_p

    return t_test_p(d)


def test_holm_against_a_direct_step_down():
    """Holm's adjusted p-values: a textbook case by hand, and random families against a plain
    loop over the step-down rule (reject the k-th smallest while p_(k) < alpha / (m - k + 1))."""
    from tacr.stats import holm

    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    got = holm([0.2, np.nan, 0.01])  # NaN is outside the family (m = 2)
    np.testing.assert_allclose(got[[0, 2]], [0.2, 0.02]) and np.isnan(got[1])
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.uniform(0, 0.2, rng.integers(1, 12))
        alpha = 0.05
        order = np.argsort(p)
        rejected = np.zeros(len(p), dtype=bool)
        for k, i in enumerate(order):
            if p[i] < alpha / (len(p) - k):
                rejected[i] = True
            else:
                break
        np.testing.assert_array_equal(holm(p) < alpha, rejected)
