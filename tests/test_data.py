"""The data layer: histories, time features, validation and the simulator.

Histories are checked against a brute-force pure-Python reference, time features against
pandas, validation against one malformed input per rule, the simulator against its own
definition (determinism, CTR, oracle AUC, effect switches, splits).
"""
from __future__ import annotations

import copy
import re
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
import torch

import tacr.data
from tacr import metrics
from tacr.data import DataError, Items, TimeZone, assemble, build_histories, check_log, time_features, validate
from tacr.data.history import PAD_ITEM, PAD_TIME, TIME_FEATURE_SIZES
from tacr.data.synthetic import planted_effects

DAY = 86400


# ------------------------------------------------------------------------------ histories
def reference_histories(user, item, time, label, L, query_user=None, query_time=None):
    """Brute force: each query's latest L clicks of its user strictly before its time, oldest
    first (ties in time keep log order). Returns lists of (item, time) tuples and the click
    log indices they come from."""
    clicks = defaultdict(list)  # user -> [(time, log index, item)]
    for j in range(len(user)):
        if label[j] == 1:
            clicks[int(user[j])].append((int(time[j]), j, int(item[j])))
    for c in clicks.values():
        c.sort()
    query_user = user if query_user is None else query_user
    query_time = time if query_time is None else query_time
    hists, events = [], []
    for u, t in zip(query_user, query_time):
        before = [c for c in clicks.get(int(u), []) if c[0] < int(t)][-L:] if L else []
        hists.append([(it, tc) for tc, _, it in before])
        events.append(tuple(j for _, j, _ in before))
    return hists, events


def random_log(seed=0, n=2500, n_users=150, n_items=60, t_span=400):
    """A shuffled log with many tied seconds, skewed activity (users with far more than L
    clicks), users with impressions but no clicks, and no duplicate (user, item, time) clicks."""
    rng = np.random.default_rng(seed)
    activity = rng.pareto(1.2, size=n_users) + 0.05
    user = rng.choice(n_users, size=n, p=activity / activity.sum())
    item = rng.integers(0, n_items, size=n)
    time = rng.integers(1_000, 1_000 + t_span, size=n)
    label = (rng.random(n) < 0.35).astype(np.int8)
    label[user >= n_users - 10] = 0  # the last ten users never click
    df = pd.DataFrame({"user": user, "item": item, "time": time, "label": label})
    df = df.drop_duplicates(["user", "item", "time"]).sample(frac=1.0, random_state=seed)
    return {c: df[c].to_numpy() for c in df.columns}


@pytest.fixture(scope="module")
def log():
    return random_log()


def _check_against_reference(h, ref, L):
    n = len(ref)
    assert h.hist_item.shape == (n, L) and h.hist_time.shape == (n, L)
    assert h.hist_item.dtype == np.int32 and h.hist_time.dtype == np.int64
    assert h.hist_len.dtype == np.int16 and h.hist_id.dtype == np.int64
    exp_len = np.array([len(r) for r in ref])
    exp_item = np.full((n, L), PAD_ITEM, dtype=np.int64)
    exp_time = np.full((n, L), PAD_TIME, dtype=np.int64)
    for i, r in enumerate(ref):
        for k, (it, tc) in enumerate(r):
            exp_item[i, k], exp_time[i, k] = it, tc
    np.testing.assert_array_equal(h.hist_len, exp_len)
    np.testing.assert_array_equal(h.hist_item, exp_item)
    np.testing.assert_array_equal(h.hist_time, exp_time)


@pytest.mark.parametrize("L", [1, 3, 10])
def test_histories_equal_brute_force(log, L):
    h = build_histories(log["user"], log["item"], log["time"], log["label"], L=L)
    ref, _ = reference_histories(log["user"], log["item"], log["time"], log["label"], L)
    _check_against_reference(h, ref, L)
    # the log exercises what it should
    n_clicks = pd.Series(log["user"][log["label"] == 1]).value_counts()
    assert n_clicks.max() > 3 * L, "some user must have many more than L clicks"
    assert (h.hist_len == 0).sum() > 0 and (h.hist_len == L).sum() > 0
    assert len(set(log["user"].tolist()) - set(n_clicks.index.tolist())) >= 10, "users without clicks"


def test_histories_separate_queries(log):
    rng = np.random.default_rng(1)
    q_user = rng.integers(0, 160, size=500)  # users 150..159 have no log rows at all
    q_time = rng.integers(900, 1_500, size=500)  # before, inside and after the log's span
    h = build_histories(log["user"], log["item"], log["time"], log["label"], L=10, query_user=q_user, query_time=q_time)
    ref, _ = reference_histories(log["user"], log["item"], log["time"], log["label"], 10, q_user, q_time)
    _check_against_reference(h, ref, 10)


def test_histories_no_leak_order_and_padding(log):
    L = 10
    h = build_histories(log["user"], log["item"], log["time"], log["label"], L=L)
    real = np.arange(L)[None, :] < h.hist_len[:, None]
    t0 = log["time"][:, None]
    assert not (real & (h.hist_time >= t0)).any(), "a history click at or after the target time"
    assert (np.diff(h.hist_time, axis=1)[real[:, 1:]] >= 0).all(), "history not oldest first"
    assert (h.hist_item[~real] == PAD_ITEM).all() and (h.hist_time[~real] == PAD_TIME).all()
    assert ((h.hist_len >= 0) & (h.hist_len <= L)).all()
    # every history item is one the user clicked
    clicked = set(zip(log["user"][log["label"] == 1].tolist(), log["item"][log["label"] == 1].tolist(),
                      log["time"][log["label"] == 1].tolist()))
    rows, cols = np.nonzero(real)
    assert all((u, i, t) in clicked for u, i, t in zip(log["user"][rows].tolist(), h.hist_item[rows, cols].tolist(),
                                                         h.hist_time[rows, cols].tolist()))


def test_tied_second_click_is_excluded():
    # user 0 clicks item 5 at t=100 and is shown item 6 at the same second; then item 7 at t=101
    user, item, time, label = [0, 0, 0, 0], [4, 5, 6, 7], [50, 100, 100, 101], [1, 1, 0, 0]
    h = build_histories(user, item, time, label, L=3)
    np.testing.assert_array_equal(h.hist_len, [0, 1, 1, 2])
    np.testing.assert_array_equal(h.hist_item, [[0, 0, 0], [4, 0, 0], [4, 0, 0], [4, 5, 0]])
    np.testing.assert_array_equal(h.hist_time, [[0, 0, 0], [50, 0, 0], [50, 0, 0], [50, 100, 0]])
    assert h.hist_id[0] == -1 and h.hist_id[1] == h.hist_id[2] != h.hist_id[3]


def test_hist_id_equal_iff_identical_history(log):
    """Equal id <=> same user and same history content (the log has no duplicate clicks, so
    equal content of one user means the same click events). Empty history <=> id -1."""
    L = 4
    h = build_histories(log["user"], log["item"], log["time"], log["label"], L=L)
    ref, events = reference_histories(log["user"], log["item"], log["time"], log["label"], L)
    np.testing.assert_array_equal(h.hist_id == -1, h.hist_len == 0)
    key = [(int(u), tuple(r)) if r else None for u, r in zip(log["user"], ref)]
    by_id, by_key = {}, {}
    for i, (hid, k) in enumerate(zip(h.hist_id.tolist(), key)):
        if k is None:
            continue
        assert by_id.setdefault(hid, k) == k, f"row {i}: id {hid} shared by different histories"
        assert by_key.setdefault(k, hid) == hid, f"row {i}: one history under two ids"
    # ids are shared by many rows (so dedup has something to do), and the events agree
    assert len(by_id) < (h.hist_len > 0).sum() / 2
    ev = {}
    for hid, e in zip(h.hist_id.tolist(), events):
        if e:
            assert ev.setdefault(hid, e) == e


def test_histories_reject_bad_arguments():
    with pytest.raises(ValueError, match="L"):
        build_histories([0], [0], [1], [1], L=0)
    with pytest.raises(ValueError, match="unix seconds"):
        build_histories([0, 0], [0, 1], [-5, 3], [1, 0])


def test_histories_without_any_click():
    h = build_histories([0, 1, 2], [3, 4, 5], [10, 20, 30], [0, 0, 0], L=5)
    assert (h.hist_len == 0).all() and (h.hist_id == -1).all() and h.hist_item.shape == (3, 5)
    assert (h.hist_item == PAD_ITEM).all() and (h.hist_time == PAD_TIME).all()


# ------------------------------------------------------------------------------ time features
def pandas_features(t, tz):
    d = pd.to_datetime(np.asarray(t).ravel(), unit="s", utc=True).tz_convert(tz)
    out = np.stack([d.month - 1, d.day_of_week, d.day - 1, d.hour], axis=1).astype(np.int64)
    return out.reshape(np.shape(t) + (4,))


def _feature_times():
    rng = np.random.default_rng(0)
    lo = int(pd.Timestamp("1985-01-01", tz="UTC").timestamp())
    hi = int(pd.Timestamp("2031-01-01", tz="UTC").timestamp())
    parts = []
    # every 7th second around New York's 2026 DST switches and Shanghai's 1988 ones, and midnights
    for edge in ("2026-03-08 07:00", "2026-11-01 06:00", "1988-04-09 17:00", "1988-09-10 16:00",
                 "2024-02-29 00:00", "2026-12-31 16:00", "2027-01-01 05:00"):
        e = int(pd.Timestamp(edge, tz="UTC").timestamp())
        parts += [np.arange(e - 3_700, e + 3_700, 7), np.array([e - 1, e, e + 1])]
    parts.append(rng.integers(lo, hi, size=20_000))
    t = np.concatenate(parts)
    return t[: len(t) // 4 * 4]


@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"])
def test_time_features_match_pandas(tz):
    t = _feature_times()
    expected = pandas_features(t, tz)
    got = time_features(t, tz)
    assert isinstance(got, np.ndarray) and got.shape == (len(t), 4)
    np.testing.assert_array_equal(got, expected)
    # torch, 2-D, same numbers; and an explicit TimeZone
    tt = torch.as_tensor(t).reshape(-1, 4)
    got_t = time_features(tt, tz)
    assert isinstance(got_t, torch.Tensor) and got_t.shape == (len(t) // 4, 4, 4) and got_t.dtype == torch.int64
    np.testing.assert_array_equal(got_t.numpy(), expected.reshape(-1, 4, 4))
    zone = TimeZone(tz, int(t.min()), int(t.max()))
    np.testing.assert_array_equal(time_features(t, zone), expected)
    np.testing.assert_array_equal(time_features(tt, zone).numpy(), expected.reshape(-1, 4, 4))
    # ranges agree with TIME_FEATURE_SIZES
    assert (got >= 0).all() and (got < np.array(TIME_FEATURE_SIZES)).all()


def test_time_features_dst_hours():
    # 2026-03-08: New York jumps from 01:59:59 EST to 03:00:00 EDT at 07:00 UTC
    e = int(pd.Timestamp("2026-03-08 07:00", tz="UTC").timestamp())
    for f in (time_features(np.array([e - 1, e]), "America/New_York"),
              time_features(torch.tensor([e - 1, e]), "America/New_York").numpy()):
        np.testing.assert_array_equal(f[:, 3], [1, 3])
        np.testing.assert_array_equal(f[:, :3], [[2, 6, 7], [2, 6, 7]])  # March, Sunday, 8th
    with pytest.raises(ValueError, match="time zone"):
        time_features(np.array([0]), "Mars/Olympus_Mons")


# ------------------------------------------------------------------------------ validation
T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC
HAND_LOG = [  # user, item, time, label
    (0, 1, T0 + 100, 1), (0, 2, T0 + 100, 0), (0, 3, T0 + 200, 1), (1, 0, T0 + 300, 0), (1, 2, T0 + 400, 1),
    (2, 3, T0 + 500, 0),
    (0, 0, T0 + 2 * DAY + 10, 1), (1, 1, T0 + 2 * DAY + 20, 0), (2, 2, T0 + 2 * DAY + 30, 0),
    (0, 2, T0 + 3 * DAY + 5, 0), (1, 3, T0 + 3 * DAY + 6, 1), (2, 0, T0 + 3 * DAY + 7, 0),
]


def hand_log() -> pd.DataFrame:
    return pd.DataFrame(HAND_LOG, columns=["user", "item", "time", "label"]).sample(frac=1.0, random_state=0)


@pytest.fixture()
def tiny():
    items = Items(category=np.array([0, 1, 1, 2]), raw=None)
    return assemble("tiny", hand_log(), items, np.array([[0], [1], [1]]), (2,), valid_start=T0 + 2 * DAY,
                    test_start=T0 + 3 * DAY, L=2)


def test_assemble_hand_made(tiny):
    assert [len(s) for s in tiny.splits.values()] == [6, 3, 3]
    tr, va, te = tiny.train, tiny.valid, tiny.test
    assert (np.diff(tr.time) >= 0).all()
    # train: user 0's impression of item 2 at the second of its click on item 1 has no history
    row = np.flatnonzero((tr.user == 0) & (tr.item == 2))[0]
    assert tr.hist_len[row] == 0 and tr.hist_id[row] == -1
    # test: user 0 clicked 1, 3, 0 before -> the latest two, oldest first
    np.testing.assert_array_equal(te.hist_item, [[3, 0], [2, 0], [0, 0]])
    np.testing.assert_array_equal(te.hist_time, [[T0 + 200, T0 + 2 * DAY + 10], [T0 + 400, 0], [0, 0]])
    np.testing.assert_array_equal(te.hist_len, [2, 1, 0])
    np.testing.assert_array_equal(va.hist_item[0], [1, 3])
    assert tiny.spec.n_items == 4 and tiny.spec.n_categories == 3 and not tiny.spec.has_raw_features
    assert tiny.spec.history_len == 2


def _msg_checks(exc, field, n_bad):
    msg = str(exc.value)
    assert re.search(rf"(?<!\w){re.escape(field)}(?!\w)", msg), f"field {field!r} not named in: {msg}"
    assert re.search(rf"\b{n_bad} bad rows?\b", msg), f"bad-row count {n_bad} not in: {msg}"
    return msg


@pytest.mark.parametrize("case", ["item_without_row", "no_positives", "history_leak", "negative_time",
                                  "label_outside", "hist_len_too_long", "history_disordered"])
def test_validate_rejects_corrupt_split(tiny, case):
    d = copy.deepcopy(tiny)
    validate(d, "ok")  # the copy is valid before corruption
    field, n_bad = {
        "item_without_row": ("item", 2), "no_positives": ("label", 3), "history_leak": ("hist_time", 1),
        "negative_time": ("time", 1), "label_outside": ("label", 2), "hist_len_too_long": ("hist_len", 1),
        "history_disordered": ("hist_time", 1),
    }[case]
    if case == "item_without_row":
        d.test.item[[0, 2]] = [4, 99]
    elif case == "no_positives":
        d.valid.label[:] = 0
    elif case == "history_leak":
        d.valid.hist_time[0, 1] = d.valid.time[0]  # equal to the target time: a leak
    elif case == "negative_time":
        d.train.time[3] = -7
    elif case == "label_outside":
        d.test.label[[0, 1]] = [2, -1]
    elif case == "hist_len_too_long":
        d.train.hist_len[0] = 3
    elif case == "history_disordered":
        d.valid.hist_time[0] = d.valid.hist_time[0][::-1].copy()
    with pytest.raises(DataError) as exc:
        validate(d, "corrupt-src")
    msg = _msg_checks(exc, field, n_bad)
    assert "corrupt-src" in msg
    with pytest.raises(DataError):
        d.validate()


def test_validate_rejects_bad_items_and_aux(tiny):
    d = copy.deepcopy(tiny)
    d.user_aux[[0, 2], 0] = 5
    with pytest.raises(DataError) as exc:
        validate(d, "src")
    _msg_checks(exc, "user_aux[0]", 2)
    d = copy.deepcopy(tiny)
    d.items.raw = np.zeros((4, 3), dtype=np.float32)
    d.items.raw[1, 2] = np.nan
    with pytest.raises(DataError) as exc:
        validate(d, "src")
    _msg_checks(exc, "items.raw", 1)


def test_assemble_rejects_split_without_positives():
    log = hand_log()
    log.loc[log.time >= T0 + 3 * DAY, "label"] = 0
    with pytest.raises(DataError, match=r"\[test\].*'label'.*3 bad rows"):
        assemble("tiny", log, Items(category=np.array([0, 1, 1, 2])), np.zeros((3, 0)), (),
                 valid_start=T0 + 2 * DAY, test_start=T0 + 3 * DAY, L=2)


def test_check_log_accepts_valid_log():
    log = hand_log()
    assert check_log(log, "f.csv") is log
    log["item"] = log["item"].astype(float)  # integral floats are fine
    check_log(log, "f.csv")


@pytest.mark.parametrize("case", ["wrong_dtype", "non_integer_float", "nan", "negative_time", "label_outside"])
def test_check_log_rejects(case):
    log = hand_log().reset_index(drop=True)
    field, n_bad = {"wrong_dtype": ("time", 2), "non_integer_float": ("item", 1), "nan": ("user", 3),
                    "negative_time": ("time", 2), "label_outside": ("label", 2)}[case]
    if case == "wrong_dtype":
        log["time"] = log["time"].astype(str).astype(object)
        log.loc[[1, 4], "time"] = ["yesterday", "?"]
    elif case == "non_integer_float":
        log["item"] = log["item"].astype(float)
        log.loc[3, "item"] = 1.5
    elif case == "nan":
        log["user"] = log["user"].astype(float)
        log.loc[[0, 5, 7], "user"] = np.nan
    elif case == "negative_time":
        log.loc[[1, 2], "time"] = -1
    elif case == "label_outside":
        log.loc[[0, 9], "label"] = [2, -1]
    with pytest.raises(DataError) as exc:
        check_log(log, "clicks.csv")
    assert "clicks.csv" in _msg_checks(exc, field, n_bad)


def test_check_log_missing_or_misnamed_column():
    log = hand_log().rename(columns={"label": "lable"})
    with pytest.raises(DataError) as exc:
        check_log(log, "clicks.csv")
    msg = str(exc.value)
    assert "clicks.csv" in msg and "'label'" in msg and "lable" in msg
    with pytest.raises(DataError, match="'time'"):
        check_log(hand_log().drop(columns=["time"]), "clicks.csv")


def test_check_log_missing_column_names_row_count():
    log = hand_log().rename(columns={"label": "lable"})
    with pytest.raises(DataError) as exc:
        check_log(log, "clicks.csv")
    _msg_checks(exc, "label", len(log))


# ------------------------------------------------------------------------------ simulator
# The simulator's generic contract (determinism, CTR, splits, Table 1, errors). Its planted
# effects, sessions, effect budget, null world and cache: tests/test_synthetic.py.
SPLIT_FIELDS = ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len", "hist_id", "p_click",
                "components")
EFFECTS = ("affinity", "quality", "age", "drift_flag", "drift_session", "drift_day", "hour", "weekday", "payday",
           "month", "category_hour")


def load_smoke(**kw):
    return tacr.data.load("synthetic", profile="smoke", **kw)


def test_simulator_deterministic_by_seed(smoke_data):
    again = load_smoke(seed=0)
    other = load_smoke(seed=1)
    for name, s in smoke_data.splits.items():
        for f in SPLIT_FIELDS:
            np.testing.assert_array_equal(getattr(s, f), getattr(again.splits[name], f), err_msg=f"{name}.{f}")
    np.testing.assert_array_equal(smoke_data.items.category, again.items.category)
    np.testing.assert_array_equal(smoke_data.items.raw, again.items.raw)
    np.testing.assert_array_equal(smoke_data.user_aux, again.user_aux)
    assert smoke_data.fingerprint() == again.fingerprint()
    assert smoke_data.info["oracle_auc"] == again.info["oracle_auc"]
    assert other.fingerprint() != smoke_data.fingerprint()
    assert not np.array_equal(other.items.raw, smoke_data.items.raw)
    n = min(len(other.test), len(smoke_data.test))
    assert not np.array_equal(other.test.p_click[:n], smoke_data.test.p_click[:n])


def test_simulator_ctr_probabilities_and_oracle_auc(smoke_data):
    d = smoke_data
    validate(d, "smoke")
    labels = np.concatenate([s.label for s in d.splits.values()])
    assert 0.010 <= labels.mean() <= 0.020
    for name, s in d.splits.items():
        assert 0.010 <= s.label.mean() <= 0.020, name
        assert s.p_click is not None and s.p_click.dtype == np.float32
        assert ((s.p_click > 0) & (s.p_click < 1)).all()
        assert len(s) > 5_000 and s.n_pos > 50
        # the labels are draws of p_click: mean p_click within 4 binomial sd of the CTR
        p = s.p_click.astype(np.float64)
        assert abs(s.label.mean() - p.mean()) < 4 * np.sqrt((p * (1 - p)).sum()) / len(s)
        assert d.info["oracle_auc"][name] == pytest.approx(metrics.auc(s.label, s.p_click), abs=1e-12)
    assert 0.6 < d.info["oracle_auc"]["test"] < 0.95
    assert d.spec.n_items == 2000 and d.spec.n_categories == 30 and d.spec.raw_dim == 50
    assert d.aux_sizes == (3, 7) and d.aux_names == ("gender", "age") and d.train.L == 10


def test_simulator_splits_ordered_in_time(smoke_data):
    tr, va, te = smoke_data.train, smoke_data.valid, smoke_data.test
    assert tr.time.max() < va.time.min() <= va.time.max() < te.time.min()
    cfg = smoke_data.info["simulator"]
    warm_end = int(pd.Timestamp(cfg["first_train_day"], tz=cfg["tz"]).timestamp())
    valid_start = warm_end + cfg["train_days"] * DAY
    test_start = valid_start + int(cfg["valid_days"] * DAY)
    assert tr.time.min() >= warm_end  # the warm-up only feeds histories
    assert va.time.min() >= valid_start and va.time.max() < test_start
    assert te.time.min() >= test_start and te.time.max() < test_start + cfg["test_days"] * DAY
    # warm-up clicks do feed histories: the first training rows already have some
    first_hour = tr.time < warm_end + 3600
    assert (tr.hist_len[first_hour] > 0).any()


def test_simulator_summary_table1(smoke_data):
    t = smoke_data.summary()
    assert list(t["split"]) == ["train", "valid", "test"]
    for col in ("items", "categories", "positives", "negatives", "CTR (%)"):
        assert col in t.columns
    for _, row in t.iterrows():
        s = smoke_data.splits[row["split"]]
        assert row["positives"] == s.label.sum() and row["negatives"] == (s.label == 0).sum()
        assert row["CTR (%)"] == pytest.approx(100 * s.label.mean(), rel=1e-12)
        assert row["items"] == len(np.unique(s.item))
        assert row["categories"] == len(np.unique(smoke_data.items.category[s.item]))


def test_simulator_rejects_unknown_profile_and_parameter():
    with pytest.raises(ValueError, match="nope"):
        tacr.data.load("synthetic", profile="nope")
    with pytest.raises(ValueError, match="not_a_knob"):
        tacr.data.load("synthetic", profile="smoke", not_a_knob=3)
    with pytest.raises(ValueError, match="dataset"):
        tacr.data.load("no-such-dataset")


def test_all_effects_off_gives_constant_p_click():
    d = load_smoke(seed=3, n_users=200, impressions_per_day=3000, **{e: 0.0 for e in EFFECTS})
    p = np.concatenate([s.p_click for s in d.splits.values()]).astype(np.float64)
    assert np.ptp(p) < 1e-7 and p[0] == pytest.approx(0.015, rel=1e-5)
    assert all(abs(a - 0.5) < 0.1 for a in d.info["oracle_auc"].values())
    for s in d.splits.values():
        assert not s.components.any()


def test_planted_effects_tables(smoke_data):
    pe = planted_effects(smoke_data)
    n = sum(len(s) for s in smoke_data.splits.values())
    for key in ("hour", "weekday", "day"):
        assert pe[key]["impressions"].sum() == n
        assert ((pe[key]["true_ctr"] > 0) & (pe[key]["true_ctr"] < 1)).all()
    assert pe["drift"]["impressions"].sum() + pe["drift_none"]["impressions"].sum() == n
    assert len(pe["hour"]) == 24
    assert list(pe["recency"]["split"]) == ["train", "valid", "test"]
    assert pe["gaps"]["impressions"].sum() == len(smoke_data.test) - len(np.unique(smoke_data.test.user))
