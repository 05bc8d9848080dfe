"""The JD-like simulator v2 (tacr.data.synthetic) against its own definition.

Logit components add up to p_click; the drift components are recomputed independently from
the histories; every absolute-time component is a function of its covariate only; sessions,
calendar, row sampling, the null world, the effect budget (each effect the paper's claims rest
on worth >= 0.01 oracle AUC on a one-week profile) and the parquet cache round trip.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tacr.data import cache as tcache
from tacr.data import time_features
from tacr.data import synthetic as S

DAY = 86400
#: A one-week test split on a small world: the profile on which the effect budget is checked
#: (same calendar as ``study``: training from a Monday, validation Mon-Tue, test Wed-Tue).
WEEK = dict(n_users=1000, n_items=5000, n_categories=200, impressions_per_day=20000, warmup_days=3, train_days=7,
            valid_days=2.0, test_days=7, first_train_day="2025-09-15", train_sample=0.05, pilot_users=0.3, seed=0)


@pytest.fixture(scope="module")
def week():
    return S.load_synthetic("smoke", cache=False, **WEEK)


@pytest.fixture(scope="module")
def null():
    return S.load_synthetic("smoke-null", seed=0)


def _cfg(data) -> S.SimConfig:
    kw = dict(data.info["simulator"])
    kw["paydays"], kw["payday_profile"] = tuple(kw["paydays"]), tuple(kw["payday_profile"])
    return S.SimConfig(**kw)


def _comp(data, split, name):
    return data.splits[split].components[:, S.COMPONENTS.index(name)].astype(np.float64)


# ------------------------------------------------------------------------------ components
def test_components_add_up_to_p_click(smoke_data):
    assert smoke_data.info["logit_components"] == list(S.COMPONENTS)
    base = smoke_data.info["base_logit"]
    for name, s in smoke_data.splits.items():
        assert s.components.shape == (len(s), len(S.COMPONENTS)) and s.components.dtype == np.float32
        logit = base + s.components.astype(np.float64).sum(axis=1)
        np.testing.assert_allclose(1 / (1 + np.exp(-logit)), s.p_click, rtol=2e-5, err_msg=name)


def test_drift_recomputed_from_history(smoke_data):
    """Independent numpy recomputation on a sample of rows: the latest same-category click in
    the history (L = 10 = the simulator's memory) gives the flag and the recency boost; with
    the other components, p_click."""
    cfg = smoke_data.info["simulator"]
    cat = smoke_data.items.category
    rng = np.random.default_rng(0)
    for name, s in smoke_data.splits.items():
        rows = rng.choice(len(s), size=min(3000, len(s)), replace=False)
        hi, ht, hl = s.hist_item[rows], s.hist_time[rows], s.hist_len[rows]
        t, target_cat = s.time[rows], cat[s.item[rows]]
        last = np.full(len(rows), -1, dtype=np.int64)
        for j in range(s.L):  # position by position, no helper of the module under test
            hit = (j < hl) & (cat[hi[:, j]] == target_cat)
            last = np.where(hit, np.maximum(last, ht[:, j]), last)
        has = last >= 0
        dt = (t - last).astype(np.float64)
        flag = np.where(has, cfg["drift_flag"], 0.0)
        rec = np.where(has, cfg["drift_session"] * np.exp(-dt / cfg["drift_session_tau"])
                       + cfg["drift_day"] * np.exp(-dt / cfg["drift_day_tau"]), 0.0)
        comps = s.components[rows].astype(np.float64)
        np.testing.assert_allclose(comps[:, S.COMPONENTS.index("drift_flag")], flag, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(comps[:, S.COMPONENTS.index("drift_recency")], rec, atol=2e-6, err_msg=name)
        others = np.delete(comps, [S.COMPONENTS.index("drift_flag"), S.COMPONENTS.index("drift_recency")], axis=1)
        p = 1 / (1 + np.exp(-(smoke_data.info["base_logit"] + others.sum(axis=1) + flag + rec)))
        np.testing.assert_allclose(p, s.p_click[rows], rtol=2e-5, err_msg=name)
        assert has.mean() > 0.2 and (dt[has] < 3600).mean() > 0.05  # recent related clicks occur


def test_drift_boost_is_what_the_docstring_says():
    cfg = S.config_for("study")
    flag, rec = S.drift_components(np.array([60.0, 3600.0, 12 * 3600.0, 10 * DAY, np.inf]), cfg)
    np.testing.assert_allclose(flag, [0.3, 0.3, 0.3, 0.3, 0.0])
    odds = np.exp(flag + rec)[:4]
    np.testing.assert_allclose(odds, [9.46, 3.09, 1.42, 1.35], rtol=0.01)


def test_each_absolute_time_component_is_its_curve(smoke_data):
    cfg = _cfg(smoke_data)
    cat = smoke_data.items.category
    for name, s in smoke_data.splits.items():
        f = time_features(s.time, smoke_data.tz)
        month, weekday, day, hour = f[:, 0], f[:, 1], f[:, 2] + 1, f[:, 3]
        np.testing.assert_allclose(_comp(smoke_data, name, "hour"), cfg.hour * S.HOUR_CURVE[hour], atol=1e-6)
        np.testing.assert_allclose(_comp(smoke_data, name, "weekday"), cfg.weekday * S.WEEKDAY_CURVE[weekday], atol=1e-6)
        np.testing.assert_allclose(_comp(smoke_data, name, "month"), cfg.month * S.MONTH_CURVE[month], atol=1e-6)
        since = np.min([(day - p) % 31 for p in cfg.paydays], axis=0)  # no month end in the smoke window
        prof = np.append(cfg.payday_profile, 0.0)
        np.testing.assert_allclose(_comp(smoke_data, name, "payday"),
                                   cfg.payday * prof[np.minimum(since, len(cfg.payday_profile))], atol=1e-6)
        # category x hour: one value per (category, hour), a cosine of amplitude category_hour
        df = pd.DataFrame({"k": cat[s.item] * 24 + hour, "v": _comp(smoke_data, name, "category_hour")})
        assert (df.groupby("k")["v"].agg(np.ptp) < 1e-6).all()
        assert np.abs(df["v"]).max() <= cfg.category_hour + 1e-6
        # quality: one value per item; age: one per age bucket
        for comp, key in (("quality", s.item), ("age", smoke_data.user_aux[s.user, 1])):
            g = pd.DataFrame({"k": key, "v": _comp(smoke_data, name, comp)}).groupby("k")["v"]
            assert (g.agg(np.ptp) < 1e-6).all() and g.ngroups > 1, comp


# ------------------------------------------------------------------------------ shape
def test_calendar_every_weekday_in_training_and_a_full_test_week(week):
    wd = time_features(week.train.time, week.tz)[:, 1]
    assert set(np.unique(wd)) == set(range(7))
    counts = np.bincount(wd, minlength=7)
    assert counts.min() > 0.5 * counts.max()  # whole weeks, not a stray day
    assert set(np.unique(time_features(week.test.time, week.tz)[:, 1])) == set(range(7))
    study = S.config_for("study")
    assert pd.Timestamp(study.first_train_day).day_of_week == 0 and study.train_days >= 14
    assert study.test_days == 7 and study.valid_days == 2
    # >= 40K expected test clicks: the realised test CTR's own noise under 0.5 %
    assert study.impressions_per_day * study.test_days * study.target_ctr >= 40_000


def test_expected_ctr_on_target_and_alike_across_splits(week):
    exp = {k: float(s.p_click.mean(dtype=np.float64)) for k, s in week.splits.items()}
    for k, v in exp.items():
        assert v == pytest.approx(0.015, rel=0.06), (k, exp)
        assert v == pytest.approx(exp["train"], rel=0.06), (k, exp)


def test_sessions_minutes_apart_then_hours(week):
    g = S.session_gaps(week).set_index("gap")["share"]
    within = g["<1 min"] + g["1-5 min"]
    between = g["1-4 h"] + g["4-12 h"] + g["12-24 h"]
    assert within > 0.6 and between > 0.05, g.to_dict()
    # the retargeting follows a click: a real share of impressions has a related click < 1 h
    r = S.recency_shares(week).set_index("split")
    assert (r["within 1 h"] > 0.02).all() and (r["within 12 h"] > r["within 1 h"]).all()
    assert (r["true CTR within 15 min"] > 5 * r["true CTR no related"]).all()


def test_train_sample_keeps_a_uniform_share_and_changes_nothing_else(smoke_data):
    d = S.load_synthetic("smoke", seed=0, train_sample=0.3)
    full = smoke_data
    np.testing.assert_array_equal(d.test.p_click, full.test.p_click)  # the same simulated traffic
    np.testing.assert_array_equal(d.test.hist_item, full.test.hist_item)
    assert d.info["full_traffic"] == full.info["full_traffic"]
    for name in ("train", "valid"):
        a, b = d.splits[name], full.splits[name]
        assert abs(len(a) / len(b) - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(b))
        key_a, key_b = a.user * 2**32 + a.time, b.user * 2**32 + b.time
        pos = np.searchsorted(key_b, key_a, sorter=np.argsort(key_b))
        rows = np.argsort(key_b)[pos]
        np.testing.assert_array_equal(key_b[rows], key_a)  # a subset of the same rows ...
        for f in ("item", "label", "p_click", "hist_item", "hist_time"):  # ... with the same histories
            np.testing.assert_array_equal(getattr(b, f)[rows], getattr(a, f), err_msg=f"{name}.{f}")


# ------------------------------------------------------------------------------ budget
def test_effect_budget_rows_and_claimed_effects_worth_001(week):
    b = S.effect_budget(week)
    effects = list(b["effect"])
    assert effects[0] == "all effects" and set(S.CLAIMED) <= set(effects)
    for e in ("hour of day", "category x hour", "weekday", "pay day", "month", "user-item affinity", "user aux (age)"):
        assert e in effects
    b = b.set_index("effect")
    assert b.loc["all effects", "auc"] == pytest.approx(week.info["oracle_auc"]["test"], abs=2e-4)
    assert b.loc["pay day", "sd"] == 0 and b.loc["month", "sd"] == 0  # constant over this test week
    for e in S.CLAIMED:
        assert b.loc[e, "expected_drop"] >= 0.01, (e, b.loc[e].to_dict())
        assert b.loc[e, "drop"] > 0.005, (e, b.loc[e].to_dict())  # realised labels: noisier, same sign
    # the relative-time ablation keeps the flag: it removes less than dropping drift whole
    assert b.loc["relative time of history clicks", "expected_drop"] < b.loc["interest drift (whole)", "expected_drop"]


def test_weighted_auc_is_the_auc_and_its_expectation():
    from tacr import metrics

    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=2000), 1)  # ties
    y = (rng.random(2000) < 0.3).astype(float)
    assert S.weighted_auc(s, y, 1 - y) == pytest.approx(metrics.auc(y, s), abs=1e-12)
    p = rng.random(300)
    draws = [S.weighted_auc(s[:300], yy, 1 - yy) for yy in (rng.random((1500, 300)) < p).astype(float)]
    assert S.weighted_auc(s[:300], p, 1 - p) == pytest.approx(np.mean(draws), abs=4e-3)


# ------------------------------------------------------------------------------ null world
def test_null_world_has_no_temporal_effect(null):
    assert null.name == "synthetic-smoke-null" and null.info["simulator"]["temporal"] is False
    base = null.info["base_logit"]
    for name, s in null.splits.items():
        c = s.components
        for comp in S.TEMPORAL:
            assert not c[:, S.COMPONENTS.index(comp)].any(), (name, comp)
        flag = c[:, S.COMPONENTS.index("drift_flag")]
        assert set(np.unique(flag)) <= {0.0, np.float32(0.5)} and (flag > 0).any()
        # p_click is a function of the non-temporal components only: independent of hour and
        # weekday given them
        logit = base + c.astype(np.float64).sum(axis=1)
        np.testing.assert_allclose(1 / (1 + np.exp(-logit)), s.p_click, rtol=2e-5)
    b = S.effect_budget(null).set_index("effect")
    assert b.loc["relative time of history clicks", "drop"] == 0 and b.loc["absolute time (all)", "drop"] == 0
    assert b.loc["interest drift (whole)", "expected_drop"] > 0


def test_profiles_and_names():
    assert {"smoke", "quick", "study", "paper"} <= set(S.PROFILES) and S.DEFAULT_PROFILE == "study"
    assert S.config_for("study-null") == S.config_for("study", temporal=False)
    assert S.dataset_name("study-null", S.config_for("study-null")) == "synthetic-study-null"
    assert S.dataset_name("study", S.config_for("study", temporal=False)) == "synthetic-study-null"
    assert S.dataset_name("quick", S.config_for("quick")) == "synthetic-quick"
    with pytest.raises(ValueError, match="unknown simulator profile"):
        S.config_for("studdy")


# ------------------------------------------------------------------------------ cache
def test_cache_round_trip_bit_identical_and_hit(tmp_path):
    hits = tcache.STATS["hits"]
    a = S.load_synthetic("smoke", seed=1, cache=True, cache_dir=tmp_path)
    b = S.load_synthetic("smoke", seed=1, cache=True, cache_dir=tmp_path)
    assert a.info["cache"] == "written" and b.info["cache"] == "hit" and tcache.STATS["hits"] == hits + 1
    assert b.name == a.name and b.tz == a.tz and b.aux_sizes == a.aux_sizes
    for name in a.splits:
        for f in ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len", "hist_id", "p_click",
                  "components"):
            x, y = getattr(a.splits[name], f), getattr(b.splits[name], f)
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), (name, f)
    np.testing.assert_array_equal(a.items.raw, b.items.raw)
    for key in ("oracle_auc", "base_logit", "logit_components", "full_traffic", "simulator_version"):
        assert a.info[key] == b.info[key], key
    pd.testing.assert_frame_equal(S.effect_budget(a), S.effect_budget(b))
    # the key holds the whole config, L and the simulator version
    params = {"simulator_version": S.SIMULATOR_VERSION, "config": S.asdict(S.config_for("smoke", seed=1)), "L": 10}
    entry = tcache.entry_name("synthetic-smoke", params, [])
    assert b.info["cache_path"].endswith(entry)
    for other in ({**params, "simulator_version": S.SIMULATOR_VERSION + 1}, {**params, "L": 5},
                  {**params, "config": S.asdict(S.config_for("smoke", seed=1, train_sample=0.5))}):
        assert tcache.entry_name("synthetic-smoke", other, []) != entry
