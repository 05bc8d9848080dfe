"""tacr.runs (the checksummed run cache: resume, atomic writes, keys, corruption, executors;
scores from stored weights) and tacr.stats' summaries."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

import tacr.runs.cache as cache_mod
import tacr.runs.grid as grid_mod
from tacr.runs import RunCache, Scorer, run_grid, run_key
from tacr.stats import config_columns, per_run, summarise
from tacr.study import base_config


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mini(smoke_data):
    """The smoke data with 1000-row validation and test splits (cheap evaluation)."""
    return replace(smoke_data, valid=smoke_data.valid.subset(slice(0, 1000)), test=smoke_data.test.subset(slice(0, 1000)))


CFG_A = base_config("smoke", sampler="uniform", epochs=2, steps_per_epoch=2, device="cpu")
CFG_B = replace(CFG_A, lr_d=0.01)


def grid(configs, seeds, data, cache, **kw):
    return run_grid(configs, seeds, data, cache=cache, quiet=True, progress=False, **kw)


def counting(monkeypatch, fail_on=None):
    """Replace the trainer run_grid calls by a wrapper that records each config (and can fail)."""
    trained, real = [], grid_mod.run

    def wrapper(cfg, *args, **kwargs):
        trained.append(cfg)
        if fail_on is not None and len(trained) == fail_on:
            raise KeyboardInterrupt("simulated interruption")
        return real(cfg, *args, **kwargs)

    monkeypatch.setattr(grid_mod, "run", wrapper)
    return trained


def no_training(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("run_grid trained although every run is cached")

    monkeypatch.setattr(grid_mod, "run", boom)


@pytest.fixture(scope="module")
def cached(mini, tmp_path_factory):
    """A 2 config x 2 seed grid, trained once into a module cache."""
    folder = tmp_path_factory.mktemp("runs")
    return folder, grid([CFG_A, CFG_B], [0, 1], mini, folder)


# --------------------------------------------------------------------------- cache
def test_grid_caches_each_run_as_parquet(cached, mini):
    folder, df = cached
    keys = [run_key(replace(c, seed=s), mini.fingerprint()) for c in (CFG_A, CFG_B) for s in (0, 1)]
    assert len(set(keys)) == 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.{ext}" for k in keys for ext in ("parquet", "pt", "json"))
    assert len(df) == 4 * 2  # 4 runs x 2 epochs
    assert set(df["run_key"]) == set(keys)
    for col in config_columns(df) + ["seed", "epoch", "test_auc", "valid_auc", "dataset", "threads", "n_candidates"]:
        assert col in df, col
    assert sorted(df.groupby(["lr_d", "seed"]).size().to_dict().items()) == [((0.01, 0), 2), ((0.01, 1), 2),
                                                                             ((0.02, 0), 2), ((0.02, 1), 2)]
    one = pd.read_parquet(folder / f"{keys[0]}.parquet")
    pd.testing.assert_frame_equal(one, df[df["run_key"] == keys[0]].reset_index(drop=True))


def test_second_call_reads_the_cache(cached, mini, monkeypatch):
    folder, first = cached
    no_training(monkeypatch)
    again = grid([CFG_A, CFG_B], [0, 1], mini, folder)
    pd.testing.assert_frame_equal(first, again)


def test_cache_dir_from_environment(cached, mini, monkeypatch, tmp_path):
    folder, first = cached
    for p in folder.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.setenv("TACR_CACHE", str(tmp_path))
    assert RunCache().folder == tmp_path
    no_training(monkeypatch)
    again = run_grid([CFG_A, CFG_B], [0, 1], mini, quiet=True, progress=False)
    pd.testing.assert_frame_equal(first, again)


def test_interrupted_grid_resumes(mini, monkeypatch, tmp_path):
    trained = counting(monkeypatch, fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        grid([CFG_A], [0, 1, 2], mini, tmp_path)
    assert [c.seed for c in trained] == [0, 1]
    assert len(list(tmp_path.iterdir())) == 3  # only the finished run (rows, weights, manifest), no partial files
    done = next(tmp_path.glob("*.parquet"))
    stamp = done.stat().st_mtime_ns

    trained = counting(monkeypatch)
    df = grid([CFG_A], [0, 1, 2], mini, tmp_path)
    assert [c.seed for c in trained] == [1, 2]  # only the missing runs train
    assert done.stat().st_mtime_ns == stamp
    assert sorted(df["seed"].unique()) == [0, 1, 2]
    assert len(list(tmp_path.glob("*.parquet"))) == 3 and len(list(tmp_path.iterdir())) == 9


def test_failed_write_leaves_no_partial_file(mini, monkeypatch, tmp_path):
    def half_written(self, path, *a, **k):
        with open(path, "wb") as fh:
            fh.write(b"PAR1 truncated")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    with pytest.raises(OSError, match="disk full"):
        grid([CFG_A], [0], mini, tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    df = grid([CFG_A], [0], mini, tmp_path)  # the next call trains and caches normally
    assert len(df) == 2 and len(list(tmp_path.glob("*.parquet"))) == 1


def test_atomic_write_replaces_whole_file(tmp_path):
    """The run cache's (and every figure's) write: all or nothing, no temporary file left."""
    from tacr.files import atomic_write

    path = tmp_path / "x.parquet"
    a = pd.DataFrame({"v": np.arange(5)})
    b = pd.DataFrame({"v": np.arange(3) * 10})
    atomic_write(path, lambda tmp: a.to_parquet(tmp, index=False))
    atomic_write(path, lambda tmp: b.to_parquet(tmp, index=False))
    pd.testing.assert_frame_equal(pd.read_parquet(path), b)
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]

    def broken(tmp):
        a.to_parquet(tmp, index=False)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, broken)
    pd.testing.assert_frame_equal(pd.read_parquet(path), b)  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]


def test_run_key_changes_with_config_data_and_version(monkeypatch):
    c = base_config("smoke")
    k = run_key(c, "fp1")
    assert k == run_key(c, "fp1") == run_key(replace(c), "fp1")
    assert run_key(replace(c, lr_d=0.01), "fp1") != k
    assert run_key(replace(c, seed=1), "fp1") != k
    assert run_key(replace(c, sampler="uniform"), "fp1") != k
    assert run_key(replace(c, reward="score"), "fp1") != k
    assert run_key(c, "fp2") != k
    # device and evaluation batch size do not change results, so not the key
    assert run_key(replace(c, device="cpu", eval_batch_size=17), "fp1") == k
    monkeypatch.setattr(cache_mod, "__version__", "999.0")
    assert run_key(c, "fp1") != k


def test_data_fingerprint_changes_with_data(smoke_data, mini):
    assert smoke_data.fingerprint() != mini.fingerprint()
    assert mini.fingerprint() == replace(smoke_data, valid=smoke_data.valid.subset(slice(0, 1000)),
                                         test=smoke_data.test.subset(slice(0, 1000))).fingerprint()


# --------------------------------------------------------------------------- summaries
def hand_frame(seed=0):
    """Two samplers x 3 seeds x 4 epochs of made-up AUCs, plus a third sampler with one seed."""
    rng = np.random.default_rng(seed)
    rows = []
    for sampler, base in (("uniform", 0.60), ("rgan", 0.63), ("solo", 0.55)):
        for s in ((0, 1, 2) if sampler != "solo" else (0,)):
            for e in (1, 2, 3, 4):
                rows.append({"sampler": sampler, "lr_d": 0.02, "seed": s, "epoch": e,
                             "test_auc": base + rng.uniform(-0.03, 0.03), "valid_auc": base + rng.uniform(-0.03, 0.03)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)  # epochs out of order


def test_per_run_best_and_validation_selected():
    df = hand_frame()
    runs = per_run(df, by=["sampler"]).set_index(["sampler", "seed"])
    assert len(runs) == 7
    for (sampler, seed), g in df.groupby(["sampler", "seed"]):
        r = runs.loc[(sampler, seed)]
        assert r["best_test_auc"] == g["test_auc"].max()
        assert r["best_epoch"] == g.loc[g["test_auc"].idxmax(), "epoch"]
        assert r["val_selected_test_auc"] == g.loc[g["valid_auc"].idxmax(), "test_auc"]
        assert r["selected_epoch"] == g.loc[g["valid_auc"].idxmax(), "epoch"]
        assert r["final_test_auc"] == g.loc[g["epoch"].idxmax(), "test_auc"]


def test_summarise_means_intervals_and_relaimpr():
    df = hand_frame()
    out = summarise(per_run(df, by=["sampler"]), by=["sampler"], base={"sampler": "uniform"}).set_index("sampler")
    base_best = df[df.sampler == "uniform"].groupby("seed")["test_auc"].max().mean()
    base_val = (df[df.sampler == "uniform"].sort_values("valid_auc").groupby("seed").tail(1)["test_auc"].mean())
    for sampler in ("uniform", "rgan"):
        g = df[df.sampler == sampler]
        best = g.groupby("seed")["test_auc"].max().to_numpy()
        val = g.sort_values("valid_auc").groupby("seed").tail(1)["test_auc"].to_numpy()
        r = out.loc[sampler]
        assert r["seeds"] == 3
        assert r["avg_optimal_auc"] == pytest.approx(best.mean(), rel=1e-12)
        assert r["val_selected_auc"] == pytest.approx(val.mean(), rel=1e-12)
        # 95 % t-interval by hand: mean +- t_{0.975, n-1} * s / sqrt(n)
        for values, lo, hi in ((best, "ci_low", "ci_high"), (val, "val_ci_low", "val_ci_high")):
            half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
            assert r[lo] == pytest.approx(values.mean() - half, rel=1e-12)
            assert r[hi] == pytest.approx(values.mean() + half, rel=1e-12)
        # Eq. 21 by hand
        assert r["relaimpr_pct"] == pytest.approx(((best.mean() - 0.5) / (base_best - 0.5) - 1) * 100, rel=1e-9, abs=1e-12)
        assert r["val_relaimpr_pct"] == pytest.approx(((val.mean() - 0.5) / (base_val - 0.5) - 1) * 100, rel=1e-9, abs=1e-12)
    assert out.loc["uniform", "relaimpr_pct"] == 0.0
    assert out.loc["rgan", "relaimpr_pct"] > 0
    # one seed: no interval
    assert out.loc["solo", "seeds"] == 1 and np.isnan(out.loc["solo", "ci_low"]) and np.isnan(out.loc["solo", "ci_high"])
    # a different level widens/narrows the interval as scipy says
    out90 = summarise(per_run(df, by=["sampler"]), by=["sampler"], level=0.90).set_index("sampler")
    best = df[df.sampler == "rgan"].groupby("seed")["test_auc"].max().to_numpy()
    half = stats.t.ppf(0.95, 2) * np.std(best, ddof=1) / np.sqrt(3)
    assert out90.loc["rgan", "ci_high"] == pytest.approx(best.mean() + half, rel=1e-12)


def test_summarise_base_must_match_exactly_one_row():
    df = hand_frame()
    with pytest.raises(ValueError, match="matches 0 rows"):
        summarise(per_run(df, by=["sampler"]), by=["sampler"], base={"sampler": "irgan"})
    two = per_run(pd.concat([df, df.assign(lr_d=0.01)], ignore_index=True), by=["sampler", "lr_d"])
    with pytest.raises(ValueError, match="matches 2 rows"):
        summarise(two, by=["sampler", "lr_d"], base={"sampler": "uniform"})
    ok = summarise(two, by=["sampler", "lr_d"], base={"sampler": "uniform", "lr_d": 0.01})
    assert len(ok) == 6 and "relaimpr_pct" in ok


def test_summarise_grid_output_default_columns(cached):
    _, df = cached
    runs = per_run(df)  # grouped by every config column
    assert len(runs) == 4 and {"lr_d", "sampler", "threads", "seed"} <= set(runs.columns)
    out = summarise(runs, by=["lr_d"])
    assert len(out) == 2 and (out["seeds"] == 2).all()
    assert sorted(out["lr_d"]) == [0.01, 0.02]
    best = df.groupby(["lr_d", "seed"])["test_auc"].max().groupby("lr_d").mean()
    np.testing.assert_allclose(out.set_index("lr_d")["avg_optimal_auc"].sort_index(), best.sort_index(), rtol=1e-12)


def test_base_config_profiles():
    smoke = base_config("smoke")
    assert (smoke.epochs, smoke.n_candidates) == (2, 8)
    paper = base_config("paper")
    assert (paper.epochs, paper.n_candidates, paper.lr_d, paper.lr_g, paper.temperature) == (50, 35, 0.02, 0.01, 20.0)
    assert (paper.lambda_i, paper.lambda_h, paper.temperature_decay, paper.lr_halve_every, paper.margin) == (3.0, 5.0, 0.98, 10, 1.0)
    assert base_config("smoke", epochs=5, sampler="uniform").epochs == 5
    with pytest.raises(ValueError, match="profile"):
        base_config("nope")


def test_dataset_defaults_profile_and_outputs(monkeypatch, tmp_path):
    from tacr import profiles, study

    assert study.default_profile("synthetic") == "study" and study.default_profile("movielens-100k") == "real"
    assert study.default_profile("table") == "real"
    real = base_config("real")
    assert (real.epochs, real.raw_id_init_std, real.eval_rows, real.lr_d) == (6, 1e-4, 0, 0.005)
    # one path in training: tacr's fused GRU and G's pass over distinct candidate rows, every profile
    fast = lambda c: (c.gru_kernel, c.policy_distinct_rows)  # noqa: E731
    assert {fast(base_config(p)) for p in ("smoke", "quick", "study", "paper", "real")} == {("fused", True)}
    monkeypatch.delenv("TACR_FIGURES", raising=False)
    root = profiles.ROOT / "figures"
    out = lambda *a, **k: (lambda o: (o.figures, o.page))(profiles.outputs(*a, **k))  # noqa: E731
    assert out("synthetic", "study") == out("synthetic") == (root, "synthetic")
    assert out("synthetic", "quick") == (root / "synthetic-quick", None)
    assert out("movielens-100k") == out("movielens-100k", "real") == (root / "movielens-100k", "movielens-100k")
    assert out("movielens-100k", "smoke") == (root / "movielens-100k-smoke", None)
    assert out("synthetic", seeds="[0, 1]") == (root / "synthetic-seeds0-1", None)  # papermill's -p text
    assert out("synthetic", seeds="[0, 1, 2, 3, 4]") == out("synthetic", seeds=5) == (root, "synthetic")
    assert out("movielens-100k", "smoke", epochs=3) == (root / "movielens-100k-smoke-epochs3", None)
    assert out("movielens-100k", epochs=6) == (root / "movielens-100k", "movielens-100k")  # the profile's own
    assert out("table") == (root / "table", None)  # a user's log: no committed page to rewrite
    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "figs"))
    assert out("synthetic") == (tmp_path / "figs", None)  # elsewhere: never a committed page
    monkeypatch.setenv("TACR_FIGURES", str(root))
    assert out("synthetic") == (root, "synthetic")
    with pytest.raises(ValueError, match="profile"):
        profiles.outputs("synthetic", "nope")

    calls = []
    monkeypatch.setattr(study, "load", lambda name, **params: calls.append((name, params)) or "data")
    study.load_dataset.cache_clear()
    study.load_dataset("movielens-100k", data_params={"rating_threshold": 5})
    study.load_dataset("movielens-100k", data_params='{"user_id_aux": false}')  # papermill's -p passes text
    study.load_dataset("movielens-100k", data_params='{"user_id_aux": false}')  # kept: loaded once
    study.load_dataset.cache_clear()
    assert calls == [("movielens-100k", {"user_id_aux": True, "rating_threshold": 5}),  # the user's over the defaults
                     ("movielens-100k", {"user_id_aux": False})]


def test_setup_records_the_run_in_its_folder(monkeypatch, tmp_path, smoke_data):
    from tacr import profiles, study

    monkeypatch.setenv("TACR_FIGURES", str(tmp_path / "figs"))
    monkeypatch.setattr(study, "load_dataset", lambda *a, **k: smoke_data)
    S = study.setup("movielens-100k", seeds=[0, 1])
    assert (S.profile, S.seeds, S.sweep_seeds, S.base.raw_id_init_std) == ("real", [0, 1], [0], 1e-4)
    assert S.figures == tmp_path / "figs"
    record = profiles.read_record(S.figures)
    assert record["dataset"] == "movielens-100k" and record["seeds"] == [0, 1] and record["profile"] == "real"
    S.save_table(pd.DataFrame({"a": [1.0]}), "t")
    assert (tmp_path / "figs" / "t.md").exists() and (tmp_path / "figs" / "t.csv").exists()


# --------------------------------------------------------------------------- results never overwrite config
def test_grid_keeps_per_epoch_temperature_and_reward(mini, tmp_path):
    """The decayed temperature and the mean reward the sampler logs survive the run cache (they
    were once overwritten by the config's initial T and its reward kind)."""
    c = base_config("smoke", sampler="rgan", epochs=3, pretrain_epochs=1, steps_per_epoch=2, n_candidates=4,
                    tau_positives=4, temperature_decay=0.5, device="cpu")
    df = grid([c], [0], mini, tmp_path)
    again = grid([c], [0], mini, tmp_path)  # read back from the cache
    for d in (df, again):
        game = d[d["game_epoch"] > 0].sort_values("epoch")
        np.testing.assert_allclose(game["policy_temperature"], [20.0, 10.0])  # T decays per game epoch
        assert (d["temperature"] == 20.0).all() and (d["reward"] == "both").all()  # the config, unchanged
        assert game["mean_reward"].notna().all() and game["mean_reward"].dtype.kind == "f"
    pd.testing.assert_frame_equal(df, again)


# --------------------------------------------------------------------------- robustness of the cache
def _flip_inside_data_page(path):
    """Change a few bytes in the middle of a parquet file's first data page, footer intact."""
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    col = meta.row_group(0).column(0)
    start = col.data_page_offset + 8
    raw = bytearray(path.read_bytes())
    raw[start:start + 4] = bytes(b ^ 0x5A for b in raw[start:start + 4])
    path.write_bytes(bytes(raw))
    pq.read_metadata(path)  # the footer still reads: only the checksum can tell


def test_corrupt_entry_and_truncated_scores_are_recomputed(mini, tmp_path, monkeypatch):
    """A cached run with bytes changed inside a data page (footer intact) and a scores file cut
    short are each recomputed, with a warning naming the entry, and give the clean run's numbers."""
    timing = ["train_seconds", "epoch_seconds"]
    clean = grid([CFG_A], [0], mini, tmp_path)
    key = run_key(CFG_A, mini.fingerprint())
    scores = Scorer(mini, tmp_path).scores(CFG_A, splits=("test",))["test"]
    _flip_inside_data_page(tmp_path / f"{key}.parquet")
    trained = counting(monkeypatch)
    with pytest.warns(UserWarning, match=f"entry {key}.*does not match its checksum"):
        again = grid([CFG_A], [0], mini, tmp_path)
    assert len(trained) == 1
    pd.testing.assert_frame_equal(clean.drop(columns=timing), again.drop(columns=timing), check_exact=True)

    monkeypatch.undo()
    Scorer(mini, tmp_path).scores(CFG_A, splits=("test",))  # stored again
    path = tmp_path / f"{key}.scores.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(UserWarning, match=f"scores of entry {key}"):
        rescored = Scorer(mini, tmp_path).scores(CFG_A, splits=("test",))["test"]
    pd.testing.assert_frame_equal(scores, rescored, check_exact=True)


def test_values_no_metric_can_take_are_refused(mini, tmp_path, monkeypatch):
    """An entry whose checksums match but whose AUCs are impossible (written by a broken
    writer) is recomputed too; such rows are never written."""
    grid([CFG_A], [0], mini, tmp_path)
    key = run_key(CFG_A, mini.fingerprint())
    cache = RunCache(tmp_path)
    rows = cache.read(key).assign(test_auc=-2.9e256)
    with pytest.raises(cache_mod.CorruptEntry, match="test_auc outside"):
        cache.write(key, rows, {})
    rows.to_parquet(cache.path(key), index=False)
    cache._write_manifest(cache.path(key, "json"), [cache.path(key), cache.path(key, "pt")])
    trained = counting(monkeypatch)
    with pytest.warns(UserWarning, match="test_auc outside"):
        again = grid([CFG_A], [0], mini, tmp_path)
    assert len(trained) == 1 and again["test_auc"].between(0, 1).all()


def test_an_unfinished_entry_is_trained_without_a_warning(mini, tmp_path, monkeypatch):
    """Rows and weights without a manifest are a writer killed before the end (or still at
    work): trained again, nothing to warn about."""
    import warnings

    grid([CFG_A], [0], mini, tmp_path)
    key = run_key(CFG_A, mini.fingerprint())
    (tmp_path / f"{key}.json").unlink()
    trained = counting(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grid([CFG_A], [0], mini, tmp_path)
    assert len(trained) == 1 and (tmp_path / f"{key}.json").exists()


def test_orphan_temp_files_are_removed(mini, tmp_path):
    import os
    import time

    old = tmp_path / ".abc.parquet.xyz.parquet"
    fresh = tmp_path / ".def.parquet.uvw.parquet"
    for p in (old, fresh):
        p.write_bytes(b"partial")
    past = time.time() - 2 * cache_mod.ORPHAN_SECONDS
    os.utime(old, (past, past))
    grid([CFG_A], [0], mini, tmp_path)
    assert not old.exists() and fresh.exists()  # a recent one may belong to a running writer


def test_resumed_grid_is_bit_identical_to_an_uninterrupted_one(mini, tmp_path, monkeypatch):
    """A grid trained by a two-process pool and the same grid killed after one run and resumed
    in this process (another path, another thread setting) give the same numbers: each run
    fixes its own thread count."""
    torch.set_num_threads(2)
    try:
        cfgs = [CFG_A, replace(CFG_A, sampler="rgan", n_candidates=4, tau_positives=4)]
        full = grid(cfgs, [0, 1], mini, tmp_path / "full", workers=2)
        counting(monkeypatch, fail_on=2)  # the third run raises KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            grid(cfgs, [0, 1], mini, tmp_path / "resumed")
        monkeypatch.undo()
        resumed = grid(cfgs, [0, 1], mini, tmp_path / "resumed")
    finally:
        torch.set_num_threads(1)
    timing = ["train_seconds", "epoch_seconds"]
    pd.testing.assert_frame_equal(full.drop(columns=timing), resumed.drop(columns=timing), check_exact=True)


def test_pool_in_an_unguarded_script_fails_fast(tmp_path):
    """run_grid(workers=2) at a script's top level (no __main__ guard) raises a clear error
    instead of hanging."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import tacr\nfrom tacr.runs import run_grid\nfrom tacr.study import base_config\n"
        "d = tacr.data.load('synthetic', profile='smoke')\n"
        f"run_grid([base_config('smoke', sampler='uniform', epochs=1, steps_per_epoch=1, device='cpu')], [0, 1], d,"
        f" cache={str(tmp_path / 'c')!r}, workers=2, progress=False)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240)
    assert out.returncode != 0
    assert "__main__" in out.stderr


# --------------------------------------------------------------------------- any executor
def test_grid_on_a_dask_local_cluster_matches_the_local_path(mini, tmp_path):
    """The study grid through a real Dask scheduler with two one-thread worker processes gives
    the numbers of the in-process path for the same seeds."""
    distributed = pytest.importorskip("distributed")
    cfgs = [CFG_A, replace(CFG_A, sampler="rgan", n_candidates=4, tau_positives=4)]
    local = grid(cfgs, [0, 1], mini, tmp_path / "local")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = grid(cfgs, [0, 1], mini, tmp_path / "dask", executor=client.get_executor())
    timing = ["train_seconds", "epoch_seconds"]
    pd.testing.assert_frame_equal(local.drop(columns=timing), remote.drop(columns=timing), check_exact=True)
    assert len(list((tmp_path / "dask").glob("*.parquet"))) == 4


def test_data_ref_sends_a_recipe_for_loaded_data(smoke_data, mini):
    ref = grid_mod.DataRef.of(smoke_data)
    assert ref.recipe == {"name": "synthetic", "params": {"profile": "smoke", "seed": 0}} and ref.data is None
    assert ref.load().fingerprint() == smoke_data.fingerprint()
    sub = grid_mod.DataRef.of(mini)  # built in memory (dataclasses.replace): the data itself travels
    assert sub.recipe is None and sub.data is mini


# --------------------------------------------------------------------------- stored weights, scores, evaluation samples
def test_scores_come_from_the_stored_best_weights(cached, mini):
    """load_scores rebuilds D from the run's stored weights (its best validation epoch): the
    validation AUC of those scores is the run's best per-epoch validation AUC."""
    from tacr.metrics import auc
    from tacr.runs import load_model, load_scores

    folder, df = cached
    cfg = replace(CFG_A, seed=1)
    s = load_scores(cfg, mini, cache=folder)
    assert [len(s[k]) for k in ("train", "valid", "test")] == [len(mini.train), len(mini.valid), len(mini.test)]
    run = df[(df["lr_d"] == CFG_A.lr_d) & (df["seed"] == 1)]
    assert auc(mini.valid.label, s["valid"]["score"]) == pytest.approx(run["valid_auc"].max(), abs=1e-6)
    again = load_scores(cfg, mini, cache=folder)  # read back from <key>.scores.parquet
    pd.testing.assert_frame_equal(s["test"], again["test"])
    assert load_model(cfg, mini, cache=folder).training is False
    with pytest.raises(FileNotFoundError, match="no cached run"):
        load_model(replace(cfg, seed=99), mini, cache=folder)


def test_eval_rows_are_a_fixed_stratified_sample(mini):
    from tacr.batch import DeviceData

    dd = DeviceData(mini, "cpu")
    test = dd["test"]
    rows = test.eval_rows(400)
    assert len(rows) == 400 and torch.equal(rows, DeviceData(mini, "cpu")["test"].eval_rows(400))  # fixed
    n_pos = int(test.label[rows].sum())
    assert n_pos == min(len(test.pos_rows), 200)
    assert torch.all(test.hist_id[rows][1:] >= test.hist_id[rows][:-1])  # grouped by history
    assert len(test.eval_rows(0)) == len(test) == len(test.eval_rows(10**9))


def test_final_evaluation_is_the_selected_epochs_test_auc(mini):
    from tacr.train import run

    df = run(replace(CFG_A, epochs=3, final_eval_rows=0), mini, quiet=True)
    sel = df.loc[df["valid_auc"].idxmax()]
    assert (df["selected_test_auc"] == sel["test_auc"]).all()  # all rows, full split: the same number
    runs = per_run(df.assign(seed=0, sampler="uniform"), by=["sampler"])
    assert runs["val_selected_test_auc"].iloc[0] == sel["test_auc"]
