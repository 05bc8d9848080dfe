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
    never: tuple[str, ...] = ()  # texts the message must not hold (a file's content)


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


def with_date_text(tmp, row: int, text: str, fmt: str):
    """A load of the example log with its times written as dates (``fmt``) and row ``row``'s as ``text``."""
    df = base_df()
    df["time"] = pd.to_datetime(df["time"], unit="s").dt.strftime(fmt)
    df.loc[row, "time"] = text
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-year-3000-date-text", Err("log.csv", "time", 1, ("out of range",)), "one date in year 3000 (text)")
def _(tmp):
    return with_date_text(tmp, 4, "3000-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")


@case("csv-negative-time", Err("log.csv", "time", 2, ("negative",)), "two negative unix times")
def _(tmp):
    df = base_df()
    df.loc[[1, 2], "time"] = -5
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-one-row-time-0", Err("log.csv", "time", 1, ("before 1990", "1970-01-01", "placeholder")),
      "one row at time 0 (time_format 'auto'): implausible, refused")
def _(tmp):
    df = base_df()
    df.loc[0, "time"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-one-row-time-0-unix", Err("log.csv", "time", None, ("split 'valid'", "is empty", "1 row lies far before",
                                                                "1970-01-01")),
      "the same row read as unix seconds stretches the span: a split comes out empty")
def _(tmp):
    df = base_df()
    df.loc[0, "time"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="unix")


@case("csv-time-0-rows-split", Ok(lambda d: (split_rows(d) == (32, 4, 4)) or None),
      "the same file split by rows loads")
def _(tmp):
    df = base_df()
    df.loc[0, "time"] = 0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), split_by="rows", time_format="unix")


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
    return with_date_text(tmp, 3, "yesterday", "%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------- labels
def with_labels(tmp, rows, value):
    """A load of the example log with the labels of ``rows`` (a ``.loc`` slice) set to ``value``."""
    df = base_df()
    df.loc[rows, "label"] = value
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-test-no-negatives", Err("log.csv", "label", 4, (r"\[test\]", "no negatives", "AUC")),
      "a test split whose rows are all clicks")
def _(tmp):
    return with_labels(tmp, slice(36, None), 1)


@case("csv-valid-no-negatives", Err("log.csv", "label", 4, (r"\[valid\]", "no negatives")),
      "a validation split whose rows are all clicks")
def _(tmp):
    return with_labels(tmp, slice(32, 35), 1)


@case("csv-valid-no-positives", Err("log.csv", "label", 4, (r"\[valid\]", "no positives")),
      "a validation split without clicks")
def _(tmp):
    return with_labels(tmp, slice(32, 35), 0)


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


# ------------------------------------------------------------------------- quotes and lines
def hourly_df(n: int = 400) -> pd.DataFrame:
    """A valid log of ``n`` hourly rows (4 users, 5 items, both labels in every split)."""
    k = np.arange(n)
    return pd.DataFrame({"user": [f"u{j % 4}" for j in k], "item": [f"i{j % 5}" for j in k], "time": T0 + k * 3600,
                         "label": (k % 3 == 0).astype(int), "category": [f"c{j % 5 % 2}" for j in k]})


def open_quote(tmp, at: int, close_at: int | None = None) -> Path:
    """hourly_df's CSV with the category of the data row ``at`` opened by a quote (closed at the
    end of data row ``close_at``, or never)."""
    lines = csv_text(hourly_df()).splitlines()
    lines[at + 1] = lines[at + 1].rsplit(",", 1)[0] + ',"c_new'
    if close_at is not None:
        lines[close_at + 1] += '"'
    return write(tmp / "log.csv", "\n".join(lines) + "\n")


@case("csv-quote-never-closed", Err("log.csv", "category", 20, ("never closed", "line 382", "19 line")),
      "a quote opened in row 381 of 400 and never closed (it would swallow the last 19 rows)")
def _(tmp):
    return lambda: load_table(open_quote(tmp, 380))


@case("csv-quote-over-lines", Err("log.csv", "category", 4, ("runs from line 102 to line 105",)),
      "a quoted value over four lines")
def _(tmp):
    return lambda: load_table(open_quote(tmp, 100, close_at=103))


@case("csv-quoted-header-with-comma", Ok(correct), 'a quoted header name holding the delimiter: "cat, level 3"')
def _(tmp):
    text = csv_text(base_df().rename(columns={"category": "cat, level 3"}))
    assert text.startswith('user,item,time,label,"cat, level 3"')
    return lambda: load_table(write(tmp / "log.csv", text), category_col="cat, level 3")


@case("csv-last-line-cut-empty-field", Err("log.csv", "category", 1, ("missing id", "cut off", "line break")),
      "a half-written last line: every field but the last, no line end")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df()) + f"u3,i4,{T0 + 40 * H6},1,"))


@case("csv-last-line-cut-short", Err("log.csv", "time", 1, ("wrong number of fields", "line 42", "cut off")),
      "a half-written last line of two fields, no line end")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df()) + "u3,i"))


@case("csv-no-final-newline-ok", Ok(correct), "a complete file whose last line has no line end")
def _(tmp):
    return lambda: load_table(write(tmp / "log.csv", csv_text(base_df()).rstrip("\n")))


@case("path-not-a-csv", Err("passwd", "user", None, ("holds no comma", "right file"), ("root", "bin/bash")),
      "path= at a system file (a wrong path): what is wrong, never its content")
def _(tmp):
    write(tmp / "etc" / "passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    return lambda: load_table(tmp / "etc" / ".." / "etc" / "passwd")


# ------------------------------------------------------------------------------- columns
def with_features(tmp) -> Path:
    df = base_df()
    df["Emb_0"] = df["item"].str[1:].astype(float)
    df["Gender"] = np.where(df["user"].isin(["u1", "u2"]), "f", "m")
    return write(tmp / "log.csv", csv_text(df))


@case("csv-raw-glob-matches-nothing", Err("log.csv", "emb_*", None, ("matches no column", "case", "Emb_0")),
      "raw_cols=['emb_*'] where the file has Emb_0")
def _(tmp):
    return lambda: load_table(with_features(tmp), raw_cols=["emb_*"])


@case("csv-aux-glob-matches-nothing", Err("log.csv", "gender*", None, ("matches no column", "Gender")),
      "aux_cols=['gender*'] where the file has Gender")
def _(tmp):
    return lambda: load_table(with_features(tmp), aux_cols=["gender*"])


@case("csv-aux-exact-missing", Err("log.csv", "gender", None, ("missing",)), "aux_cols=['gender'], no such column")
def _(tmp):
    return lambda: load_table(with_features(tmp), aux_cols=["gender"])


def user_as_field(d):
    correct(d)
    assert d.aux_names == ("user", "Gender") and d.aux_sizes == (5, 3)
    assert d.user_aux[:, 0].tolist() == [1, 2, 3, 4]  # the user id as a field: 1 + user index
    assert d.user_aux[:, 1].tolist() == [1, 1, 2, 2]


@case("csv-aux-user-id", Ok(user_as_field), "aux_cols=['user', 'Gender']: the user id itself as a field")
def _(tmp):
    return lambda: load_table(with_features(tmp), aux_cols=["user", "Gender"])


# ------------------------------------------------------------------------------------- ids
def zero_ids(d):
    assert sorted(d.raw_ids["user"].tolist()) == ["-0", "0", "1", "2"] and d.n_users == 4


@case("csv-ids-minus-0-and-0", Ok(zero_ids), "user ids '-0' and '0' (two users, kept as written)")
def _(tmp):
    df = base_df()
    df["user"] = df["user"].map({"u1": "0", "u2": "-0", "u3": "1", "u4": "2"})
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


ATOMIC_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"


def atomic_folder(tmp, users, items, item_rows=None) -> Path:
    """An atomic dataset of base_df's times and labels with the given user and item tokens."""
    df = base_df()
    lines = [ATOMIC_HEADER] + [f"{users[j % len(users)]}\t{items[j % len(items)]}\t{4 if y else 2}\t{t}"
                               for j, (t, y) in enumerate(zip(df["time"], df["label"]))]
    write(tmp / "toy" / "toy.inter", "\n".join(lines) + "\n")
    if item_rows is not None:
        write(tmp / "toy" / "toy.item", "\n".join(["item_id:token\tgenre:token"] + item_rows) + "\n")
    return tmp / "toy"


def atomic_ids(d):
    assert sorted(map(str, d.raw_ids["user"])) == ["01", "1", "2"]
    assert sorted(map(str, d.raw_ids["item"])) == ["+101", "101", "102"]


@case("atomic-ids-as-written", Ok(atomic_ids), "atomic tokens '01' and '1', '+101' and '101' (kept apart)")
def _(tmp):
    folder = atomic_folder(tmp, ["01", "1", "2"], ["+101", "101", "102"])
    return lambda: D.load("atomic", data_dir=folder, cache=False)


def item_row_as_written(d):
    cat = dict(zip(d.raw_ids["item"].tolist(), d.raw_ids["category"][d.items.category]))
    assert cat == {101: "(none)", 102: "b"} and d.info["n_items_without_item_row"] == 1


@case("atomic-item-row-0101", Ok(item_row_as_written), "a .item row '0101' does not describe item 101")
def _(tmp):
    folder = atomic_folder(tmp, ["1", "2"], ["101", "102"], item_rows=["0101\ta", "102\tb"])
    return lambda: D.load("atomic", data_dir=folder, cache=False)


@case("atomic-data-dir-is-inter-file", Ok(lambda d: (d.name == "toy") or None), "data_dir= the .inter file itself")
def _(tmp):
    folder = atomic_folder(tmp, ["1", "2"], ["101", "102"])
    return lambda: D.load("atomic", data_dir=folder / "toy.inter", cache=False)


@case("atomic-relative-times", Err("toy.inter", "timestamp", 40, ("before 1990", "relative")),
      "atomic timestamps counted from 0")
def _(tmp):
    folder = atomic_folder(tmp, ["1", "2"], ["101", "102"])
    text = (folder / "toy.inter").read_text()
    lines = [ln if j == 0 else "\t".join(ln.split("\t")[:3] + [str(int(ln.split("\t")[3]) - T0)])
             for j, ln in enumerate(text.splitlines())]
    write(folder / "toy.inter", "\n".join(lines) + "\n")
    return lambda: D.load("atomic", data_dir=folder, cache=False)


# ----------------------------------------------------------------------------------- times
def dates(df, fmt, shift_days=0):
    return pd.to_datetime(df["time"] + shift_days * 86400, unit="s").dt.strftime(fmt)


@case("csv-yyyy-dd-mm-ambiguous", Err("log.csv", "time", 40, ("ambiguous dates", "'%Y/%d/%m %H:%M'",
                                                              "'%Y/%m/%d %H:%M'")),
      "YYYY/DD/MM dates with every day <= 12 (1-10 March), which year/month/day would read as 3 January ...")
def _(tmp):
    df = base_df()
    df["time"] = dates(df, "%Y/%d/%m %H:%M")
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-yyyy-dd-mm-format", Ok(march), "the same dates with time_format='%Y/%d/%m %H:%M'")
def _(tmp):
    df = base_df()
    df["time"] = dates(df, "%Y/%d/%m %H:%M")
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="%Y/%d/%m %H:%M")


@case("csv-yyyy-dd-mm-day-13", Err("log.csv", "time", 40, ("ambiguous dates", "say day first", "'%Y/%d/%m %H:%M'")),
      "YYYY/DD/MM dates including days above 12")
def _(tmp):
    df = base_df()
    df["time"] = dates(df, "%Y/%d/%m %H:%M", shift_days=10)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


def shifted(days):
    def check(d):
        assert split_rows(d) == (32, 4, 4) and d.train.time.min() == T0 + days * 86400
    return check


@case("csv-yyyy-mm-dd-told-apart", Ok(shifted(12)), "YYYY/MM/DD dates whose days (13-22) say which is the day")
def _(tmp):
    df = base_df()
    df["time"] = dates(df, "%Y/%m/%d %H:%M", shift_days=12)
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-excel-serial-days", Err("log.csv", "time", 40, ("before 1990", "Excel serial days", "time_format='excel'")),
      "Excel serial days (45352.x), which unix seconds would put in 1970")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] / 86400 + 25569
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-excel-serial-days-format", Ok(correct), "the same with time_format='excel'")
def _(tmp):
    df = base_df()
    df["time"] = df["time"] / 86400 + 25569
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), time_format="excel")


@case("csv-relative-seconds", Err("log.csv", "time", 40, ("before 1990", "relative times", "time_format='unix'")),
      "small relative integers (seconds since the log's start)")
def _(tmp):
    df = base_df()
    df["time"] -= T0
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


def berlin_offsets(df, days=29):
    """Times written in Berlin local time with their offsets, 2024-03-30 .. 04-08: across the
    change of 31 March (+01:00, then +02:00)."""
    when = pd.to_datetime(df["time"] + days * 86400, unit="s", utc=True).dt.tz_convert("Europe/Berlin")
    return when.map(lambda t: t.isoformat())


def across_dst(d):
    shifted(29)(d)
    assert "+01:00, +02:00" in d.info["time_offsets"]


@case("csv-offsets-across-dst", Ok(across_dst), "times with UTC offsets +01:00 then +02:00 (a DST change)")
def _(tmp):
    df = base_df()
    df["time"] = berlin_offsets(df)
    assert df["time"].str.endswith("+01:00").any() and df["time"].str.endswith("+02:00").any()
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("parquet-offsets-across-dst", Ok(across_dst), "the same times as parquet strings")
def _(tmp):
    df = base_df()
    df["time"] = berlin_offsets(df)
    return lambda: load_table(parquet(tmp, df))


@case("csv-aware-and-naive", Err("log.csv", "time", 1, ("with a UTC offset", "without one", "'2024-03-31T08:00:00'",
                                                        "'2024-03-30T01:00:00\\+01:00'")),
      "one time without an offset among times with one")
def _(tmp):
    df = base_df()
    df["time"] = berlin_offsets(df)
    df.loc[5, "time"] = df.loc[5, "time"][:-6]
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)))


@case("csv-naive-time-in-dst-gap", Err("log.csv", "time", 1, ("does not exist or is repeated", "Europe/Berlin")),
      "a naive local time that the spring-forward change skips")
def _(tmp):
    df = base_df()
    df["time"] = dates(df, "%Y-%m-%d %H:%M:%S")
    df.loc[5, "time"] = "2024-03-31 02:30:00"
    return lambda: load_table(write(tmp / "log.csv", csv_text(df)), tz="Europe/Berlin", split_by="rows")


@case("parquet-duration-time", Err("log.parquet", "time", 40, ("durations", "not points in time")),
      "a duration (timedelta) time column")
def _(tmp):
    df = base_df()
    df["time"] = pd.to_timedelta(df["time"] - T0, unit="s")
    return lambda: load_table(parquet(tmp, df))


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
    for text in e.never:
        assert text not in msg, f"{text!r} echoed in: {msg}"


def test_history_error_is_helpful():
    with pytest.raises(ValueError, match=r"query_time: 1 of 2 values .*milliseconds"):
        D.build_histories([0, 0], [1, 2], [1, 2], [1, 0], query_user=[0, 0], query_time=[5, 1_700_000_000_000])


def test_time_unit_rules():
    from tacr.data.times import time_unit

    assert time_unit(np.array([0, 1_700_000_000]), "f", "t") == "s"
    assert time_unit(np.array([1_700_000_000_000, 1_700_000_000_123]), "f", "t") == "ms"
    with pytest.raises(DataError, match=r"f: column 't': 1 bad row: unix times in milliseconds"):
        time_unit(np.array([1_700_000_000, 1_700_000_001, 1_700_000_000_000]), "f", "t")


# ------------------------------------------------------------------- options and parameters
from tacr.params import ParameterError  # noqa: E402


def ok_csv(tmp_path) -> Path:
    return write(tmp_path / "log.csv", csv_text(base_df()))


@pytest.mark.parametrize("options, says", [
    (dict(tz="Mars/Olympus"), r"^tz: 'Mars/Olympus' is not a time zone.*'Europe/Berlin'"),
    (dict(tz=None), r"^tz: None is null"),
    (dict(encoding="nosuch"), r"^encoding: 'nosuch' is not an encoding.*'latin-1'"),
    (dict(user_column="uid"), r"unknown loader option 'user_column' \(did you mean 'user_col'\?\)"),
    (dict(valid_start="next tuesday"), r"^valid_start: 'next tuesday' is not a date.*'2024-03-08'"),
    (dict(valid_frac="a tenth"), r"^valid_frac: 'a tenth' is not a number.*> 0 and < 1"),
    (dict(valid_frac=0.5, test_frac=0.5), r"valid_frac \+ test_frac: 0.5 \+ 0.5 leaves no training rows"),
    (dict(valid_frac=0.2, valid_start="2024-03-08"), r"valid_frac: 0.2 has no effect.*valid_start: null"),
    (dict(split_by="row"), r"split_by: 'row' is not one of \['span', 'rows'\] \(did you mean 'rows'\?\)"),
    (dict(valid_start="2024-03-09", test_start="2024-03-08"), r"valid_start <= test_start < test_end"),
    (dict(L="ten"), r"^L: 'ten' is not a whole number"),
    (dict(L=0), r"^L: 0 is too small; accepted: a whole number >= 1"),
    (dict(time_format="unixx"), r"^time_format: 'unixx' is not a time format"),
    (dict(time_format="%Q"), r"^time_format: '%Q' is not a usable strftime format"),
    (dict(raw_cols=3), r"^raw_cols: 3 is not accepted"),
    (dict(cache="maybe"), r"^cache: 'maybe' is not accepted; accepted: true or false"),
])
def test_loader_option_refused_before_reading(tmp_path, options, says):
    """Each is refused by load() before any file is read (the path does not even exist)."""
    with pytest.raises(ParameterError, match=says):
        D.load("table", path=tmp_path / "nowhere.csv", **options)


@pytest.mark.parametrize("options", [dict(valid_frac="0.1"), dict(L="10"), dict(name="x"), dict(test_frac=0.1, L=10.0)])
def test_loader_option_coerced(tmp_path, options):
    d = load_table(ok_csv(tmp_path), **options)
    correct(d)
    assert d.name == options.get("name", "table") and d.train.L == 10


def test_atomic_rating_threshold_text(tmp_path):
    folder = atomic_folder(tmp_path, ["1", "2"], ["101", "102"])
    a = D.load("atomic", data_dir=folder, cache=False, rating_threshold="4")
    assert a.info["label_rule"] == "rating >= 4" and a.info["n_clicks"] == int(base_df()["label"].sum())
    with pytest.raises(ParameterError, match=r"^rating_threshold: 'four' is not a number"):
        D.load("atomic", data_dir=folder, rating_threshold="four")


def test_unknown_dataset_and_option_did_you_mean():
    with pytest.raises(ParameterError, match=r"unknown dataset 'movielens-100' \(did you mean 'movielens-100k'"):
        D.load("movielens-100")
    with pytest.raises(ParameterError, match=r"unknown loader option 'rating_treshold' \(did you mean 'rating_threshold'"):
        D.load("movielens-100k", rating_treshold=5)


def test_split_settings_in_one_signature():
    """No loader repeats the split settings: each takes one SplitSpec (or none: the simulator)."""
    import inspect

    from tacr.data import LOADERS, SplitSpec

    D.loader_names()
    for name, fn in LOADERS.items():
        params = set(inspect.signature(fn).parameters)
        assert not params & set(SplitSpec.names()), (name, params & set(SplitSpec.names()))
        if name != "synthetic":
            assert isinstance(inspect.signature(fn).parameters["split"].default, SplitSpec), name


def test_split_spec_is_frozen_and_normalised():
    from dataclasses import FrozenInstanceError

    from tacr.data import SplitSpec

    s = SplitSpec(valid_frac="0.2", valid_start=1709856000.7, test_start="2024-03-09", tz="Europe/Berlin")
    assert (s.valid_frac, s.valid_start, s.test_start) == (0.2, 1709856000, "2024-03-09")
    with pytest.raises(FrozenInstanceError):
        s.tz = "UTC"
    assert SplitSpec.from_options({"tz": "UTC"}, s).tz == "UTC"
    assert SplitSpec.from_options({"split": {"test_frac": 0.2}}).test_frac == 0.2
    with pytest.raises(ParameterError, match=r"split: unknown setting 'test_fraction' \(did you mean 'test_frac'"):
        SplitSpec.from_options({"split": {"test_fraction": 0.2}})


def test_split_spec_passed_whole(tmp_path):
    from tacr.data import SplitSpec

    d = load_table(ok_csv(tmp_path), split=SplitSpec(valid_frac=0.2, split_by="rows"))
    assert split_rows(d) == (28, 8, 4) and d.recipe["params"]["split"].split_by == "rows"
    assert D.load(d.recipe["name"], **d.recipe["params"]).fingerprint() == d.fingerprint()


def test_recipe_reloads_the_same_data(tmp_path):
    d = load_table(ok_csv(tmp_path), valid_frac="0.2", L="5")
    assert d.recipe == {"name": "table", "params": {"path": tmp_path / "log.csv", "cache": False, "valid_frac": "0.2",
                                                    "L": 5}}
    assert D.load(d.recipe["name"], **d.recipe["params"]).fingerprint() == d.fingerprint()


def test_stale_cache_after_same_size_rewrite(tmp_path, monkeypatch):
    """A file rewritten with the same size and its mtime restored is a cache miss (content hash)."""
    import os

    monkeypatch.setenv("TACR_CACHE_DIR", str(tmp_path / "cache"))
    f = ok_csv(tmp_path)
    a = D.load("table", path=f)
    st = f.stat()
    text = f.read_text()
    f.write_text(text.replace("u1,i1", "u2,i1", 1))  # same size, other content
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    b = D.load("table", path=f)
    assert a.info["cache"] == "written" and b.info["cache"] == "written" and a.fingerprint() != b.fingerprint()
    assert D.load("table", path=f).info["cache"] == "hit"


def test_cache_key_is_whole_options(tmp_path):
    from tacr.data import SplitSpec, cache

    k = cache.entry_name("table-x", {"L": 10}, [], SplitSpec())
    assert k != cache.entry_name("table-x", {"L": 10}, [], SplitSpec(tz="Europe/Berlin"))
    assert k != cache.entry_name("table-x", {"L": 11}, [], SplitSpec())
    assert cache.FORMAT_VERSION == 2


# ---------------------------------------------------------------------- notebook parameters
from tacr import params as P  # noqa: E402


@pytest.mark.parametrize("call, says", [
    (lambda: P.as_seeds(1.5), r"seeds \(a count\): 1.5 is not a whole number"),
    (lambda: P.as_seeds("abc"), r"seeds\[0\]: 'abc' is not a whole number"),
    (lambda: P.as_seeds("[0, 1.5]"), r"seeds\[1\]: 1.5 is not a whole number"),
    (lambda: P.as_seeds([True]), r"seeds\[0\]: True is a truth value"),
    (lambda: P.as_seeds("[]"), r"seeds is empty"),
    (lambda: P.as_seeds([1, 1]), r"repeats seed 1"),
    (lambda: P.as_epochs("many"), r"epochs: 'many' is not a whole number"),
    (lambda: P.as_epochs(0), r"epochs: 0 is too small"),
    (lambda: P.as_workers("abc"), r"workers: 'abc' is not accepted; accepted: 'auto' or a whole number >= 1"),
    (lambda: P.as_device("nosuch"), r"device: 'nosuch' is not a device"),
    (lambda: P.as_device("cpuu"), r"did you mean 'cpu'"),
    (lambda: P.as_device(3), r"device: 3 is a int, not text"),
    (lambda: P.as_profile("quik", ["quick", "study"]), r"profile: 'quik' is not one of .* \(did you mean 'quick'"),
    (lambda: D.as_dataset("tabel"), r"dataset: unknown dataset 'tabel' \(did you mean 'table'"),
    (lambda: D.check_data_params("table", {"user_column": "u"}), r"data_params: table: unknown loader option"),
    (lambda: D.check_data_params("table", "{L: ten}"), r"data_params: L: 'ten' is not a whole number"),
    (lambda: P.as_floats("[1.0, hot]", "temperatures"), r"temperatures\[1\]: 'hot' is not a number"),
    (lambda: P.as_ints("[5, 2.5]", "candidate_sizes"), r"candidate_sizes\[1\]: 2.5 is not a whole number"),
])
def test_parameter_refused(call, says):
    with pytest.raises(ParameterError, match=says):
        call()


def test_parameters_coerced():
    assert P.as_seeds(3) == [0, 1, 2] and P.as_seeds("[0, 1]") == [0, 1] and P.as_seeds(2.0) == [0, 1]
    assert P.as_workers("2") == 2 and P.as_workers("auto") == "auto" and P.as_epochs("3") == 3
    assert P.as_device("auto") == "auto" and P.as_device("cpu") == "cpu"
    assert P.as_floats("0, 1", "t") == [0.0, 1.0] and P.as_names("[din, gru]", "models", ["din", "gru"]) == ["din", "gru"]
    assert D.check_data_params("table", "{name: x}") == {"name": "x"}
    from tacr import study

    assert study.as_list is P.as_list and study.as_seeds is P.as_seeds and study.as_dict is P.as_dict


def test_cuda_on_a_cpu_build_refused():
    import torch

    if torch.backends.cuda.is_built() and torch.cuda.is_available():
        pytest.skip("a CUDA device is visible here")
    with pytest.raises(ParameterError, match=r"device: 'cuda'.*(no CUDA|sees no CUDA device)"):
        P.as_device("cuda")


def test_setup_checks_before_any_work(monkeypatch, tmp_path):
    """Bad devices and workers stop setup before the data is read or anything trains, also
    when every run would come from the cache."""
    from tacr import study

    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "figs"))
    monkeypatch.setenv("TACR_CACHE", str(tmp_path / "runs"))

    def boom(*a, **k):
        raise AssertionError("data read before the parameters were checked")

    monkeypatch.setattr(study, "load_dataset", boom)
    for kw, says in ((dict(device="nosuch"), "device"), (dict(workers="abc"), "workers"), (dict(seeds=1.5), "seeds"),
                     (dict(epochs="many"), "epochs"), (dict(profile="quik"), "did you mean 'quick'"),
                     (dict(data_params={"user_column": "u"}, dataset="table"), "did you mean 'user_col'")):
        with pytest.raises(ParameterError, match=says):
            study.setup(**kw)


def test_data_params_name_reaches_the_table_loader(tmp_path, monkeypatch):
    from tacr import study

    monkeypatch.setenv("TACR_CACHE_DIR", str(tmp_path / "cache"))
    study.load_dataset.cache_clear()
    d = study.load_dataset("table", ok_csv(tmp_path), {"name": "x"})
    study.load_dataset.cache_clear()
    assert d.name == "x" and d.recipe["params"]["name"] == "x"


def test_run_all_plan_refusals():
    from tacr._runall import PlanError, plan

    for args, says in ((["-b", "not-base64!!"], "not base64"), (["-p", "seeds", "1.5"], "1.5 is not a whole number"),
                       (["-p", "seeds", "abc"], "'abc' is not a whole number"), (["-p", "epochs", "many"], "epochs"),
                       (["-p", "workers", "abc"], "workers")):
        with pytest.raises(PlanError, match=says):
            plan(args)
    import base64

    books, _ = plan(["-b", base64.b64encode(b"seeds: [0, 1]").decode()])
    assert all(v.get("seeds") == [0, 1] for _, v in books if "seeds" in v)


# ------------------------------------------------------------------- folders written to
from tacr.files import FolderError, folder_error, writable_folder  # noqa: E402


def test_folder_set_to_a_file(tmp_path, monkeypatch):
    from tacr import study

    (tmp_path / "afile").write_text("x")
    with pytest.raises(FolderError, match=r"afile.*set by \$TACR_FIGURES.*it is a file, not a folder"):
        writable_folder(tmp_path / "afile", "TACR_FIGURES", "figures folder", create=False)
    monkeypatch.setenv("TACR_CACHE", str(tmp_path / "afile"))
    with pytest.raises(FolderError, match=r"run cache .*afile.*\$TACR_CACHE.*(not a folder|a file)"):
        study.run_cache_folder()
    monkeypatch.setenv("TACR_CACHE", str(tmp_path / "afile" / "runs"))
    with pytest.raises(FolderError, match=r"\$TACR_CACHE.*(not a folder|a file)"):
        study.run_cache_folder()


class _Statvfs:
    def __init__(self, real, **changes):
        self._real, self._changes = real, changes

    def __getattr__(self, name):
        return self._changes.get(name, getattr(self._real, name))


@pytest.mark.parametrize("changes, says", [
    (dict(f_bavail=0), r"no space is left on its device \(0 bytes free\); free space there, or set TACR_CACHE to"),
    (dict(f_flag=1), r"it is on a read-only file system; set TACR_CACHE to another folder")])
def test_folder_full_or_read_only(tmp_path, monkeypatch, changes, says):
    import os

    real = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda p: _Statvfs(real(p), **changes))
    with pytest.raises(FolderError, match=rf"^cannot write to the run cache '{re.escape(str(tmp_path))}/runs' "
                                          rf"\(set by \$TACR_CACHE\): {says}"):
        writable_folder(tmp_path / "runs", "TACR_CACHE", "run cache")


def test_setup_checks_folders_first(tmp_path, monkeypatch):
    from tacr import study

    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "afile"))
    monkeypatch.setenv("TACR_CACHE", str(tmp_path / "runs"))
    monkeypatch.setattr(study, "load_dataset", lambda *a, **k: "data")
    with pytest.raises(FolderError, match=r"\$TACR_FIGURES"):
        study.setup("movielens-100k", seeds=[0])


def test_write_fault_mapped(tmp_path, monkeypatch):
    import errno
    import os

    err = folder_error(OSError(errno.ENOSPC, "No space left on device"), tmp_path, "TACR_CACHE", "run cache")
    assert isinstance(err, FolderError) and "no space is left" in str(err) and "TACR_CACHE" in str(err)
    assert "read-only" in str(folder_error(OSError(errno.EROFS, "ro"), tmp_path))
    assert folder_error(OSError(errno.ENOENT, "gone"), tmp_path) is None
    assert folder_error(ValueError("x"), tmp_path) is None
    real = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda p: _Statvfs(real(p), f_bavail=0))
    torch_full = RuntimeError("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file "
                              "data/0: file write failed; unexpected pos 1234 vs 1000")
    assert "no space is left" in str(folder_error(torch_full, tmp_path, "TACR_CACHE", "run cache"))
