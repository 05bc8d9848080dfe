"""Run every benchmark and write ``benchmarks/results/README.md``: a targets table (each target met
or missed, with the measured figure), then one Markdown section per benchmark.

    .venv/bin/python benchmarks/run_all.py            # --quick (default): ~12 minutes on 2 CPU cores
    .venv/bin/python benchmarks/run_all.py --full     # everything of the current version: ~45-60 min, ~8 GB
    .venv/bin/python benchmarks/run_all.py --smoke    # every section at its smallest setting (~3 min),
                                                      #   written to a temporary folder, results/ untouched
    .venv/bin/python benchmarks/run_all.py --only scoring,rgan

Sections (each script also runs alone; ``--smoke`` on each is seconds):

=============  ==========================================================  =========  =========
section        what                                                        --quick    --full
=============  ==========================================================  =========  =========
scoring        bench_scoring.py: impressions/s per model, dedup vs plain   3 reps     3 reps
rgan           bench_rgan.py: the trainer's rGAN step vs one positive       3 reps     3 reps
               at a time
peer           bench_peer.py: tacr DIN vs deepctr-torch DIN, synthetic      2 epochs   3 epochs
peer_ml100k    bench_peer.py --dataset movielens-100k: val-selected AUC     stored     3 seeds x
               of tacr's DIN vs deepctr-torch's, with baselines                        20 epochs
data           bench_data.py: simulator generation, histories, peak RSS;    smoke,     + paper
               one paper-profile epoch within 16 GB                         quick      (~7 GB)
micro          bench_micro.py: time term of Eq. 4, allocator tuning         yes        yes
versions       bench_versions.py: one quick time-aware + rGAN run of        1 rep      3 reps
               0.3.0 vs now, same data, alternated children
grid           bench_grid.py: run_grid with 1 vs 2 workers (6 quick runs,   yes        yes
               3 epochs, ~2 min): the speed-up of training runs at once
study          bench_study.py: ``./run_all.sh``'s wall time and peak        reads      reads
               memory (outputs/study_time.json or --study-time-log) and
               the run cache's seconds per run; no training
taobao         bench_taobao_scale.py at 2,000,000 rows (~1-2 min; the       stored     2M rows
               full 26M rows take ~3 min and ~7 GB: ``--taobao-rows``)
cuda           with a GPU: bench_scoring, bench_rgan, bench_grid (1, 2, 4   stored     stored
               workers per GPU), bench_scale on it;
               without one: the stored results of the last GPU run,
               labelled with device, date and version
=============  ==========================================================  =========  =========

Each script writes its ``.md`` and a ``.json`` of its key numbers (with the tacr version and
date measured); the targets table is built from the JSON files, so a section not re-run shows
its stored numbers, marked with their version and date. All timings on a shared machine:
compare the ratios measured within one run (interleaved repetitions, alternated children), not
absolute times across runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, SMOKE_DIR, fmt, machine_line, table, write_atomic  # noqa: E402

SECTIONS = ("scoring", "rgan", "peer", "peer_ml100k", "data", "micro", "versions", "grid", "study", "taobao", "cuda")
CUDA_DIR = RESULTS / "cuda"
#: The .md and .json each section writes (in the output folder).
FILES = {"scoring": "scoring", "rgan": "rgan", "peer": "peer", "peer_ml100k": "peer_ml100k", "data": "data",
         "micro": "micro", "versions": "versions", "grid": "grid_cpu", "study": "study", "taobao": "taobao"}
TAOBAO_ROWS = 2_000_000


# ------------------------------------------------------------------------------ sections
def run_section(name: str, mode: str, out_dir: Path, opts) -> str:
    """Run one section in ``mode`` (quick, full, smoke); returns its Markdown."""
    smoke, full = mode == "smoke", mode == "full"
    out = out_dir / f"{FILES.get(name, name)}.md"
    if name == "scoring":
        import bench_scoring

        bench_scoring.main((["--smoke"] if smoke else ["--reps", "3"]) + ["--devices", "cpu", "--out", str(out)])
    elif name == "rgan":
        import bench_rgan

        bench_rgan.main((["--smoke"] if smoke else ["--reps", "3", "--ref-positives", "40", "--profile"]) + ["--out", str(out)])
    elif name == "peer":
        import bench_peer

        args = ["--profile-name", "smoke", "--epochs", "1"] if smoke else ["--epochs", "3" if full else "2"]
        bench_peer.main(args + ["--out", str(out)])
    elif name == "peer_ml100k":
        if not (full or smoke):
            return stored(name, out_dir, "run with --full (about 10-15 minutes)")
        why = ml100k_missing(opts.ml100k_dir, fetch=not smoke)
        if why:
            return f"## Peer on MovieLens-100K\n\nSkipped: {why}\n"
        import bench_peer

        args = ["--dataset", "movielens-100k", "--out", str(out)] + (["--data-dir", opts.ml100k_dir] if opts.ml100k_dir else [])
        bench_peer.main(args + (["--epochs", "1", "--seeds", "1"] if smoke else []))
    elif name == "data":
        import bench_data

        bench_data.main((["--smoke"] if smoke else ["--full"] if full else []) + ["--out", str(out)])
    elif name == "micro":
        import bench_micro

        bench_micro.main((["--smoke"] if smoke else []) + ["--out", str(out)])
    elif name == "versions":
        import bench_versions

        bench_versions.main((["--smoke"] if smoke else ["--reps", "3" if full else "1"]) + ["--out", str(out)])
    elif name == "grid":
        import bench_grid

        bench_grid.main((["--smoke"] if smoke else ["--runs", "6", "--epochs", "3"]) + ["--out", str(out)])
    elif name == "study":
        import bench_study

        args = ["--smoke"] if smoke else (["--time-log", opts.study_time_log] if opts.study_time_log else [])
        bench_study.main(args + (["--cache", opts.study_cache] if opts.study_cache and not smoke else []) + ["--out", str(out)])
    elif name == "taobao":
        if not (full or smoke or opts.taobao_rows):
            return stored(name, out_dir, "run with --full (2M rows) or --taobao-rows N")
        import bench_taobao_scale

        rows = 100_000 if smoke else opts.taobao_rows or TAOBAO_ROWS
        bench_taobao_scale.main(["--rows", str(rows), "--out", str(out)])
        text = out.read_text()
        full_md = RESULTS / "taobao_scale.md"
        if rows < 26_000_000 and full_md.exists() and not smoke:
            text += (f"\n\n### Stored: the full 26M rows ({provenance(full_md)}; not re-run: "
                     f"`bench_taobao_scale.py --rows 26000000`, ~3 min, ~7 GB)\n\n"
                     + full_md.read_text().split("\n", 1)[1])
        return text
    elif name == "cuda":
        import torch

        if not torch.cuda.is_available():
            return stored_cuda()
        import bench_rgan
        import bench_scale
        import bench_scoring

        cdir = out_dir / "cuda" if smoke else CUDA_DIR
        bench_scoring.main((["--smoke"] if smoke else ["--reps", "3"]) + ["--devices", "cuda", "--out", str(cdir / "scoring_cuda.md")])
        bench_rgan.main((["--smoke"] if smoke else ["--reps", "3", "--ref-positives", "20", "--profile"])
                        + ["--device", "cuda", "--out", str(cdir / "rgan_cuda.md")])
        import bench_grid

        bench_grid.main((["--smoke"] if smoke else ["--runs", "8", "--epochs", "3"])
                        + ["--device", "cuda", "--out", str(cdir / "grid_cuda.md")])
        bench_scale.main((["--scale", "0.002", "--step-batch", "200", "--reps", "1"] if smoke else
                          ["--scale", "1.0" if full else "0.25"])
                         + ["--device", "cuda", "--out", str(cdir / ("paper_cuda.md" if full else "scale_cuda.md"))])
        import tacr

        write_atomic(cdir / "STAMP", f"Measured on {torch.cuda.get_device_name()} on {datetime.now(timezone.utc):%Y-%m-%d} "
                                     f"(tacr {tacr.__version__}, torch {torch.__version__}).\n")
        return stored_cuda(fresh=True, folder=cdir)
    return out.read_text()


def ml100k_missing(data_dir, fetch: bool = True) -> str | None:
    """Why the MovieLens-100K peer section cannot run (None: it can)."""
    try:
        import bench_peer

        bench_peer.import_deepctr()
    except Exception as exc:  # noqa: BLE001
        hint = getattr(sys.modules.get("bench_peer"), "PEER_INSTALL", "pip install deepctr-torch")
        return f"deepctr-torch cannot be imported ({type(exc).__name__}: {exc}); install it with `{hint}`."
    try:
        import tacr.data

        tacr.data.load("movielens-100k", data_dir=data_dir, **({} if fetch else {"fetch": False}))
    except Exception as exc:  # noqa: BLE001
        return (f"the MovieLens-100K data is missing or unreadable ({type(exc).__name__}: {exc}); fetch it with "
                "`python -m tacr.data.fetch movielens-100k` (or pass --ml100k-dir).")
    return None


def stored(name: str, out_dir: Path, how: str) -> str:
    path = out_dir / f"{FILES.get(name, name)}.md"
    if name == "taobao" and not path.exists():
        path = out_dir / "taobao_scale.md"  # the full-size run, stored
    if not path.exists():
        return f"## {name}\n\nNot run in this mode and no stored result: {how}.\n"
    return path.read_text().rstrip() + f"\n\n_({provenance(path)}; not re-run: {how})_\n"


def provenance(path: Path) -> str:
    """'stored: tacr V, date D' from the JSON beside a result file (every benchmark's JSON carries
    them: ``_common.stamp``)."""
    d = _load(path.with_suffix(".json")) or {}
    return f"stored: tacr {d['tacr_version']}, {d.get('date', '?')}" if "tacr_version" in d else "stored: version not recorded"


def stored_cuda(fresh: bool = False, folder: Path = CUDA_DIR) -> str:
    parts = [p for p in ("scoring_cuda.md", "rgan_cuda.md", "grid_cuda.md", "paper_cuda.md", "scale_cuda.md")
             if (folder / p).exists()]
    if not parts:
        return "## CUDA\n\nNo GPU here and no stored GPU results.\n"
    stamp = (folder / "STAMP").read_text().strip() if (folder / "STAMP").exists() else "Device and date not recorded."
    where = folder.relative_to(RESULTS.parent.parent) if folder.is_relative_to(RESULTS.parent.parent) else folder
    head = ["# CUDA", "", stamp + ("" if fresh else f" No GPU on this machine: these are the stored results of that "
                                   f"run (`{where}/`), not re-run."), ""]
    return "\n".join(head) + "\n" + "\n".join(_demote((folder / p).read_text(), 2) for p in parts)


# ------------------------------------------------------------------------------ targets
def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def summary(out_dir: Path, fresh: set[str]) -> list[str]:
    """The targets of issue 16, each with its measured figure, status and where it comes from."""
    def src(fname: str) -> str:
        if fname in fresh:
            return "this run"
        return provenance(out_dir / fname)

    rows = []

    def row(target, fn, how):
        try:
            got = fn()
        except Exception as exc:  # noqa: BLE001 - a changed or partial JSON: say so, keep the table
            got = (f"could not read its numbers ({type(exc).__name__}: {exc})", "not measured", "")
        if got is None:
            got = ("no numbers", "not measured", how)
        rows.append([target, *got])

    def scoring():
        sc, paper = _load(out_dir / "scoring.json"), _load(out_dir / "data_paper.json")
        if not sc or "time_aware" not in sc.get("cpu", {}):
            return None
        ta = sc["cpu"]["time_aware"]
        r = ta["dedup"] / ta["plain"]
        order = {"history": ", grouped by history", "storage": ", storage order"}.get(sc.get("order"), "")
        text, ok, where = f"{r:.1f}x on the {sc.get('profile', 'quick')} test split{order}", r >= 3, src("scoring.json")
        if paper and "slice_rows" in paper:
            rp = paper["slice_dedup_ips"] / paper["slice_plain_ips"]
            how = "grouped by history as `score_split` scores them" if "slice_dedup_storage_ips" in paper else "in storage order"
            text += (f"; {rp:.1f}x on the first {paper['slice_rows']:,} rows of the `paper` test split, {how} "
                     f"({src('data_paper.json')})")
            ok = ok and rp >= 3
        return text, "met" if ok else "missed", where

    def rgan():
        rg = _load(out_dir / "rgan.json")
        if not rg:
            return None
        best = rg["best"]
        r = rg["vs_per_positive"][best]
        text = f"{best}: {r:.1f}x ({rg['positives_per_s'][best]:,.0f} positives/s)"
        if (bref := rg.get("best_reference_settings")) and bref != best:
            text += f"; at the study and paper profiles' settings {bref}: {rg['vs_per_positive'][bref]:.1f}x"
        text += f"; vs Algorithm 1 with one shared draw {rg['vs_one_draw'][best]:.1f}x"
        if rg.get("reference"):
            text += f" (reference: the faster per-positive path, '{rg['reference']}')"
        return text, "met" if r >= 20 else "missed", src("rgan.json")

    def peer():
        pe = _load(out_dir / "peer.json")
        if not pe or "train_time_ratio" not in pe:
            return None
        a = pe["auc"]
        t_auc, p_auc = a.get("tacr DIN", float("nan")), a.get(pe["peer"], float("nan"))
        return (f"{pe['peer']} takes {pe['train_time_ratio']:.2f}x tacr's training time ({pe['score_time_ratio']:.2f}x its "
                f"scoring time); test AUC after {pe['epochs']} epoch(s) {t_auc:.4f} (tacr) vs {p_auc:.4f}",
                "met" if pe["train_time_ratio"] >= 1 else "missed", src("peer.json"))

    def paper_epoch():
        p = _load(out_dir / "data_paper.json")
        if not p or "epoch_peak_rss_gb" not in p:
            return None
        return (f"peak RSS {p['epoch_peak_rss_gb']:.2f} GB ({p['epoch_peak_rss_gb'] / 16:.2f}x the budget); "
                f"{p['epoch_wall_s']:.0f} s ({p['epoch_train_s']:.0f} s of training steps), {p['threads']} thread(s)",
                "met" if p["epoch_peak_rss_gb"] < 16 else "missed", src("data_paper.json"))

    def versions():
        v = _load(out_dir / "versions.json")
        if not v:
            return None
        d, tp = v["decomposition"], v.get("tau_positives", {})
        dec = (f"code at equal settings {d['code']:.2f}x, Kendall tau on {tp.get('current', '?')} instead of "
               f"{tp.get('0.3.0', '?')} positives {d['tau']:.2f}x, evaluation sample {d['evaluation']:.2f}x")
        return (f"{v['ratio_run']:.2f}x the whole run ({v['profile']} profile, {v['reps']} alternated child(ren) each; "
                f"{dec})", "met" if v["ratio_run"] >= v.get("target", 2.0) else "missed", src("versions.json"))

    def study():
        s = _load(out_dir / "study.json")
        if not s or s.get("wall_seconds") is None:
            return None
        return (f"{s['wall_seconds'] / 60:.1f} min on {s.get('cores')} cores; peak "
                + (f"{s['peak_rss_gb']:.2f} GB ({s.get('peak_memory_kind')})" if s.get("peak_rss_gb") is not None else "not given")
                + (f"; {s['runs']} runs, {s['worker_seconds'] / 3600:.2f} worker-hours in their epochs" if s.get("runs") else ""),
                s.get("status", "not judged"), _study_source(s, src("study.json")))

    def ml100k(variant):
        def fn():
            m = _load(out_dir / "peer_ml100k.json")
            if not m:
                return None
            res = m["results"]
            peers = [k for k in res if k.startswith("deepctr-torch") and "val_selected" in res[k]]
            ours = [k for k in res if k.startswith("tacr DIN") and f": {variant} (" in k]
            if not peers or not ours:
                return ("the stored file has no " + ("deepctr-torch" if not peers else f"tacr '{variant}'") + " row",
                        "not measured", src("peer_ml100k.json"))
            p = next((k for k in peers if "user id" not in k), peers[0])
            t, q = res[ours[0]], res[p]
            d = t["val_selected"] - q["val_selected"]
            return (f"{t['val_selected']:.4f} ± {t['hw']:.4f} vs {q['val_selected']:.4f} ± {q['hw']:.4f} (deepctr-torch, "
                    f"{p.split('(')[-1].rstrip(')')}): difference {d:+.4f}", "met" if d >= -0.005 else "missed",
                    src("peer_ml100k.json"))
        return fn

    row("scoring: dedup >= 3x the per-impression forward (time-aware, CPU)", scoring, "run the scoring section")
    row("rGAN step >= 20x one positive at a time (CPU)", rgan, "run the rgan section")
    row("DIN trains at least as fast as deepctr-torch's (synthetic, CPU)", peer,
        "run the peer section (needs deepctr-torch)")
    row("one `paper` epoch of time-aware + rGAN within 16 GB (CPU)", paper_epoch, "run_all.py --full (data section)")
    row("one quick time-aware + rGAN run >= 2x faster than 0.3.0, side by side", versions, "run the versions section")
    row(f"default study (`./run_all.sh`) < {90} min on 2 cores and < 8 GB peak", study,
        "time `./run_all.sh` (bench_study.py --record, or /usr/bin/time -v) and run the study section")
    for variant in ("default", "recommended"):
        row(f"tacr's pointwise DIN ('{variant}') val-selected test AUC >= deepctr-torch's - 0.005 on MovieLens-100K",
            ml100k(variant), "run_all.py --full (peer_ml100k section; needs deepctr-torch and the data)")
    for path in (out_dir / "grid_cpu.json", CUDA_DIR / "grid_cuda.json"):
        g = _load(path)
        if g and g.get("workers"):
            w = max(g["workers"], key=lambda k: g["workers"][k]["speedup"])
            diff = max(v["max_auc_diff"] for v in g["workers"].values())
            on_gpu = g.get("device") == "cuda"
            rows.append([f"many runs at once: `run_grid` workers on the {g['device_name'] if on_gpu else 'CPU'}; no target",
                         f"{w} worker(s) train {g['runs']} {g['profile']} runs {g['workers'][w]['speedup']:.2f}x as fast as one "
                         f"(largest last-AUC difference {diff:.1e})", "reported",
                         _gpu_source(fresh, path) if on_gpu else src(path.name)])
    gpu = newest_gpu_epoch(CUDA_DIR)
    if gpu:
        import torch

        stamp = (CUDA_DIR / "STAMP").read_text().strip() if (CUDA_DIR / "STAMP").exists() else ""
        gpu_src = "this run" if "cuda" in fresh and torch.cuda.is_available() else f"stored: {stamp}"
        kind = "one real `paper` epoch" if gpu["scale"] == 1.0 else f"`paper` epoch extrapolated from scale {gpu['scale']}"
        epoch = gpu["epoch_wall_s"] if gpu["scale"] == 1.0 else gpu["paper_epoch_s"]
        rows.append([f"{kind} on a GPU ({gpu.get('gpu', 'cuda')}); no target", f"{epoch:.1f} s incl. scoring the test and "
                     f"validation splits; one configuration (5 seeds x 50 epochs) ~{epoch * 250 / 60:.0f} min; GPU memory "
                     f"{gpu.get('epoch_gpu_peak_gb', float('nan')):.1f} GB", "reported", gpu_src])
        row(f"full `paper` study (every notebook) < 1 h on one GPU ({gpu.get('gpu', 'cuda')})",
            lambda: paper_study_on_gpu(_load(out_dir / "study.json"), epoch, _load(CUDA_DIR / "grid_cuda.json"), gpu_src,
                                       _gpu_source(fresh, CUDA_DIR / "grid_cuda.json")),
            "run the study section, and the cuda section on a GPU")
    return ["## Targets", ""] + table(["target", "measured", "status", "numbers from"], rows) + [""]


# ------------------------------------------------------------------------------ main
def newest_gpu_epoch(folder: Path) -> dict | None:
    """The GPU's `paper` epoch: of ``paper_cuda.json`` (a full-scale epoch) and ``scale_cuda.json``
    (a scaled one, extrapolated), the newest by the date it carries (files from before the JSONs
    carried one count as oldest); on the same date the full-scale one."""
    found = [(d.get("date", ""), d.get("scale") == 1.0, d) for f in ("paper_cuda.json", "scale_cuda.json")
             if (d := _load(folder / f))]
    return max(found, key=lambda t: t[:2])[2] if found else None


def paper_study_on_gpu(study: dict | None, epoch_s: float, grid: dict | None, epoch_src: str, grid_src: str):
    """The GPU target of issue 16, judged from its measured parts: the runs of the study (the
    configurations of the recorded ``./run_all.sh`` run at the ``paper`` profile's seeds and epochs),
    one ``paper`` epoch on the GPU, and the speed-up of several ``run_grid`` workers on it
    (``grid_cuda.json``). Every run is counted as a time-aware + rGAN run: a rough sum (DIN's epochs
    are cheaper, LR-sampler's dearer; on the CPU study the mean run cost 0.97x one)."""
    from tacr.study import PROFILES

    if not study or not study.get("table"):
        return None
    st, pa = PROFILES["study"], PROFILES["paper"]
    runs = sum(pa.seeds if r["runs"] >= st.seeds else pa.sweep_seeds for r in study["table"])
    epochs = pa.train["epochs"]
    one_by_one = runs * epochs * epoch_s / 3600
    text = (f"{len(study['table'])} configurations, {runs} runs x {epochs} epochs at {epoch_s:.1f} s an epoch: "
            f"{one_by_one:.1f} h one run after another")
    if not grid or grid.get("device") != "cuda" or not grid.get("workers"):
        return (text + f"; under 1 h needs {one_by_one:.1f}x from running several at once, not measured on a GPU "
                "(`bash benchmarks/gpu_check.sh` measures it in one device call)", "not measured",
                f"study.json; GPU epoch {epoch_src}")
    w = max(grid["workers"], key=lambda k: grid["workers"][k]["speedup"])
    hours = one_by_one / grid["workers"][w]["speedup"]
    return (text + f"; {w} workers per GPU {grid['workers'][w]['speedup']:.2f}x ({grid['profile']} runs): ~{hours:.1f} h",
            "met" if hours < 1 else "missed", f"study.json; GPU epoch {epoch_src}; GPU grid {grid_src}")


def _gpu_source(fresh: set[str], path: Path) -> str:
    import torch

    return "this run" if "cuda" in fresh and torch.cuda.is_available() else provenance(path)


def _study_source(s: dict, where: str) -> str:
    """The study row's provenance: this section reads a recorded ``./run_all.sh`` run, not a new one."""
    rec = s.get("record") or {}
    if not rec.get("started"):
        return where
    return f"{where}, reading the `./run_all.sh` run recorded {rec['started']} to {rec.get('finished', '?')}"


def _mtimes(folder: Path, gpu_folder: Path | None = None) -> dict[str, float]:
    """JSON files' modification times; those of ``gpu_folder`` as ``cuda/<name>``."""
    out = {p.name: p.stat().st_mtime for p in folder.glob("*.json")} if folder.exists() else {}
    if gpu_folder is not None:
        out |= {f"cuda/{k}": v for k, v in _mtimes(gpu_folder).items()}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="default: the sections marked quick above")
    g.add_argument("--full", action="store_true", help="every section, everything of the current version")
    g.add_argument("--smoke", action="store_true", help="every section at its smallest setting, into a temporary folder")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma list of sections to run")
    ap.add_argument("--out-dir", default=None, help="default benchmarks/results (smoke: the smoke folder)")
    ap.add_argument("--study-time-log", default=None, help="GNU `time -v` output of ./run_all.sh (study section)")
    ap.add_argument("--study-cache", default=None, help="the run cache the study wrote (study section)")
    ap.add_argument("--ml100k-dir", default=None, help="MovieLens-100K folder (default: the loader's)")
    ap.add_argument("--taobao-rows", type=int, default=None, help=f"taobao section rows (default {TAOBAO_ROWS:,} with --full)")
    args = ap.parse_args(argv)
    mode = "full" if args.full else "smoke" if args.smoke else "quick"
    out_dir = Path(args.out_dir) if args.out_dir else (SMOKE_DIR / "run_all" if args.smoke else RESULTS)
    only = set(args.only.split(","))
    if unknown := only - set(SECTIONS):
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    t0 = time.perf_counter()
    gpu_dir = out_dir / "cuda" if mode == "smoke" else CUDA_DIR
    before = _mtimes(out_dir, gpu_dir)
    parts = []
    for name in SECTIONS:
        if name not in only:  # keep the section of an earlier run, labelled as such
            text = stored_cuda() if name == "cuda" else stored(name, out_dir, "not in --only")
            parts.append(_demote(text))
            continue
        print(f"== {name} ({mode})", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            text = run_section(name, mode, out_dir, args)
        except BaseException as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = f"## {name}\n\nFailed:\n\n```\n{traceback.format_exc()}```\n"
            print(text, file=sys.stderr)
        parts.append(_demote(text).rstrip() + f"\n\n_(section time {time.perf_counter() - t:.0f} s)_\n")
    after = _mtimes(out_dir, gpu_dir)
    fresh = {k for k, v in after.items() if before.get(k) != v}
    if any(k.startswith("cuda/") for k in fresh):
        fresh.add("cuda")  # the GPU section measured in this run
    import tacr

    head = ["# tacr benchmarks", "",
            f"`benchmarks/run_all.py --{mode}{'' if only == set(SECTIONS) else ' --only ' + args.only}`; "
            f"tacr {tacr.__version__}; {machine_line()}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
            "Ratios are measured side by side within one run; absolute rates vary with the load of the shared "
            "machine. A row or section not measured in this run says where its numbers come from.", "",
            f"Total time {fmt(time.perf_counter() - t0)} s.", ""]
    if mode == "smoke":
        head += ["**Smoke run**: every section at its smallest setting; the statuses below test the plumbing, "
                 "not the targets.", ""]
    write_atomic(out_dir / "README.md", "\n".join(head + summary(out_dir, fresh)) + "\n" + "\n".join(parts))
    print(f"wrote {out_dir / 'README.md'}", file=sys.stderr)


def _demote(text: str, top: int = 2) -> str:
    """The headings of ``text`` shifted so that its highest is of level ``top`` (code blocks kept)."""
    lines, fence, levels = text.strip("\n").split("\n"), False, []
    for line in lines:
        fence ^= line.startswith("```")
        if not fence and line.startswith("#") and line.lstrip("#").startswith(" "):
            levels.append(len(line) - len(line.lstrip("#")))
    shift = top - min(levels) if levels else 0
    out, fence = [], False
    for line in lines:
        fence ^= line.startswith("```")
        if not fence and line.startswith("#") and line.lstrip("#").startswith(" ") and shift:
            line = "#" * max(1, len(line) - len(line.lstrip("#")) + shift) + line.lstrip("#")
        out.append(line)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
