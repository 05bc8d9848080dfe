"""Malformed input, one row of a table per fault: each either loads correctly (when there is one
right reading) or raises a :class:`DataError` whose message names the file and the column, and
the count of bad rows where there is one. Tiny fixture files are written into tmp dirs."""
from __future__ import annotations

import bz2
import gzip
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tacr.data as D
from tacr.data import DataError

FIX = Path(__file__).parent / "fixtures"
T0 = 1709251200  # 2024-03-01 00:00 UTC
H6 = 6 * 3600


# ------------------------------------------------------------------------------- the base log
def base_df(n: int = 40) -> pd.DataFrame:
    """A valid log: 4 users, 5 items, a row every 6 hours for 10 days, both labels in every
    split of the default split (last 10 % of the span test, the 10 % before it validation)."""
    k = np.arange(n)
    item = k % 5 + 1
    return pd.DataFrame({"user": [f"u{j % 4 + 1}" for j in k], "item": [f"i{j}" for j in item],
                         "time": T0 + k * H6, "label": (k % 3 == 0).astype(int),
                         "category": [f"c{j % 2}" for j in item]})


def csv_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False)


def load_table(path, **kw):
    return D.load("table", path=path, cache=False, **kw)


def split_rows(d) -> tuple[int, int, int]:
    return len(d.train), len(d.valid), len(d.test)


# ---------------------------------------------------------------------------- expectations
@dataclass
class Err:
    file: str
    column: str | None
    count: int | None = None
    says: tuple[str, ...] = ()  # regexes the message must match too


@dataclass
class Ok:
    check: Callable = lambda d: None
    warns: str | None = None  # a warning that must be given


@dataclass
class Case:
    build: Callable  # tmp_path -> a zero-argument call that loads
    expect: "Err | Ok"
    fault: str = ""
    extra: dict = field(default_factory=dict)


CASES: dict[str, Case] = {}


def case(name: str, expect, fault: str):
    def deco(fn):
        CASES[name] = Case(fn, expect, fault)
        return fn
    return deco


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(data, bytes) else path.write_text)(data)
    return path


def correct(d) -> None:
    """The base log, loaded right: 4 users, 5 items, 40 rows split 32/4/4."""
    assert d.n_users == 4 and len(d.items) == 5
    assert split_rows(d) == (32, 4, 4)
    assert d.train.time.min() == T0


# ------------------------------------------------------------------------ compression, text
@case("csv-gzip-content-named-csv", Ok(correct), "gzip content in a file named .csv")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", gzip.compress(csv_text(base_df()).encode())))


@case("csv-gz-suffix", Ok(correct), "a .csv.gz file")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv.gz", gzip.compress(csv_text(base_df()).encode())))


@case("csv-bz2-folder", Ok(correct), "a folder holding one bz2-compressed CSV")
def _(tmp):
    write(tmp / "logs" / "part.csv.bz2", bz2.compress(csv_text(base_df()).encode()))
    return lambda: load_table(tmp / "logs")


@case("csv-utf16-bom", Ok(correct), "UTF-16 text (with its byte-order mark)")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df()).encode("utf-16")))


@case("csv-zip-named-csv", Err("log.csv", None, None, ("zip archive", "unpack")), "a zip archive named .csv")
def _(tmp):
    with zipfile.ZipFile(tmp / "log.csv", "w") as z:
        z.writestr("log.csv", csv_text(base_df()))
    return lambda: load_table(tmp / "log.csv")


def latin1_header(tmp):
    df = base_df().rename(columns={"category": "catégorie"})
    return write(tmp / "log.csv", csv_text(df).encode("latin-1"))


@case("csv-latin1-byte-in-header", Err("log.csv", "cat\\xe9gorie", 1, ("not utf8 text", "encoding='latin-1'")),
      "a Latin-1 byte in the header, read as UTF-8")
def _(tmp):
    return lambda: load_table(latin1_header(tmp), category_col="catégorie")


@case("csv-latin1-with-encoding", Ok(correct), "the same file with encoding='latin-1'")
def _(tmp):
    return lambda: load_table(latin1_header(tmp), category_col="catégorie", encoding="latin-1")


@case("csv-latin1-byte-in-user", Err("log.csv", "user", 2, ("not utf8 text", "encoding=")),
      "Latin-1 bytes in two user ids")
def _(tmp):
    df = base_df()
    df.loc[[3, 7], "user"] = "rené"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df).encode("latin-1")))


# ----------------------------------------------------------------------------------- times
def ms_check(d):
    correct(d)
    assert "unix_ms" in d.info["time_unit"]


@case("csv-ms-auto", Ok(ms_check, warns="milliseconds"), "unix milliseconds with time_format='auto'")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] * 1000
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-ms-as-unix", Err("log.csv", "time", 40, ("look like unix milliseconds", "time_format='unix_ms'")),
      "unix milliseconds with time_format='unix'")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] * 1000
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="unix")


@case("csv-ms-explicit", Ok(correct), "unix milliseconds with time_format='unix_ms'")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] * 1000
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="unix_ms")


@case("csv-seconds-as-ms", Err("log.csv", "time", 40, ("milliseconds out of range", "time_format='unix'")),
      "unix seconds with time_format='unix_ms'")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df())), time_format="unix_ms")


@case("csv-mix-s-and-ms", Err("log.csv", "time", 3, ("milliseconds", "mixed", "one unit per column")),
      "three rows in milliseconds among seconds")
def _(tmp):
    df = base_df()
    df.loc[[5, 6, 7], "time"] *= 1000
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-year-3000", Err("log.csv", "time", 1, ("out of range", "3000-01-01")), "one row in year 3000 (seconds)")
def _(tmp):
    df = base_df()
    df.loc[4, "time"] = int(pd.Timestamp("3000-01-01", tz="UTC").timestamp())
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-year-3000-date-text", Err("log.csv", "time", 1, ("out of range",)), "one date in year 3000 (text)")
def _(tmp):
    df = base_df()
    df["time"] = pd.to_datetime(df["time"], unit="s").dt.strftime("%Y-%m-%d %H:%M:%S")
    df.loc[4, "time"] = "3000-01-01 00:00:00"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-negative-time", Err("log.csv", "time", 2, ("negative",)), "two negative unix times")
def _(tmp):
    df = base_df()
    df.loc[[1, 2], "time"] = -5
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-one-row-time-0", Err("log.csv", "time", None, ("split 'valid'", "is empty", "1 row lies far before",
                                                           "1970-01-01")),
      "one row at time 0 stretches the span: a split comes out empty")
def _(tmp):
    df = base_df()
    df.loc[0, "time"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-time-0-rows-split", Ok(lambda d: (split_rows(d) == (32, 4, 4)) or None),
      "the same file split by rows loads")
def _(tmp):
    df = base_df()
    df.loc[0, "time"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), split_by="rows")


def day_first(df):
    return pd.to_datetime(df["time"], unit="s").dt.strftime("%d/%m/%Y %H:%M")


@case("csv-dd-mm-yyyy", Err("log.csv", "time", 40, ("ambiguous dates", "day first", "'%d/%m/%Y %H:%M'")),
      "dd/mm/yyyy dates (1-10 March), which month-first parsing would spread over months")
def _(tmp):
    df = base_df()
    df["time"] = day_first(df)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


def march(d):
    correct(d)
    for s in d.splits.values():
        assert (pd.to_datetime(s.time, unit="s").month == 3).all()


@case("csv-dd-mm-yyyy-format", Ok(march), "dd/mm/yyyy dates with time_format='%d/%m/%Y %H:%M'")
def _(tmp):
    df = base_df()
    df["time"] = day_first(df)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="%d/%m/%Y %H:%M")


@case("csv-format-mismatch", Err("log.csv", "time", 1, ("does not match time_format",)),
      "a strftime format that one row does not match")
def _(tmp):
    df = base_df()
    df["time"] = day_first(df)
    df.loc[9, "time"] = "2024-03-03 10:00"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="%d/%m/%Y %H:%M")


@case("csv-unparseable-date", Err("log.csv", "time", 1, ("not a parseable date",)), "a date written 'yesterday'")
def _(tmp):
    df = base_df()
    df["time"] = pd.to_datetime(df["time"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    df.loc[3, "time"] = "yesterday"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


# ---------------------------------------------------------------------------------- labels
@case("csv-test-no-negatives", Err("log.csv", "label", 4, (r"\[test\]", "no negatives", "AUC")),
      "a test split whose rows are all clicks")
def _(tmp):
    df = base_df()
    df.loc[36:, "label"] = 1
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-valid-no-negatives", Err("log.csv", "label", 4, (r"\[valid\]", "no negatives")),
      "a validation split whose rows are all clicks")
def _(tmp):
    df = base_df()
    df.loc[32:35, "label"] = 1
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-valid-no-positives", Err("log.csv", "label", 4, (r"\[valid\]", "no positives")),
      "a validation split without clicks")
def _(tmp):
    df = base_df()
    df.loc[32:35, "label"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-all-ones", Err("log.csv", "label", 40, ("no negatives", "all 40 rows have label 1")), "every label 1")
def _(tmp):
    df = base_df()
    df["label"] = 1
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-label-2", Err("log.csv", "label", 2, (r"outside \{0, 1\}",)), "two labels equal to 2")
def _(tmp):
    df = base_df()
    df.loc[[4, 8], "label"] = 2
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-label-text", Err("log.csv", "label", 1, ("not a valid double", "yes")), "a label written 'yes'")
def _(tmp):
    df = base_df().astype({"label": str})
    df.loc[4, "label"] = "yes"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-label-twice", Err("log.csv", "label", None, ("repeated in the header", "2 times")),
      "a header naming 'label' twice")
def _(tmp):
    df = base_df()
    df.insert(2, "label_", 1 - df["label"])
    text = csv_text(df).replace("label_,", "label,", 1)
    return lambda: load_table(write(tmp / "log.csv", text))


# ------------------------------------------------------------------------------------- ids
def two_users(d):
    assert sorted(d.raw_ids["user"].tolist()) == ["01", "1", "2", "3"]
    assert d.n_users == 4


@case("csv-ids-01-and-1", Ok(two_users), "user ids '01' and '1' (two users, kept as written)")
def _(tmp):
    df = base_df()
    df["user"] = df["user"].map({"u1": "01", "u2": "1", "u3": "2", "u4": "3"})
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


def int_ids(d):
    assert d.raw_ids["user"].tolist() == [1, 2, 3, 10] and d.raw_ids["user"].dtype.kind == "i"


@case("csv-ids-integers", Ok(int_ids), "integer user ids sort as numbers (lossless conversion)")
def _(tmp):
    df = base_df()
    df["user"] = df["user"].map({"u1": "1", "u2": "2", "u3": "3", "u4": "10"})
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-item-NaN", Err("log.csv", "item", 1, ("missing id", "NaN")), "an item id written NaN")
def _(tmp):
    df = base_df()
    text = csv_text(df).splitlines()
    text[5] = text[5].replace(",i5,", ",NaN,")
    return lambda: load_table(write(tmp / "log.csv", "\n".join(text) + "\n"))


@case("csv-user-empty", Err("log.csv", "user", 2, ("missing id",)), "two empty user ids")
def _(tmp):
    df = base_df()
    df.loc[[2, 3], "user"] = ""
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


def dup_check(d):
    assert d.info["n_duplicate_rows"] == 2
    assert len(d.train) + len(d.valid) + len(d.test) == 42


@case("csv-duplicated-rows", Ok(dup_check, warns="2 rows repeat"), "two rows written twice")
def _(tmp):
    df = base_df()
    df = pd.concat([df, df.iloc[[3, 10]]], ignore_index=True)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


# -------------------------------------------------------------------------------- structure
@case("csv-truncated-row", Err("log.csv", "label", 1, ("wrong number of fields", "truncated")), "a truncated row")
def _(tmp):
    lines = csv_text(base_df()).splitlines()
    lines[6] = ",".join(lines[6].split(",")[:3])
    return lambda: load_table(write(tmp / "log.csv", "\n".join(lines) + "\n"))


@case("csv-missing-column", Err("log.csv", "category", None, ("missing",)), "no category column")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df().drop(columns="category"))))


@case("csv-no-category-ok", Ok(lambda d: (d.spec.n_categories == 1) or None), "no category column, category_col=None")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df().drop(columns="category"))), category_col=None)


@case("csv-header-only", Err("log.csv", None, None, ("no rows",)), "a header and no rows")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", "user,item,time,label,category\n"))


@case("csv-category-conflict", Err("log.csv", "category", 8, ("more than one category",)),
      "an item listed under two categories")
def _(tmp):
    df = base_df()
    df.loc[0, "category"] = "c0"  # item i1 is c1 everywhere else (8 rows of i1)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


# ---------------------------------------------------------------------------------- parquet
def parquet(tmp, df, name="log.parquet") -> Path:
    df.to_parquet(tmp / name)
    return tmp / name


@case("parquet-corrupt", Err("log.parquet", None, None, ("not a readable parquet file",)), "a truncated parquet file")
def _(tmp):
    p = parquet(tmp, base_df())
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    return lambda: load_table(p)


@case("parquet-empty-file", Err("log.parquet", None, None, ("not a readable parquet file",)), "a 0-byte .parquet")
def _(tmp):
    return lambda: load_table(write(tmp / "log.parquet", b""))


@case("parquet-user-lists", Err("log.parquet", "user", 40, ("nested values",)), "a user column of lists")
def _(tmp):
    df = base_df()
    df["user"] = [[u] for u in df["user"]]
    return lambda: load_table(parquet(tmp, df))


@case("parquet-ms-strings", Ok(ms_check, warns="milliseconds"), "milliseconds as strings")
def _(tmp):
    df = base_df()
    df["time"] = (df["time"] * 1000).astype(str)
    return lambda: load_table(parquet(tmp, df))


@case("parquet-ms-int", Ok(ms_check, warns="milliseconds"), "milliseconds as int64")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] * 1000
    return lambda: load_table(parquet(tmp, df))


@case("parquet-timestamp-year-3000", Err("log.parquet", "time", 1, ("out of range",)),
      "a timestamp column with one row in year 3000")
def _(tmp):
    df = base_df()
    ts = pd.to_datetime(df["time"], unit="s").astype("datetime64[us]")
    ts.iloc[4] = pd.Timestamp("3000-01-01")
    df["time"] = ts
    return lambda: load_table(parquet(tmp, df))


@case("parquet-user-nan", Err("log.parquet", "user", 1, ("missing id",)), "a float user id NaN")
def _(tmp):
    df = base_df()
    df["user"] = df["user"].str[1:].astype(float)
    df.loc[7, "user"] = np.nan
    return lambda: load_table(parquet(tmp, df))


@case("parquet-label-twice", Err("log.parquet", "label", None, ("repeated",)), "two columns named label")
def _(tmp):
    df = base_df()
    t = pa.Table.from_pandas(df, preserve_index=False)
    t = t.append_column("label", pa.array(1 - df["label"].to_numpy()))
    pq.write_table(t, tmp / "log.parquet")
    return lambda: load_table(tmp / "log.parquet")


@case("parquet-missing-column", Err("log.parquet", "ts", None, ("missing",)), "time_col names no column")
def _(tmp):
    return lambda: load_table(parquet(tmp, base_df()), time_col="ts")


# -------------------------------------------------------------------------------- MovieLens
def ml_copy(tmp, name) -> Path:
    dst = tmp / name
    shutil.copytree(FIX / name, dst, ignore=shutil.ignore_patterns(".tacr_cache"))
    return dst


def rewrite_times(path: Path, sep: str, fn) -> None:
    lines = path.read_text(encoding="latin-1").splitlines()
    out = []
    for j, ln in enumerate(lines):
        f = ln.split(sep)
        f[3] = str(fn(j, int(f[3])))
        out.append(sep.join(f))
    path.write_text("\n".join(out) + "\n", encoding="latin-1")


@case("ml1m-ratings-ms", Err("ratings.dat", "time", 15, ("look like unix milliseconds",)), "ratings.dat in ms")
def _(tmp):
    f = ml_copy(tmp, "ml-1m")
    rewrite_times(f / "ratings.dat", "::", lambda j, t: t * 1000)
    return lambda: D.load("movielens-1m", data_dir=f, cache=False)


@case("ml100k-time-0", Err("u.data", "time", None, ("is empty", "1 row lies far before")), "one rating at time 0")
def _(tmp):
    f = ml_copy(tmp, "ml-100k")
    rewrite_times(f / "u.data", "\t", lambda j, t: 0 if j == 2 else t)
    return lambda: D.load("movielens-100k", data_dir=f, cache=False)


@case("ml1m-all-clicks", Err("ratings.dat", "label", 15, ("no negatives",)), "rating_threshold=0: every rating a click")
def _(tmp):
    return lambda: D.load("movielens-1m", data_dir=FIX / "ml-1m", rating_threshold=0, cache=False)


@case("ml100k-gzip-u-data", Ok(lambda d: (d.info["n_rows"] == 15) or None), "u.data gzip-compressed (same name)")
def _(tmp):
    f = ml_copy(tmp, "ml-100k")
    (f / "u.data").write_bytes(gzip.compress((f / "u.data").read_bytes()))
    return lambda: D.load("movielens-100k", data_dir=f, cache=False)


@case("ml1m-year-3000", Err("ratings.dat", "time", 1, ("out of range", "3000")), "one rating in year 3000")
def _(tmp):
    f = ml_copy(tmp, "ml-1m")
    y3000 = int(pd.Timestamp("3000-01-01", tz="UTC").timestamp())
    rewrite_times(f / "ratings.dat", "::", lambda j, t: y3000 if j == 4 else t)
    return lambda: D.load("movielens-1m", data_dir=f, cache=False)


# ----------------------------------------------------------------------------------- Taobao
def tb_copy(tmp) -> Path:
    dst = tmp / "taobao"
    shutil.copytree(FIX / "taobao", dst, ignore=shutil.ignore_patterns(".tacr_cache"))
    return dst


def tb_rewrite(folder: Path, fn) -> None:
    df = pd.read_csv(folder / "raw_sample.csv")
    fn(df)
    df.to_csv(folder / "raw_sample.csv", index=False)


def load_taobao(folder):
    return D.load("taobao", data_dir=folder, cache=False)


@case("taobao-ms", Err("raw_sample.csv", "time_stamp", 22, ("look like unix milliseconds",)), "raw_sample in ms")
def _(tmp):
    f = tb_copy(tmp)
    tb_rewrite(f, lambda df: df.__setitem__("time_stamp", df["time_stamp"] * 1000))
    return lambda: load_taobao(f)


@case("taobao-one-row-ms", Err("raw_sample.csv", "time_stamp", 1, ("look like unix milliseconds",)),
      "one raw_sample row in ms")
def _(tmp):
    f = tb_copy(tmp)
    tb_rewrite(f, lambda df: df.__setitem__("time_stamp", np.where(df.index == 3, df["time_stamp"] * 1000,
                                                                   df["time_stamp"])))
    return lambda: load_taobao(f)


@case("taobao-all-clicks", Err("raw_sample.csv", "clk", 22, ("no negatives",)), "every clk = 1")
def _(tmp):
    f = tb_copy(tmp)
    tb_rewrite(f, lambda df: df.__setitem__("clk", 1))
    return lambda: load_taobao(f)


@case("taobao-test-day-all-clicks", Err("raw_sample.csv", "clk", 6, (r"\[test\]", "no negatives")),
      "the test day (05-13) holds clicks only")
def _(tmp):
    f = tb_copy(tmp)
    test_day = (1494000000 + 7 * 86400, 1494000000 + 8 * 86400)
    tb_rewrite(f, lambda df: df.__setitem__("clk", np.where(df["time_stamp"].between(*test_day, inclusive="left"),
                                                            1, df["clk"])))
    return lambda: load_taobao(f)


@case("taobao-gzip", Ok(lambda d: (d.info["n_rows_raw"] == 22) or None), "raw_sample.csv gzip-compressed")
def _(tmp):
    f = tb_copy(tmp)
    (f / "raw_sample.csv").write_bytes(gzip.compress((f / "raw_sample.csv").read_bytes()))
    return lambda: load_taobao(f)


@case("taobao-clk-twice", Err("raw_sample.csv", "clk", None, ("repeated in the header",)), "a header with clk twice")
def _(tmp):
    f = tb_copy(tmp)
    text = (f / "raw_sample.csv").read_text().replace("nonclk,clk", "clk,clk", 1)
    (f / "raw_sample.csv").write_text(text)
    return lambda: load_taobao(f)


@case("taobao-profile-latin1-header", Err("user_profile.csv", "occupation\\xe9", 1, ("not utf8 text",)),
      "user_profile.csv with a Latin-1 byte in its header")
def _(tmp):
    f = tb_copy(tmp)
    text = (f / "user_profile.csv").read_text().replace(",occupation,", ",occupationé,", 1)
    (f / "user_profile.csv").write_bytes(text.encode("latin-1"))
    return lambda: load_taobao(f)


# ------------------------------------------------------------------------------------- test
def test_table_is_large_enough():
    assert len(CASES) >= 30
    assert sum(isinstance(c.expect, Err) for c in CASES.values()) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TACR_CACHE_DIR", str(tmp_path / "cache"))
    c = CASES[name]
    call = c.build(tmp_path)
    if isinstance(c.expect, Ok):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = call()
        if c.expect.warns:
            assert any(c.expect.warns in str(w.message) for w in caught), [str(w.message) for w in caught]
        c.expect.check(data)
        return
    e = c.expect
    with pytest.raises(DataError) as exc:
        call()
    msg = str(exc.value)
    assert e.file in msg, f"file {e.file!r} not named in: {msg}"
    if e.column is not None:
        assert f"column {e.column!r}" in msg or repr(e.column) in msg, f"column {e.column!r} not named in: {msg}"
    if e.count is not None:
        assert re.search(rf"(?<![\d.]){e.count} bad rows?\b", msg), f"count {e.count} not in: {msg}"
    for pattern in e.says:
        assert re.search(pattern, msg), f"{pattern!r} not in: {msg}"


def test_history_error_is_helpful():
    with pytest.raises(ValueError, match=r"query_time: 1 of 2 values .*milliseconds"):
        D.build_histories([0, 0], [1, 2], [1, 2], [1, 0], query_user=[0, 0], query_time=[5, 1_700_000_000_000])


def test_time_unit_rules():
    from tacr.data.readers import time_unit

    assert time_unit(np.array([0, 1_700_000_000]), "f", "t") == "s"
    assert time_unit(np.array([1_700_000_000_000, 1_700_000_000_123]), "f", "t") == "ms"
    with pytest.raises(DataError, match=r"f: column 't': 1 bad row: unix times in milliseconds"):
        time_unit(np.array([1_700_000_000, 1_700_000_001, 1_700_000_000_000]), "f", "t")
