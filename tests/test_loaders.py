"""Real-data loaders (taobao, movielens-1m, movielens-100k, table) on hand-written fixtures in
each exact raw format (tests/fixtures/), the parquet cache, and the error messages."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tacr.data as D
from tacr.data import DataError, cache as tcache

FIX = Path(__file__).parent / "fixtures"
DAY0 = 1494000000  # 2017-05-06 00:00 Asia/Shanghai
DAY = 86400
TABLE_KW = dict(time_format="datetime", tz="Europe/Berlin", aux_cols=["gender", "age_group"], raw_cols=["f*"])


def copy_fixture(tmp_path, name) -> Path:
    dst = tmp_path / name
    shutil.copytree(FIX / name, dst, ignore=shutil.ignore_patterns(".tacr_cache"))
    return dst


def rows_of(split, raw_ids, user, time):
    """Indices of a split's rows of raw user ``user`` at unix time ``time``."""
    u = int(np.flatnonzero(raw_ids["user"] == user)[0])
    return np.flatnonzero((split.user == u) & (split.time == time))


def history(split, row, raw_ids):
    n = split.hist_len[row]
    return [raw_ids["item"][i] for i in split.hist_item[row, :n]]


def all_rows(data):
    return pd.concat([pd.DataFrame({"split": k, "user": s.user, "item": s.item, "time": s.time, "label": s.label})
                      for k, s in data.splits.items()], ignore_index=True)


# ------------------------------------------------------------------------------------ taobao
@pytest.fixture(scope="module")
def taobao():
    return D.load("taobao", data_dir=FIX / "taobao", cache=False)


def test_taobao_parsed_values(taobao):
    d, ids = taobao, taobao.raw_ids
    assert d.name == "taobao" and d.tz == "Asia/Shanghai" and d.items.raw is None
    assert "embedding" in d.info["raw_features"]
    # the ads of the log only (1007 is listed but never shown), raw-id order
    assert ids["item"].tolist() == [1001, 1002, 1003, 1004, 1005, 1006]
    assert ids["category"].tolist() == [1665, 4520, 6261, 7266]
    cate = dict(zip(ids["item"], ids["category"][d.items.category]))
    assert cate == {1001: 6261, 1002: 4520, 1003: 6261, 1004: 7266, 1005: 4520, 1006: 1665}
    assert d.info["n_ads_listed"] == 7 and d.info["n_ads_null_brand"] == 4
    # users: 104 has no profile (kept, all aux unknown); 105 has a profile but no impression
    assert ids["user"].tolist() == [101, 102, 103, 104]
    assert d.info["n_users_without_profile"] == 1
    names = list(d.aux_names)
    assert names[:2] == ["gender", "age_level"] and "new_user_class_level" in names  # trailing-space header
    aux = pd.DataFrame(d.user_aux, columns=names, index=ids["user"])
    assert aux.loc[101, "gender"] == 2 and aux.loc[102, "gender"] == 1  # codes of final_gender_code 2, 1
    assert aux.loc[101, "age_level"] == 4 and aux.loc[102, "age_level"] == 1  # vocab [1, 2, 3, 5]
    assert aux.loc[101, "pvalue_level"] == 0 and aux.loc[102, "pvalue_level"] == 2  # empty field -> 0
    assert aux.loc[102, "new_user_class_level"] == 0 and aux.loc[101, "new_user_class_level"] == 2  # empty last field
    assert (aux.loc[104] == 0).all()
    assert d.aux_sizes[names.index("new_user_class_level")] == 4  # {2, 3, 4} + unknown
    assert d.info["n_rows_raw"] == 22 and d.info["n_clicks"] == 11


def test_taobao_split_boundaries(taobao):
    d = taobao
    vs, ts, te = DAY0 + 6 * DAY, DAY0 + 7 * DAY, DAY0 + 8 * DAY
    assert (d.info["valid_start"], d.info["test_start"], d.info["test_end"]) == (vs, ts, te)
    assert d.info["valid_start_iso"] == "2017-05-12T00:00:00+08:00"
    assert d.train.time.max() == vs - 1 and d.valid.time.min() == vs  # last second of 05-11 / first of 05-12
    assert d.valid.time.max() == ts - 1 and d.test.time.min() == ts
    assert d.test.time.max() == te - 1  # the row at 05-14 00:00 is dropped and counted
    assert d.info["n_rows_after_test_end"] == 1
    assert (len(d.train), len(d.valid), len(d.test)) == (10, 5, 6)
    assert all(s.n_pos >= 1 for s in d.splits.values())


def test_taobao_histories_and_ties(taobao):
    d, ids = taobao, taobao.raw_ids
    # two clicks of user 101 in the same second: neither is in the other's history
    r = rows_of(d.train, ids, 101, DAY0 + 3600)
    assert len(r) == 2 and all(d.train.hist_len[i] == 0 for i in r)
    (r,) = rows_of(d.train, ids, 101, DAY0 + 7200)
    assert sorted(history(d.train, r, ids)) == [1001, 1002]
    # validation: the tied click (1005) and non-click share a history without 1005
    for i in rows_of(d.valid, ids, 101, DAY0 + 6 * DAY + 500):
        assert history(d.valid, i, ids)[-1] == 1004 and sorted(history(d.valid, i, ids)) == [1001, 1002, 1004]
    (r,) = rows_of(d.test, ids, 101, DAY0 + 7 * DAY + 2000)
    h = history(d.test, r, ids)
    assert sorted(h[:2]) == [1001, 1002] and h[2:] == [1004, 1005, 1006]
    assert (np.diff(d.test.hist_time[r, :5]) >= 0).all()
    # histories cross split boundaries; non-clicks never enter them
    (r,) = rows_of(d.test, ids, 102, DAY0 + 7 * DAY + 5)
    assert history(d.test, r, ids) == [1003, 1005]
    (r,) = rows_of(d.valid, ids, 104, DAY0 + 6 * DAY + 7000)
    assert history(d.valid, r, ids) == [1005]
    for s in d.splits.values():  # no leak anywhere
        real = np.arange(s.L)[None] < s.hist_len[:, None]
        assert not (real & (s.hist_time >= s.time[:, None])).any()


def test_taobao_short_history_and_user_fraction():
    d = D.load("taobao", data_dir=FIX / "taobao", L=2, cache=False)
    ids = d.raw_ids
    (r,) = rows_of(d.test, ids, 101, DAY0 + 7 * DAY + 2000)
    assert d.test.L == 2 and history(d.test, r, ids) == [1005, 1006]  # the latest two
    ids = np.arange(1, 100_001)
    keep = D.taobao.keep_user(ids, 0.25, seed=0)
    assert keep.dtype == bool and abs(keep.mean() - 0.25) < 0.01
    assert (keep == D.taobao.keep_user(ids, 0.25, seed=0)).all() and (keep != D.taobao.keep_user(ids, 0.25, seed=1)).any()
    assert not (keep & ~D.taobao.keep_user(ids, 0.5, seed=0)).any()  # nested: a smaller share is a subset


# --------------------------------------------------------------------------------- movielens
@pytest.fixture(scope="module", params=["movielens-1m", "movielens-100k"])
def ml(request):
    folder = {"movielens-1m": "ml-1m", "movielens-100k": "ml-100k"}[request.param]
    return D.load(request.param, data_dir=FIX / folder, cache=False)


T0 = 978300000


def test_movielens_parsed_values(ml):
    d, ids = ml, ml.raw_ids
    assert d.items.raw is None and "embedding" in d.info["raw_features"]
    assert ids["item"].tolist() == [1, 2, 3, 4, 5]  # movie 6 is never rated
    assert ids["title"][1] == "Misérables, Les (1995)"  # Latin-1
    assert ids["user"].tolist() == [1, 2, 3]
    cat = dict(zip(ids["item"], ids["category"][d.items.category]))
    assert cat[1] == "Animation" and cat[2] == "Drama" and cat[4] == "Action" and cat[5] == "Comedy"
    if d.name == "movielens-1m":
        assert ids["title"][2] == "Star Wars: Episode IV - A New Hope (1977)"  # ':' inside a '::' file
        assert cat[3] == "Action"
        assert d.user_aux.tolist() == [[2, 1, 11], [1, 7, 17], [1, 3, 16]]  # F/<18/10, M/56+/16, M/25-34/15
    else:
        assert cat[3] == "unknown"
        occ = d.info["aux_vocab_occupation"]
        assert occ == ["other", "student", "technician"]
        assert d.user_aux.tolist() == [[1, 2, 3], [2, 6, 1], [1, 1, 2]]  # ages 24, 53, 17 bucketed
    assert d.aux_names == ("gender", "age", "occupation") and d.aux_sizes[:2] == (3, 8)
    # rating >= 4 is a click: 10 of 15 ratings
    assert d.info["n_clicks"] == 10 and d.info["n_rows"] == 15
    rows = all_rows(d)
    assert rows["label"].sum() == 10


def test_movielens_split_and_ties(ml):
    d, ids = ml, ml.raw_ids
    assert (d.info["valid_start"], d.info["test_start"]) == (T0 + 800, T0 + 900)  # 80 % / 90 % of the span
    assert d.train.time.max() < T0 + 800 <= d.valid.time.min()
    assert d.valid.time.max() == T0 + 899 and d.test.time.min() == T0 + 900 and d.test.time.max() == T0 + 999
    assert (len(d.train), len(d.valid), len(d.test)) == (9, 3, 3)
    assert all(s.n_pos >= 1 for s in d.splits.values())
    # user 1 clicked movies 1 and 2 in the same second: neither sees the other
    assert all(d.train.hist_len[i] == 0 for i in rows_of(d.train, ids, 1, T0))
    (r,) = rows_of(d.train, ids, 1, T0 + 100)
    assert sorted(history(d.train, r, ids)) == [1, 2]
    for i in rows_of(d.train, ids, 2, T0 + 300):  # tied clicks of user 2
        assert history(d.train, i, ids) == []  # the earlier rating (3 stars) is not a click
    (r,) = rows_of(d.test, ids, 1, T0 + 950)
    assert sorted(history(d.test, r, ids)[:2]) == [1, 2] and history(d.test, r, ids)[2:] == [4, 5]
    (r,) = rows_of(d.valid, ids, 2, T0 + 850)
    assert sorted(history(d.valid, r, ids)) == [3, 5]
    assert d.info["n_rows_sharing_user_second"] == 4


def test_movielens_parameters():
    d = D.load("movielens-1m", data_dir=FIX, rating_threshold=5, cache=False)  # finds the sub-folder ml-1m
    assert d.info["n_clicks"] == 5
    r = D.load("movielens-1m", data_dir=FIX / "ml-1m", split_by="rows", valid_frac=0.2, test_frac=0.2, cache=False)
    assert (r.info["valid_start"], r.info["test_start"]) == (T0 + 810, T0 + 900)  # rows 9 and 12 of 15
    assert (len(r.train), len(r.valid), len(r.test)) == (9, 3, 3)
    e = D.load("movielens-1m", data_dir=FIX / "ml-1m", valid_start=T0 + 400, test_start=T0 + 850, cache=False)
    assert e.valid.time.min() == T0 + 400 and e.test.time.min() == T0 + 850


# ------------------------------------------------------------------------------------- table
def test_table_csv():
    d = D.load("table", path=FIX / "table" / "impressions.csv", cache=False, **TABLE_KW)
    ids = d.raw_ids
    assert ids["user"].tolist() == ["u1", "u2", "u3"] and ids["category"].tolist() == ["books", "games", "music"]
    assert d.items.raw.shape == (5, 2) and d.items.raw.dtype == np.float32
    np.testing.assert_allclose(d.items.raw[ids["item"].tolist().index("i4")], [0.4, 0.2])
    # aux: latest non-missing value; u3's gender always missing -> 0
    assert d.aux_names == ("gender", "age_group") and d.aux_sizes == (3, 4)
    assert d.user_aux.tolist() == [[1, 2], [2, 3], [0, 1]]
    # naive datetimes are Berlin time; split: last 10 % of the span test, 10 % before validation
    t_min = int(pd.Timestamp("2024-03-01 00:00", tz="Europe/Berlin").timestamp())
    assert d.train.time.min() == t_min
    assert d.info["valid_start_iso"] == "2024-03-09T00:00:00+01:00"
    assert d.info["test_start_iso"] == "2024-03-10T00:00:00+01:00"
    assert (len(d.train), len(d.valid), len(d.test)) == (9, 3, 3)
    assert all(s.n_pos >= 1 for s in d.splits.values())
    # tied clicks of u1 at t_min: not in each other's history
    r = rows_of(d.train, ids, "u1", t_min)
    assert len(r) == 2 and (d.train.hist_len[r] == 0).all()


def test_table_parquet_unix_and_columns(tmp_path):
    df = pd.read_csv(FIX / "table" / "impressions.csv")
    df["ts"] = (pd.to_datetime(df.pop("time")).dt.tz_localize("UTC") - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")
    df = df.rename(columns={"user": "uid", "label": "clicked"})
    df["uid"] = df["uid"].str[1:].astype(int)
    df.to_parquet(tmp_path / "log.parquet")
    d = D.load("table", path=tmp_path / "log.parquet", user_col="uid", time_col="ts", label_col="clicked",
               valid_start="2024-03-08", test_start="2024-03-10", tz="UTC", cache=False)
    assert d.raw_ids["user"].tolist() == [1, 2, 3] and d.items.raw is None and d.aux_sizes == ()
    assert d.test.time.min() == int(pd.Timestamp("2024-03-10", tz="UTC").timestamp())
    assert d.info["raw_features"].startswith("none")


def test_table_across_dst_equals_utc(tmp_path):
    """The example log moved to 2024-03-27 .. 04-06 (across Berlin's change of 31 March), its
    times written in Berlin local time with their offsets (+01:00, then +02:00), loads to the
    same rows and times as the same log written in UTC."""
    df = pd.read_csv(FIX / "table" / "impressions.csv")
    when = pd.to_datetime(df["time"]).dt.tz_localize("Europe/Berlin") + pd.Timedelta(days=26)
    local, utc = df.copy(), df.copy()
    local["time"] = when.map(lambda t: t.isoformat())
    utc["time"] = when.dt.tz_convert("UTC").map(lambda t: t.isoformat())
    assert local["time"].str.endswith("+01:00").any() and local["time"].str.endswith("+02:00").any()
    assert utc["time"].str.endswith("+00:00").all()
    local.to_csv(tmp_path / "local.csv", index=False)
    utc.to_csv(tmp_path / "utc.csv", index=False)
    kw = dict(TABLE_KW, time_format="auto", cache=False)
    a = D.load("table", path=tmp_path / "local.csv", **kw)
    b = D.load("table", path=tmp_path / "utc.csv", **kw)
    assert "+01:00, +02:00" in a.info["time_offsets"] and "time_offsets" not in b.info
    assert a.fingerprint() == b.fingerprint()
    for k, s in a.splits.items():
        np.testing.assert_array_equal(s.time, b.splits[k].time)
        np.testing.assert_array_equal(s.user, b.splits[k].user)
    assert a.info["valid_start_iso"] == b.info["valid_start_iso"]
    assert sorted(all_rows(a)["time"]) == sorted(int(t.timestamp()) for t in when)


def test_table_category_conflict(tmp_path):
    text = (FIX / "table" / "impressions.csv").read_text()
    bad = text.replace("u2,i3,2024-03-07 11:11:11,0,games", "u2,i3,2024-03-07 11:11:11,0,books")
    (tmp_path / "log.csv").write_text(bad)
    with pytest.raises(DataError, match=r"log\.csv: column 'category': 3 bad rows.*more than one category"):
        D.load("table", path=tmp_path / "log.csv", cache=False, **TABLE_KW)


# ------------------------------------------------------------------------------------ errors
def test_missing_folder_and_file(tmp_path):
    with pytest.raises(DataError) as e:
        D.load("taobao", data_dir=tmp_path / "nowhere")
    msg = str(e.value)
    assert "does not exist" in msg and "https://tianchi.aliyun.com/dataset/56" in msg
    assert all(f in msg for f in ("raw_sample.csv", "ad_feature.csv", "user_profile.csv"))
    folder = copy_fixture(tmp_path, "taobao")
    (folder / "user_profile.csv").unlink()
    with pytest.raises(DataError, match=r"(?s)incomplete.*\[MISSING\] user_profile\.csv"):
        D.load("taobao", data_dir=folder)
    folder = copy_fixture(tmp_path, "ml-1m")
    (folder / "movies.dat").unlink()
    with pytest.raises(DataError, match=r"(?s)movies\.dat.*grouplens\.org/datasets/movielens/1m"):
        D.load("movielens-1m", data_dir=folder)
    with pytest.raises(DataError, match=r"(?s)u\.item.*grouplens\.org/datasets/movielens/100k"):
        D.load("movielens-100k", data_dir=tmp_path)


def _corrupt(tmp_path, name, file, old, new, count=1):
    folder = copy_fixture(tmp_path, name)
    text = (folder / file).read_bytes().decode("latin-1")
    assert text.count(old) >= count
    (folder / file).write_bytes(text.replace(old, new, count).encode("latin-1"))
    return folder


def refused(folder, dataset: str, match: str, **options):
    """Loading ``dataset`` from ``folder`` stops with a DataError matching ``match``."""
    with pytest.raises(DataError, match=match):
        D.load(dataset, data_dir=folder, cache=False, **options)


def test_truncated_row(tmp_path):
    f = _corrupt(tmp_path, "taobao", "raw_sample.csv", "101,1494007200,1003,430548_1007,1,0", "101,1494007200,1003,430548_1007,1")
    refused(f, "taobao", r"raw_sample\.csv: column 'clk': 1 bad row: wrong number of fields.*truncated")
    f = _corrupt(tmp_path / "m", "ml-1m", "ratings.dat", "3::4::5::978300500", "3::4::5")
    refused(f, "movielens-1m", r"ratings\.dat: column 'time': 1 bad row: wrong number of fields")


def test_non_numeric_timestamp(tmp_path):
    f = _corrupt(tmp_path, "taobao", "raw_sample.csv", ",1494518900,", ",2017-05-12 10:00,", count=2)
    refused(f, "taobao", r"raw_sample\.csv: column 'time_stamp': 2 bad rows: not a valid int64")
    f = _corrupt(tmp_path / "m", "ml-100k", "u.data", "978300999", "soon")
    refused(f, "movielens-100k", r"u\.data: column 'time': 1 bad row")
    text = (FIX / "table" / "impressions.csv").read_text().replace("2024-03-05 07:15:00", "yesterday")
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(DataError, match=r"t\.csv: column 'time': 1 bad row: not a parseable"):
        D.load("table", path=tmp_path / "t.csv", cache=False, **TABLE_KW)
    df = pd.read_csv(FIX / "table" / "impressions.csv")
    df["time"] = (pd.to_datetime(df["time"]) - pd.Timestamp(0)) // pd.Timedelta("1s")
    df["time"] = df["time"].astype(str)
    df.loc[[3, 7], "time"] = ["n/a", "soon"]
    df.to_csv(tmp_path / "u.csv", index=False)
    for fmt, what in (("unix", "not a valid double"), ("auto", "non-numeric time")):
        with pytest.raises(DataError, match=rf"u\.csv: column 'time': 2 bad rows: {what}"):
            D.load("table", path=tmp_path / "u.csv", time_format=fmt, cache=False)


def test_unknown_ad_id(tmp_path):
    f = _corrupt(tmp_path, "taobao", "raw_sample.csv", "102,1494259220,1001,", "102,1494259220,9999,")
    refused(f, "taobao", r"raw_sample\.csv: column 'adgroup_id': 1 bad row: 1 ad id\(s\) not in ad_feature\.csv \(e\.g\. 9999\)")
    f = _corrupt(tmp_path / "m", "ml-1m", "ratings.dat", "2::5::4::", "2::77::4::")
    refused(f, "movielens-1m", r"ratings\.dat: column 'movie': 1 bad row.*not in movies\.dat")


# ------------------------------------------------------------------------------------- cache
def _same(a, b):
    assert a.fingerprint() == b.fingerprint()
    for k, s in a.splits.items():
        t = b.splits[k]
        for f in ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len", "hist_id"):
            x, y = getattr(s, f), getattr(t, f)
            assert x.dtype == y.dtype and x.shape == y.shape and (x == y).all(), (k, f)
    assert (a.user_aux == b.user_aux).all() and a.aux_sizes == b.aux_sizes and a.aux_names == b.aux_names
    assert a.tz == b.tz and a.name == b.name
    assert {k: v for k, v in a.info.items() if k != "cache"} == {k: v for k, v in b.info.items() if k != "cache"}
    for k, v in a.raw_ids.items():
        assert list(v) == list(b.raw_ids[k]), k


def test_cache_reused_and_invalidated(tmp_path, monkeypatch):
    monkeypatch.delenv(tcache.CACHE_ENV, raising=False)
    folder = copy_fixture(tmp_path, "taobao")
    first = D.load("taobao", data_dir=folder)
    assert first.info["cache"] == "written"
    entry = Path(first.info["cache_path"])
    assert entry.parent == folder / ".tacr_cache" and (entry / "meta.json").is_file()
    assert {p.name for p in entry.iterdir()} >= {"train.parquet", "valid.parquet", "test.parquet", "items.parquet",
                                                 "users.parquet", "meta.json"}
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".tmp")]

    # second call: no parsing at all
    def boom(*a, **k):
        raise AssertionError("raw file parsed again")

    with monkeypatch.context() as m:
        m.setattr(D.taobao, "read_raw_sample", boom)
        m.setattr(D.taobao, "read_ad_feature", boom)
        hits = tcache.STATS["hits"]
        second = D.load("taobao", data_dir=folder)
        assert tcache.STATS["hits"] == hits + 1 and second.info["cache"] == "hit"
    _same(first, second)
    assert second.train.hist_item.flags.writeable

    # other parameters: another entry
    third = D.load("taobao", data_dir=folder, L=3)
    assert third.info["cache"] == "written" and third.train.L == 3

    # a changed raw file invalidates: parsed again, the stale entry removed
    rs = folder / "raw_sample.csv"
    rs.write_text(rs.read_text().replace("103,1494345900,1006,430539_1007,1,0", "103,1494345900,1006,430539_1007,0,1"))
    st = rs.stat()
    os.utime(rs, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    misses = tcache.STATS["misses"]
    fourth = D.load("taobao", data_dir=folder)
    assert tcache.STATS["misses"] == misses + 1 and fourth.info["cache"] == "written"
    assert fourth.info["n_clicks"] == first.info["n_clicks"] + 1
    assert not entry.exists() and Path(fourth.info["cache_path"]).exists()
    # cache=False neither reads nor writes
    n_entries = len(list((folder / ".tacr_cache").iterdir()))
    assert D.load("taobao", data_dir=folder, cache=False).info["cache"] == "off"
    assert len(list((folder / ".tacr_cache").iterdir())) == n_entries


@pytest.mark.parametrize("name,folder,kw", [("movielens-1m", "ml-1m", {}), ("movielens-100k", "ml-100k", {}),
                                            ("table", "table", TABLE_KW)])
def test_cache_roundtrip_other_loaders(tmp_path, name, folder, kw):
    src = FIX / folder if name != "table" else FIX / folder / "impressions.csv"
    key = "data_dir" if name != "table" else "path"
    a = D.load(name, **{key: src}, cache_dir=tmp_path / "c", **kw)
    b = D.load(name, **{key: src}, cache_dir=tmp_path / "c", **kw)
    assert a.info["cache"] == "written" and b.info["cache"] == "hit"
    _same(a, b)
    if name == "table":
        np.testing.assert_array_equal(a.items.raw, b.items.raw)
    else:
        assert b.raw_ids["title"][1] == "Misérables, Les (1995)"


def test_cache_fallback_when_data_dir_unwritable(tmp_path, monkeypatch):
    monkeypatch.delenv(tcache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = copy_fixture(tmp_path, "ml-100k")
    (folder / ".tacr_cache").write_text("not a folder")  # the beside-the-data root cannot be created
    a = D.load("movielens-100k", data_dir=folder)
    assert Path(a.info["cache_path"]).parent == tmp_path / "xdg" / "tacr"
    assert D.load("movielens-100k", data_dir=folder).info["cache"] == "hit"


@pytest.mark.parametrize("name,folder", [("taobao", "taobao"), ("movielens-1m", "ml-1m"),
                                         ("movielens-100k", "ml-100k"), ("table", "table")])
def test_every_fixture_loads_with_defaults(name, folder, tmp_path, monkeypatch):
    """What a notebook does with ``dataset=name, data_dir=<fixture>`` and no loader options."""
    monkeypatch.setenv(tcache.CACHE_ENV, str(tmp_path))  # keep tests/fixtures clean
    d = D.load(name, data_dir=FIX / folder)
    assert all(s.n_pos >= 1 and len(s) > s.n_pos for s in d.splits.values()), name
    assert d.spec.n_items == len(d.items) and not d.spec.has_raw_features
    assert d.summary().shape[0] == 3


def test_shared_cache_root_keeps_other_folders(tmp_path, monkeypatch):
    monkeypatch.setenv(tcache.CACHE_ENV, str(tmp_path / "shared"))
    a_dir, b_dir = copy_fixture(tmp_path / "a", "ml-1m"), copy_fixture(tmp_path / "b", "ml-1m")
    a = D.load("movielens-1m", data_dir=a_dir)
    b = D.load("movielens-1m", data_dir=b_dir)
    assert Path(a.info["cache_path"]).parent == tmp_path / "shared" and a.info["cache_path"] != b.info["cache_path"]
    assert Path(a.info["cache_path"]).exists()  # writing b's entry does not prune a's
    assert D.load("movielens-1m", data_dir=a_dir).info["cache"] == "hit"


# ------------------------------------------------------------------- docs/own-data.md as written
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "own-data.md").read_text()


def guide_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", GUIDE, re.S)


GUIDE_PYTHON = guide_blocks("python")
GUIDE_COMMANDS = [ln for block in guide_blocks("bash") for ln in block.splitlines() if ln.strip()]


def test_guide_has_examples():
    assert len(GUIDE_PYTHON) >= 3 and len(GUIDE_COMMANDS) >= 6
    assert all(c.startswith(("./run_all.sh ", "python -m ")) for c in GUIDE_COMMANDS)


@pytest.mark.parametrize("code", GUIDE_PYTHON, ids=lambda c: c.splitlines()[-2][:50])
def test_guide_python_runs(code, tmp_path, monkeypatch, capsys):
    if "data/ml-100k" in code and not (ROOT / "data" / "ml-100k" / "ml-100k.inter").is_file():
        pytest.skip("needs `python -m tacr.data.fetch movielens-100k` (the command above it in the guide)")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(tcache.CACHE_ENV, str(tmp_path))
    exec(compile(code, "docs/own-data.md", "exec"), {})
    assert capsys.readouterr().out.strip()


@pytest.mark.parametrize("cmd", GUIDE_COMMANDS, ids=lambda c: c[:70])
def test_guide_command_checks(cmd):
    """Each ./run_all.sh command passes run_all.sh's own check (every parameter known and
    well-formed); the fetch command's module parses its arguments (no network here)."""
    if cmd.startswith("python -m "):
        module = cmd.split()[2]
        r = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True)
    else:
        checked = cmd if " --check " in cmd else cmd.replace("./run_all.sh", "./run_all.sh --check", 1)
        r = subprocess.run(["bash", "-c", checked], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_guide_split_settings_load():
    """The guide's data_params load the example log (both labels in every split)."""
    path = FIX / "table" / "impressions.csv"
    for params in ({"tz": "Europe/Berlin", "split_by": "rows", "valid_frac": 0.2},
                   {"split": {"valid_start": "2024-03-08", "test_start": "2024-03-10", "tz": "Europe/Berlin"}},
                   {"tz": "Europe/Berlin", "aux_cols": ["gender", "age_group"]}, {"time_format": "datetime"}):
        d = D.load("table", path=path, cache=False, **params)
        assert all(0 < s.n_pos < len(s) for s in d.splits.values()), params


def test_guide_error_examples_are_real(tmp_path):
    """The messages the guide shows are the ones given (up to its "...")."""
    import torch

    from tacr import params as P
    from tacr.params import ParameterError

    shown = [ln for block in guide_blocks("text") for ln in block.splitlines() if ln.strip()]
    path = FIX / "table" / "impressions.csv"
    k = np.arange(400)
    hourly = pd.DataFrame({"user": k % 4, "item": k % 5, "time": 1709251200 + k * 3600, "label": (k % 3 == 0) * 1,
                           "category": [f"c{j % 5 % 2}" for j in k]})
    lines = hourly.to_csv(index=False).splitlines()
    lines[381] = lines[381].rsplit(",", 1)[0] + ',"c_new'  # row 381 of 400, line 382
    (tmp_path / "quote").mkdir()
    (tmp_path / "quote" / "log.csv").write_text("\n".join(lines) + "\n")
    excel = hourly.iloc[:40].assign(time=45352 + k[:40] / 4)  # Excel serial days from 2024-03-01
    (tmp_path / "excel").mkdir()
    excel.to_csv(tmp_path / "excel" / "log.csv", index=False)
    calls = [lambda: D.load("table", path=path, user_column="user"), lambda: D.load("table", path=path, tz="Europe/Berln"),
             lambda: P.as_seeds(1.5), lambda: P.as_device("cuda"),
             lambda: D.load("table", path=tmp_path / "quote" / "log.csv", cache=False),
             lambda: D.load("table", path=tmp_path / "excel" / "log.csv", cache=False)]
    assert len(shown) == len(calls)
    for text, call in zip(shown, calls):
        if text.startswith("device:"):
            if torch.backends.cuda.is_built():
                continue  # the guide shows a CPU-only build's message
            text = text.replace("(2.13.0+cpu)", f"({torch.__version__})")
        with pytest.raises((ParameterError, DataError)) as exc:
            call()
        assert str(exc.value).startswith(text.split("...")[0].rstrip()), (text, str(exc.value))
