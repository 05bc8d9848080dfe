"""tacr.samplers against independent computations (docs/method.md §5-6, Sec. 3.1, Algorithm 1).

Support of every sampler (what it may return) is checked against numpy views of the smoke
training split; Eq. (10), (13), (16) against numpy; REINFORCE against a hand-computed loss and
the direction of the probability change.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import tacr.models
from tacr import samplers
from tacr.batch import DeviceData
from tacr.models import ModelOutput
from tacr.samplers import SamplerConfig, penalty, policy_logits, policy_probs
from tacr.train import Critic, TrainConfig


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def dd(smoke_data):
    return DeviceData(smoke_data, "cpu")


@pytest.fixture(scope="module")
def np_train(smoke_data):
    """The training split as numpy arrays (independent of the device tensors)."""
    s = smoke_data.train
    label = s.label.astype(bool)
    return {"user": s.user, "item": s.item, "label": label, "neg": np.flatnonzero(~label), "pos": np.flatnonzero(label),
            "category": smoke_data.items.category, "hist_item": s.hist_item, "hist_time": s.hist_time,
            "hist_len": s.hist_len, "time": s.time}


def simple(name, split, seed=0, **cfg):
    return samplers.build(name, split, SamplerConfig(**cfg), torch.Generator().manual_seed(seed), 30)


def adversarial(name, dd, split=None, seed=0, **cfg):
    torch.manual_seed(seed)
    D = tacr.models.build("time_aware", dd.spec)
    G = tacr.models.build("time_aware", dd.spec)
    config = TrainConfig(**{"n_candidates": 8, "tau_positives": 8, **cfg})
    return samplers.build(name, split if split is not None else dd["train"], config,
                          torch.Generator().manual_seed(seed), 30, critic=Critic(D, config), gen_model=G)


def all_positives(split):
    return split.batch(split.pos_rows)


def relabelled(smoke_data, rows_to_positive) -> DeviceData:
    """A fresh DeviceData whose training rows ``rows_to_positive`` are relabelled positive."""
    d = DeviceData(smoke_data, "cpu")
    tr = d["train"]
    tr.label = tr.label.clone()
    tr.label[torch.as_tensor(rows_to_positive)] = 1.0
    tr.pos_rows = torch.nonzero(tr.label > 0.5).squeeze(1)
    tr.neg_rows = torch.nonzero(tr.label < 0.5).squeeze(1)
    return d


def assert_rows_consistent(batch, split):
    """A batch built from rows carries exactly those rows' fields."""
    r = batch.rows
    for f in ("user", "item", "time", "label", "hist_item", "hist_time", "hist_len"):
        assert torch.equal(getattr(batch, f), getattr(split, f)[r]), f


# --------------------------------------------------------------------------- registry
def record_candidates(s) -> dict:
    """Wrap ``s.candidates`` so each call's result is kept in ``rec["cand"]``."""
    rec, original = {}, s.candidates

    def spy(p):
        rec["cand"] = original(p)
        return rec["cand"]

    s.candidates = spy
    return rec


def test_registry_names_and_losses():
    assert set(samplers.SAMPLERS) == {"lr", "under", "user_fixed", "uniform", "irgan", "irgan_pp", "rgan"}
    assert set(samplers.LABELS) == set(samplers.SAMPLERS)
    pointwise = {n for n, c in samplers.SAMPLERS.items() if c.loss == "pointwise"}
    adv = {n for n, c in samplers.SAMPLERS.items() if c.adversarial}
    assert pointwise == {"lr", "under"}
    assert adv == {"irgan", "irgan_pp", "rgan"}
    with pytest.raises(ValueError, match="unknown sampler"):
        samplers.build("nope", None, SamplerConfig(), torch.Generator())


def test_adversarial_samplers_need_models(dd):
    with pytest.raises(ValueError, match="discriminator"):
        samplers.build("rgan", dd["train"], SamplerConfig(), torch.Generator(), 30)


# --------------------------------------------------------------------------- support of each sampler
def test_pairwise_epoch_covers_each_positive_once(dd, np_train):
    s = simple("uniform", dd["train"])
    for epoch in (1, 2):
        batches = s.epoch_batches(epoch)
        assert len(batches) == 30
        rows = torch.cat(batches).numpy()
        np.testing.assert_array_equal(np.sort(rows), np_train["pos"])
        sizes = [len(b) for b in batches]
        assert max(sizes) - min(sizes) <= 1  # |T| / 30 per step


def test_logistic_regression_epoch_covers_every_row_once(dd, np_train):
    s = simple("lr", dd["train"])
    assert s.loss == "pointwise"
    batches = s.epoch_batches(1)
    assert len(batches) == 30
    rows = torch.cat([s.pointwise_rows(b) for b in batches]).numpy()
    np.testing.assert_array_equal(np.sort(rows), np.arange(len(np_train["label"])))
    # a permutation, not the identity order
    assert not np.array_equal(rows, np.arange(len(rows)))


def test_under_sampling_five_negatives_per_positive(dd, np_train):
    s = simple("under", dd["train"])
    assert s.loss == "pointwise"
    batch = s.epoch_batches(1)[0]
    out = s.pointwise_rows(batch).numpy()
    assert len(out) == 6 * len(batch)
    np.testing.assert_array_equal(out[: len(batch)], batch.numpy())
    assert np_train["label"][out[: len(batch)]].all()
    neg = out[len(batch):]
    assert np.isin(neg, np_train["neg"]).all()
    assert len(np.unique(neg)) > 0.9 * len(neg)  # drawn, not one row repeated


def test_uniform_negatives_are_uniform_observed_negatives(dd, np_train):
    tr = dd["train"]
    s = simple("uniform", tr)
    pos = all_positives(tr)
    draws = []
    for _ in range(40):
        neg = s.negatives(pos)
        assert len(neg) == len(pos)
        assert_rows_consistent(neg, tr)
        draws.append(neg.rows.numpy())
    draws = np.concatenate(draws)
    assert np.isin(draws, np_train["neg"]).all()
    assert (neg.label == 0).all()
    # uniform over the observed negatives: position in the negative list, 10 equal bins
    where = np.searchsorted(np_train["neg"], draws)
    counts = np.bincount(where * 10 // len(np_train["neg"]), minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_user_fixed_negatives_are_same_user_negatives(dd, np_train):
    tr = dd["train"]
    s = simple("user_fixed", tr)
    pos = all_positives(tr)
    neg_users = set(np_train["user"][np_train["neg"]].tolist())
    assert all(u in neg_users for u in pos.user.tolist())  # the smoke data: every clicker has negatives
    for _ in range(5):
        neg = s.negatives(pos)
        assert_rows_consistent(neg, tr)
        rows = neg.rows.numpy()
        assert np.isin(rows, np_train["neg"]).all()
        np.testing.assert_array_equal(np_train["user"][rows], np_train["user"][pos.rows.numpy()])


def test_user_fixed_falls_back_to_uniform_only_without_user_negatives(smoke_data, np_train):
    # relabel every row of one clicking user as positive: that user has no observed negative
    u = int(np_train["user"][np_train["pos"][0]])
    rows_u = np.flatnonzero(np_train["user"] == u)
    d = relabelled(smoke_data, rows_u)
    tr = d["train"]
    s = simple("user_fixed", tr)
    pos = all_positives(tr)
    is_u = (pos.user == u).numpy()
    assert is_u.sum() >= 2
    neg_label = tr.label.numpy()
    fallback_rows = []
    for _ in range(20):
        neg = s.negatives(pos)
        rows = neg.rows.numpy()
        assert (neg_label[rows] == 0).all()  # always an observed negative
        # users with negatives keep their own
        np.testing.assert_array_equal(np_train["user"][rows[~is_u]], pos.user.numpy()[~is_u])
        fallback_rows.append(rows[is_u])
    fallback_rows = np.concatenate(fallback_rows)
    assert (np_train["user"][fallback_rows] != u).all()
    assert len(np.unique(np_train["user"][fallback_rows])) > 10  # uniform, not one fixed row


def test_rgan_candidates_and_negatives_are_observed_negatives(dd, np_train):
    tr = dd["train"]
    s = adversarial("rgan", dd)
    C = s.config.n_candidates
    pos = tr.batch(tr.pos_rows[:64])
    cand = s.candidates(pos)
    assert len(cand) == len(pos) * C
    assert_rows_consistent(cand, tr)
    assert np.isin(cand.rows.numpy(), np_train["neg"]).all()
    assert len(np.unique(cand.rows.numpy())) > 0.9 * len(cand)  # uniformly drawn

    seen = record_candidates(s)
    neg = s.negatives(pos)
    assert len(neg) == len(pos)
    assert_rows_consistent(neg, tr)
    per_pos = seen["cand"].rows.view(len(pos), C).numpy()
    for b, r in enumerate(neg.rows.numpy()):
        assert r in per_pos[b]  # D's negative is one of its own positive's candidates


def test_irgan_candidates_are_non_positive_pairs(dd, np_train, smoke_data):
    tr = dd["train"]
    s = adversarial("irgan", dd, n_candidates=20)
    C = 20
    pos = all_positives(tr)
    cand = s.candidates(pos)
    assert len(cand) == len(pos) * C
    p = pos.rows.numpy().repeat(C)
    # the positive's user, history and time
    np.testing.assert_array_equal(cand.user.numpy(), np_train["user"][p])
    np.testing.assert_array_equal(cand.time.numpy(), np_train["time"][p])
    np.testing.assert_array_equal(cand.hist_item.numpy(), np_train["hist_item"][p])
    np.testing.assert_array_equal(cand.hist_time.numpy(), np_train["hist_time"][p])
    np.testing.assert_array_equal(cand.hist_len.numpy(), np_train["hist_len"][p])
    assert (cand.label == 0).all()
    items = cand.item.numpy()
    assert ((items >= 0) & (items < smoke_data.spec.n_items)).all()
    clicked = set(zip(np_train["user"][np_train["pos"]].tolist(), np_train["item"][np_train["pos"]].tolist()))
    assert not any((u, i) in clicked for u, i in zip(cand.user.tolist(), items.tolist()))
    assert len(np.unique(items)) > 0.5 * smoke_data.spec.n_items  # spread over the catalogue


def test_irgan_never_clicked_redraws_collisions(dd, np_train):
    # a user who clicked every even item: every candidate item must be odd (collisions redrawn)
    s = adversarial("irgan", dd)
    n = s.n_items
    u = int(np_train["user"][np_train["pos"][0]])
    s.clicked = torch.unique(torch.cat([s.clicked, u * n + torch.arange(0, n, 2)]))
    got = s.never_clicked_items(torch.full((200,), u), 2)
    assert got.shape == (200, 2)
    assert (got % 2 == 1).all()


def test_irgan_pp_candidates_same_item_then_category(smoke_data, np_train):
    # one clicked item loses all its observed negatives (relabelled positive), so the three
    # cases occur: only same-item candidates, same-item topped up by category, category only
    target = int(np_train["item"][np_train["pos"][0]])
    d = relabelled(smoke_data, np.flatnonzero(np_train["item"] == target))
    tr = d["train"]
    C = 48
    s = adversarial("irgan_pp", d, split=tr, n_candidates=C)
    pos = all_positives(tr)
    cand = s.candidates(pos)
    rows = cand.rows.view(len(pos), C).numpy()
    neg = tr.neg_rows.numpy()
    assert np.isin(rows, neg).all()
    neg_items = np_train["item"][neg]
    n_same = np.array([(neg_items == i).sum() for i in pos.item.numpy()])
    assert (n_same == 0).any() and ((n_same > 0) & (n_same < C)).any() and (n_same >= C).any()
    cat = np_train["category"]
    for b, item in enumerate(pos.item.numpy()):
        k = min(C, n_same[b])
        assert (np_train["item"][rows[b, :k]] == item).all()
        assert len(np.unique(rows[b, :k])) == k  # distinct same-item rows, as many as the item has
        # topped up from the positive's category (every category has negatives in smoke)
        assert (cat[np_train["item"][rows[b, k:]]] == cat[item]).all()


def test_irgan_pp_falls_back_to_uniform_for_empty_category(smoke_data, np_train):
    cat = np_train["category"]
    target = int(np_train["item"][np_train["pos"][0]])
    c = cat[target]
    rows_c = np.flatnonzero(cat[np_train["item"]] == c)  # every row of the category becomes positive
    d = relabelled(smoke_data, rows_c)
    tr = d["train"]
    s = adversarial("irgan_pp", d, split=tr, n_candidates=8)
    pos = all_positives(tr)
    in_c = cat[pos.item.numpy()] == c
    cand = s.candidates(pos)
    rows = cand.rows.view(len(pos), 8).numpy()
    assert (tr.label.numpy()[rows] == 0).all()
    assert (cat[np_train["item"][rows[in_c]]] != c).all()
    assert len(np.unique(cat[np_train["item"][rows[in_c]]])) > 5


# --------------------------------------------------------------------------- Eq. (16)
def numpy_policy(pos, cand, T):
    pos, cand = np.asarray(pos, np.float64), np.asarray(cand, np.float64)
    dot = np.einsum("bcd,bd->bc", cand, pos)
    x = dot / np.linalg.norm(cand, axis=2)
    if T == 0:
        out = np.zeros_like(x)
        out[np.arange(len(x)), x.argmax(1)] = 1.0
        return out
    z = x / T
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("T", [0.0, 0.3, 1.0, 5.0, 20.0])
def test_policy_probs_matches_numpy_eq16(T):
    rng = np.random.default_rng(1)
    pos = rng.normal(size=(6, 12))
    cand = rng.normal(size=(6, 9, 12)) * rng.uniform(0.2, 5.0, size=(6, 9, 1))  # varied norms
    got = policy_probs(torch.tensor(pos), torch.tensor(cand), T).numpy()
    np.testing.assert_allclose(got, numpy_policy(pos, cand, T), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.sum(1), 1.0, rtol=1e-12)
    if T > 0:
        lg = policy_logits(torch.tensor(pos), torch.tensor(cand), T).numpy()
        np.testing.assert_allclose(lg, np.einsum("bcd,bd->bc", cand, pos) / (T * np.linalg.norm(cand, axis=2)), rtol=1e-10)


def test_policy_normalises_by_candidate_norm_only():
    # candidate 0 has the larger dot product but a smaller cosine: the greedy policy picks 1
    pos = torch.tensor([[1.0, 0.0]])
    cand = torch.tensor([[[10.0, 10.0], [1.0, 0.1]]])
    np.testing.assert_array_equal(policy_probs(pos, cand, 0.0).numpy(), [[0.0, 1.0]])
    # and scaling the positive embedding acts like dividing T
    p1 = policy_probs(pos * 2, cand, 2.0)
    p2 = policy_probs(pos, cand, 1.0)
    torch.testing.assert_close(p1, p2)
    # high T -> uniform, low T -> the argmax
    assert torch.allclose(policy_probs(pos, cand, 1e6), torch.full((1, 2), 0.5), atol=1e-5)
    assert policy_probs(pos, cand, 1e-3)[0, 1] > 0.999


def rgan_batch(dd, n: int, temperature: float):
    """An rGAN sampler at ``temperature`` with the first ``n`` training positives and their candidates."""
    tr = dd["train"]
    s = adversarial("rgan", dd)
    s.temperature = temperature
    pos = tr.batch(tr.pos_rows[:n])
    return s, pos, s.candidates(pos)


def test_sampler_policy_is_eq16_on_generator_embeddings(dd):
    s, pos, cand = rgan_batch(dd, 10, 0.7)
    with torch.no_grad():
        logp = s._policy(pos, cand).double().numpy()
        e_pos = s.G(pos).e_s.double().numpy()
        e_cand = s.G(cand).e_s.double().numpy().reshape(10, s.config.n_candidates, -1)
    np.testing.assert_allclose(np.exp(logp), numpy_policy(e_pos, e_cand, 0.7), rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------- Eq. (10), (13)
def fake_outputs(B=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    def out():
        return ModelOutput(score=torch.randn(B, generator=g), e_i=torch.randn(B, 90, generator=g),
                           e_h=torch.randn(B, 90, generator=g), e_s=torch.randn(B, 188, generator=g))
    return out(), out()


def numpy_penalty(a, b, li, lh, history=True):
    p = li * np.linalg.norm(a.e_i.numpy() - b.e_i.numpy(), axis=1)
    if history:
        p = p + lh * np.linalg.norm(a.e_h.numpy() - b.e_h.numpy(), axis=1)
    return p


def test_penalty_eq10_matches_numpy():
    a, b = fake_outputs()
    np.testing.assert_allclose(penalty(a, b, 3.0, 5.0).numpy(), numpy_penalty(a, b, 3.0, 5.0), rtol=1e-5)
    np.testing.assert_allclose(penalty(a, b, 0.5, 2.0).numpy(), numpy_penalty(a, b, 0.5, 2.0), rtol=1e-5)
    # non-positive pairs (same user and history): the history term is dropped
    np.testing.assert_allclose(penalty(a, b, 3.0, 5.0, same_history=True).numpy(),
                               numpy_penalty(a, b, 3.0, 5.0, history=False), rtol=1e-5)
    # plain, not squared, Euclidean norm: doubling the gap doubles the penalty
    b2 = ModelOutput(score=b.score, e_i=a.e_i + 2 * (b.e_i - a.e_i), e_h=a.e_h + 2 * (b.e_h - a.e_h), e_s=b.e_s)
    torch.testing.assert_close(penalty(a, b2, 3.0, 5.0), 2 * penalty(a, b, 3.0, 5.0))
    assert (penalty(a, a, 3.0, 5.0) == 0).all()


@pytest.mark.parametrize("kind", ["score", "penalty", "both"])
def test_reward_variants_eq13(dd, kind):
    s = adversarial("rgan", dd, reward=kind, lambda_i=3.0, lambda_h=5.0)
    a, b = fake_outputs(seed=3)
    f = b.score.numpy()
    p = numpy_penalty(a, b, 3.0, 5.0)
    expected = {"score": f, "penalty": -p, "both": f - p}[kind]
    np.testing.assert_allclose(s.reward(a, b).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_irgan_reward_is_score_only_and_drops_history(dd):
    a, b = fake_outputs(seed=4)
    for name in ("irgan", "irgan_pp"):
        s = adversarial(name, dd, reward="both")  # the config's reward does not apply
        np.testing.assert_allclose(s.reward(a, b).numpy(), b.score.numpy())
    assert samplers.IRGAN.same_history is True
    assert samplers.RGAN.same_history is False and samplers.IRGANPlusPlus.same_history is False


def test_rgan_rejects_unknown_reward(dd):
    with pytest.raises(ValueError, match="reward"):
        adversarial("rgan", dd, reward="bogus")


# --------------------------------------------------------------------------- REINFORCE (Eq. 12-15)
def controlled(dd, reward_value, k_fixed, lr_g=1e-3, T=1.0):
    """An rGAN sampler whose candidates, draw and reward are fixed: one G step is deterministic."""
    tr = dd["train"]
    s = adversarial("rgan", dd, lr_g=lr_g)
    s.temperature = T
    pos = tr.batch(tr.pos_rows[:12])
    cand = s.candidates(pos)
    s.candidates = lambda p: cand
    s._draw = lambda logp: torch.full((logp.shape[0],), k_fixed, dtype=torch.long)
    s.reward = lambda pos_out, neg_out: torch.full((len(pos_out.score),), float(reward_value))
    return s, pos, cand


def chosen_probs(s, pos, cand, k):
    with torch.no_grad():
        return s._policy(pos, cand).exp()[:, k]


@pytest.mark.parametrize("sign", [+1.0, -1.0])
def test_reinforce_step_moves_probability_with_advantage(dd, sign):
    s, pos, cand = controlled(dd, reward_value=sign, k_fixed=2)
    before = chosen_probs(s, pos, cand, 2)
    loss = s.g_step(pos)
    after = chosen_probs(s, pos, cand, 2)
    # loss = -mean log p(k) * (r - b) with b = 0 before the first step
    np.testing.assert_allclose(loss, -(np.log(before.numpy()) * sign).mean(), rtol=1e-4)
    if sign > 0:
        assert after.mean() > before.mean()
    else:
        assert after.mean() < before.mean()
    assert s.baseline == pytest.approx(sign)


@pytest.mark.parametrize("schedule", ["alternate", "joint"])
def test_chunked_generator_update_matches_one_pass(dd, schedule):
    """Above ``max_grad_rows`` G's gradient is accumulated over chunks of positives: the same
    draws (so the same D), and up to float summation order the same loss, baseline, diagnostics
    and G gradient."""
    tr = dd["train"]
    pos = tr.batch(tr.pos_rows[:40])
    runs = {}
    for name, max_rows in (("one pass", 1 << 20), ("chunked", 5 * 9 + 3)):  # C = 8: 5 positives a chunk, 8 chunks
        s = adversarial("rgan", dd, seed=3, schedule=schedule)
        s.start_epoch(2)  # past pre-training
        s.max_grad_rows = max_rows
        assert len(s._chunks(len(pos))) == (1 if name == "one pass" else 8)
        loss = s.joint_step(pos) if schedule == "joint" else s.g_step(pos)
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in s.G.parameters()]
        runs[name] = (loss, grads, [p.detach().clone() for p in s.D.parameters()], s.baseline, s.stats())
    (l1, g1, d1, b1, st1), (l2, g2, d2, b2, st2) = runs["one pass"], runs["chunked"]
    assert l2 == pytest.approx(l1, rel=1e-6) and b2 == pytest.approx(b1, rel=1e-6)  # D's reward, chunk by chunk
    assert st1["policy_entropy"] == pytest.approx(st2["policy_entropy"], rel=1e-6)
    assert sum(float(g.abs().sum()) for g in g1) > 0  # G did get a gradient
    for g, h in zip(g1, g2):  # G's gradient (Adam's first step would amplify float noise where g ~ 0)
        torch.testing.assert_close(h, g, rtol=1e-4, atol=1e-6 * float(g.abs().max()) + 1e-12)
    for p, q in zip(d1, d2):  # D's update used the same draws
        assert torch.equal(q, p)


@pytest.mark.parametrize("name", ["rgan", "irgan", "irgan_pp"])
def test_policy_distinct_rows_same_policy_and_update(dd, name):
    """``policy_distinct_rows``: G evaluates a repeated candidate once; the policy, the draws and
    D are the same and G's gradient agrees up to float summation order."""
    tr = dd["train"]
    pos = tr.batch(tr.pos_rows[:40])
    runs = {}
    for distinct in (None, True):
        s = adversarial(name, dd, seed=5, n_candidates=30, policy_distinct_rows=distinct)
        s.start_epoch(2)  # past pre-training
        cand = s.candidates(pos)
        if distinct:
            key = cand.rows * dd.spec.n_items + cand.item
            assert len(torch.unique(key)) < len(key)  # repeats to collapse (smoke data: few negatives)
        with torch.no_grad():
            logp = s._policy_parts(pos, cand)[0]
        s.gen.manual_seed(9)
        loss = s.g_step(pos)
        grads = [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in s.G.parameters()]
        runs[distinct] = (logp, loss, grads, s.baseline)
    (lp1, l1, g1, b1), (lp2, l2, g2, b2) = runs[None], runs[True]
    torch.testing.assert_close(lp2, lp1, atol=1e-6, rtol=0)
    assert l2 == pytest.approx(l1, rel=1e-5) and b2 == pytest.approx(b1, rel=1e-6)
    assert sum(float(g.abs().sum()) for g in g1) > 0
    for g, h in zip(g1, g2):
        torch.testing.assert_close(h, g, rtol=0, atol=1e-5 * float(g.abs().max()) + 1e-9)


def test_reinforce_zero_advantage_leaves_policy(dd):
    s, pos, cand = controlled(dd, reward_value=0.7, k_fixed=1)
    s.baseline = 0.7  # r - b = 0: no policy gradient
    g0 = [p.detach().clone() for p in s.G.parameters()]
    assert s.g_step(pos) == pytest.approx(0.0, abs=1e-7)
    for p, q in zip(g0, s.G.parameters()):
        torch.testing.assert_close(p, q.detach())


def test_reinforce_gradient_sign_with_real_policy(dd):
    # d/dlogit_j of -log p_k * A is -A (1[j=k] - p_j): positive advantage pushes logit k up
    s, pos, cand = rgan_batch(dd, 5, 1.0)
    B, C = 5, s.config.n_candidates
    e_pos = s.G(pos).e_s.detach()
    e_cand = s.G(cand).e_s.detach().view(B, C, -1).requires_grad_(True)
    logits = policy_logits(e_pos, e_cand, 1.0)
    logits.retain_grad()
    k = torch.tensor([0, 1, 2, 3, 4])
    A = torch.tensor([1.0, -1.0, 2.0, -0.5, 1.0])
    loss = -(logits.log_softmax(1).gather(1, k[:, None]).squeeze(1) * A).sum()
    loss.backward()
    p = logits.softmax(1).detach()
    expected = -A[:, None] * (torch.nn.functional.one_hot(k, C) - p)
    torch.testing.assert_close(logits.grad, expected, rtol=1e-5, atol=1e-6)
    # gradient descent moves logit k in the direction of the advantage
    assert torch.all(torch.sign(-logits.grad[torch.arange(B), k]) == torch.sign(A))


def test_baseline_is_previous_batch_mean_reward(dd):
    tr = dd["train"]
    s = adversarial("rgan", dd, lambda_i=3.0, lambda_h=5.0)
    C = s.config.n_candidates
    assert s.baseline == 0.0
    rec = record_candidates(s)
    draw = s._draw

    def spy_draw(logp):
        rec["k"] = draw(logp)
        rec["logp"] = logp.detach().clone()
        return rec["k"]

    s._draw = spy_draw
    batches = s.epoch_batches(1)[:3]
    prev_mean, means = 0.0, []
    for rows in batches:
        pos = tr.batch(rows)
        d_before = [p.detach().clone() for p in s.D.parameters()]
        loss = s.g_step(pos)
        # rewards recomputed independently: D's score of the drawn candidate minus Eq. (10)
        chosen = rec["cand"].take(torch.arange(len(pos)) * C + rec["k"])
        with torch.no_grad():
            po, no = s.D(pos), s.D(chosen)
        r = no.score.numpy() - numpy_penalty(po, no, 3.0, 5.0)
        logp_k = rec["logp"].gather(1, rec["k"][:, None]).squeeze(1).numpy()
        np.testing.assert_allclose(loss, -(logp_k * (r - prev_mean)).mean(), rtol=1e-3, atol=1e-4)
        assert s.baseline == pytest.approx(r.mean(), rel=1e-4, abs=1e-4)
        prev_mean = float(r.mean())
        means.append(prev_mean)
        # rewards are constants: D is not touched by the generator step
        for a, b in zip(d_before, s.D.parameters()):
            assert torch.equal(a, b.detach())
            assert b.grad is None
    st = s.stats()
    assert st["mean_reward"] == pytest.approx(np.mean(means), rel=1e-4, abs=1e-4)  # epoch mean of batch rewards
    assert set(st) >= {"g_loss", "mean_reward", "tau_penalty", "tau_random", "policy_temperature"}
    assert -1 <= st["tau_penalty"] <= 1 and -1 <= st["tau_random"] <= 1
    assert s.stats().keys() == {"policy_temperature", "g_steps", "pretraining", "game_epoch"}  # reset after reading
    assert set(samplers.POLICY_COLUMNS) <= set(st)


def test_kendall_tau_of_score_vs_penalty_ranking(dd):
    tr = dd["train"]
    s = adversarial("rgan", dd, n_candidates=6, tau_positives=10)
    rec = record_candidates(s)
    pos = tr.batch(tr.pos_rows[:16])
    s.g_step(pos)
    st = s.stats()
    with torch.no_grad():
        sub = rec["cand"].take(torch.arange(10 * 6))
        out = s.D(sub)
        po = s.D(tr.batch(tr.pos_rows[:10]))
    score = out.score.view(10, 6).numpy()
    pen = np.stack([numpy_penalty(ModelOutput(po.score[i:i + 1].repeat(6), po.e_i[i:i + 1].repeat(6, 1),
                                              po.e_h[i:i + 1].repeat(6, 1), po.e_s[i:i + 1].repeat(6, 1)),
                                  ModelOutput(out.score[i * 6:(i + 1) * 6], out.e_i[i * 6:(i + 1) * 6],
                                              out.e_h[i * 6:(i + 1) * 6], out.e_s[i * 6:(i + 1) * 6]), 3.0, 5.0)
                    for i in range(10)])
    taus = [stats.kendalltau(score[i], -pen[i]).statistic for i in range(10)]
    assert st["tau_penalty"] == pytest.approx(np.nanmean(taus), abs=1e-6)


def test_pretrain_step_trains_generator_as_discriminator(dd):
    tr = dd["train"]
    s = adversarial("rgan", dd)
    pos = tr.batch(tr.pos_rows[:32])
    d_before = [p.detach().clone() for p in s.D.parameters()]
    g_before = [p.detach().clone() for p in s.G.parameters()]
    loss = s.pretrain_step(pos)
    assert np.isfinite(loss) and loss >= 0
    assert any(not torch.equal(a, b.detach()) for a, b in zip(g_before, s.G.parameters()))
    assert all(torch.equal(a, b.detach()) for a, b in zip(d_before, s.D.parameters()))
    assert s.baseline == 0.0
    assert "g_pretrain_loss" in s.stats()


# --------------------------------------------------------------------------- schedule
def test_start_epoch_temperature_and_generator_lr(dd):
    s = adversarial("rgan", dd, temperature=20.0, temperature_decay=0.98, lr_g=0.01, pretrain_epochs=1, lr_halve_every=4)
    s.start_epoch(1)  # pre-training: T untouched
    assert s.temperature == 20.0 and s.pretraining and s.game_epoch == 0
    for g in range(1, 8):
        s.start_epoch(g + 1)
        assert not s.pretraining and s.game_epoch == g
        assert s.temperature == pytest.approx(20.0 * 0.98 ** (g - 1), rel=1e-12)
        assert s.opt_g.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5 ** (g // 4))  # halved at epochs 5, 9
        st = s.stats()
        assert st["policy_temperature"] == pytest.approx(20.0 * 0.98 ** (g - 1)) and st["game_epoch"] == g


# --------------------------------------------------------------------------- greedy limit
def test_zero_temperature_draws_argmax_and_does_not_crash(dd):
    tr = dd["train"]
    s = adversarial("rgan", dd, temperature=0.0, pretrain_epochs=0)
    s.start_epoch(1)
    assert s.temperature == 0.0
    pos = tr.batch(tr.pos_rows[:8])
    rec = record_candidates(s)
    neg = s.negatives(pos)
    C = s.config.n_candidates
    with torch.no_grad():
        e_pos = s.G(pos).e_s.double().numpy()
        e_c = s.G(rec["cand"]).e_s.double().numpy().reshape(8, C, -1)
    k = numpy_policy(e_pos, e_c, 0.0).argmax(1)
    np.testing.assert_array_equal(neg.rows.numpy(), rec["cand"].rows.view(8, C).numpy()[np.arange(8), k])
    loss = s.g_step(pos)  # a deterministic policy has no REINFORCE gradient; must not raise
    assert np.isfinite(loss)


# --------------------------------------------------------------------------- draws without replacement
def test_draw_distinct_is_a_uniform_subset(dd):
    """Groups of n >= k give k distinct rows, each row of the group included with probability
    k / n (chi-square against uniform); groups of n < k give all their rows first."""
    s = simple("uniform", dd["train"])
    rows = torch.arange(100)
    keys = torch.cat([torch.zeros(10), torch.ones(3), torch.full((87,), 2.0)]).long()  # groups of 10, 3, 87
    g = samplers.GroupIndex(rows, keys)
    k = 4
    out = g.draw_distinct(torch.zeros(20000, dtype=torch.long), s, k).numpy()
    assert all(len(set(r)) == k for r in out[:2000])
    counts = np.bincount(out.ravel(), minlength=10)[:10]
    assert stats.chisquare(counts).pvalue > 1e-3 and counts.sum() == 20000 * k
    small = g.draw_distinct(torch.ones(50, dtype=torch.long), s, k).numpy()
    assert (np.sort(small[:, :3], axis=1) == np.array([10, 11, 12])).all()  # all 3 rows first
    assert np.isin(small[:, 3], [10, 11, 12]).all()  # then with replacement
    empty = samplers.GroupIndex(rows[:5], keys[:5])
    assert (empty.draw_distinct(torch.tensor([7]), s, 3) == -1).all()


# --------------------------------------------------------------------------- policy diagnostics, cosine policy
def numpy_diagnostics(p, e_pos, e_cand):
    p = np.clip(np.asarray(p, np.float64), 1e-30, None)
    C = p.shape[1]
    H = -(p * np.log(p)).sum(1)
    return {"policy_entropy": H.mean(), "policy_effective_candidates": np.exp(H).mean(),
            "policy_kl_uniform": (np.log(C) - H).mean(), "policy_tv_uniform": 0.5 * np.abs(p - 1 / C).sum(1).mean(),
            "policy_max_min_ratio": np.exp((np.log(p.max(1)) - np.log(p.min(1))).mean()),
            "policy_pos_norm": np.linalg.norm(e_pos, axis=1).mean(), "policy_cand_norm": np.linalg.norm(e_cand, axis=2).mean()}


@pytest.mark.parametrize("T", [0.5, 5.0, 50.0])
def test_policy_diagnostics_match_numpy(T):
    g = torch.Generator().manual_seed(1)
    e_pos, e_cand = torch.randn(30, 12, generator=g), torch.randn(30, 9, 12, generator=g)
    logp = policy_logits(e_pos, e_cand, T).log_softmax(1)
    got = samplers.policy_diagnostics(logp, e_pos, e_cand)
    ref = numpy_diagnostics(logp.exp().numpy(), e_pos.numpy(), e_cand.numpy())
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, rel=1e-4), key
    uniform = samplers.policy_diagnostics(torch.full((4, 9), -math.log(9)), e_pos[:4], e_cand[:4])
    assert uniform["policy_effective_candidates"] == pytest.approx(9.0) and uniform["policy_tv_uniform"] == pytest.approx(0, abs=1e-6)


def test_cosine_policy_matches_numpy():
    g = torch.Generator().manual_seed(2)
    e_pos, e_cand = torch.randn(7, 5, generator=g) * 3, torch.randn(7, 6, 5, generator=g)
    p = policy_probs(e_pos, e_cand, 0.25, kind="cosine").numpy()
    a, c = e_pos.double().numpy(), e_cand.double().numpy()
    cos = np.einsum("bcd,bd->bc", c, a) / np.linalg.norm(c, axis=2) / np.linalg.norm(a, axis=1)[:, None]
    z = np.exp(cos / 0.25 - (cos / 0.25).max(1, keepdims=True))
    np.testing.assert_allclose(p, z / z.sum(1, keepdims=True), rtol=1e-5)
    # the paper's logits scale with ||e_G(s)||, the cosine's do not
    assert torch.allclose(policy_probs(e_pos * 10, e_cand, 0.25, kind="cosine"), torch.as_tensor(p), atol=1e-6)
    assert not torch.allclose(policy_probs(e_pos * 10, e_cand, 0.25), policy_probs(e_pos, e_cand, 0.25), atol=1e-3)


def test_sampler_logs_policy_diagnostics_of_its_draws(dd):
    tr = dd["train"]
    s = adversarial("rgan", dd, temperature=1.0, policy="cosine")
    rec = record_candidates(s)
    pos = tr.batch(tr.pos_rows[:10])
    with torch.no_grad():
        logp = s._policy(pos, s.candidates(pos))
    s._stats.clear()
    s._policy(pos, rec["cand"])
    st = s.stats()
    with torch.no_grad():
        e_pos, e_c = s.G(pos).e_s, s.G(rec["cand"]).e_s.view(10, s.config.n_candidates, -1)
    ref = numpy_diagnostics(policy_probs(e_pos, e_c, 1.0, kind="cosine").numpy(), e_pos.numpy(), e_c.numpy())
    for key, value in ref.items():
        assert st[key] == pytest.approx(value, rel=1e-3), key
    assert logp.shape == (10, s.config.n_candidates)


def test_joint_schedule_is_algorithm_1_to_the_letter(dd):
    """schedule="joint": every step updates D on one policy draw, then G with the updated D's
    reward (D gets one update per step, like the non-adversarial samplers)."""
    s = adversarial("rgan", dd, schedule="joint", pretrain_epochs=0)
    log = []
    pairwise, reinforce = s.critic.pairwise, s._reinforce
    s.critic.pairwise = lambda p, n: (log.append(("D", n.rows.clone())), pairwise(p, n))[1]
    s._reinforce = lambda pos, cand, logp, k: (log.append(("G", cand.rows.view(len(pos), -1)[torch.arange(len(pos)), k])),
                                              reinforce(pos, cand, logp, k))[1]
    s.start_epoch(1)
    for rows in s.epoch_batches(1)[:3]:
        s.step(rows)
    assert [kind for kind, _ in log] == ["D", "G"] * 3
    for (_, d_rows), (_, g_rows) in zip(log[0::2], log[1::2]):
        assert torch.equal(d_rows, g_rows)  # the same drawn negatives train D and reward G
    st = s.stats()
    assert st["g_steps"] == 3 and len(s.critic.losses) == 3


def test_unknown_policy_and_schedule_are_refused():
    with pytest.raises(ValueError, match="policy"):
        SamplerConfig(policy="softer")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="random")


def test_samplers_with_one_seed_see_the_same_batches(dd):
    """The batch order has its own generator: uniform and user-fixed runs with one seed draw
    different negatives but train on the same batches of positives, epoch after epoch."""
    def make(name):
        return samplers.build(name, dd["train"], SamplerConfig(), torch.Generator().manual_seed(5), 30,
                              order=torch.Generator().manual_seed(7))

    a, b = make("uniform"), make("user_fixed")
    for epoch in (1, 2, 3):
        ba, bb = a.epoch_batches(epoch), b.epoch_batches(epoch)
        assert all(torch.equal(x, y) for x, y in zip(ba, bb))
        a.negatives(dd["train"].batch(ba[0]))  # negatives consume the other generator only
        b.negatives(dd["train"].batch(bb[0]))
