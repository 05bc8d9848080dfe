"""tacr's DIN against deepctr-torch's DIN: same data, loss, optimiser, batches and epochs.

Both train with binary cross-entropy and Adam (lr 1e-3) on every training row, reshuffled each
epoch, epochs interleaved, and score validation and test after every epoch: training and scoring
samples/s (medians over epochs) and the validation-selected test AUC (at the epoch of best
validation AUC; mean and 95 % t-interval over seeds). ``synthetic``: the ``quick`` simulator,
batch 1,024, deepctr embedding 45 per field. ``movielens-100k``: batch 256, embedding 16, 20
epochs, 3 seeds, twice: as the loader builds it by default, and at the study's real-data settings
(``tacr.study.DATASET_DEFAULTS``: the loader's options for both models, the profile's model
settings for tacr). deepctr's DIN gets the item and category ids, every user field and the
history (padding 0) with its own attention, DNN and initialisation. deepctr-torch is imported if
installed, else from ``$BENCH_PEER_PATH`` (see ``PEER_INSTALL``).

    python benchmarks/bench_peer.py [--epochs 2]
    python benchmarks/bench_peer.py --dataset movielens-100k [--seeds 3] [--data-dir DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import fmt, out_path, table, write_result

from tacr.batch import DeviceData
from tacr.metrics import auc
from tacr.models import build, count_parameters
from tacr.stats import t_interval
from tacr.train import score_split

PEER_PATH = os.environ.get("BENCH_PEER_PATH", "/tmp/bench8_peer")
PEER_INSTALL = f"pip install --no-deps --target {PEER_PATH} deepctr-torch==0.3.0"


def deepctr():
    if PEER_PATH not in sys.path:
        sys.path.append(PEER_PATH)
    import deepctr_torch
    from deepctr_torch.inputs import SparseFeat, VarLenSparseFeat
    from deepctr_torch.models import DIN

    return f"deepctr-torch {deepctr_torch.__version__} DIN", SparseFeat, VarLenSparseFeat, DIN


class Tacr:
    def __init__(self, data, dd, seed, batch_size, overrides):
        torch.manual_seed(seed)
        self.model, self.dd, self.bs = build("din", data.spec, **overrides), dd, batch_size
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.g = torch.Generator().manual_seed(seed)

    def epoch(self):
        self.model.train()
        train = self.dd["train"]
        for rows in torch.split(torch.randperm(train.n, generator=self.g), self.bs):
            b = train.batch(rows)
            loss = F.binary_cross_entropy_with_logits(self.model(b).score, b.label)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    def score(self, split):
        return score_split(self.model, self.dd[split], max(self.bs, 4096))


class Peer:
    def __init__(self, data, dd, seed, batch_size, emb):
        _, Sparse, VarLen, DIN = deepctr()
        cat, I, C = data.items.category.astype(np.int64), data.spec.n_items + 1, data.spec.n_categories + 1
        self.x = {}
        for name in ("train", "valid", "test"):
            s = dd[name]
            item, hist, n = s.item.numpy(), s.hist_item.numpy(), s.hist_len.numpy()
            real = np.arange(hist.shape[1]) < n[:, None]
            self.x[name] = {"item": item + 1, "cate": cat[item] + 1, "hist_item": np.where(real, hist + 1, 0),
                            "hist_cate": np.where(real, cat[hist] + 1, 0), "seq_length": n.astype(np.int64),
                            **{f"aux_{a}": data.user_aux[s.user.numpy(), j] for j, a in enumerate(data.aux_names)}}
        cols = [Sparse("item", I, embedding_dim=emb), Sparse("cate", C, embedding_dim=emb)]
        cols += [Sparse(f"aux_{a}", int(k), embedding_dim=emb) for a, k in zip(data.aux_names, data.aux_sizes)]
        cols += [VarLen(Sparse(f"hist_{f}", k, embedding_dim=emb, embedding_name=f), maxlen=hist.shape[1],
                        length_name="seq_length") for f, k in (("item", I), ("cate", C))]
        torch.manual_seed(seed)
        self.model = DIN(cols, ["item", "cate"], device="cpu", seed=seed)
        self.model.compile("adam", "binary_crossentropy")
        self.y, self.bs = dd["train"].label.numpy(), batch_size

    def epoch(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.model.fit(self.x["train"], self.y, batch_size=self.bs, epochs=1, verbose=0)

    def score(self, split):
        return self.model.predict(self.x[split], batch_size=max(self.bs, 4096)).reshape(-1)


def compare(data, seeds, epochs, batch_size, emb, overrides, peer: bool) -> dict:
    """Per model: epochs of (fit s, test scoring s, valid AUC, test AUC) for every seed."""
    dd = DeviceData(data, "cpu")
    y = {k: dd[k].label.numpy() for k in ("valid", "test")}
    curves = {}
    for seed in seeds:
        runners = {"tacr DIN": Tacr(data, dd, seed, batch_size, overrides)}
        if peer:
            runners[deepctr()[0]] = Peer(data, dd, seed, batch_size, emb)
        for ep in range(epochs):
            for name, r in runners.items():
                t0 = time.perf_counter()
                r.epoch()
                t1 = time.perf_counter()
                test = r.score("test")
                t2 = time.perf_counter()
                curves.setdefault(name, {"params": count_parameters(r.model), "runs": {}})["runs"].setdefault(seed, []).append(
                    (t1 - t0, t2 - t1, auc(y["valid"], r.score("valid")), auc(y["test"], test)))
            print(f"peer: seed {seed} epoch {ep + 1}/{epochs}", file=sys.stderr, flush=True)
    out = {}
    for name, c in curves.items():
        sel = [max(run, key=lambda e: e[2])[3] for run in c["runs"].values()]
        fit, score = (statistics.median(e[i] for run in c["runs"].values() for e in run) for i in (0, 1))
        out[name] = {"params": c["params"], "val_selected": float(np.mean(sel)), "ci": t_interval(sel), "per_seed": sel,
                     "fit_s": fit, "train_per_s": dd["train"].n / fit, "score_per_s": len(y["test"]) / score}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("synthetic", "movielens-100k"), default="synthetic")
    ap.add_argument("--data-dir", default=None, help="MovieLens-100K folder (default: the loader's)")
    ap.add_argument("--epochs", type=int, default=None, help="default 2 (synthetic), 20 (movielens-100k)")
    ap.add_argument("--seeds", type=int, default=None, help="default 1 (synthetic), 3 (movielens-100k)")
    ap.add_argument("--smoke", action="store_true", help="seconds: one epoch, one seed (synthetic: smoke profile)")
    ap.add_argument("--out", default=None, help="default benchmarks/results/peer.md (peer_ml100k.md)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    import tacr.data
    from tacr.study import DATASET_DEFAULTS, base_config

    ml = args.dataset == "movielens-100k"
    epochs, seeds = args.epochs or (1 if args.smoke else 20 if ml else 2), args.seeds or (3 if ml and not args.smoke else 1)
    batch_size, emb = (256, 16) if ml else (1024, 45)
    out = out_path(args.out, "peer_ml100k" if ml else "peer", args.smoke)
    lines = [f"## tacr's DIN vs deepctr-torch's DIN ({args.dataset})", ""]
    try:
        peer = bool(deepctr())
    except ImportError as exc:
        peer = False
        lines += [f"deepctr-torch cannot be imported ({exc}): install it with `{PEER_INSTALL}`.", ""]
    profile, loader = DATASET_DEFAULTS["movielens-100k"]
    real = base_config(profile, model="din").model_overrides()
    try:
        variants = {"default": (tacr.data.load("movielens-100k", data_dir=args.data_dir), {}),
                    "real": (tacr.data.load("movielens-100k", data_dir=args.data_dir, **loader), real)} if ml else \
            {"synthetic": (tacr.data.load("synthetic", profile="smoke" if args.smoke else "quick"), {})}
    except Exception as exc:  # noqa: BLE001 - data missing: say so in the table
        return write_result(out, lines + [f"Skipped: no data ({exc}); `python -m tacr.data.fetch movielens-100k`."],
                            {"dataset": args.dataset})
    res = {v: compare(d, range(seeds), epochs, batch_size, emb, o, peer) for v, (d, o) in variants.items()}
    lines += [f"BCE, Adam lr 1e-3, batch {batch_size}, {epochs} epoch(s), {seeds} seed(s), deepctr embedding {emb} per "
              f"field{f'; real: loader {loader}, tacr {real}' if ml else ''}. Val-selected test AUC: mean ± 95 % "
              "t-interval half-width over seeds.", ""]
    lines += table(["data", "model", "val-selected test AUC", "train samples/s", "scoring samples/s", "train time / tacr",
                    "parameters"],
                   [[v, name, f"{m['val_selected']:.4f}" + ("" if seeds < 2 else f" ± {(m['ci'][1] - m['ci'][0]) / 2:.4f}"),
                     fmt(m["train_per_s"]), fmt(m["score_per_s"]), f"{m['fit_s'] / r['tacr DIN']['fit_s']:.2f}",
                     f"{m['params']:,}"] for v, r in res.items() for name, m in r.items()])
    others = {v: m for v, r in res.items() for k, m in r.items() if k != "tacr DIN"}
    write_result(out, lines, {"dataset": args.dataset, "epochs": epochs, "seeds": seeds, "results": res,
                              "tacr_minus_peer": {v: res[v]["tacr DIN"]["val_selected"] - o["val_selected"]
                                                  for v, o in others.items()},
                              "peer_over_tacr_train_time": {v: o["fit_s"] / res[v]["tacr DIN"]["fit_s"]
                                                            for v, o in others.items()}})


if __name__ == "__main__":
    main()
