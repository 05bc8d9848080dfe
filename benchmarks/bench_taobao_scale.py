"""Does the full Taobao log load and build its histories within 24 GB? Time and peak memory.

Writes a synthetic Taobao folder of the real shape (``raw_sample.csv``: 26M impressions of
~1.14M users on ~846K ads over 8 days, CTR ~5 %, unsorted; ``ad_feature.csv`` with NULL
brands; ``user_profile.csv`` with the trailing-space header and empty fields) into a temporary
folder, then loads it with ``tacr.data.load("taobao", ...)`` in fresh subprocesses and records
wall time per phase and peak resident memory (``VmHWM`` of the subprocess, which starts afresh at
exec: ``ru_maxrss`` would inherit the peak of a big parent such as ``run_all.py``; tracemalloc
does not see numpy/arrow buffers):

1. ``cache=False``: parse + re-index + histories + validation (the build),
2. ``cache=True`` on an empty cache: the build plus writing the parquet cache,
3. ``cache=True`` again: reading the cache.

    python benchmarks/bench_taobao_scale.py                 # full size (~3 min, ~7 GB on 2 cores)
    python benchmarks/bench_taobao_scale.py --rows 2000000  # reduced (~1-2 min; run_all.py --full)
    python benchmarks/bench_taobao_scale.py --smoke         # seconds: 100,000 rows, to the smoke folder

Writes ``benchmarks/results/taobao_scale.md`` (``--out``) and a JSON of its numbers beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, out_path, stamp, write_atomic  # noqa: E402

FULL_ROWS, FULL_USERS, FULL_ADS, N_CATES = 26_000_000, 1_140_000, 846_000, 6_769
DAY0 = 1494000000  # 2017-05-06 00:00 Asia/Shanghai
LIMIT_GB = 24.0


# -------------------------------------------------------------------------------- generator
def _skewed(rng, n_draw: int, n: int, a: float) -> np.ndarray:
    """Draws from 0..n-1 with Zipf-like weights (rank + 1) ** -a, by inverse CDF."""
    cdf = np.cumsum((np.arange(1, n + 1, dtype=np.float64)) ** -a)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n_draw)), n - 1)


def write_taobao(folder: Path, rows: int, users: int, ads: int, seed: int = 0, chunk: int = 2_000_000) -> dict:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    user_ids = np.sort(rng.choice(np.arange(1, 1_150_000 * max(1, users // 1_000_000 + 1)), users, replace=False))
    ad_ids = np.sort(rng.choice(np.arange(1, 850_000 * max(1, ads // 800_000 + 1)), ads, replace=False))
    perm_u, perm_a = rng.permutation(users), rng.permutation(ads)  # popularity rank -> id
    pids = pa.array(["430548_1007", "430539_1007"])
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
    schema = pa.schema([("user", pa.int64()), ("time_stamp", pa.int64()), ("adgroup_id", pa.int64()),
                        ("pid", pa.string()), ("nonclk", pa.int8()), ("clk", pa.int8())])
    n_clk = 0
    with open(folder / "raw_sample.csv", "wb") as fh, pacsv.CSVWriter(fh, schema, write_options=opts) as w:
        fh.write(b"user,time_stamp,adgroup_id,pid,nonclk,clk\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            idx = np.arange(start, start + n)
            u = _skewed(rng, n, users, 0.6)
            a = _skewed(rng, n, ads, 0.9)
            # every user and ad appears at least once
            first_u = idx < users
            u[first_u] = idx[first_u]
            first_a = idx < ads
            a[first_a] = idx[first_a]
            clk = (rng.random(n) < 0.05).astype(np.int8)
            n_clk += int(clk.sum())
            t = DAY0 + rng.integers(0, 8 * 86400, n)
            pid = pc.take(pids, pa.array(rng.integers(0, 2, n)))
            w.write_table(pa.table([user_ids[perm_u[u]], t, ad_ids[perm_a[a]], pid, (1 - clk).astype(np.int8), clk],
                                   schema=schema))
    # ad_feature.csv: brand NULL for ~30 %
    brand = rng.integers(1, 460_000, ads).astype(str).astype(object)
    brand[rng.random(ads) < 0.3] = "NULL"
    ad_tbl = pa.table({"adgroup_id": ad_ids, "cate_id": rng.integers(1, 13_000, N_CATES)[rng.integers(0, N_CATES, ads)],
                       "campaign_id": rng.integers(1, 420_000, ads), "customer": rng.integers(1, 260_000, ads),
                       "brand": pa.array(brand, pa.string()), "price": np.round(rng.lognormal(4, 1.5, ads), 2)})
    with open(folder / "ad_feature.csv", "wb") as fh:
        fh.write(b"adgroup_id,cate_id,campaign_id,customer,brand,price\n")
        pacsv.write_csv(ad_tbl, fh, write_options=opts)
    # user_profile.csv: ~93 % of users, empty pvalue_level / new_user_class_level, trailing-space header
    has = rng.random(users) < 0.93
    pu = user_ids[has]
    m = len(pu)

    def col(lo, hi, p_empty=0.0):
        v = rng.integers(lo, hi, m).astype(str).astype(object)
        if p_empty:
            v[rng.random(m) < p_empty] = ""
        return v

    cols = [pu.astype(str).astype(object), col(0, 97), col(0, 13), col(1, 3), col(0, 7), col(1, 4, 0.54), col(1, 4),
            col(0, 2), col(1, 5, 0.3)]
    with open(folder / "user_profile.csv", "w") as fh:
        fh.write("userid,cms_segid,cms_group_id,final_gender_code,age_level,pvalue_level,shopping_level,"
                 "occupation,new_user_class_level \n")
        lines = np.char.add(cols[0].astype(str), "")
        for c in cols[1:]:
            lines = np.char.add(np.char.add(lines, ","), c.astype(str))
        fh.write("\n".join(lines.tolist()))
        fh.write("\n")
    return {"rows": rows, "users": users, "ads": ads, "clicks": n_clk, "profiles": m,
            "csv_mb": round((folder / "raw_sample.csv").stat().st_size / 2**20, 1)}


# ------------------------------------------------------------------------------- measuring
CHILD = r"""
import json, resource, sys, time
import tacr.data as D
import tacr.data.taobao as tb
import tacr.data.schema as sc
phase = {}
def timed(mod, name, key):
    fn = getattr(mod, name)
    def wrap(*a, **k):
        t0 = time.perf_counter(); out = fn(*a, **k); phase[key] = phase.get(key, 0) + time.perf_counter() - t0
        return out
    setattr(mod, name, wrap)
timed(tb, "read_raw_sample", "parse raw_sample.csv (s)")
timed(sc, "build_histories", "build histories (s)")
timed(sc, "validate", "validate (s)")
folder, cache, cache_dir = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
t0 = time.perf_counter()
d = D.load("taobao", data_dir=folder, cache=cache, cache_dir=cache_dir)
total = time.perf_counter() - t0
def peak_gb():  # VmHWM starts afresh at exec; ru_maxrss inherits a big parent's peak across fork+exec
    try:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) / 2**20
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
out = {"total (s)": total, **phase, "peak RSS (GB)": peak_gb(),
       "cache": d.info.get("cache"), "sizes": {k: len(s) for k, s in d.splits.items()},
       "n_users": d.n_users, "n_items": len(d.items), "n_categories": int(d.items.category.max()) + 1,
       "users_without_profile": d.info.get("n_users_without_profile"),
       "mean_hist_len": float(d.train.hist_len.mean()), "positives": {k: s.n_pos for k, s in d.splits.items()}}
print("RESULT " + json.dumps(out))
"""


def run_child(folder: Path, cache: bool, cache_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, "-c", CHILD, str(folder), "1" if cache else "0", str(cache_dir)],
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"child failed ({p.returncode}):\n{p.stderr[-4000:]}")
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=FULL_ROWS)
    ap.add_argument("--users", type=int, default=None, help="default: scaled with rows (1.14M at 26M)")
    ap.add_argument("--ads", type=int, default=None, help="default: scaled with rows (846K at 26M)")
    ap.add_argument("--tmp", default=None, help="folder for the synthetic files (default: system temp)")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic files")
    ap.add_argument("--smoke", action="store_true", help="seconds: 100,000 rows; writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/taobao_scale.md")
    args = ap.parse_args(argv)
    if args.smoke:
        args.rows = 100_000
    scale = args.rows / FULL_ROWS
    users = args.users or max(10, int(round(FULL_USERS * scale)))
    ads = args.ads or max(10, int(round(FULL_ADS * scale)))

    tmp = Path(tempfile.mkdtemp(prefix="tacr_taobao_scale_", dir=args.tmp))
    try:
        t0 = time.perf_counter()
        gen = write_taobao(tmp / "taobao", args.rows, users, ads)
        gen["generate (s)"] = round(time.perf_counter() - t0, 1)
        print("generated", gen, flush=True)
        runs = {}
        load_before = os.getloadavg()[0]
        for label, cache in (("build, cache=False", False), ("build + write cache", True), ("read cache", True)):
            runs[label] = run_child(tmp / "taobao", cache, tmp / "cache")
            print(label, runs[label], flush=True)
        cache_mb = _dir_mb(tmp / "cache")
        gen["load average"] = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after the runs"
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return write_report(out_path(args.out, "taobao_scale.md", args.smoke), gen, runs, cache_mb)


def write_report(out: Path, gen: dict, runs: dict, cache_mb: float) -> dict:
    first = next(iter(runs.values()))
    keys = ["total (s)", "parse raw_sample.csv (s)", "build histories (s)", "validate (s)", "peak RSS (GB)"]
    lines = [
        "# Taobao at %s: load + histories, time and peak memory" % (
            "full scale" if gen["rows"] >= FULL_ROWS else f"{gen['rows'] / FULL_ROWS:.3g} of full scale"),
        "",
        f"Synthetic `raw_sample.csv` of the real shape: {gen['rows']:,} rows ({gen['csv_mb']:,} MiB), "
        f"{gen['users']:,} users, {gen['ads']:,} ads, {gen['clicks']:,} clicks "
        f"(CTR {100 * gen['clicks'] / gen['rows']:.2f} %), 8 days; {gen['profiles']:,} user profiles. "
        f"Loaded by `tacr.data.load(\"taobao\")` (L = 10) in a fresh subprocess per row; peak RSS = "
        "VmHWM of that process (its own peak, not its parent's).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{_ram_gb():.0f} GB RAM; Python {platform.python_version()}, numpy {np.__version__}, "
        f"pyarrow {pa.__version__}. Load average {gen.get('load average', '?')} (other jobs on the "
        "machine slow the timings; memory is unaffected).",
        "",
        "| run | " + " | ".join(keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for label, r in runs.items():
        cells = [f"{r[k]:.1f}" if isinstance(r.get(k), (int, float)) else "–" for k in keys]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    peak = max(r["peak RSS (GB)"] for r in runs.values())
    lines += [
        "",
        f"Peak RSS {peak:.1f} GB vs the {LIMIT_GB:.0f} GB budget: **{'within' if peak <= LIMIT_GB else 'OVER'}**. "
        f"Cache on disk: {cache_mb:,.0f} MiB. Generating the files took {gen['generate (s)']} s.",
        "",
        f"Result: splits {first['sizes']} rows, positives {first['positives']}; {first['n_users']:,} users "
        f"({first['users_without_profile']:,} without a profile), {first['n_items']:,} items, "
        f"{first['n_categories']:,} categories; mean train history length {first['mean_hist_len']:.2f}.",
        "",
        f"Command: `python benchmarks/bench_taobao_scale.py --rows {gen['rows']}`",
        "",
    ]
    write_atomic(out, "\n".join(lines))
    summary = {"generate": gen, "runs": runs, "cache_mb": cache_mb, "peak_rss_gb": peak, "limit_gb": LIMIT_GB,
               "full_rows": FULL_ROWS, **stamp()}
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    print("\n".join(lines))
    return summary


def _ram_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):  # pragma: no cover
        return float("nan")


if __name__ == "__main__":
    main()
