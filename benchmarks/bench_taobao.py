"""Does the Taobao log load and build its histories within 24 GB? Time and peak memory.

Writes a synthetic Taobao folder of the real shape into a temporary folder (``raw_sample.csv``:
``--rows`` impressions, 26M at full size, of users and ads drawn with Zipf-like popularity over 8
days, CTR ~5 %, unsorted; ``ad_feature.csv`` with NULL brands; ``user_profile.csv`` with empty
fields and the trailing-space header), then loads it with ``tacr.data.load("taobao")`` in fresh
processes (peak resident memory = that process's ``VmHWM``): the build without the cache, the
build writing the cache, and a read of the cache.

    python benchmarks/bench_taobao.py [--rows 26000000]
    python benchmarks/bench_taobao.py --smoke
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from common import fmt, out_path, run_child, status_kb, table, write_result

FULL_ROWS, FULL_USERS, FULL_ADS, LIMIT_GB = 26_000_000, 1_140_000, 846_000, 24.0


def zipf(rng, n_draw: int, n: int, a: float) -> np.ndarray:
    cdf = np.cumsum(np.arange(1, n + 1, dtype=np.float64) ** -a)
    return np.minimum(np.searchsorted(cdf / cdf[-1], rng.random(n_draw)), n - 1)


def write_csv(path: Path, columns: dict, chunks=None) -> None:
    """A CSV with a header of ``columns``' names; ``chunks`` (tables of the same columns) follow it."""
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(path, "wb") as fh:
        fh.write(",".join(columns).encode() + b"\n")
        for part in chunks or [columns]:
            pacsv.write_csv(pa.table(part), fh, opts)


def write_taobao(folder: Path, rows: int, users: int, ads: int, chunk: int = 2_000_000) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    user_ids = rng.permutation(np.arange(1, 2 * users + 1))[:users]
    ad_ids = rng.permutation(np.arange(1, 2 * ads + 1))[:ads]

    def impressions():
        for start in range(0, rows, chunk):
            idx = np.arange(start, min(start + chunk, rows))
            u, a = zipf(rng, len(idx), users, 0.6), zipf(rng, len(idx), ads, 0.9)
            u[idx < users], a[idx < ads] = idx[idx < users], idx[idx < ads]  # every user and ad appears
            clk = (rng.random(len(idx)) < 0.05).astype(np.int8)
            yield {"user": user_ids[u], "time_stamp": 1494000000 + rng.integers(0, 8 * 86400, len(idx)),
                   "adgroup_id": ad_ids[a], "pid": np.where(rng.random(len(idx)) < 0.5, "430548_1007", "430539_1007"),
                   "nonclk": 1 - clk, "clk": clk}

    write_csv(folder / "raw_sample.csv", dict.fromkeys(["user", "time_stamp", "adgroup_id", "pid", "nonclk", "clk"]),
              impressions())
    brand = rng.integers(1, 460_000, ads).astype(str).astype(object)
    brand[rng.random(ads) < 0.3] = "NULL"
    write_csv(folder / "ad_feature.csv", {"adgroup_id": ad_ids, "cate_id": rng.integers(1, 6_770, ads),
                                          "campaign_id": rng.integers(1, 420_000, ads), "customer": rng.integers(1, 260_000, ads),
                                          "brand": brand, "price": np.round(rng.lognormal(4, 1.5, ads), 2)})
    pu = user_ids[rng.random(users) < 0.93]
    fields = {"userid": pu.astype(str)}
    for name, hi, empty in (("cms_segid", 97, 0), ("cms_group_id", 13, 0), ("final_gender_code", 3, 0), ("age_level", 7, 0),
                            ("pvalue_level", 4, 0.54), ("shopping_level", 4, 0), ("occupation", 2, 0),
                            ("new_user_class_level ", 5, 0.3)):
        fields[name] = np.where(rng.random(len(pu)) < empty, "", rng.integers(1, hi, len(pu)).astype(str))
    write_csv(folder / "user_profile.csv", fields)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=FULL_ROWS)
    ap.add_argument("--smoke", action="store_true", help="seconds: 100,000 rows")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help="default benchmarks/results/taobao.md")
    args = ap.parse_args(argv)
    if args.child:
        import tacr.data

        folder, cache, cache_dir = args.child
        t = time.perf_counter()
        d = tacr.data.load("taobao", data_dir=folder, cache=cache == "1", cache_dir=cache_dir)
        return print(json.dumps({"s": time.perf_counter() - t, "peak_gb": status_kb("VmHWM"),
                                 "rows": {k: len(s) for k, s in d.splits.items()},
                                 "positives": {k: int(s.label.sum()) for k, s in d.splits.items()}, "users": d.n_users,
                                 "items": len(d.items), "mean_hist_len": float(d.train.hist_len.mean())}))
    rows = 100_000 if args.smoke else args.rows
    users, ads = (max(10, round(n * rows / FULL_ROWS)) for n in (FULL_USERS, FULL_ADS))
    tmp = Path(tempfile.mkdtemp(prefix="tacr-bench-taobao-"))
    try:
        t = time.perf_counter()
        write_taobao(tmp / "taobao", rows, users, ads)
        gen_s = time.perf_counter() - t
        print(f"taobao: files written in {gen_s:.0f} s", file=sys.stderr, flush=True)
        runs = {label: run_child([__file__, "--child", str(tmp / "taobao"), cache, str(tmp / "cache")])
                for label, cache in (("build, no cache", "0"), ("build + write cache", "1"), ("read cache", "1"))}
        cache_mb = sum(f.stat().st_size for f in (tmp / "cache").rglob("*") if f.is_file()) / 2**20
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak, first = max(r["peak_gb"] for r in runs.values()), runs["build, no cache"]
    lines = [f"## Taobao: load and histories at {rows:,} rows", "",
             f"Synthetic files of the real shape: {rows:,} impressions of {users:,} users on {ads:,} ads, "
             f"{sum(first['positives'].values()):,} clicks, written in {gen_s:.0f} s; loaded in a fresh process per row. Splits "
             f"{', '.join(f'{k} {fmt(v)}' for k, v in first['rows'].items())}; mean train history length "
             f"{first['mean_hist_len']:.2f}; cache on disk {cache_mb:,.0f} MiB.", ""]
    lines += table(["load", "seconds", "peak RSS GB"], [[k, fmt(r["s"], 1), fmt(r["peak_gb"], 2)] for k, r in runs.items()])
    lines += ["", f"Peak {peak:.1f} GB against the {LIMIT_GB:.0f} GB budget."]
    write_result(out_path(args.out, "taobao", args.smoke), lines,
                 {"rows": rows, "runs": runs, "peak_rss_gb": peak, "cache_mb": cache_mb, "text": f"{rows:,} rows"})


if __name__ == "__main__":
    main()
