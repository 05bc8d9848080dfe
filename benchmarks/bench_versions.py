"""Side by side: one quick-profile time-aware + rGAN run trained by tacr 0.3.0 and by the current
code, on the same data, in alternated child processes.

The data is generated once with the current simulator (``tacr.data.load("synthetic",
profile=...)``) and dumped to an ``.npz`` (schema below); every child rebuilds a ``CTRData`` from
it with its own version's classes (``CTRData``, ``Items`` and ``Split`` of 0.3.0 and of now take
the same fields), runs an untimed 1-epoch warm-up on the first 5,000 rows of each split (the
first run in a process pays ~2 s of one-off lazy imports and first kernel calls, which a study
worker pays once), moves the data to the CPU (``DeviceData``, timed apart) and times one
``tacr.train.run(config, data)``. Five variants, each in its own child, alternated (the order
rotates every repetition):

* ``0.3.0``: the 0.3.0 code (commit 6ccb3e5, a ``git worktree`` on ``--old-tree``, made if it
  is missing; ``PYTHONPATH`` points the child at it) with 0.3.0's quick settings
  (``tacr.experiments.base_config("quick")``: 6 epochs, C = 20, 1 pre-training epoch, lr 0.02 /
  0.01, Kendall tau on 64 positives per G step, validation and test AUC on every row);
* ``current, 0.3.0 settings, reference kernels``: the current code with exactly those settings
  (``eval_rows=0, final_eval_rows=-1, tau_positives=64, lr_d=0.02, lr_g=0.01``) on its reference
  paths (``gru_kernel=None, policy_distinct_rows=None``: ``nn.GRU``, every candidate row
  evaluated): the ratio to ``0.3.0`` is the code's own at 0.3.0's arithmetic;
* ``current, 0.3.0 settings``: the same with the profile's faster CPU paths (the fused GRU
  kernel, G's policy over distinct candidate rows; same math, other float summation orders):
  the ratio to the row above is theirs;
* ``current, 0.3.0 settings, current tau``: the same with the current profile's Kendall tau
  (32 positives on quick): the ratio to the row above is that setting's;
* ``current``: the current code with the current quick profile (``tacr.study.base_config``:
  lr 0.005 / 0.0025, per-epoch AUCs on a fixed 10,000-row stratified sample of each split
  ordered by history, the selected epoch's test AUC on 40,000 rows once after training,
  Kendall tau on 32): the ratio to the row above is the evaluation settings' (the learning
  rates change no work).

The ratios multiply: 0.3.0 / current = code x kernels x tau x evaluation. Per variant: median over the
repetitions of the mean seconds per epoch in training steps (``train_seconds``) and in
evaluation (``epoch_seconds - train_seconds``), of the rest of ``run`` (model and sampler set-up,
the final test pass) and of the whole ``run`` call. The target (issue 16): the whole run at
least 2x faster than 0.3.0's. One torch thread per child by default; on a shared machine the
ratios (alternated children) are the numbers to read, not the absolute seconds.

The ``.npz`` (``np.savez``, no pickles): ``meta`` (0-d str: JSON with name, raw_dim, profile,
fingerprint, simulator_version, oracle_auc), ``tz`` (0-d str), ``aux_names`` (F,) str,
``aux_sizes`` (F,) int64, ``user_aux`` (U, F) int64, ``items_category`` (I,) int64, ``items_raw``
(I, r) float32 (absent when the items have no raw features), and for each split s in train,
valid, test: ``s_user``, ``s_item``, ``s_time`` (N,) int64, ``s_label`` (N,) int8,
``s_hist_item`` (N, L) int32, ``s_hist_time`` (N, L) int64, ``s_hist_len`` (N,) int16,
``s_hist_id`` (N,) int64 and ``s_p_click`` (N,) float32 (absent for real data).

    .venv/bin/python benchmarks/bench_versions.py [--profile quick] [--reps 3] [--threads 1]
    .venv/bin/python benchmarks/bench_versions.py --smoke      # seconds: smoke profile, one rep

Writes ``benchmarks/results/versions.md`` and ``versions.json``. Nothing at module level imports
tacr: a child must import the version its ``PYTHONPATH`` names.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD_COMMIT = "6ccb3e5"
OLD_VERSION = "0.3.0"
OLD_TREE = Path(os.environ.get("TACR_OLD_TREE", "/tmp/tacr-0.3.0"))
SPLITS = ("train", "valid", "test")
SPLIT_FIELDS = ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len", "hist_id", "p_click")
#: 0.3.0's profiles (``tacr.experiments.base_config`` of commit 6ccb3e5) over its TrainConfig
#: defaults (lr_d 0.02, lr_g 0.01, tau_positives 64, every row evaluated).
OLD_PROFILES = {"smoke": dict(epochs=2, n_candidates=8, pretrain_epochs=1, tau_positives=16),
                "quick": dict(epochs=6, n_candidates=20, pretrain_epochs=1, tau_positives=64),
                "paper": dict(epochs=50, n_candidates=35, pretrain_epochs=2, tau_positives=64)}
OLD_DEFAULTS = dict(lr_d=0.02, lr_g=0.01, eval_rows=0, final_eval_rows=-1)
#: variant -> (tree, settings)
VARIANTS = {"0.3.0": ("old", "0.3.0"),
            "current, 0.3.0 settings, reference kernels": ("new", "0.3.0-ref"),
            "current, 0.3.0 settings": ("new", "0.3.0"),
            "current, 0.3.0 settings, current tau": ("new", "0.3.0+tau"),
            "current": ("new", "current")}
TARGET = 2.0
WARMUP_ROWS = 5000  # rows of each split in the untimed warm-up run


# ----------------------------------------------------------------------------- the child
def _config(tree: str, settings: str, profile: str, epochs: int | None, threads: int):
    """The TrainConfig of a variant, built with the child's own tacr."""
    if tree == "old":
        from tacr.experiments import base_config

        return base_config(profile, device="cpu", **({"epochs": epochs} if epochs else {}))
    from tacr.study import base_config

    over = {"device": "cpu", "threads": threads, **({"epochs": epochs} if epochs else {})}
    if settings == "current":
        return base_config(profile, **over)
    old = {**OLD_PROFILES[profile], **OLD_DEFAULTS, **over}
    if settings == "0.3.0+tau":
        old["tau_positives"] = base_config(profile).tau_positives
    if settings == "0.3.0-ref":
        old.update(gru_kernel=None, policy_distinct_rows=None)
    return base_config(profile, **old)


def child(args) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import tacr
    import tacr.train as T
    from tacr.batch import DeviceData
    from tacr.data.schema import CTRData, Items, Split

    tree = Path(args.tree).resolve()
    where = Path(tacr.__file__).resolve()
    if tree not in where.parents:
        raise SystemExit(f"child imported tacr from {where}, not from {tree}: check PYTHONPATH")
    t = time.perf_counter()
    with np.load(args.npz, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        splits = {s: Split(**{f: z[f"{s}_{f}"] for f in SPLIT_FIELDS if f"{s}_{f}" in z}) for s in SPLITS}
        items = Items(category=z["items_category"], raw=z["items_raw"] if "items_raw" in z else None)
        data = CTRData(meta["name"], items, z["user_aux"], tuple(int(v) for v in z["aux_sizes"]), splits["train"],
                       splits["valid"], splits["test"], str(z["tz"]), int(meta["raw_dim"]),
                       tuple(str(v) for v in z["aux_names"]), {"oracle_auc": meta.get("oracle_auc", {})})
    load_s = time.perf_counter() - t
    cfg = _config(args.kind, args.settings, args.profile, args.epochs, args.threads)
    # warm-up, not timed: the first run in a process pays one-off costs (lazy imports of torch's
    # optimiser and compiler helpers, tqdm, first kernel calls: ~2 s), which a study worker pays once
    t = time.perf_counter()
    small = CTRData(data.name, data.items, data.user_aux, data.aux_sizes,
                    *(getattr(data, s).subset(np.arange(min(WARMUP_ROWS, len(getattr(data, s))))) for s in SPLITS),
                    data.tz, data.raw_dim, data.aux_names, data.info)
    if small.train.label.any() and not small.train.label.all():
        from dataclasses import replace

        T.run(replace(cfg, epochs=1), small, quiet=True)
    warmup_s = time.perf_counter() - t
    t = time.perf_counter()
    dd = DeviceData(data, "cpu")
    dd_s = time.perf_counter() - t
    t = time.perf_counter()
    df = T.run(cfg, data, quiet=True, device_data=dd)
    run_s = time.perf_counter() - t
    if hasattr(dd["test"], "eval_rows"):  # after the run: drawing the sample is part of the run's work
        eval_rows = sum(len(dd[s].eval_rows(cfg.eval_rows)) for s in ("test", "valid"))
        final_rows = len(dd["test"].eval_rows(cfg.final_eval_rows)) if cfg.final_eval_rows >= 0 else 0
    else:  # 0.3.0: every row of both splits, no final pass
        eval_rows, final_rows = dd["test"].n + dd["valid"].n, 0
    hwm = next((int(line.split()[1]) / 2**20 for line in open("/proc/self/status") if line.startswith("VmHWM:")), None)
    from dataclasses import asdict

    out = {"tacr_version": tacr.__version__, "tacr_file": str(where), "threads": torch.get_num_threads(),
           "config": {k: v for k, v in asdict(cfg).items() if not callable(v)}, "load_s": load_s, "warmup_s": warmup_s,
           "device_data_s": dd_s, "run_s": run_s, "eval_rows_per_epoch": eval_rows, "final_eval_rows": final_rows,
           "train_seconds": df["train_seconds"].tolist(), "epoch_seconds": df["epoch_seconds"].tolist(),
           "test_auc": df["test_auc"].tolist(), "valid_auc": df["valid_auc"].tolist(),
           "selected_test_auc": float(df["selected_test_auc"].iloc[0]) if "selected_test_auc" in df else None,
           "peak_rss_gb": hwm}
    Path(args.json).write_text(json.dumps(out))


# ----------------------------------------------------------------------------- the parent
def ensure_old_tree(path: Path) -> Path:
    """The 0.3.0 code: an existing checkout of ``OLD_COMMIT`` at ``path``, or a detached
    ``git worktree`` made there (the repository's branches are not touched)."""
    if not (path / "tacr" / "__init__.py").exists():
        print(f"versions: git worktree add --detach {path} {OLD_COMMIT}", file=sys.stderr, flush=True)
        p = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), OLD_COMMIT],
                           capture_output=True, text=True)
        if p.returncode:
            raise SystemExit(f"cannot make the 0.3.0 tree at {path}: {p.stderr.strip()}")
    head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    text = (path / "tacr" / "__init__.py").read_text()
    if f'__version__ = "{OLD_VERSION}"' not in text or (head and not head.startswith(OLD_COMMIT)):
        raise SystemExit(f"{path} is not tacr {OLD_VERSION} at {OLD_COMMIT} (HEAD {head or '?'})")
    return path


def dump_npz(data, path: Path, profile: str) -> None:
    """The arrays of ``data`` in the schema of the module docstring, written atomically."""
    import numpy as np

    meta = {"name": data.name, "raw_dim": int(data.raw_dim), "profile": profile, "fingerprint": data.fingerprint(),
            "simulator_version": data.info.get("simulator_version"), "oracle_auc": data.info.get("oracle_auc", {})}
    arrays = {"meta": np.array(json.dumps(meta)), "tz": np.array(str(data.tz)),
              "aux_names": np.array([str(a) for a in data.aux_names], dtype=str),
              "aux_sizes": np.asarray(data.aux_sizes, dtype=np.int64), "user_aux": np.asarray(data.user_aux, np.int64),
              "items_category": np.asarray(data.items.category, np.int64)}
    if data.items.raw is not None:
        arrays["items_raw"] = np.asarray(data.items.raw, np.float32)
    for s, split in data.splits.items():
        for f in SPLIT_FIELDS:
            v = getattr(split, f)
            if v is not None:
                arrays[f"{s}_{f}"] = v
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_child(variant: str, npz: Path, old_tree: Path, args) -> dict:
    kind, settings = VARIANTS[variant]
    tree = old_tree if kind == "old" else ROOT
    fd, out = tempfile.mkstemp(prefix="tacr_versions_", suffix=".json")
    os.close(fd)
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": str(args.threads),
           "MKL_NUM_THREADS": str(args.threads), "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--kind", kind, "--settings", settings,
           "--tree", str(tree), "--npz", str(npz), "--json", out, "--profile", args.profile,
           "--threads", str(args.threads)] + (["--epochs", str(args.epochs)] if args.epochs else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=str(tree), env=env, capture_output=True, text=True)
    try:
        if p.returncode:
            raise RuntimeError(f"{variant}: child failed (exit {p.returncode}):\n{p.stderr[-4000:]}")
        res = json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)
    res["process_s"] = time.perf_counter() - t
    return res


def _summary(runs: list[dict]) -> dict:
    """Medians over the repetitions of each child's per-epoch means and totals."""
    def med(fn):
        return statistics.median(fn(r) for r in runs)

    return {"train_s_per_epoch": med(lambda r: statistics.fmean(r["train_seconds"])),
            "eval_s_per_epoch": med(lambda r: statistics.fmean(e - t for e, t in zip(r["epoch_seconds"], r["train_seconds"]))),
            "epoch_s": med(lambda r: statistics.fmean(r["epoch_seconds"])),
            "other_s": med(lambda r: r["run_s"] - sum(r["epoch_seconds"])),
            "run_s": med(lambda r: r["run_s"]), "device_data_s": med(lambda r: r["device_data_s"]),
            "peak_rss_gb": med(lambda r: r["peak_rss_gb"] or float("nan")),
            "epochs": len(runs[0]["epoch_seconds"]), "eval_rows_per_epoch": runs[0]["eval_rows_per_epoch"],
            "final_eval_rows": runs[0]["final_eval_rows"], "tau_positives": runs[0]["config"]["tau_positives"],
            "lr": (runs[0]["config"]["lr_d"], runs[0]["config"]["lr_g"]),
            "eval_rows_setting": runs[0]["config"].get("eval_rows", 0),
            "final_eval_rows_setting": runs[0]["config"].get("final_eval_rows", -1),
            "n_candidates": runs[0]["config"]["n_candidates"], "tacr_version": runs[0]["tacr_version"],
            "last_test_auc": statistics.fmean(r["test_auc"][-1] for r in runs),
            "best_valid_auc": statistics.fmean(max(r["valid_auc"]) for r in runs),
            "run_s_all": [r["run_s"] for r in runs]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", choices=sorted(OLD_PROFILES), help="simulator and training profile")
    ap.add_argument("--reps", type=int, default=3, help="children per variant (alternated)")
    ap.add_argument("--epochs", type=int, default=None, help="override the profile's epochs (all variants)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per child")
    ap.add_argument("--old-tree", default=str(OLD_TREE), help=f"checkout of {OLD_COMMIT} (tacr {OLD_VERSION})")
    ap.add_argument("--npz", default=None, help="the dumped data (default: a file per dataset fingerprint in the temp folder)")
    ap.add_argument("--smoke", action="store_true", help="seconds: smoke profile, one rep; writes to the smoke folder")
    ap.add_argument("--out", default=None, help="default benchmarks/results/versions.md")
    # the child's own arguments
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--settings", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if args.smoke:
        args.profile, args.reps = "smoke", 1

    sys.path.insert(0, str(HERE))
    from _common import fmt, machine_line, out_path, stamp, table, write_atomic

    import tacr.data

    out = out_path(args.out, "versions.md", args.smoke)
    t0 = time.perf_counter()
    old_tree = ensure_old_tree(Path(args.old_tree))
    data = tacr.data.load("synthetic", profile=args.profile)
    fp = data.fingerprint()
    npz = Path(args.npz) if args.npz else Path(tempfile.gettempdir()) / "tacr-bench-versions" / f"{data.name}-{fp}.npz"
    if not npz.exists():
        dump_npz(data, npz, args.profile)
    print(f"versions: data {data.name} ({', '.join(f'{k} {len(s):,}' for k, s in data.splits.items())} rows) in {npz}",
          file=sys.stderr, flush=True)
    names = list(VARIANTS)
    runs: dict[str, list] = {v: [] for v in names}
    for rep in range(args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for v in order:
            runs[v].append(run_child(v, npz, old_tree, args))
            print(f"versions: rep {rep + 1}/{args.reps} {v}: run {runs[v][-1]['run_s']:.1f} s "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    sm = {v: _summary(r) for v, r in runs.items()}
    old, ref, code, tau, cur = (sm[v] for v in names)

    def ratio(a, b, key="run_s"):
        return a[key] / b[key] if b[key] > 0 else float("nan")

    total = ratio(old, cur)
    met = total >= TARGET
    ev, fin = cur["eval_rows_setting"], cur["final_eval_rows_setting"]
    ev_text = (f"a fixed {ev:,}-row stratified sample per split, ordered by history" if ev else "every row") + (
        f", and one final test pass on {fin:,} rows" if fin > 0 else ", and one final pass over the test split" if fin == 0 else "")
    parts = {"code": ("code (0.3.0 / current at 0.3.0 settings, reference kernels)", old, ref),
             "kernels": ("the fused GRU kernel and G over distinct candidate rows (`gru_kernel=\"fused\", "
                         "policy_distinct_rows=True`)", ref, code),
             "tau": (f"Kendall tau on {tau['tau_positives']} instead of {code['tau_positives']} positives per G step", code, tau),
             "evaluation": (f"evaluation: {ev_text}, instead of every row every epoch (and lr {cur['lr'][0]:g}/"
                            f"{cur['lr'][1]:g}, which changes no work)", tau, cur)}
    desc = {"0.3.0": f"tacr {old['tacr_version']}: every row scored every epoch, tau {old['tau_positives']}",
            "current, 0.3.0 settings, reference kernels": "`eval_rows=0, final_eval_rows=-1`, tau %d, lr 0.02/0.01, "
                                                          "`gru_kernel=None, policy_distinct_rows=None`" % ref["tau_positives"],
            "current, 0.3.0 settings": "as above with the profile's kernels (fused GRU, distinct candidate rows)",
            "current, 0.3.0 settings, current tau": f"as above, tau {tau['tau_positives']}",
            "current": f"`tacr.study` {args.profile} profile: eval rows {ev:,}, final pass {fin:,}, "
                       f"tau {cur['tau_positives']}"}
    rows = []
    for v in names:
        s = sm[v]
        rows.append([v, desc[v], f"{s['eval_rows_per_epoch']:,}" + (f" + {s['final_eval_rows']:,} once" if s["final_eval_rows"] else ""),
                     fmt(s["train_s_per_epoch"], 2), fmt(s["eval_s_per_epoch"], 2), fmt(s["epoch_s"], 2), fmt(s["other_s"], 2),
                     fmt(s["run_s"], 1), f"{ratio(old, s):.2f}x", f"{s['last_test_auc']:.4f}", fmt(s["peak_rss_gb"], 2)])
    dec = [[label, f"{ratio(a, b, 'train_s_per_epoch'):.2f}x", f"{ratio(a, b, 'eval_s_per_epoch'):.2f}x", f"{ratio(a, b):.2f}x"]
           for label, a, b in parts.values()]
    dec.append(["**all: 0.3.0 / current**", f"{ratio(old, cur, 'train_s_per_epoch'):.2f}x",
                f"{ratio(old, cur, 'eval_s_per_epoch'):.2f}x", f"**{total:.2f}x**"])
    lines = ["## tacr 0.3.0 vs the current code: one %s time-aware + rGAN run" % args.profile, "",
             f"Data: `{data.name}` from the current simulator, dumped once to `.npz` and rebuilt in every child with "
             f"that version's classes ({', '.join(f'{k} {len(s):,}' for k, s in data.splits.items())} rows; "
             f"fingerprint {fp}). {old['epochs']} epochs, C = {old['n_candidates']}, {args.threads} torch thread(s) per "
             f"child; {args.reps} alternated child(ren) per variant, medians. 0.3.0 = commit {OLD_COMMIT} in "
             f"`{old_tree}`. {machine_line()}.", ""]
    lines += table(["variant", "settings", "rows scored per epoch", "train s / epoch", "eval s / epoch", "epoch s",
                    "set-up + final pass s", "run s", "0.3.0 / this", "last test AUC", "peak RSS GB"], rows)
    lines += ["", "Where the difference comes from (ratios of the rows above; they multiply to the total):", ""]
    lines += table(["factor", "training steps", "evaluation", "whole run"], dec)
    lines += ["", f"**Target: one {args.profile}-profile time-aware + rGAN run >= {TARGET:.0f}x faster than 0.3.0, "
              f"measured side by side: {total:.2f}x, {'met' if met else 'missed'}.** The code's share is measured at "
              "equal settings (first on the reference kernels, then with the profile's fused GRU and distinct candidate "
              "rows: same math, last bits differ); the rest is settings (fewer Kendall-tau positives, a fixed "
              "evaluation sample). "
              "History-ordered scoring (`score_split` groups rows by history) is part of the code at every setting. "
              f"Moving the data to the device (`DeviceData`, outside `run`): {old['device_data_s']:.2f} s (0.3.0) vs "
              f"{cur['device_data_s']:.2f} s (current, which also counts the training values for unseen-value "
              "embeddings).", "", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    summary = {"profile": args.profile, "reps": args.reps, "threads": args.threads, "target": TARGET,
               "ratio_run": total, "met": met, "ratio_train_per_epoch": ratio(old, cur, "train_s_per_epoch"),
               "ratio_eval_per_epoch": ratio(old, cur, "eval_s_per_epoch"),
               "decomposition": {k: ratio(a, b) for k, (_, a, b) in parts.items()},
               "decomposition_labels": {k: label for k, (label, _, _) in parts.items()},
               "tau_positives": {"0.3.0": code["tau_positives"], "current": cur["tau_positives"]},
               "eval_rows": ev, "final_eval_rows": fin, "variants": sm,
               "data": {"name": data.name, "fingerprint": fp, "rows": {k: len(s) for k, s in data.splits.items()}},
               "old_commit": OLD_COMMIT, **stamp()}
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    print(text)
    return summary


if __name__ == "__main__":
    main()
