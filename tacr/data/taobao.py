"""Taobao display-ad click log (Alimama, Tianchi dataset 56) in the canonical format.

Files (https://tianchi.aliyun.com/dataset/56), all CSV with a header:

* ``raw_sample.csv`` — ``user,time_stamp,adgroup_id,pid,nonclk,clk``: ~26M impressions of
  ~1.1M users, unix seconds, 2017-05-06 .. 2017-05-13 (Asia/Shanghai). ``clk=1`` is a click,
  ``clk=0`` an observed negative.
* ``ad_feature.csv`` — ``adgroup_id,cate_id,campaign_id,customer,brand,price`` (brand may be
  the text ``NULL``). Item = ad group, category = ``cate_id``.
* ``user_profile.csv`` — ``userid,cms_segid,cms_group_id,final_gender_code,age_level,
  pvalue_level,shopping_level,occupation,new_user_class_level `` (the last header name ends
  with a space; the last fields are often empty).

Decisions: items are the ad groups that occur in the (sampled) log, users likewise, both
re-indexed 0..n-1 in raw-id order (``data.raw_ids``); categories are re-indexed over those
items. Every profile field is an aux column, code 0 = missing (empty field or no profile:
users without a profile are kept and counted in ``info``), codes 1..k = the field's sorted
distinct values in ``user_profile.csv``. No image features: ``items.raw`` is None and the model
learns a 50-d ad-id embedding in the raw-feature slot. Default split: 05-06 .. 05-11
train, 05-12 validation, 05-13 test (Asia/Shanghai days); earlier rows join train, later rows
are dropped (counted).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from . import register
from .cache import cached
from .readers import (RAW_FEATURES_NONE, attach_ids, bad, code_column, column_numpy, lookup_sorted, read_csv, reindex,
                      require_files, resolve_data_dir)
from .schema import CTRData, DataError, Items, assemble, check_log
from .split import SplitSpec
from .times import check_unix_seconds

URL = "https://tianchi.aliyun.com/dataset/56"
FILES = {
    "raw_sample.csv": "impressions: user,time_stamp,adgroup_id,pid,nonclk,clk",
    "ad_feature.csv": "ads: adgroup_id,cate_id,campaign_id,customer,brand,price",
    "user_profile.csv": "users: userid,cms_segid,cms_group_id,final_gender_code,age_level,"
                        "pvalue_level,shopping_level,occupation,new_user_class_level",
}
#: aux name -> user_profile.csv column, in aux column order.
PROFILE_FIELDS = {
    "gender": "final_gender_code",
    "age_level": "age_level",
    "cms_segid": "cms_segid",
    "cms_group_id": "cms_group_id",
    "pvalue_level": "pvalue_level",
    "shopping_level": "shopping_level",
    "occupation": "occupation",
    "new_user_class_level": "new_user_class_level",
}
TZ = "Asia/Shanghai"
#: Taobao's split: 05-06 .. 05-11 train, 05-12 validation, 05-13 test (Asia/Shanghai days).
SPLIT = SplitSpec(valid_start="2017-05-12", test_start="2017-05-13", test_end="2017-05-14", tz=TZ)


@register("taobao")
def load_taobao(data_dir=None, *, split: SplitSpec = SPLIT, L: int = 10, user_fraction: float = 1.0, seed: int = 0,
                cache: bool = True, cache_dir=None) -> CTRData:
    """Load the Taobao ad click log.

    Args:
        data_dir: the folder with the three CSV files (default ``$TACR_DATA_DIR/taobao``).
        split: the split (:class:`~tacr.data.split.SplitSpec`, default :data:`SPLIT`: dates in
            ``tz``, the zone of the days and of the time features).
        L: history length.
        user_fraction: keep this share of users (a fixed hash of the raw user id and ``seed``),
            with all their impressions, for quicker experiments; 1.0 keeps all.
        cache, cache_dir: see :mod:`tacr.data.cache`.
    """
    if not 0 < user_fraction <= 1:
        raise ValueError(f"user_fraction must be in (0, 1], got {user_fraction}")
    folder, files = require_files(resolve_data_dir(data_dir, "taobao"), FILES, "taobao", URL)
    options = dict(L=L, user_fraction=float(user_fraction), seed=int(seed))
    return cached("taobao", options, split, list(files.values()), lambda: build_taobao(files, split, **options),
                  data_dir=folder, enabled=cache, cache_dir=cache_dir)


def keep_user(raw_user: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A fixed pseudo-random share of users: a multiplicative hash of id and seed."""
    h = (raw_user.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed) * np.uint64(0xBF58476D1CE4E5B9))
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) < fraction


def read_raw_sample(path) -> dict[str, np.ndarray]:
    """user, time, ad, label arrays of ``raw_sample.csv`` (all six fields are checked)."""
    types = {"user": pa.int64(), "time_stamp": pa.int64(), "adgroup_id": pa.int64(), "clk": pa.int8()}
    t = read_csv(path, types)
    out = {"user": column_numpy(t, "user"), "time": column_numpy(t, "time_stamp"),
           "ad": column_numpy(t, "adgroup_id"), "label": column_numpy(t, "clk")}
    return out


def read_ad_feature(path) -> pd.DataFrame:
    """adgroup_id, cate_id and brand (nullable: the text NULL) of ``ad_feature.csv``."""
    types = {"adgroup_id": pa.int64(), "cate_id": pa.int64(), "campaign_id": pa.int64(), "customer": pa.int64(),
             "brand": pa.int64(), "price": pa.float64()}
    t = read_csv(path, types, null_values=("", "NULL"), required=["adgroup_id", "cate_id"])
    return pd.DataFrame({"adgroup_id": column_numpy(t, "adgroup_id"), "cate_id": column_numpy(t, "cate_id"),
                         "brand": t.column("brand").to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)})


def read_user_profile(path) -> pd.DataFrame:
    types = {"userid": pa.int64()} | {c: pa.int64() for c in PROFILE_FIELDS.values()}
    t = read_csv(path, types, required=["userid"])
    return t.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def build_taobao(files: dict, split: SplitSpec = SPLIT, *, L=10, user_fraction=1.0, seed=0) -> CTRData:
    rs_path, ad_path, up_path = files["raw_sample.csv"], files["ad_feature.csv"], files["user_profile.csv"]
    raw = read_raw_sample(rs_path)
    n_raw = len(raw["label"])
    info: dict = {"source": "Alimama Taobao display ads (Tianchi 56)", "n_rows_raw": n_raw}
    if user_fraction < 1:
        keep = keep_user(raw["user"], user_fraction, seed)
        raw = {k: v[keep] for k, v in raw.items()}
        del keep
        info["user_fraction"] = user_fraction
    if len(raw["label"]) == 0:
        raise DataError(f"{rs_path.name}: no rows" + (f" after user_fraction={user_fraction}" if user_fraction < 1 else ""))
    check_unix_seconds(raw["time"], rs_path.name, "time_stamp")  # e.g. milliseconds: named with the file's column
    if (nb := int(((raw["label"] != 0) & (raw["label"] != 1)).sum())):
        raise bad(rs_path.name, "clk", nb, "clk outside {0, 1}")
    check_log(pd.DataFrame({"time": raw["time"], "label": raw["label"]}, copy=False), rs_path.name,
              {"time": "integer", "label": "integer"})

    # items: the ads of the log, looked up in ad_feature.csv
    ads = read_ad_feature(ad_path)
    dup = ads["adgroup_id"].duplicated(keep="first")
    if dup.any():
        ids = ads["adgroup_id"][dup]
        conflict = ads[ads["adgroup_id"].isin(ids)].groupby("adgroup_id")["cate_id"].nunique() > 1
        if conflict.any():
            raise bad(ad_path.name, "cate_id", int(ads["adgroup_id"].isin(conflict.index[conflict]).sum()),
                      "the same adgroup_id is listed with different cate_id")
        ads = ads[~dup]
    info["n_ads_listed"] = int(len(ads))
    info["n_ads_null_brand"] = int(ads["brand"].isna().sum())
    item, item_ids = reindex(raw.pop("ad"))
    ads = ads.sort_values("adgroup_id")
    pos, found = lookup_sorted(item_ids, ads["adgroup_id"].to_numpy())
    if not found.all():
        n_bad_rows = int((~found)[item].sum())
        raise bad(rs_path.name, "adgroup_id", n_bad_rows,
                  f"{int((~found).sum())} ad id(s) not in {ad_path.name} (e.g. {int(item_ids[~found][0])})")
    category, cate_ids = reindex(ads["cate_id"].to_numpy()[pos])
    del ads, pos, found

    # users: the users of the log; profile fields -> aux codes (0 = missing)
    user, user_ids = reindex(raw.pop("user"))
    prof = read_user_profile(up_path)
    pdup = prof["userid"].duplicated(keep="first")
    info["n_profile_rows_duplicate"] = int(pdup.sum())
    prof = prof[~pdup].sort_values("userid")
    ppos, pfound = lookup_sorted(user_ids, prof["userid"].to_numpy(dtype=np.int64))
    user_aux = np.zeros((len(user_ids), len(PROFILE_FIELDS)), dtype=np.int64)
    aux_sizes = []
    for j, col in enumerate(PROFILE_FIELDS.values()):
        codes, vocab = code_column(prof[col])  # vocabulary over the whole profile file
        user_aux[:, j] = np.where(pfound, codes[ppos] if len(codes) else 0, 0)
        aux_sizes.append(len(vocab) + 1)
        info[f"aux_vocab_{list(PROFILE_FIELDS)[j]}"] = [int(v) for v in vocab]
    info["n_users_without_profile"] = int((~pfound).sum())
    info["n_profiles"] = int(len(prof))
    del prof, ppos, pfound

    t = raw.pop("time")
    bounds = split.bounds(t)
    info.update({
        "n_rows": int(len(t)), "n_users": int(len(user_ids)), "n_items": int(len(item_ids)),
        "n_categories": int(len(cate_ids)), "n_clicks": int(raw["label"].sum()),
        "n_rows_after_test_end": int((t >= bounds["test_end"]).sum()) if bounds["test_end"] is not None else 0,
        "first_time": int(t.min()), "last_time": int(t.max()),
        "raw_features": RAW_FEATURES_NONE,
    })
    info |= split.info(bounds)
    log = pd.DataFrame({"user": user, "item": item, "time": t, "label": raw.pop("label")}, copy=False)
    del user, item, t, raw
    data = assemble("taobao", log, Items(category=category, raw=None), user_aux, aux_sizes, L=L, tz=split.tz,
                    aux_names=tuple(PROFILE_FIELDS), info=info, source=rs_path.name,
                    columns={"time": "time_stamp", "label": "clk"}, **bounds)
    return attach_ids(data, user=user_ids, item=item_ids, category=cate_ids)
