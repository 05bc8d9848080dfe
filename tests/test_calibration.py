"""Tests of tacr.calibration (docs/method.md §7; paper Eq. 17-20) against independent computations."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import log_loss as sk_log_loss

from tacr.calibration import (BucketCalibrator, calibration_error, calibration_report, expected_calibration_error,
                              log_loss, reliability_table)


def _repeat(sigmas, counts, positives):
    """Scores whose sigmoid is ``sigmas[j]`` (counts[j] times, the first positives[j] clicked)."""
    f, y = [], []
    for s, n, k in zip(sigmas, counts, positives):
        f += [logit(s)] * n
        y += [1] * k + [0] * (n - k)
    return np.array(f), np.array(y)


def _sk_blocks(fit: np.ndarray) -> np.ndarray:
    """Block id of each point of an isotonic fit: runs of one fitted value."""
    return np.concatenate([[0], np.cumsum(np.diff(fit) > 1e-12)])


def _skewed_data(n, ctr=0.015, r=0.05, seed=0):
    """Known truth: p_true = sigmoid(a + z) at mean ~ctr; scores skewed as negative sampling at rate r
    skews them (odds x 1/r), plus a monotone distortion."""
    rng = np.random.default_rng(seed)
    z_pilot = np.random.default_rng(seed + 1).standard_normal(200_000)
    a = brentq(lambda a: expit(a + z_pilot).mean() - ctr, -12, 0)
    p = expit(a + rng.standard_normal(n))
    y = (rng.random(n) < p).astype(np.int8)
    s = logit(p) + np.log(1 / r)
    return s + 0.5 * np.tanh(s), y, p


# ------------------------------------------------------------------ hand computations
def test_hand_case_both_interpolation_rules():
    # n = 4: edges 0, .25, .5, .75, 1; centres .125, .375, .625, .875; 10 samples per bucket with
    # 1, 2, 4, 8 clicks -> p(v_j) = .1, .2, .4, .8 (already increasing, slope 0: table = rates)
    f, y = _repeat([0.1, 0.3, 0.6, 0.9], [10] * 4, [1, 2, 4, 8])
    cal = BucketCalibrator(n_buckets=4, slope=0.0).fit(f, y)
    np.testing.assert_allclose(cal.edges_, [0, .25, .5, .75, 1])
    np.testing.assert_allclose(cal.centers_, [.125, .375, .625, .875])
    np.testing.assert_array_equal(cal.bucket_counts_, [10] * 4)
    np.testing.assert_allclose(cal.bucket_positive_rate_, [.1, .2, .4, .8])
    np.testing.assert_allclose(cal.bucket_values_, [.1, .2, .4, .8])

    sig = np.array([0.0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.875, 0.9, 0.95, 1.0])
    # centre: below .125 the first segment's slope (.1-.2)/.25 continues, at most halfway to 0:
    #   anchor at 0 = .1 - min(.05, .05) = .05; .05 -> .05 + .05 * .05/.125 = .07; .1 -> .05 + .05 * .8 = .09
    # .25 -> halfway .1..2 = .15; .3 -> .1 + .1 * (.3-.125)/.25 = .17; .5 -> .3; .875 -> .8
    # above .875: anchor at 1 = .8 + min(.4/2, (1-.8)/2) = .9; .9 -> .8 + .1 * .025/.125 = .82; .95 -> .86
    want_center = [.05, .07, .09, .15, .17, .3, .8, .82, .86, .9]
    np.testing.assert_allclose(cal.predict_sigma(sig), want_center, atol=1e-12)
    # edge (Eq. 20): sigma in [v_j, v_j+1): alpha = (v_j+1 - sigma)/.25, CTR = alpha p_j + (1-alpha) p_j+1
    # 0 -> p_1 = .1; .05 -> .8*.1 + .2*.2 = .12; .1 -> .6*.1 + .4*.2 = .14; .25 -> .2; .3 -> .8*.2 + .2*.4 = .24
    # .5 -> .4; last bucket: p(v_5) := .8 + min(.8-.4, (1-.8)/2) = .9; .875 -> .5*.8 + .5*.9 = .85
    # .9 -> .4*.8 + .6*.9 = .86; .95 -> .2*.8 + .8*.9 = .88; 1 -> .9
    want_edge = [.1, .12, .14, .2, .24, .4, .85, .86, .88, .9]
    np.testing.assert_allclose(cal.predict_sigma(sig, interpolation="edge"), want_edge, atol=1e-12)
    edge = BucketCalibrator(n_buckets=4, slope=0.0, interpolation="edge").fit(f, y)
    np.testing.assert_allclose(edge.predict(logit(sig[1:-1])), want_edge[1:-1], atol=1e-12)
    np.testing.assert_allclose(cal.predict(logit(sig[1:-1])), want_center[1:-1], atol=1e-12)


def test_hand_case_pava_and_slope():
    # rates .3, .1, .6, .9 with counts 30, 10, 10, 10: PAVA pools buckets 0-1 -> (9+1)/40 = .25.
    # cbar = (30*.125 + 10*.375)/40 = .1875; tilt = .1 * (c - cbar) = -.00625, +.01875 -> .24375, .26875
    # (room: down .5*(.25-0) >= .00625, up .5*((.25+.6)/2 - .25) >= .01875, so no shrink)
    f, y = _repeat([0.1, 0.3, 0.6, 0.9], [30, 10, 10, 10], [9, 1, 6, 9])
    cal = BucketCalibrator(n_buckets=4, slope=0.1).fit(f, y)
    np.testing.assert_allclose(cal.bucket_positive_rate_, [.3, .1, .6, .9])
    np.testing.assert_allclose(cal.isotonic_values_, [.25, .25, .6, .9])
    np.testing.assert_array_equal(cal.block_ids_, [0, 0, 1, 2])
    np.testing.assert_allclose(cal.block_means_, [.25, .6, .9])
    np.testing.assert_allclose(cal.bucket_values_, [.24375, .26875, .6, .9], atol=1e-15)
    assert abs(np.average(cal.bucket_values_[:2], weights=[30, 10]) - 0.25) < 1e-15


def test_slope_shrinks_to_keep_strict_order():
    # buckets 0-3 pool to mean .02 (next block .021): a slope of .1 would span +-.015 and overlap;
    # the tilt shrinks to half the room to the midpoints (0 below, .0205 above) instead
    f, y = _repeat([0.1, 0.3, 0.6, 0.9], [100, 100, 100, 1000], [3, 1, 2, 21])
    cal = BucketCalibrator(n_buckets=4, slope=0.1).fit(f, y)
    assert np.all(np.diff(cal.bucket_values_) > 0)
    np.testing.assert_allclose(cal.block_means_, [0.02, 0.021])
    blk = cal.bucket_values_[:3]
    assert abs(blk.mean() - 0.02) < 1e-15
    assert blk.max() <= 0.02 + 0.5 * (0.0205 - 0.02) + 1e-15 and blk.min() > 0


# ------------------------------------------------------------------ PAVA, slope, monotonicity
@pytest.fixture(scope="module")
def noisy():
    """Few samples per bucket, so PAVA pools a lot; empty buckets (sigma < .02 and two gaps), a
    click-free first block; clicks stay rare enough at the top that no block is all clicks."""
    rng = np.random.default_rng(3)
    sig = np.concatenate([rng.uniform(0.02, 0.45, 2000), rng.uniform(0.6, 0.7, 300), rng.uniform(0.85, 0.95, 200)])
    y = (rng.random(len(sig)) < 0.3 * sig**2).astype(int)
    return logit(sig), y


def test_bucket_statistics_and_pava_match_independent_computation(noisy):
    f, y = noisy
    n = 60
    cal = BucketCalibrator(n_buckets=n).fit(f, y)
    j = np.minimum(np.floor(expit(f) * n).astype(int), n - 1)
    counts = np.array([(j == b).sum() for b in range(n)])
    pos = np.array([y[j == b].sum() for b in range(n)])
    np.testing.assert_array_equal(cal.bucket_counts_, counts)
    np.testing.assert_array_equal(cal.bucket_positives_, pos)
    full = counts > 0
    assert (~full).sum() >= 3, "the fixture should leave some buckets empty"
    np.testing.assert_allclose(cal.bucket_positive_rate_[full], pos[full] / counts[full], rtol=0, atol=1e-15)
    assert np.isnan(cal.bucket_positive_rate_[~full]).all() and (cal.block_ids_[~full] == -1).all()
    sk = IsotonicRegression(increasing=True).fit_transform(cal.centers_[full], pos[full] / counts[full],
                                                           sample_weight=counts[full])
    np.testing.assert_allclose(cal.isotonic_values_[full], sk, rtol=0, atol=1e-12)
    # empty buckets: linear interpolation (by centre) of the isotonic fit of their neighbours
    np.testing.assert_allclose(cal.isotonic_values_[~full], np.interp(cal.centers_[~full], cal.centers_[full], sk),
                               atol=1e-12)


@pytest.mark.parametrize("slope", [0.1, 0.01, 1.0])
def test_slope_keeps_every_block_mean(noisy, slope):
    f, y = noisy
    cal = BucketCalibrator(n_buckets=60, slope=slope).fit(f, y)
    full = cal.bucket_counts_ > 0
    w, rate = cal.bucket_counts_[full], cal.bucket_positive_rate_[full]
    sk = IsotonicRegression().fit_transform(cal.centers_[full], rate, sample_weight=w)
    blocks = _sk_blocks(sk)
    vals = cal.bucket_values_[full]
    sizes = np.bincount(blocks)
    assert (sizes > 1).sum() >= 3, "the fixture should give several pooled blocks"
    assert sk[0] == 0, "the fixture should give a click-free first block"
    for b in np.unique(blocks):
        m_in, m_out = sk[blocks == b][0], np.average(vals[blocks == b], weights=w[blocks == b])
        if 0 < m_in < 1:
            assert abs(m_out - m_in) < 1e-12, (b, m_in, m_out)
        else:  # the documented tie-break of a click-free (or click-only) block
            assert abs(m_out - m_in) <= 1e-9
    assert np.all(np.diff(cal.bucket_values_) > 0)
    assert cal.bucket_values_.min() > 0 and cal.bucket_values_.max() < 1
    # so the calibrated mean over the training data is the training CTR
    assert abs(cal.predict(f).mean() - y.mean()) / y.mean() < 0.05


@pytest.mark.parametrize("interpolation", ["center", "edge"])
def test_output_strictly_increasing_in_score(noisy, interpolation):
    f, y = noisy
    cal = BucketCalibrator(n_buckets=100, interpolation=interpolation).fit(f, y)
    # strict up to float64 resolution: beyond |f| ~ 25 the sigmoid's steps here fall below 1e-16;
    # and a block of only clicks would sit within 1e-9 of 1 (none in this fixture)
    grid = np.linspace(-20, 20, 40001)
    out = cal.predict(grid)
    assert np.all(np.diff(out) > 0)
    assert out.min() > 0 and out.max() < 1


def test_slope_zero_is_plain_pava(noisy):
    f, y = noisy
    cal = BucketCalibrator(n_buckets=60, slope=0.0).fit(f, y)
    full = cal.bucket_counts_ > 0
    np.testing.assert_allclose(cal.bucket_values_[full], cal.isotonic_values_[full], atol=0)
    assert np.all(np.diff(cal.bucket_values_) >= 0)


# ------------------------------------------------------------------ empty buckets, ends, extremes
def test_empty_buckets_first_last_and_saturated_scores():
    # data only in buckets 3, 4 and 6 of 10 (5 empty inside), plus sigma exactly 0 and 1
    sig_data = [0.35, 0.45, 0.65]
    f, y = _repeat(sig_data, [50, 50, 50], [5, 10, 20])
    f = np.concatenate([f, [-1000.0, -1000.0, 1000.0, 1000.0]])
    y = np.concatenate([y, [0, 0, 1, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings from the sigmoid
        cal = BucketCalibrator(n_buckets=10).fit(f, y)
        out_c = cal.predict([-1000.0, 1000.0])
        out_e = cal.predict([-1000.0, 1000.0], interpolation="edge")
    np.testing.assert_array_equal(cal.bucket_counts_, [2, 0, 0, 50, 50, 0, 50, 0, 0, 2])  # sigma=1 -> last
    v = cal.bucket_values_
    assert np.isfinite(v).all() and np.all(np.diff(v) > 0) and v.min() > 0 and v.max() < 1
    np.testing.assert_allclose(v[5], (v[4] + v[6]) / 2)  # inside gap: interpolated by centre
    x_c, k_c = cal.knots("center")
    x_e, k_e = cal.knots("edge")
    assert x_c[0] == 0 and x_c[-1] == 1 and np.all(np.diff(k_c) > 0)
    np.testing.assert_array_equal(out_c, [k_c[0], k_c[-1]])
    np.testing.assert_array_equal(out_e, [v[0], k_e[-1]])  # Eq. 20 at sigma = v_1 gives p(v_1) exactly
    assert 0 < out_c[0] < v[0] and v[-1] < out_c[1] < 1 and v[-1] < out_e[1] < 1


def test_empty_tails_continue_the_slope():
    f, y = _repeat([0.45, 0.55], [100, 100], [10, 30])
    cal = BucketCalibrator(n_buckets=10, slope=0.1).fit(f, y)
    v = cal.bucket_values_
    np.testing.assert_allclose(np.diff(v[:5]), 0.1 / 10)  # below the data: slope .1, one bucket = .01
    np.testing.assert_allclose(np.diff(v[5:]), 0.1 / 10)
    assert np.all(np.diff(v) > 0)


def test_all_negative_training_data_still_strict():
    rng = np.random.default_rng(0)
    f = rng.normal(size=500)
    cal = BucketCalibrator(n_buckets=20).fit(f, np.zeros(500))
    out = cal.predict(np.sort(f))
    assert np.all(np.diff(out) > 0) and out.max() <= 1e-9 and out.min() > 0


# ------------------------------------------------------------------ inputs
def test_accepts_lists_arrays_tensors_and_never_mutates():
    torch = pytest.importorskip("torch")
    f, y, _ = _skewed_data(5000, seed=4)
    f32, y8 = f.astype(np.float32), y.astype(np.int8)
    f_copy, y_copy = f32.copy(), y8.copy()
    ft, yt = torch.tensor(f32), torch.tensor(y8)
    ft_copy = ft.clone()
    ref = BucketCalibrator(n_buckets=20).fit(f32, y8)
    for fi, yi in [(f32.tolist(), y8.tolist()), (ft, yt), (pd.Series(f32), pd.Series(y8.astype(bool)))]:
        cal = BucketCalibrator(n_buckets=20).fit(fi, yi)
        np.testing.assert_array_equal(cal.bucket_values_, ref.bucket_values_)
        np.testing.assert_array_equal(cal.predict(fi), ref.predict(f32))
    p = ref.predict(ft)
    calibration_error(torch.tensor(p), yt)
    calibration_report(ft, p, yt)
    reliability_table(p, y8)
    np.testing.assert_array_equal(f32, f_copy)
    np.testing.assert_array_equal(y8, y_copy)
    assert torch.equal(ft, ft_copy)
    assert ref.predict(f32).dtype == np.float64


def test_errors():
    f, y = np.array([-1.0, 0.0, 1.0, 2.0]), np.array([0, 0, 1, 1])
    with pytest.raises(NotFittedError, match="not fitted"):
        BucketCalibrator().predict(f)
    assert issubclass(NotFittedError, ValueError)
    for kw in [dict(n_buckets=1), dict(n_buckets=2.5), dict(n_buckets=True), dict(slope=-0.1),
               dict(slope=float("nan")), dict(interpolation="left")]:
        with pytest.raises(ValueError):
            BucketCalibrator(**kw)
    cal = BucketCalibrator(n_buckets=4)
    with pytest.raises(ValueError, match="labels has 3"):
        cal.fit(f, y[:3])
    with pytest.raises(ValueError, match="NaN"):
        cal.fit(np.array([0.0, np.nan, 1, 2]), y)
    for bad in ([0, 1, 2, 1], [0, -1, 1, 1], [0, 0.5, 1, 1], [0, np.nan, 1, 1]):
        with pytest.raises(ValueError, match="0 or 1"):
            cal.fit(f, np.array(bad))
    with pytest.raises(ValueError, match="one-dimensional"):
        cal.fit(f.reshape(2, 2), y)
    with pytest.raises(ValueError, match="zero samples"):
        cal.fit([], [])
    cal.fit(f, y)
    with pytest.raises(ValueError, match="NaN"):
        cal.predict([0.0, np.nan])
    with pytest.raises(ValueError, match="interpolation"):
        cal.predict(f, interpolation="middle")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        calibration_error([0.5, 1.5], [0, 1])
    with pytest.raises(ValueError, match="no positive"):
        calibration_error([0.5, 0.5], [0, 0])
    with pytest.raises(ValueError, match="strategy"):
        reliability_table([0.5, 0.5], [0, 1], strategy="kmeans")
    with pytest.raises(ValueError, match="calibrated has 1"):
        calibration_report(f, [0.5], y)


# ------------------------------------------------------------------ metrics
def test_metrics_by_hand():
    assert calibration_error([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 1]) == pytest.approx(0.0, abs=1e-15)
    assert calibration_error([0.5] * 4, [0, 0, 0, 1]) == pytest.approx(1.0)  # |.5 - .25| / .25
    p, y = np.array([0.1, 0.1, 0.9, 0.9]), np.array([0, 1, 1, 1])
    # two uniform bins: |.1 - .5| * .5 + |.9 - 1| * .5 = .25
    assert expected_calibration_error(p, y, n_bins=2, strategy="uniform") == pytest.approx(0.25)
    t = reliability_table(p, y, n_bins=2, strategy="uniform")
    np.testing.assert_allclose(t["obs_ctr"], [0.5, 1.0])
    np.testing.assert_array_equal(t["count"], [2, 2])
    assert log_loss(p, y) == pytest.approx(sk_log_loss(y, p))
    assert np.isfinite(log_loss([0.0, 1.0], [1, 0]))


def test_reliability_table_quantile_bins():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 60, 20_000)
    y = (rng.random(20_000) < p).astype(int)
    t = reliability_table(p, y, n_bins=20)
    assert list(t.columns) == ["bin", "p_min", "p_max", "count", "positives", "pred_mean", "obs_ctr", "obs_se"]
    assert len(t) == 20 and t["count"].sum() == 20_000 and t["count"].between(990, 1010).all()
    assert np.all(t["p_min"].to_numpy()[1:] > t["p_max"].to_numpy()[:-1])
    tied = reliability_table(np.r_[np.full(900, 0.01), rng.random(100) * 0.02], np.r_[np.zeros(999), 1], n_bins=10)
    assert tied["count"].max() >= 900  # ties stay in one bin
    assert expected_calibration_error(p, y) < 0.003  # calibrated by construction


# ------------------------------------------------------------------ the statistical test
@pytest.fixture(scope="module")
def skewed():
    return _skewed_data(2_000_000, seed=0)


def test_center_is_unbiased_edge_is_biased_upward(skewed):
    """Known truth, CTR ~1.5 %, scores skewed like sampling rate 5 % plus a monotone distortion.

    Fit on one half, predict the other; the mean calibrated CTR with "center" must be within 2 %
    of the mean true p_true (the label noise of the fitting half alone is ~0.8 %). "edge" (Eq. 20)
    reads each bucket's average half a bucket too low, so it overshoots; we report that bias.
    """
    f, y, p = skewed
    h = len(f) // 2
    truth = p[h:].mean()
    raw = expit(f[h:]).mean()
    assert raw / truth > 5  # the skew the calibration has to undo
    rows = []
    for n in (50, 100, 200, 300):
        c = BucketCalibrator(n_buckets=n).fit(f[:h], y[:h])
        center, edge = c.predict(f[h:]).mean(), c.predict(f[h:], interpolation="edge").mean()
        rows.append({"n": n, "center_vs_truth": center / truth - 1, "edge_vs_truth": edge / truth - 1,
                     "edge_vs_center": edge / center - 1})
    tab = pd.DataFrame(rows).set_index("n")
    print(f"\ntrue CTR {truth:.5f}; fitting half: label CTR vs its p_true {y[:h].mean() / p[:h].mean() - 1:+.4f}; "
          f"raw sigmoid mean {raw:.4f}\n{tab.to_string(float_format=lambda v: f'{v:+.4f}')}")
    assert abs(tab.loc[100, "center_vs_truth"]) < 0.02
    # net of the fitting half's label noise (its click share vs its own p_true), "center" is
    # unbiased to a few 0.01 %: across seeds the two agree within 0.0004
    noise = y[:h].mean() / p[:h].mean() - 1
    assert abs(tab.loc[100, "center_vs_truth"] - noise) < 0.003
    assert (tab["center_vs_truth"].abs() < 0.02).all()
    assert 0.005 < tab.loc[100, "edge_vs_center"] < 0.06  # upward, ~1-3 % (docs/method.md §7)
    assert tab.loc[100, "edge_vs_truth"] > tab.loc[100, "center_vs_truth"]
    assert np.all(np.diff(tab["edge_vs_center"]) < 0)  # shrinks as n grows
    # the report on the held-out half: calibration removes the skew, per bin too
    c = BucketCalibrator(n_buckets=100).fit(f[:h], y[:h])
    rep = calibration_report(f[h:], c.predict(f[h:]), y[h:])
    print(rep.to_string())
    assert list(rep.index) == ["before", "after"]
    assert rep.loc["after", "calibration_error"] < 0.02 < 5 < rep.loc["before", "calibration_error"]
    assert rep.loc["after", "ece"] < rep.loc["before", "ece"] / 20
    assert rep.loc["after", "log_loss"] < rep.loc["before", "log_loss"]


def test_on_the_project_simulator():
    """Scores = skewed logit of the simulator's true p_click; calibrate on train, check test."""
    # the simulator is written in parallel: skip, rather than fail, while it cannot be imported
    try:
        from tacr.data.synthetic import load_synthetic  # what tacr.data.load("synthetic", ...) calls
    except ImportError as exc:
        pytest.skip(f"tacr.data.synthetic is not available yet ({exc})")

    data = load_synthetic(profile="quick", seed=0)
    tr, te = data.splits["train"], data.splits["test"]
    if tr.p_click is None or te.p_click is None:
        pytest.skip("the simulator's splits carry no p_click")

    def score(pc):
        s = logit(np.asarray(pc, dtype=np.float64)) + np.log(20.0)
        return s + 0.5 * np.tanh(s)

    cal = BucketCalibrator().fit(score(tr.p_click), tr.label)
    truth = float(np.mean(te.p_click, dtype=np.float64))
    center = cal.predict(score(te.p_click)).mean()
    edge = cal.predict(score(te.p_click), interpolation="edge").mean()
    print(f"\nsimulator: train {len(tr)} test {len(te)}; true test CTR {truth:.5f}; "
          f"center {center / truth - 1:+.4f} edge {edge / truth - 1:+.4f}")
    # ~3K training clicks: label noise alone is ~2 %
    assert abs(center / truth - 1) < 0.06
    assert edge > center


def test_level_decomposition_adds_up_and_names_each_draw():
    """The parts of Fig. 6's error add up to it exactly (log-percent), each computed here from
    the counts by hand; the noise of a draw is 100 / sqrt(clicks)."""
    from tacr.calibration import level_decomposition

    y_train = np.r_[np.ones(200), np.zeros(9800)]  # 2.0 %
    y_test = np.r_[np.ones(450), np.zeros(29550)]  # 1.5 %
    table = level_decomposition(0.0175, y_train, y_test, train_expected=0.019, test_expected=0.016).set_index("part")
    parts = table["log-% of the error"]
    assert parts.iloc[:-1].sum() == pytest.approx(parts.iloc[-1], abs=1e-12)
    assert parts.iloc[-1] == pytest.approx(100 * np.log(0.0175 / 0.015))
    assert parts.iloc[0] == pytest.approx(100 * np.log(0.020 / 0.019))  # the training split's draw
    assert parts.iloc[1] == pytest.approx(100 * np.log(0.019 / 0.016))  # the level shift
    assert parts.iloc[2] == pytest.approx(100 * np.log(0.016 / 0.015))  # the test week's draw
    assert parts.iloc[3] == pytest.approx(100 * np.log(0.0175 / 0.020))  # the model
    noise = table["noise, 1 sd (%)"]
    assert noise.iloc[0] == pytest.approx(100 / np.sqrt(200)) and noise.iloc[2] == pytest.approx(100 / np.sqrt(450))
    assert noise.iloc[-1] == pytest.approx(100 * np.sqrt(1 / 200 + 1 / 450))
    real = level_decomposition(0.0175, y_train, y_test)  # no expected CTRs: two parts and the total
    assert len(real) == 3 and real["log-% of the error"].iloc[:-1].sum() == pytest.approx(real["log-% of the error"].iloc[-1])


def test_day_offsets_by_hand():
    from tacr.calibration import day_offsets

    days = np.array(["d1", "d1", "d2", "d2", "d2", "d2"])
    y = np.array([1, 0, 1, 0, 0, 0])
    pred = np.array([0.4, 0.4, 0.3, 0.3, 0.2, 0.2])
    exp = np.array([0.5, 0.5, 0.25, 0.25, 0.25, 0.25])
    t = day_offsets(pred, y, days, exp).set_index("day")
    assert t.loc["d1", "realised CTR (%)"] == pytest.approx(50) and t.loc["d2", "calibrated CTR (%)"] == pytest.approx(25)
    assert t.loc["d1", "offset (%)"] == pytest.approx(100 * (0.4 / 0.5 - 1)) and t.loc["d2", "offset (%)"] == pytest.approx(0)
    assert t.loc["d2", "draw: realised vs expected (%)"] == pytest.approx(0) and t.loc["d1", "clicks"] == 1
    with pytest.raises(ValueError, match="one entry per row"):
        day_offsets(pred[:3], y, days)
