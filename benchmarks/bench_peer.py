"""Peer comparison: tacr's DIN baseline against ``deepctr-torch``'s DIN, same data, batches, epochs.

Both train with binary cross-entropy (deepctr's ``fit``; tacr: a plain BCE loop over
``tacr.models.build('din', ...)``), Adam lr 1e-3 (deepctr's "adam" default), the same batch size,
the same number of epochs on the synthetic quick train split (all rows, shuffled), then score
the test split with the same batch size. Epochs are interleaved (tacr epoch 1, deepctr epoch 1,
tacr epoch 2, ...); samples/s = median over epochs. Test AUC with ``tacr.metrics.auc``.

deepctr's DIN uses its own feature columns: ``item`` and ``cate`` ids (SparseFeat,
``--emb`` dims each, so the concatenated item vector is 2 x emb = 90 = tacr's item_dim by
default), and the history as VarLenSparseFeat ``hist_item``/``hist_cate`` (max length 10,
padding id 0, ``seq_length``), its default attention (64, 16, Dice) and DNN (256, 128).
tacr's DIN: raw 50-d item features + category one-hot -> 3-layer item MLP, local activation
unit (36,), aux user features, linear score (SPEC §3). deepctr-torch is installed with
``pip install --no-deps --target /tmp/bench8_peer deepctr-torch`` (so no other torch is pulled)
and imported from there; if it is missing or fails to import the benchmark says so and skips.

    .venv/bin/python benchmarks/bench_peer.py [--epochs 2] [--batch-size 1024] [--emb 45]
"""
from __future__ import annotations

import argparse
import json
import io
import os
import statistics
import sys
import time
import contextlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, fmt, machine_line, table, write_atomic  # noqa: E402

from tacr.batch import DeviceData  # noqa: E402
from tacr.metrics import auc  # noqa: E402
from tacr.models import build, count_parameters  # noqa: E402

PEER_PATH = os.environ.get("BENCH_PEER_PATH", "/tmp/bench8_peer")


def import_deepctr():
    if PEER_PATH not in sys.path:
        sys.path.insert(0, PEER_PATH)
    import deepctr_torch
    from deepctr_torch.inputs import SparseFeat, VarLenSparseFeat
    from deepctr_torch.models import DIN

    return deepctr_torch.__version__, SparseFeat, VarLenSparseFeat, DIN


def peer_inputs(split, category: np.ndarray) -> tuple[dict, np.ndarray]:
    """deepctr feature dict of one split: ids shifted by 1 (0 = padding)."""
    item = split.item.numpy()
    L = split.hist_item.shape[1]
    n = split.hist_len.numpy()
    real = np.arange(L)[None, :] < n[:, None]
    hi = split.hist_item.numpy()
    x = {"item": item + 1, "cate": category[item] + 1,
         "hist_item": np.where(real, hi + 1, 0), "hist_cate": np.where(real, category[hi] + 1, 0),
         "seq_length": n.astype(np.int64)}
    return x, split.label.numpy()


class Tacr:
    def __init__(self, train, spec, lr, batch_size, seed=0):
        torch.manual_seed(seed)
        self.model, self.train, self.bs = build("din", spec), train, batch_size
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.g = torch.Generator().manual_seed(seed)

    def epoch(self):
        self.model.train()
        perm = torch.randperm(self.train.n, generator=self.g)
        for rows in torch.split(perm, self.bs):
            b = self.train.batch(rows)
            loss = F.binary_cross_entropy_with_logits(self.model(b).score, b.label)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    @torch.inference_mode()
    def score(self, split):
        self.model.eval()
        return torch.cat([self.model(b).score for b in split.iter_batches(self.bs)]).numpy()


class Peer:
    def __init__(self, spec, emb, batch_size, x, y, seed=0):
        _, SparseFeat, VarLenSparseFeat, DIN = import_deepctr()
        I, C = spec.n_items + 1, spec.n_categories + 1
        cols = [SparseFeat("item", I, embedding_dim=emb), SparseFeat("cate", C, embedding_dim=emb),
                VarLenSparseFeat(SparseFeat("hist_item", I, embedding_dim=emb, embedding_name="item"), maxlen=x["hist_item"].shape[1],
                                 length_name="seq_length"),
                VarLenSparseFeat(SparseFeat("hist_cate", C, embedding_dim=emb, embedding_name="cate"), maxlen=x["hist_item"].shape[1],
                                 length_name="seq_length")]
        torch.manual_seed(seed)
        self.model = DIN(cols, ["item", "cate"], device="cpu", seed=seed)
        self.model.compile("adam", "binary_crossentropy")
        self.x, self.y, self.bs = x, y, batch_size

    def epoch(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.model.fit(self.x, self.y, batch_size=self.bs, epochs=1, verbose=0)

    def score(self, x):
        return self.model.predict(x, batch_size=self.bs).reshape(-1)


def main(argv=None, data=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile-name", default="quick")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--emb", type=int, default=45)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(RESULTS / "peer.md"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    head = ["## Peer: DIN of tacr vs deepctr-torch", ""]
    try:
        version = import_deepctr()[0]
    except Exception as exc:  # noqa: BLE001
        text = "\n".join(head + [f"Skipped: deepctr-torch could not be imported from {PEER_PATH} ({exc!r}). "
                                 "Install it with `pip install --no-deps --target /tmp/bench8_peer deepctr-torch`.", ""])
        write_atomic(Path(args.out), text)
        print(text)
        return {"text": text}
    t0 = time.perf_counter()
    if data is None:
        import tacr.data

        data = tacr.data.load("synthetic", profile=args.profile_name)
    dd = DeviceData(data, "cpu")
    train, test = dd["train"], dd["test"]
    cat = data.items.category.astype(np.int64)
    x_tr, y_tr = peer_inputs(train, cat)
    x_te, y_te = peer_inputs(test, cat)
    runners = {"tacr DIN": Tacr(train, data.spec, args.lr, args.batch_size),
               f"deepctr-torch {version} DIN": Peer(data.spec, args.emb, args.batch_size, x_tr, y_tr)}
    fit_s = {k: [] for k in runners}
    for ep in range(args.epochs):
        for k, r in runners.items():
            t = time.perf_counter()
            r.epoch()
            fit_s[k].append(time.perf_counter() - t)
        print(f"peer: epoch {ep + 1}/{args.epochs} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    score_s = {k: [] for k in runners}
    aucs = {}
    for _ in range(3):
        for k, r in runners.items():
            t = time.perf_counter()
            s = r.score(test if isinstance(r, Tacr) else x_te)
            score_s[k].append(time.perf_counter() - t)
            aucs[k] = auc(y_te, s)
    rows = []
    base = statistics.median(fit_s["tacr DIN"]), statistics.median(score_s["tacr DIN"])
    for k, r in runners.items():
        f, s = statistics.median(fit_s[k]), statistics.median(score_s[k])
        rows.append([k, f"{count_parameters(r.model):,}", fmt(train.n / f), fmt(test.n / s), f"{aucs[k]:.4f}",
                     f"{f / base[0]:.2f}", f"{s / base[1]:.2f}"])
    lines = head + [f"Data: synthetic {args.profile_name}; train {train.n:,} rows ({int(y_tr.sum()):,} clicks), test "
                    f"{test.n:,} rows; BCE, Adam lr {args.lr:g}, batch {args.batch_size:,}, {args.epochs} epochs each "
                    f"(interleaved), deepctr embedding {args.emb} per field; {machine_line()}. "
                    "Training samples/s: median over epochs; scoring: median of 3 interleaved passes over test. "
                    f"Oracle test AUC (true click probabilities) {data.info.get('oracle_auc', {}).get('test', float('nan')):.4f}.", ""]
    lines += table(["model", "parameters", "train samples/s", "scoring samples/s", f"test AUC after {args.epochs} epochs",
                    "train time / tacr", "scoring time / tacr"], rows)
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(Path(args.out), text)
    peer = next(k for k in runners if k != "tacr DIN")
    summary = {"peer": peer, "epochs": args.epochs, "auc": aucs,
               "train_time_ratio": statistics.median(fit_s[peer]) / base[0],
               "score_time_ratio": statistics.median(score_s[peer]) / base[1]}
    write_atomic(Path(args.out).with_suffix(".json"), json.dumps(summary, indent=1))
    print(text)
    return {"text": text, **summary}


if __name__ == "__main__":
    main()
