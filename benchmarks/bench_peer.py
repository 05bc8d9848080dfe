"""Peer comparison: tacr's DIN baseline against ``deepctr-torch``'s DIN, same data, batches, epochs.

Two sections (``--dataset``):

**synthetic** (default; ``run_all.py``'s "peer"): both train with binary cross-entropy
(deepctr's ``fit``; tacr: a plain BCE loop over ``tacr.models.build('din', ...)``), Adam lr 1e-3
(deepctr's "adam" default), the same batch size, the same number of epochs on the synthetic
quick train split (all rows, shuffled), then score the test split with the same batch size.
Epochs are interleaved (tacr epoch 1, deepctr epoch 1, tacr epoch 2, ...); samples/s = median
over epochs. Test AUC with ``tacr.metrics.auc``.

**movielens-100k**: the real ML-100K split and protocol of the loader's defaults (rating >= 4 a
click, the last 10 % of the time span test, the 10 % before it validation, L = 10; 81,114 /
10,048 / 8,838 rows; the files are fetched on first use, see ``tacr.data.fetch``). Each neural
model trains ``--seeds`` seeds with BCE, Adam lr 1e-3, batch 256, 20 epochs (all training rows,
reshuffled every epoch) and is scored on validation and test after every epoch; the table gives
the validation-selected test AUC (the test AUC at the epoch of best validation AUC) as mean and
95 % t-interval over seeds, and the mean best-epoch test AUC (the paper's "optimal" metric).
Beside them, fitted on the same training split with the hyper-parameter picked on validation:
item popularity (smoothed item CTR ``(clicks + a p0) / (shown + a)``) and one-hot logistic
regression (scikit-learn; user, item, category, gender, age, occupation; C on validation).
A further column splits the selected epoch's test AUC into the rows of users absent from
training (84 %) and the others. Rows for tacr (``--variants``): its DIN as built by default
(SPEC §3) and "recommended", the two opt-in departures chosen on validation
(``ModelConfig(raw_id_init_std=1e-4)`` and the loader's ``user_id_aux=True``); ``--factors``
runs the factor study (one change at a time, or "a+b", see ``FACTORS``); ``--lr-ablation`` adds
logistic regression on subsets of the fields. deepctr rows (``--peer-variants``): "plain"
(item, category, user fields) and "user" (+ the user id as a SparseFeat).

deepctr's DIN uses its own feature columns: ``item`` and ``cate`` ids (SparseFeat, ``--emb``
dims each) and, on ML-100K, the user fields gender, age, occupation (the same inputs tacr's DIN
gets; "user": and the user id); the history as VarLenSparseFeat ``hist_item``/``hist_cate`` (max length 10, padding id 0,
``seq_length``), its default attention (64, 16, Dice), DNN (256, 128), embedding init N(0, 1e-4)
and L2 1e-6 on embeddings. tacr's DIN: item-id embedding (or raw features) + category one-hot ->
3-layer item MLP, local activation unit (36,), aux user features, linear score (SPEC §3).
deepctr-torch is imported if installed, else from ``$BENCH_PEER_PATH`` (default
``/tmp/bench8_peer``; ``pip install --no-deps --target /tmp/bench8_peer deepctr-torch==0.3.0``
pulls no other torch); if it cannot be imported, the peer rows are skipped with that message.

    .venv/bin/python benchmarks/bench_peer.py [--epochs 2] [--batch-size 1024] [--emb 45]
    .venv/bin/python benchmarks/bench_peer.py --dataset movielens-100k [--seeds 3] [--factors all]
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, fmt, machine_line, stamp, table, write_atomic  # noqa: E402

from tacr.batch import DeviceData  # noqa: E402
from tacr.metrics import auc  # noqa: E402
from tacr.models import build, count_parameters  # noqa: E402

PEER_PATH = os.environ.get("BENCH_PEER_PATH", "/tmp/bench8_peer")
PEER_INSTALL = "pip install --no-deps --target /tmp/bench8_peer deepctr-torch==0.3.0"


def import_deepctr():
    try:
        import deepctr_torch  # noqa: F401
    except ImportError:
        if PEER_PATH not in sys.path:
            sys.path.insert(0, PEER_PATH)
    import deepctr_torch
    from deepctr_torch.inputs import SparseFeat, VarLenSparseFeat
    from deepctr_torch.models import DIN

    return deepctr_torch.__version__, SparseFeat, VarLenSparseFeat, DIN


def peer_inputs(split, category: np.ndarray, user_aux: np.ndarray | None = None,
                aux_names=()) -> tuple[dict, np.ndarray]:
    """deepctr feature dict of one split: ids shifted by 1 (0 = padding); aux codes as they are."""
    item = split.item.numpy()
    L = split.hist_item.shape[1]
    n = split.hist_len.numpy()
    real = np.arange(L)[None, :] < n[:, None]
    hi = split.hist_item.numpy()
    x = {"item": item + 1, "cate": category[item] + 1,
         "hist_item": np.where(real, hi + 1, 0), "hist_cate": np.where(real, category[hi] + 1, 0),
         "seq_length": n.astype(np.int64)}
    if user_aux is not None:
        u = split.user.numpy()
        for j, name in enumerate(aux_names):
            x[f"aux_{name}"] = user_aux[u, j]
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
    def __init__(self, spec, emb, batch_size, x, y, seed=0, aux_sizes=None):
        _, SparseFeat, VarLenSparseFeat, DIN = import_deepctr()
        I, C = spec.n_items + 1, spec.n_categories + 1
        L = x["hist_item"].shape[1]
        cols = [SparseFeat("item", I, embedding_dim=emb), SparseFeat("cate", C, embedding_dim=emb)]
        cols += [SparseFeat(f"aux_{name}", size, embedding_dim=emb) for name, size in (aux_sizes or {}).items()]
        cols += [VarLenSparseFeat(SparseFeat("hist_item", I, embedding_dim=emb, embedding_name="item"), maxlen=L,
                                  length_name="seq_length"),
                 VarLenSparseFeat(SparseFeat("hist_cate", C, embedding_dim=emb, embedding_name="cate"), maxlen=L,
                                  length_name="seq_length")]
        torch.manual_seed(seed)
        self.model = DIN(cols, ["item", "cate"], device="cpu", seed=seed)
        self.model.compile("adam", "binary_crossentropy")
        self.x, self.y, self.bs = x, y, batch_size

    def epoch(self):
        with contextlib.redirect_stdout(io.StringIO()):
            self.model.fit(self.x, self.y, batch_size=self.bs, epochs=1, verbose=0)

    def score(self, x):
        return self.model.predict(x, batch_size=max(self.bs, 4096)).reshape(-1)


def synthetic(args):
    epochs = args.epochs or 2
    batch_size = args.batch_size or 1024
    emb = args.emb or 45
    out = Path(args.out or RESULTS / "peer.md")
    head = ["## Peer: DIN of tacr vs deepctr-torch", ""]
    try:
        version = import_deepctr()[0]
    except Exception as exc:  # noqa: BLE001
        text = "\n".join(head + [f"Skipped: deepctr-torch could not be imported ({exc!r}; also tried {PEER_PATH}). "
                                 f"Install it with `{PEER_INSTALL}`.", ""])
        write_atomic(out, text)
        print(text)
        return {"text": text}
    t0 = time.perf_counter()
    data = args.data
    if data is None:
        import tacr.data

        data = tacr.data.load("synthetic", profile=args.profile_name)
    dd = DeviceData(data, "cpu")
    train, test = dd["train"], dd["test"]
    cat = data.items.category.astype(np.int64)
    x_tr, y_tr = peer_inputs(train, cat)
    x_te, y_te = peer_inputs(test, cat)
    runners = {"tacr DIN": Tacr(train, data.spec, args.lr, batch_size),
               f"deepctr-torch {version} DIN": Peer(data.spec, emb, batch_size, x_tr, y_tr)}
    fit_s = {k: [] for k in runners}
    for ep in range(epochs):
        for k, r in runners.items():
            t = time.perf_counter()
            r.epoch()
            fit_s[k].append(time.perf_counter() - t)
        print(f"peer: epoch {ep + 1}/{epochs} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
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
                    f"{test.n:,} rows; BCE, Adam lr {args.lr:g}, batch {batch_size:,}, {epochs} epochs each "
                    f"(interleaved), deepctr embedding {emb} per field; {machine_line()}. "
                    "Training samples/s: median over epochs; scoring: median of 3 interleaved passes over test. "
                    f"Oracle test AUC (true click probabilities) {data.info.get('oracle_auc', {}).get('test', float('nan')):.4f}.", ""]
    lines += table(["model", "parameters", "train samples/s", "scoring samples/s", f"test AUC after {epochs} epochs",
                    "train time / tacr", "scoring time / tacr"], rows)
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    peer = next(k for k in runners if k != "tacr DIN")
    summary = {"peer": peer, "epochs": epochs, "auc": aucs,
               "train_time_ratio": statistics.median(fit_s[peer]) / base[0],
               "score_time_ratio": statistics.median(score_s[peer]) / base[1], **stamp()}
    write_atomic(out.with_suffix(".json"), json.dumps(summary, indent=1))
    print(text)
    return {"text": text, **summary}


# =============================================================================== ML-100K
#: tacr DIN variants and the factor study. Each entry: ``what`` (the table's words), ``model``
#: (ModelConfig overrides), ``edit`` (changes made to the built model that have no ModelConfig
#: knob; see ``edit_model``), ``train`` (optimiser/schedule changes), ``data`` (loader options).
#: One change at a time against "default"; ``factor("a+b")`` combines entries.
FACTORS: dict[str, dict] = {
    "default": {"what": "SPEC §3 DIN as built by default"},
    # item tower
    "init-1e-4": {"what": "item-id embedding init N(0, 1e-4^2)", "edit": {"init_std": 1e-4}},
    "init-0.01": {"what": "item-id embedding init N(0, 0.01^2)", "edit": {"init_std": 0.01}},
    "init-0.1": {"what": "item-id embedding init N(0, 0.1^2)", "edit": {"init_std": 0.1}},
    "item-bias": {"what": "+ item-id bias in the score", "edit": {"item_bias": True}},
    "no-final-tanh": {"what": "item MLP without its final tanh", "edit": {"final": "none"}},
    "item-layers-1": {"what": "item MLP of 1 layer (tanh)", "model": {"item_layers": 1}},
    "id-16": {"what": "item-id embedding 16-d", "edit": {"raw_id_dim": 16}},
    "no-item-mlp": {"what": "no item MLP: e_i = [82-d id embedding, 8-d category]",
                    "edit": {"no_mlp": True, "raw_id_dim": 82}},
    # inputs
    "user-bias": {"what": "+ user-id bias in the score", "edit": {"user_bias": True}},
    "temporal": {"what": "+ time one-hots in the item embedding", "model": {"temporal": True}},
    "no-category": {"what": "category removed from the item embedding", "edit": {"no_category": True}},
    "no-history": {"what": "history removed (e_h = 0): target item and user fields only",
                   "edit": {"no_history": True}},
    "no-aux": {"what": "user fields removed (e_a = 0)", "edit": {"no_aux": True}},
    "user-aux": {"what": "+ user id as one more user field of the aux embedding (loader's user_id_aux=True)",
                 "data": {"user_id_aux": True}},
    # head, regularisation, schedule
    "mlp-head": {"what": "MLP head (256, 128) instead of the linear score", "edit": {"head": (256, 128)}},
    "wd-1e-5": {"what": "Adam weight decay 1e-5 on every parameter", "train": {"wd": 1e-5}},
    "emb-l2-1e-5": {"what": "L2 1e-5 on the id embeddings", "train": {"emb_l2": 1e-5}},
    "batch-1024": {"what": "batch 1024", "train": {"batch_size": 1024}},
    "tacr-schedule": {"what": "tacr.train's schedule: 30 steps an epoch, lr 0.02 halved every 10 epochs",
                      "train": {"schedule": "tacr"}},
}
FACTORS["recommended"] = {
    "what": "ModelConfig(raw_id_init_std=1e-4) + loader user_id_aux=True (both opt-in; chosen on validation)",
    "model": {"raw_id_init_std": 1e-4}, "data": {"user_id_aux": True}}
#: The rows printed for tacr by default (``--variants``): SPEC's DIN and the recommendation.
VARIANTS = ("default", "recommended")


def factor(name: str) -> dict:
    """A FACTORS entry, or several joined by "+" (their changes merged), e.g. "init-1e-4+item-bias"."""
    parts = name.split("+")
    unknown = [p for p in parts if p not in FACTORS]
    if unknown:
        raise SystemExit(f"unknown factor(s) {unknown}; known: {list(FACTORS)}")
    if len(parts) == 1:
        return FACTORS[name]
    out = {"what": " + ".join(FACTORS[p]["what"].removeprefix("+ ") for p in parts)}
    for key in ("model", "edit", "train", "data"):
        merged = {}
        for p in parts:
            merged |= FACTORS[p].get(key, {})
        if merged:
            out[key] = merged
    return out


class _Zeros(nn.Module):
    """Stands in for the category one-hot layer: tanh(0) = 0, so the category carries nothing."""

    def __init__(self, out_dim: int):
        super().__init__()
        self.out_dim = out_dim

    def forward(self, idx):
        return torch.zeros(idx.shape + (self.out_dim,))


class _NoHistory(nn.Module):
    """Stands in for DIN's activation unit: e_h = 0, weights 0."""

    def forward(self, e_l, inv, e_0, mask):
        return torch.zeros_like(e_0), torch.zeros(mask.shape)


def edit_model(model, spec, edit: dict, n_users: int):
    """Changes without a ModelConfig knob, applied after ``build`` (the factor study only)."""
    ie = model.item_embedding
    if "init_std" in edit:
        nn.init.normal_(ie.raw_id.weight, std=edit["init_std"])
    if edit.get("final") == "none":
        ie.mlp[-1] = nn.Identity()
    if edit.get("no_mlp"):
        ie.mlp = nn.Identity()
    if edit.get("no_category"):
        ie.category = _Zeros(ie.category.out_dim)
    if edit.get("no_history"):
        model.readout = _NoHistory()
    if edit.get("no_aux"):
        model.aux_embedding.linear = None  # AuxEmbedding then returns zeros
    if edit.get("head"):
        dims = [model.sample_dim, *edit["head"]]
        layers = []
        for a, b in zip(dims, dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        model.head = nn.Sequential(*layers, nn.Linear(dims[-1], 1))
    extras = nn.ModuleDict()
    if edit.get("item_bias"):
        extras["item_bias"] = nn.Embedding(spec.n_items, 1)
        nn.init.zeros_(extras["item_bias"].weight)
    if edit.get("user_bias"):
        extras["user_bias"] = nn.Embedding(n_users, 1)
        nn.init.zeros_(extras["user_bias"].weight)
    if len(extras):
        model.extras = extras

        def add_biases(mod, args, out):
            b = args[0]
            if "item_bias" in mod.extras:
                out.score = out.score + mod.extras["item_bias"](b.item).squeeze(-1)
            if "user_bias" in mod.extras:
                out.score = out.score + mod.extras["user_bias"](b.user).squeeze(-1)
            return out

        model.register_forward_hook(add_biases)
    return model


def make_tacr(spec, factor: dict, n_users: int, seed: int | None = None, counts: dict | None = None):
    """tacr's DIN for a factor. With ``seed``/``counts`` (``--trainer-init``) it is built as
    ``tacr.train`` builds its models: each submodule initialised from (seed, its name) and the
    training counts set, so values never seen in training enter as the mean of the seen ones."""
    import tacr.models as tm

    edit = factor.get("edit", {})
    if "raw_id_dim" in edit:
        spec = dataclasses.replace(spec, raw_dim=edit["raw_id_dim"])
    model = build("din", spec, **factor.get("model", {}))
    if seed is not None:
        model = tm.seed_init(model, seed)
    model = edit_model(model, spec, edit, n_users)
    if counts is not None:
        model.set_training_counts(counts)
    return model


def with_user_field(data):
    """``data`` with the user id as one more aux field (code 1 + user index; 0 stays "unknown")."""
    n = data.n_users
    return dataclasses.replace(data, user_aux=np.concatenate([data.user_aux, np.arange(1, n + 1)[:, None]], axis=1),
                               aux_sizes=tuple(data.aux_sizes) + (n + 1,), aux_names=tuple(data.aux_names) + ("user_id",))


def device_data_for(data, factor: dict, memo: dict, reload=None):
    """The data a factor trains on: ``data``, or the loader's output with the factor's loader
    options (``reload(**options)``; without a loader, ``user_id_aux`` is applied to ``data``)."""
    opts = factor.get("data", {})
    key = json.dumps(opts, sort_keys=True)
    if key not in memo:
        if reload is not None:
            d = reload(**opts)
        elif set(opts) <= {"user_id_aux"}:
            d = with_user_field(data) if opts.get("user_id_aux") else data
        else:
            raise ValueError(f"data options {opts} need the loader")
        memo[key] = DeviceData(d, "cpu")
    return memo[key]


def train_tacr(dd, factor: dict, seed: int, epochs: int, batch_size: int, lr: float, n_users: int,
               trainer_init: bool | str = False) -> dict:
    """BCE on all training rows, reshuffled per epoch; valid/test AUC after every epoch."""
    opts = {"wd": 0.0, "emb_l2": 0.0, "batch_size": batch_size, "lr": lr, "schedule": "peer"} | factor.get("train", {})
    train, valid, test = dd["train"], dd["valid"], dd["test"]
    halve_every = None
    if opts["schedule"] == "tacr":  # tacr.train's pointwise schedule: 30 steps an epoch, lr 0.02 halved every 10
        opts["batch_size"], opts["lr"], halve_every = math.ceil(train.n / 30), 0.02, 10
    torch.manual_seed(seed)
    if trainer_init == "seed":  # per-submodule seeded init only, no unseen-value fallback
        model = make_tacr(dd.spec, factor, n_users, seed)
    elif trainer_init:
        model = make_tacr(dd.spec, factor, n_users, seed, dd.training_counts())
    else:
        model = make_tacr(dd.spec, factor, n_users)
    emb = [p for n, p in model.named_parameters() if "raw_id" in n or n.startswith("extras")]
    opt = torch.optim.Adam(model.parameters(), lr=opts["lr"], weight_decay=opts["wd"])
    g = torch.Generator().manual_seed(seed)
    y_valid, y_test = valid.label.numpy(), test.label.numpy()
    new = new_user_rows(test, train)
    curve, fit_s = [], []
    for ep in range(1, epochs + 1):
        if halve_every:
            for group in opt.param_groups:
                group["lr"] = opts["lr"] * 0.5 ** ((ep - 1) // halve_every)
        model.train()
        t = time.perf_counter()
        for rows in torch.split(torch.randperm(train.n, generator=g), opts["batch_size"]):
            b = train.batch(rows)
            loss = F.binary_cross_entropy_with_logits(model(b).score, b.label)
            if opts["emb_l2"]:
                loss = loss + opts["emb_l2"] * sum((p ** 2).sum() for p in emb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        fit_s.append(time.perf_counter() - t)
        curve.append((ep, auc(y_valid, _tacr_scores(model, valid)), *_test_aucs(y_test, _tacr_scores(model, test), new)))
    return {"curve": curve, "fit_s": fit_s, "params": count_parameters(model), "n_train": train.n}


def new_user_rows(split, train) -> np.ndarray:
    """Rows of ``split`` whose user has no row in ``train``."""
    return ~np.isin(np.asarray(split.user), np.asarray(train.user))


def _test_aucs(y, scores, new) -> tuple[float, float, float]:
    """Test AUC over all rows, over the rows of users absent from training, over the others."""
    return auc(y, scores), auc(y[new], scores[new]), auc(y[~new], scores[~new])


@torch.no_grad()
def _tacr_scores(model, split, batch_size: int = 8192) -> np.ndarray:
    model.eval()
    return torch.cat([model(b).score for b in split.iter_batches(batch_size)]).numpy()


def train_peer(data, dd, seed: int, epochs: int, batch_size: int, emb: int, user: bool = False) -> dict:
    """deepctr's DIN with item, category, the user fields (and the user id if ``user``)."""
    if user:  # the same coding as the loader's user_id_aux=True
        data = with_user_field(data)
    cat = data.items.category.astype(np.int64)
    aux = {name: int(s) for name, s in zip(data.aux_names, data.aux_sizes)}
    xs = {k: peer_inputs(dd[k], cat, data.user_aux, data.aux_names) for k in ("train", "valid", "test")}
    peer = Peer(data.spec, emb, batch_size, *xs["train"], seed=seed, aux_sizes=aux)
    curve, fit_s = [], []
    for ep in range(1, epochs + 1):
        t = time.perf_counter()
        peer.epoch()
        fit_s.append(time.perf_counter() - t)
        curve.append((ep, auc(xs["valid"][1], peer.score(xs["valid"][0])),
                      *_test_aucs(xs["test"][1], peer.score(xs["test"][0]), new_user_rows(dd["test"], dd["train"]))))
    return {"curve": curve, "fit_s": fit_s, "params": count_parameters(peer.model), "n_train": len(xs["train"][1])}


def popularity(data) -> dict:
    """Smoothed item CTR ``(clicks + a p0) / (shown + a)`` with a picked on validation."""
    tr = data.train
    n = np.bincount(tr.item, minlength=len(data.items)).astype(float)
    c = np.bincount(tr.item, weights=tr.label, minlength=len(data.items))
    p0 = tr.label.mean()
    best = None
    for a in (0.3, 1, 3, 10, 30, 100, 300):
        score = (c + a * p0) / (n + a)
        v = auc(data.valid.label, score[data.valid.item])
        if best is None or v > best[1]:
            best = (a, v, _test_aucs(data.test.label, score[data.test.item], new_user_rows(data.test, tr)))
    return {"valid_auc": best[1], "test_auc": best[2][0], "test_new_users": best[2][1], "test_known_users": best[2][2],
            "param": f"a = {best[0]:g}"}


def onehot_lr(data, fields=None) -> dict:
    """Logistic regression on one-hot fields (default: user, item, category and every user
    field); C picked on validation."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    avail = {"user": (lambda s: s.user, data.n_users), "item": (lambda s: s.item, len(data.items)),
             "category": (lambda s: data.items.category[s.item], int(data.items.category.max()) + 1)}
    for j, name in enumerate(data.aux_names):
        avail[name] = (lambda s, j=j: data.user_aux[s.user, j], int(data.aux_sizes[j]))
    fields = list(avail) if fields is None else list(fields)
    sizes = [avail[f][1] for f in fields]
    offsets = np.cumsum([0, *sizes[:-1]])

    def design(s):
        idx = np.stack([np.asarray(avail[f][0](s), dtype=np.int64) + o for f, o in zip(fields, offsets)], axis=1)
        rows = np.repeat(np.arange(len(s)), idx.shape[1])
        return sp.csr_matrix((np.ones(idx.size), (rows, idx.ravel())), shape=(len(s), sum(sizes)))

    X = {k: design(s) for k, s in data.splits.items()}
    best = None
    for C in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        m = LogisticRegression(C=C, max_iter=2000).fit(X["train"], data.train.label)
        v = auc(data.valid.label, m.decision_function(X["valid"]))
        if best is None or v > best[1]:
            best = (C, v, _test_aucs(data.test.label, m.decision_function(X["test"]), new_user_rows(data.test, data.train)))
    return {"valid_auc": best[1], "test_auc": best[2][0], "test_new_users": best[2][1], "test_known_users": best[2][2],
            "param": f"C = {best[0]:g}"}


def summary(runs: list[dict]) -> dict:
    from scipy import stats

    sel = [max(r["curve"], key=lambda e: e[1]) for r in runs]  # (epoch, valid, test) at best validation
    vals = np.array([e[2] for e in sel])
    n = len(vals)
    hw = float(stats.t.ppf(0.975, n - 1) * vals.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    split = {}
    if all(len(e) >= 5 for e in sel):  # AUC on the test rows of users absent from / present in training
        split = {"new_users": float(np.mean([e[3] for e in sel])), "known_users": float(np.mean([e[4] for e in sel]))}
    return split | {"val_selected": float(vals.mean()), "hw": hw, "per_seed": vals.tolist(),
            "epochs": [e[0] for e in sel], "valid": float(np.mean([e[1] for e in sel])),
            "best_epoch": float(np.mean([max(e[2] for e in r["curve"]) for r in runs])),
            "samples_s": float(np.median([r["n_train"] / s for r in runs for s in r["fit_s"]])),
            "params": runs[0]["params"]}


def movielens_100k(args):
    import tacr.data

    epochs, batch_size, emb = args.epochs or 20, args.batch_size or 256, args.emb or 16
    out = Path(args.out or RESULTS / "peer_ml100k.md")
    t0 = time.perf_counter()
    reload = None if args.data is not None else (
        lambda **opts: tacr.data.load("movielens-100k", data_dir=args.data_dir, **opts))
    data = args.data if args.data is not None else reload()
    dd = DeviceData(data, "cpu")
    dd_memo = {json.dumps({}): dd}
    seeds = list(range(args.seeds))
    names = list(VARIANTS if args.variants is None else [v for v in args.variants.split(",") if v])
    if args.factors:
        names += [f for f in (FACTORS if args.factors == "all" else args.factors.split(",")) if f not in names]
    chosen = {n: factor(n) for n in names}
    results, lines_log = {}, []

    def log(msg):
        print(f"peer-ml100k [{time.perf_counter() - t0:.0f} s] {msg}", file=sys.stderr, flush=True)

    results["item popularity"] = popularity(data)
    log(f"popularity {results['item popularity']}")
    results["one-hot logistic regression"] = onehot_lr(data)
    log(f"logistic regression {results['one-hot logistic regression']}")
    ablation = {}
    if args.lr_ablation:
        aux = list(data.aux_names)
        for fields in (["item"], ["item", "category"], ["item", *aux], ["item", "user"], ["item", "user", *aux],
                       ["category", *aux], ["user"]):
            ablation[" + ".join(fields)] = onehot_lr(data, fields)
            log(f"logistic regression on {fields}: {ablation[' + '.join(fields)]}")
        results["logistic regression ablation"] = ablation
    runs = {}
    peer_note = ""
    if not args.no_peer:
        try:
            version = import_deepctr()[0]
            for variant in args.peer_variants.split(","):
                user = variant == "user"
                key = f"deepctr-torch {version} DIN (emb {emb}; item, category, user fields{', user id' if user else ''})"
                runs[key] = []
                for s in seeds:
                    runs[key].append(train_peer(data, dd, s, epochs, batch_size, emb, user=user))
                    log(f"{key} seed {s}: {summary(runs[key][-1:])['val_selected']:.4f}")
        except Exception as exc:  # noqa: BLE001
            peer_note = (f"deepctr-torch skipped: it could not be imported ({exc!r}; also tried {PEER_PATH}); "
                         f"install it with `{PEER_INSTALL}`.")
            log(peer_note)
    for name in names:
        how = {"full": " (trainer init)", "seed": " (trainer seeding, no unseen-value fallback)"}.get(args.trainer_init, "")
        key = f"tacr DIN{how}: {name} ({chosen[name]['what']})"
        runs[key] = []
        for s in seeds:
            runs[key].append(train_tacr(device_data_for(data, chosen[name], dd_memo, reload), chosen[name], s, epochs,
                                        batch_size, 1e-3, data.n_users, args.trainer_init))
            log(f"{key} seed {s}: {summary(runs[key][-1:])['val_selected']:.4f}")
    rows = []
    for key, r in runs.items():
        sm = summary(r)
        results[key] = sm
        rows.append([key, f"{sm['val_selected']:.4f} ± {sm['hw']:.4f}", f"{sm['best_epoch']:.4f}", f"{sm['valid']:.4f}",
                     f"{sm.get('new_users', float('nan')):.4f} / {sm.get('known_users', float('nan')):.4f}",
                     ",".join(map(str, sm["epochs"])), fmt(sm["samples_s"]), f"{sm['params']:,}"])
    for key in ("item popularity", "one-hot logistic regression"):
        b = results[key]
        rows.append([f"{key} ({b['param']}, on validation)", f"{b['test_auc']:.4f}", "", f"{b['valid_auc']:.4f}",
                     f"{b['test_new_users']:.4f} / {b['test_known_users']:.4f}", "", "", ""])
    head = ["## Peer on MovieLens-100K: DIN of tacr vs deepctr-torch, with sanity baselines", ""]
    lines = head + [
        f"Data: movielens-100k, loader defaults (rating >= 4 a click; last 10 % of the time span test, the 10 % "
        f"before it validation; L = 10): train {len(data.train):,} / valid {len(data.valid):,} / test "
        f"{len(data.test):,} rows; {np.mean(~np.isin(data.test.user, data.train.user)):.0%} of test rows are users "
        f"absent from training. Neural models: BCE, Adam lr 1e-3, batch {batch_size}, {epochs} epochs, seeds "
        f"{seeds}; deepctr embedding {emb} per field. Val-selected = test AUC at the epoch of best validation AUC, "
        f"mean ± 95 % t-interval over seeds; best epoch = mean over seeds of the best test AUC. {machine_line()}.",
        ""]
    if peer_note:
        lines += [peer_note, ""]
    lines += table(["model", "val-selected test AUC", "best-epoch test AUC", "valid AUC (selected)",
                    "test AUC new / known users (selected)", "selected epochs", "train samples/s", "parameters"], rows)
    if ablation:
        lines += ["", "One-hot logistic regression on subsets of the fields (C picked on validation):", ""]
        lines += table(["fields", "test AUC", "valid AUC", "test AUC new / known users", "C"],
                       [[k, f"{v['test_auc']:.4f}", f"{v['valid_auc']:.4f}",
                         f"{v['test_new_users']:.4f} / {v['test_known_users']:.4f}", v["param"][4:]]
                        for k, v in ablation.items()])
    lines += ["", f"Benchmark time {time.perf_counter() - t0:.0f} s.", ""]
    text = "\n".join(lines)
    write_atomic(out, text)
    write_atomic(out.with_suffix(".json"), json.dumps({"results": results, "runs": runs, **stamp()}, indent=1))
    print(text)
    return {"text": text, "results": results}


def main(argv=None, data=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=("synthetic", "movielens-100k"), default="synthetic")
    ap.add_argument("--profile-name", default="quick", help="synthetic profile")
    ap.add_argument("--data-dir", default=None, help="movielens-100k folder (default: the loader's, fetched on first use)")
    ap.add_argument("--epochs", type=int, default=None, help="default 2 (synthetic), 20 (movielens-100k)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 1024 (synthetic), 256 (movielens-100k)")
    ap.add_argument("--emb", type=int, default=None, help="deepctr embedding per field: 45 (synthetic), 16 (ml-100k)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seeds", type=int, default=3, help="movielens-100k: seeds per model")
    ap.add_argument("--variants", default=None, help=f"movielens-100k: tacr rows, comma-separated names of FACTORS "
                                                     f"(default {','.join(VARIANTS)})")
    ap.add_argument("--factors", default=None, help="movielens-100k: 'all' or comma-separated FACTORS to add "
                                                    "(a+b: both changes at once)")
    ap.add_argument("--no-peer", action="store_true", help="movielens-100k: skip deepctr-torch")
    ap.add_argument("--peer-variants", default="plain", help="movielens-100k: deepctr rows, comma-separated: plain "
                                                            "(item, category, user fields), user (+ user id)")
    ap.add_argument("--trainer-init", nargs="?", const="full", default=None, choices=("full", "seed"),
                    help="movielens-100k: build tacr's models as tacr.train does: per-submodule seeded init and "
                         "unseen values as the mean of the seen ones ('full', the default), or the init only ('seed')")
    ap.add_argument("--lr-ablation", action="store_true", help="movielens-100k: logistic regression on field subsets")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    args.data = data
    if args.threads:
        torch.set_num_threads(args.threads)
    return synthetic(args) if args.dataset == "synthetic" else movielens_100k(args)


if __name__ == "__main__":
    main()
