"""tacr.models against independent computations (docs/method.md §2-3)."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tacr.batch import DeviceData
from tacr.data.schema import Items, assemble
from tacr.models import (GRU_KERNELS, MODEL_NAMES, PRESETS, ModelConfig, MultiOneHotLinear, OneHotLinear, build,
                         count_parameters, run_gru, seed_init, TimeAwareAttention, relative_time_encoding)
from tacr.train import TrainConfig

DAY = 86400
AUX = (3, 8)


def make_data(raw: bool = True, n_users: int = 30, n_items: int = 50, n_cat: int = 6, days: int = 120,
              views_per_user: int = 14, aux_sizes=AUX, seed: int = 0):
    """A small CTRData: page views of 2-5 items at one time (so histories repeat), CTR ~0.3,
    spread over ``days`` days so every time feature varies."""
    rng = np.random.default_rng(seed)
    t_start = int(pd.Timestamp("2019-01-01", tz="UTC").timestamp())
    rows = []
    for u in range(n_users):
        for t in np.sort(rng.integers(t_start, t_start + days * DAY, views_per_user)):
            for it in rng.choice(n_items, rng.integers(2, 6), replace=False):
                rows.append((u, int(it), int(t), int(rng.random() < 0.3)))
    log = pd.DataFrame(rows, columns=["user", "item", "time", "label"])
    items = Items(category=rng.integers(0, n_cat, n_items).astype(np.int64),
                  raw=rng.normal(size=(n_items, 50)).astype(np.float32) if raw else None)
    user_aux = np.stack([rng.integers(0, s, n_users) for s in aux_sizes], axis=1) if aux_sizes else np.zeros((n_users, 0), np.int64)
    return assemble("fixture", log, items, user_aux, aux_sizes, valid_start=t_start + (days - 30) * DAY,
                    test_start=t_start + (days - 15) * DAY)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return make_data(raw=True)


@pytest.fixture(scope="module")
def data_noraw():
    return make_data(raw=False, seed=1)


@pytest.fixture(scope="module")
def dev(data):
    return DeviceData(data, "cpu")


def train_batch(dev, n=None):
    """n train rows drawn without replacement (fixed seed), so early and late histories mix."""
    split = dev["train"]
    rows = torch.randperm(split.n, generator=torch.Generator().manual_seed(0))
    return split.batch(rows if n is None else rows[:n])


def make_model(name, spec, **kw):
    torch.manual_seed(0)
    return build(name, spec, **kw).eval()


# ------------------------------------------------------------------------- Eq. (3)
def test_relative_time_encoding_float64_vs_numpy():
    rng = np.random.default_rng(0)
    dt = np.concatenate([rng.integers(0, 30_000_000, 2000), [0, 1, 2**24 + 1, 29_999_999]])
    d = 90
    j = np.arange(d // 2)
    ang = dt[:, None].astype(np.float64) / 10000.0 ** (2 * j / d)
    ref = np.empty((len(dt), d))
    ref[:, 0::2], ref[:, 1::2] = np.sin(ang), np.cos(ang)
    got = relative_time_encoding(torch.as_tensor(dt), d)
    assert got.dtype == torch.float32 and got.shape == (len(dt), d)
    assert np.abs(got.numpy() - ref).max() < 1e-6
    # the same formula with a float32 argument is O(1) wrong at dt ~ 3e7 s (why docs/method.md §2.3 computes it in float64)
    inv32 = torch.as_tensor(1.0 / 10000.0 ** (2 * j / d), dtype=torch.float32)
    ang32 = torch.as_tensor(dt, dtype=torch.float32)[:, None] * inv32
    bad = torch.stack((ang32.sin(), ang32.cos()), -1).flatten(-2).numpy()
    assert np.abs(bad - ref).max() > 0.5


def test_attention_time_term_equals_interleaved_encoding():
    """TimeAwareAttention multiplies sin and cos halves by W_t's even and odd columns: the same
    as W_t applied to the interleaved Eq. (3) vector (and time_phase is its two halves)."""
    from tacr.models.attention import time_phase

    g = torch.Generator().manual_seed(3)
    dt = torch.randint(0, 20_000_000, (64, 5), generator=g)
    s, c = time_phase(dt, 90)
    enc = relative_time_encoding(dt, 90)
    torch.testing.assert_close(enc[..., 0::2], s, atol=0, rtol=0)
    torch.testing.assert_close(enc[..., 1::2], c, atol=0, rtol=0)
    torch.manual_seed(0)
    att = TimeAwareAttention(hidden=16, item_dim=12, width=10, time_dim=90)
    states, e_0 = torch.randn(64, 5, 16, generator=g), torch.randn(64, 12, generator=g)
    mask = torch.arange(5) < torch.randint(0, 6, (64,), generator=g)[:, None]
    e_h, a = att(states, None, e_0, dt, mask)
    # direct Eq. (4)-(5) with the interleaved encoding, dense over (B, L)
    pre = att.W_h(states) + att.W_i(e_0)[:, None] + att.W_t(enc)
    u = att.v(torch.tanh(pre)).squeeze(-1).masked_fill(~mask, -torch.inf)
    ref_a = torch.nan_to_num(torch.softmax(u, -1))
    torch.testing.assert_close(a, ref_a, atol=1e-6, rtol=0)
    torch.testing.assert_close(e_h, (ref_a[..., None] * states).sum(1), atol=1e-5, rtol=0)


def test_one_pass_over_concatenated_batches_equals_separate_passes(data, dev):
    """Batch.cat + ModelOutput.split (used by the trainer and the samplers) change nothing."""
    model = make_model("time_aware", data.spec)
    a, b = train_batch(dev, 120), dev["train"].batch(torch.arange(200, 290))
    with torch.no_grad():
        out_a, out_b = model(a.cat(b)).split([len(a), len(b)])
        for got, ref in ((out_a, model(a)), (out_b, model(b))):
            for f in ("score", "e_i", "e_h", "e_s", "weights"):
                torch.testing.assert_close(getattr(got, f), getattr(ref, f), atol=1e-5, rtol=0)
    assert torch.equal(a.cat(b).rows, torch.cat([a.rows, b.rows]))


# ------------------------------------------------------------------------- one-hot layers, Eq. (1)
def test_one_hot_linear_equals_explicit_linear():
    torch.manual_seed(0)
    layer = OneHotLinear(13, 8)
    lin = nn.Linear(13, 8)
    lin.weight.data.copy_(layer.weight.data.T)
    lin.bias.data.copy_(layer.bias.data)
    idx = torch.randint(0, 13, (5, 7))
    torch.testing.assert_close(layer(idx), lin(F.one_hot(idx, 13).float()), atol=1e-6, rtol=0)

    multi = MultiOneHotLinear((3, 8, 2), 8)
    lin = nn.Linear(13, 8)
    lin.weight.data.copy_(multi.weight.data.T)
    lin.bias.data.copy_(multi.bias.data)
    codes = torch.stack([torch.randint(0, s, (40,)) for s in (3, 8, 2)], 1)
    onehot = torch.cat([F.one_hot(codes[:, k], s) for k, s in enumerate((3, 8, 2))], 1).float()
    torch.testing.assert_close(multi(codes), lin(onehot), atol=1e-6, rtol=0)


def test_item_embedding_equals_explicit_eq1(data, dev):
    model = make_model("time_aware", data.spec)
    emb = model.item_embedding
    item = torch.as_tensor(data.train.item[:64])
    t = torch.as_tensor(data.train.time[:64])
    tf = dev.time_features(t).numpy()
    W = lambda layer: layer.weight.detach().numpy()  # noqa: E731  (n, 8) = Linear weight^T
    b = lambda layer: layer.bias.detach().numpy()  # noqa: E731
    cat = data.items.category[item.numpy()]
    parts = [data.items.raw[item.numpy()], np.tanh(np.eye(data.spec.n_categories)[cat] @ W(emb.category) + b(emb.category))]
    for k, (n, layer) in enumerate(zip(data.spec.time_sizes, emb.time)):
        parts.append(np.tanh(np.eye(n)[tf[:, k]] @ W(layer) + b(layer)))
    x = np.concatenate(parts, 1)
    assert x.shape[1] == 90
    lin = [m for m in emb.mlp if isinstance(m, nn.Linear)]
    for k, m in enumerate(lin):
        x = x @ m.weight.detach().numpy().T + m.bias.detach().numpy()
        x = np.tanh(x) if k == len(lin) - 1 else np.maximum(x, 0)
    got = model.embed_items(dev, item, t).detach().numpy()
    assert np.abs(got - x).max() < 1e-5


# ------------------------------------------------------------------------- Eq. (2)-(6) vs numpy
def np_gru(gru: nn.GRU, x: np.ndarray) -> np.ndarray:
    """nn.GRU's equations (r, z, n gates; reset after the hidden matmul), all layers, float64."""
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    out = x.astype(np.float64)
    for layer in range(gru.num_layers):
        g = lambda n: getattr(gru, f"{n}_l{layer}").detach().double().numpy()  # noqa: E731
        Wi, Wh, bi, bh = g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh")
        H = Wh.shape[1]
        h = np.zeros((out.shape[0], H))
        states = []
        for step in range(out.shape[1]):
            gi, gh = out[:, step] @ Wi.T + bi, h @ Wh.T + bh
            r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
            states.append(h)
        out = np.stack(states, 1)
    return out


def np_time_encoding(batch, dim):
    """Eq. (3) in float64 numpy: (B, L, dim), sin at even and cos at odd indices."""
    dt = (batch.time[:, None] - batch.hist_time).numpy().astype(np.float64)
    ang = dt[..., None] / 10000.0 ** (2 * np.arange(dim // 2) / dim)
    e_t = np.empty(dt.shape + (dim,))
    e_t[..., 0::2], e_t[..., 1::2] = np.sin(ang), np.cos(ang)
    return e_t


def np_reference(model, dev, batch):
    """e_h and score from Eq. (2)-(6) in numpy, using the module's weights and item embeddings."""
    cfg = model.cfg
    with torch.no_grad():
        e0 = model.embed_items(dev, batch.item, batch.time).double().numpy()  # (B, d)
        el = model.embed_items(dev, batch.hist_item, batch.hist_time).double().numpy()  # (B, L, d)
        e_a = model.aux_embedding(dev.user_aux[batch.user]).double().numpy()
    n = batch.hist_len.numpy()
    L = el.shape[1]
    mask = np.arange(L)[None] < n[:, None]
    P = lambda m: m.weight.detach().double().numpy()  # noqa: E731
    if cfg.history == "din":
        fc1 = model.readout.fc1
        blocks, W1 = [el, np.broadcast_to(e0[:, None], el.shape), el - e0[:, None], el * e0[:, None]], P(fc1)
        if cfg.time_attention:  # DIN given relative time: the interleaved Eq. (3) encoding as a fifth block
            blocks.append(np_time_encoding(batch, cfg.time_dim))
            W1 = np.concatenate([W1, P(model.readout.W_t)], 1)
        hdn = np.maximum(np.concatenate(blocks, -1) @ W1.T + fc1.bias.detach().double().numpy(), 0)
        out = model.readout.rest[-1]
        w = (hdn @ P(out).T + out.bias.detach().double().numpy())[..., 0] * mask
        e_h = (w[..., None] * el).sum(1)
    else:
        h = np_gru(model.gru, el)  # (B, L, H), padded inputs included: causal, so harmless
        if cfg.history == "last":
            e_h = np.where(n[:, None] > 0, h[np.arange(len(n)), np.maximum(n - 1, 0)], 0.0)
        else:
            att = model.readout
            pre = h @ P(att.W_h).T + (e0 @ P(att.W_i).T)[:, None]
            if cfg.time_attention:
                pre = pre + np_time_encoding(batch, cfg.time_dim) @ P(att.W_t).T
            u = (np.tanh(pre) @ P(att.v).T)[..., 0]
            u = np.where(mask, u, -np.inf)
            a = np.exp(u - np.where(mask.any(1), u.max(1), 0)[:, None])
            a = np.where(mask, a, 0)
            a = a / np.maximum(a.sum(1, keepdims=True), 1e-300)
            e_h = (a[..., None] * h).sum(1)
    e_s = np.concatenate([e_h, e0, e_a], 1)
    score = e_s @ P(model.head)[0] + model.head.bias.item()
    return e_h, score


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_vs_numpy_reference(name, data, dev):
    model = make_model(name, data.spec)
    batch = train_batch(dev, 300)
    assert (batch.hist_len == 0).any() and (batch.hist_len == batch.hist_item.shape[1]).any()
    e_h, score = np_reference(model, dev, batch)
    for dedup in (False, True):
        with torch.no_grad():
            out = model(batch, dedup=dedup)
        assert np.abs(out.e_h.numpy() - e_h).max() < 2e-5, (name, dedup)
        assert np.abs(out.score.numpy() - score).max() < 2e-5, (name, dedup)


# ------------------------------------------------------------------------- masking
@pytest.mark.parametrize("name", ["time_aware", "gru_attention", "din"])
def test_attention_masking_and_empty_history(name, data, dev):
    model = make_model(name, data.spec)
    batch = train_batch(dev, 300)
    with torch.no_grad():
        out = model(batch, dedup=False)
    mask = torch.arange(batch.hist_item.shape[1]) < batch.hist_len[:, None]
    assert torch.all(out.weights[~mask] == 0)  # exactly 0 on padding
    empty = batch.hist_len == 0
    assert torch.all(out.e_h[empty] == 0) and torch.isfinite(out.score).all()
    if name != "din":  # softmax: sums to 1 over real positions
        torch.testing.assert_close(out.weights[~empty].sum(1), torch.ones(int((~empty).sum())), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_padded_content_does_not_matter(name, data, dev):
    model = make_model(name, data.spec)
    batch = train_batch(dev, 300)
    pad = torch.arange(batch.hist_item.shape[1]) >= batch.hist_len[:, None]
    g = torch.Generator().manual_seed(1)
    junk = replace(batch,
                   hist_item=torch.where(pad, torch.randint(0, data.spec.n_items, pad.shape, generator=g), batch.hist_item),
                   hist_time=torch.where(pad, torch.randint(0, 2**31, pad.shape, generator=g), batch.hist_time))
    for dedup in (False, True):
        with torch.no_grad():
            a, b = model(batch, dedup=dedup).score, model(junk, dedup=dedup).score
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


# ------------------------------------------------------------------------- dedup == plain
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_dedup_equals_plain(name, data, dev):
    model = make_model(name, data.spec)
    base = train_batch(dev, 200)
    g = torch.Generator().manual_seed(2)
    rep = base.repeat(4)  # every history 4+ times, plus other target items with the same history
    batch = rep.with_item(torch.randint(0, data.spec.n_items, (len(rep),), generator=g))
    n_hist = len(torch.unique(batch.hist_id))
    assert n_hist < len(batch) / 6
    items_off = build(name, data.spec, dedup_items=False).eval()
    items_off.load_state_dict(model.state_dict())
    with torch.no_grad():
        plain = model(batch, dedup=False)
        for fast in (model(batch, dedup=True), items_off(batch, dedup=True)):
            for f in ("score", "e_i", "e_h", "e_s"):
                torch.testing.assert_close(getattr(fast, f), getattr(plain, f), atol=1e-5, rtol=0)


# ------------------------------------------------------------------------- parameter counts
def test_parameter_counts(data, data_noraw):
    spec = data.spec
    C, A, I = spec.n_categories, sum(spec.aux_sizes), data_noraw.spec.n_items
    onehot = lambda n: n * 8 + 8  # noqa: E731  Linear(n, 8)
    lin = lambda i, o: i * o + o  # noqa: E731
    time_oh = sum(onehot(n) for n in (12, 7, 31, 24))  # 74*8 + 4*8 = 624
    mlp = lambda i: lin(i, 90) + 2 * lin(90, 90)  # noqa: E731  F: three 90-wide layers
    gru = 2 * 3 * (90 * 90 + 90 * 90 + 90 + 90)  # 2 layers x 3 gates x (W_i, W_h, b_i, b_h) = 98,280
    attn = 90 * 90 + 90 * 90 + 90  # W_h, W_i, v (no biases, Eq. 4)
    w_t = 90 * 90
    din = lin(4 * 90, 36) + lin(36, 1)
    tail = onehot(A) + lin(90 + 90 + 8, 1)  # aux Linear(sum aux, 8) + score Linear(188, 1)
    base = onehot(C) + tail
    expected = {
        "time_aware": base + time_oh + mlp(50 + 8 + 32) + gru + attn + w_t,
        "gru": base + mlp(50 + 8) + gru,
        "din": base + mlp(50 + 8) + din,
        "gru_attention": base + mlp(50 + 8) + gru + attn,
        "din_time": base + time_oh + mlp(50 + 8 + 32) + din,
        "din_time_dt": base + time_oh + mlp(50 + 8 + 32) + din + 90 * 36,  # + DIN's W_t block (no bias)
        "time_aware_no_dt": base + time_oh + mlp(50 + 8 + 32) + gru + attn,
    }
    assert expected["time_aware"] == 8 * C + 8 + 8 * A + 8 + 189 + 624 + 24_570 + 98_280 + 24_390
    for name in MODEL_NAMES:
        n = count_parameters(build(name, spec))
        print(f"{name:14s} {n:>9,d} parameters (C={C}, sum aux={A})")
        assert n == expected[name], name
        # without raw features: + a learned 50-d id embedding per item
        n_noraw = count_parameters(build(name, data_noraw.spec))
        assert n_noraw == expected[name] - onehot(C) + onehot(data_noraw.spec.n_categories) + I * 50, name


# ------------------------------------------------------------------------- time dependence
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_only_time_aware_uses_time(name, data, dev):
    model = make_model(name, data.spec)
    batch = train_batch(dev, 300)
    g = torch.Generator().manual_seed(3)
    shift = lambda t: t + torch.randint(0, 90 * DAY, t.shape, generator=g)  # noqa: E731
    moved = replace(batch, time=shift(batch.time), hist_time=shift(batch.hist_time))
    with torch.no_grad():
        a, b = model(batch).score, model(moved).score
    if PRESETS[name]["temporal"] or PRESETS[name]["time_attention"]:  # the time-aware model and the ablation rows
        assert (a - b).abs().max() > 1e-3
    else:
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


# ------------------------------------------------------------------------- gradients, raw features
@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_gradients_reach_every_parameter(name, raw, data, data_noraw):
    d = data if raw else data_noraw
    dv = DeviceData(d, "cpu")
    torch.manual_seed(0)
    model = build(name, d.spec)
    assert (model.item_embedding.raw_id is None) == raw
    out = model(train_batch(dv, 400))
    assert out.score.shape == (400,) and out.e_i.shape == (400, 90)
    assert out.e_s.shape == (400, 188) and out.e_h.shape == (400, 90)
    F.binary_cross_entropy_with_logits(out.score, train_batch(dv, 400).label).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


def test_raw_features_are_used(data):
    d2 = make_data(raw=True)
    d2.items.raw = d2.items.raw + 1.0
    model = make_model("time_aware", data.spec)
    with torch.no_grad():
        a = model(train_batch(DeviceData(data, "cpu"), 100)).score
        b = model(train_batch(DeviceData(d2, "cpu"), 100)).score
    assert (a - b).abs().max() > 1e-4


def test_no_aux_fields():
    d = make_data(aux_sizes=(), n_users=10, views_per_user=8)
    model = build("time_aware", d.spec)
    out = model(train_batch(DeviceData(d, "cpu"), 50))
    assert out.e_s.shape == (50, 188) and torch.all(out.e_s[:, -8:] == 0)


def test_build_rejects_bad_input(data):
    with pytest.raises(ValueError, match="unknown model"):
        build("transformer", data.spec)
    with pytest.raises(ValueError, match="unknown ModelConfig"):
        build("gru", data.spec, hidden=3)
    with pytest.raises(ValueError, match="time_attention"):
        build("gru", data.spec, time_attention=True)  # the last GRU state attends to nothing


# ------------------------------------------------------------------------- CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_cuda_matches_cpu(name, data, dev):
    model = make_model(name, data.spec)
    batch = train_batch(dev, 300)
    with torch.no_grad():
        ref = model(batch).score
        gpu = DeviceData(data, "cuda")
        model.cuda()
        for dedup in (True, False):
            out = model(train_batch(gpu, 300), dedup=dedup)
            assert out.score.is_cuda and out.score.dtype == torch.float32
            torch.testing.assert_close(out.score.cpu(), ref, atol=1e-4, rtol=0)


# ------------------------------------------------------------------------- opt-in knobs
def test_raw_id_init_std(data, data_noraw):
    torch.manual_seed(0)
    default = build("din", data_noraw.spec).item_embedding.raw_id.weight
    assert 0.9 < default.std().item() < 1.1  # nn.Embedding's N(0, 1)
    small = build("din", data_noraw.spec, raw_id_init_std=1e-4).item_embedding.raw_id.weight
    assert small.shape == default.shape and 0.9e-4 < small.std().item() < 1.1e-4 and abs(small.mean().item()) < 1e-5
    assert build("din", data.spec, raw_id_init_std=1e-4).item_embedding.raw_id is None  # raw features: no id table
    with pytest.raises(ValueError, match="raw_id_init_std"):
        build("din", data_noraw.spec, raw_id_init_std=0.0)


# --------------------------------------------------------------------------- unseen values, paired initialisation
def test_unseen_values_take_the_mean_of_the_seen_rows():
    """A one-hot value with no training occurrence enters as the count-weighted mean of the seen
    rows, whatever its own (untrained) row holds; seen values are untouched (docs/method.md §9)."""
    from tacr.models.embedding import OneHotLinear

    torch.manual_seed(0)
    layer = OneHotLinear(5, 3)
    counts = torch.tensor([4.0, 0.0, 1.0, 0.0, 5.0])
    layer.set_counts(counts)
    W, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    mean = (counts.numpy() @ W) / counts.sum().item()
    out = layer(torch.tensor([0, 1, 2, 3, 4])).detach().numpy()
    np.testing.assert_allclose(out[[0, 2, 4]], W[[0, 2, 4]] + b, rtol=1e-6)
    np.testing.assert_allclose(out[[1, 3]], np.stack([mean, mean]) + b, rtol=1e-5, atol=1e-7)
    with torch.no_grad():
        layer.weight[1] += 100.0  # the unseen row's value does not matter
    np.testing.assert_allclose(layer(torch.tensor([1])).detach().numpy()[0], mean + b, rtol=1e-5, atol=1e-7)
    layer.set_counts(torch.ones(5))  # everything seen: a plain lookup
    assert layer.counts is None


@pytest.mark.parametrize("chunk_rows", [1 << 20, 1_000, 7])
def test_training_counts_match_numpy(smoke_data, chunk_rows):
    """Exact counts whatever the chunking (one chunk, many, more than the rows of a step)."""
    from tacr.data.history import time_features

    dd = DeviceData(smoke_data, "cpu")
    c = dd.training_counts(chunk_rows=chunk_rows)
    tr = smoke_data.train
    real = np.arange(tr.L)[None, :] < tr.hist_len[:, None]
    items = np.concatenate([tr.item, tr.hist_item[real]])
    times = tr.time  # a time value is seen when a training impression carries it (docs/method.md §9)
    np.testing.assert_array_equal(c["item"].numpy(), np.bincount(items, minlength=len(smoke_data.items)))
    np.testing.assert_array_equal(c["category"].numpy(), np.bincount(smoke_data.items.category[items],
                                                                      minlength=smoke_data.spec.n_categories))
    tf = time_features(times, smoke_data.tz)
    for k, size in enumerate(smoke_data.spec.time_sizes):
        np.testing.assert_array_equal(c["time"][k].numpy(), np.bincount(tf[:, k], minlength=size))
    assert (c["time"][1] > 0).all()  # every weekday is in the simulator's training window
    aux = smoke_data.user_aux[tr.user] + np.cumsum((0,) + tuple(smoke_data.spec.aux_sizes[:-1]))
    np.testing.assert_array_equal(c["aux"].numpy(), np.bincount(aux.reshape(-1), minlength=sum(smoke_data.spec.aux_sizes)))
    assert all(v.dtype == torch.float32 for v in [c["item"], c["category"], c["aux"], *c["time"]])


def test_seed_init_pairs_shared_submodules(smoke_data):
    """Two architectures built with one seed start with the same weights in the submodules they
    share; a different seed changes them; the same seed reproduces them."""
    from tacr.models import seed_init

    ta = seed_init(build("time_aware", smoke_data.spec), 3)
    ga = seed_init(build("gru_attention", smoke_data.spec), 3)
    for name in ("gru.weight_hh_l0", "readout.W_h.weight", "readout.v.weight", "item_embedding.category.weight"):
        assert torch.equal(ta.state_dict()[name], ga.state_dict()[name]), name
    again = seed_init(build("time_aware", smoke_data.spec), 3)
    for k, v in ta.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    other = seed_init(build("time_aware", smoke_data.spec), 4)
    assert not torch.equal(ta.state_dict()["gru.weight_hh_l0"], other.state_dict()["gru.weight_hh_l0"])


# ------------------------------------------------------------------------- Eq. (2): the two GRU kernels
def random_histories(U=23, L=7, d=5, seed=0, dtype=torch.float64):
    """Random inputs with every length 0..L (padding holds random values: it must not matter)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(U, L, d, generator=g, dtype=dtype)
    lengths = (torch.arange(U) % (L + 1))[torch.randperm(U, generator=g)]
    return x, lengths


def random_gru(d=5, H=6, layers=2, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.GRU(d, H, num_layers=layers, batch_first=True).to(dtype)


def fused_with(net: nn.GRU, weights: dict, x, lengths):
    """The fused kernel with ``net``'s weights replaced by ``weights`` (name -> tensor)."""
    view = SimpleNamespace(**{a: getattr(net, a) for a in ("hidden_size", "num_layers", "bidirectional", "bias",
                                                           "batch_first", "proj_size")}, **weights)
    return run_gru(view, x, lengths, "fused")


@pytest.mark.parametrize("layers", [1, 2])
def test_fused_gru_states_match_numpy_and_packed(layers):
    x, lengths = random_histories()
    net = random_gru(layers=layers)
    with torch.no_grad():
        fused = run_gru(net, x, lengths, "fused").numpy()
        packed = run_gru(net, x, lengths, "packed").numpy()
    ref = np_gru(net, x.numpy())  # every position: the GRU is causal, so real prefixes are exact
    real = (np.arange(x.shape[1])[None] < lengths.numpy()[:, None])[..., None]
    np.testing.assert_allclose(fused, np.where(real, ref, 0.0), atol=1e-12, rtol=0)
    np.testing.assert_allclose(fused, packed, atol=1e-12, rtol=0)
    assert (fused[~real[..., 0]] == 0).all()


def test_fused_gru_backward_matches_finite_differences():
    """The hand-written backward against float64 central differences, inputs and all weights."""
    x, lengths = random_histories(U=9, L=4, d=3)
    net = random_gru(d=3, H=4)
    names = [n for n, _ in net.named_parameters()]
    inputs = (x.requires_grad_(True), *(p.detach().clone().requires_grad_(True) for p in net.parameters()))
    assert torch.autograd.gradcheck(lambda x, *ws: fused_with(net, dict(zip(names, ws)), x, lengths), inputs,
                                    eps=1e-6, atol=1e-7, rtol=1e-5)


def test_fused_gru_gradients_match_packed_in_float32():
    x, lengths = random_histories(U=300, L=10, d=90, dtype=torch.float32)
    net = random_gru(d=90, H=90, dtype=torch.float32)
    target = torch.randn(300, 10, 90, generator=torch.Generator().manual_seed(1))
    grads = {}
    for kernel in GRU_KERNELS:
        xi = x.clone().requires_grad_(True)
        net.zero_grad()
        (run_gru(net, xi, lengths, kernel) * target).sum().backward()
        grads[kernel] = [xi.grad] + [p.grad.clone() for p in net.parameters()]
    for a, b in zip(grads["packed"], grads["fused"]):
        torch.testing.assert_close(b, a, rtol=0, atol=2e-5 * float(a.abs().max()))


def test_fused_gru_empty_and_short_batches():
    net = random_gru()
    x, _ = random_histories(U=4, L=5)
    with torch.no_grad():
        assert torch.equal(run_gru(net, x, torch.zeros(4, dtype=torch.int64), "fused"), torch.zeros(4, 5, 6, dtype=x.dtype))
        short = torch.tensor([2, 0, 1, 2])  # longest 2 < L = 5: steps 2-4 are 0
        out = run_gru(net, x, short, "fused")
        assert out.shape == (4, 5, 6) and (out[:, 2:] == 0).all() and (out[1] == 0).all()
        torch.testing.assert_close(out, run_gru(net, x, short, "packed"), atol=1e-12, rtol=0)


def test_unknown_gru_kernel_is_refused():
    x, lengths = random_histories()
    with pytest.raises(ValueError, match="unknown GRU kernel"):
        run_gru(random_gru(), x, lengths, "cudnn")
    with pytest.raises(ValueError, match="gru_kernel"):
        ModelConfig(gru_kernel="cudnn")
    with pytest.raises(ValueError, match="gru_kernel"):
        TrainConfig(gru_kernel="cudnn")
    with pytest.raises(ValueError, match="unidirectional"):
        run_gru(nn.GRU(5, 6, batch_first=True, bidirectional=True).double(), x, lengths, "fused")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_fused_gru_on_cuda_runs_cudnn():
    x, lengths = random_histories()
    net = random_gru(layers=2).float().cuda()
    with torch.no_grad():
        packed = run_gru(net, x.float().cuda(), lengths.cuda(), "packed")
        fused = run_gru(net, x.float().cuda(), lengths.cuda(), "fused")
    assert fused.is_cuda and torch.equal(fused, packed)  # the same cuDNN call, the same bits


@pytest.mark.parametrize("name", ["time_aware", "gru", "gru_attention"])
def test_models_agree_under_either_gru_kernel(name, data, dev):
    batch = train_batch(dev, 300)
    ref = seed_init(build(name, data.spec), 4)
    fused = seed_init(build(name, data.spec, gru_kernel="fused"), 4)
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), fused.state_dict().values()))
    out_r, out_f = ref(batch), fused(batch)
    torch.testing.assert_close(out_f.score, out_r.score, atol=1e-5, rtol=0)
    out_r.score.sum().backward()
    out_f.score.sum().backward()
    for (n, p), q in zip(ref.named_parameters(), fused.parameters()):  # 1e-8: float32 noise where a gradient
        # cancels (W_i's is ~5e-5, a sum of terms ~1e-2)
        torch.testing.assert_close(q.grad, p.grad, rtol=0, atol=1e-5 * float(p.grad.abs().max()) + 1e-8, msg=n)


def test_train_config_gives_the_kernel_to_the_model():
    cfg = TrainConfig(gru_kernel="fused", raw_id_init_std=1e-3)
    assert cfg.model_overrides() == {"raw_id_init_std": 1e-3, "gru_kernel": "fused"}
    assert cfg.key_fields()["gru_kernel"] == "fused"
    plain = TrainConfig()  # every field a plain value, all of them in the key
    assert plain.model_overrides() == {"raw_id_init_std": 1.0, "gru_kernel": "fused"}  # one path in training
    assert plain.key_fields()["gru_kernel"] == "fused" and plain.key_fields()["policy_distinct_rows"] is True


def test_distinct_first_positions_match_numpy():
    from tacr.batch import distinct

    key = torch.randint(0, 40, (500,), generator=torch.Generator().manual_seed(3))
    first, inv = distinct(key)
    uniq, index, inverse = np.unique(key.numpy(), return_index=True, return_inverse=True)
    assert first.tolist() == index.tolist() and inv.tolist() == inverse.tolist()
    assert torch.equal(key[first][inv], key)
