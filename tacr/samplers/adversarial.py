"""Adversarial samplers (docs/method.md §5-6, Sec. 3.1, Algorithm 1): rGAN, IRGAN and IRGAN++.

All three share one generator G (a model of the discriminator's structure, own weights) and
differ only in their candidate sets:

* rGAN — C observed negatives drawn uniformly;
* IRGAN — C *non-positive* pairs: the positive's user, history and time with items that
  user never clicked;
* IRGAN++ — C observed negatives with the positive's target item (distinct rows, as many as
  the item has), topped up with distinct observed negatives of its category (uniform if the
  category has none).

Equations:

* Eq. (16) policy ``p_G(s'|s) = softmax_{s' in cand(s)}(e_G(s')·e_G(s) / (T ||e_G(s')||_2))``
  (:func:`policy_probs`; ``T = 0`` is the greedy limit, a one-hot argmax). Beyond the paper,
  ``policy="cosine"`` also divides by ``||e_G(s)||``: the paper's logit is bounded by
  ``||e_G(s)|| / T`` (the diagnostics log ``||e_G(s)||``: where it is a few units, the policy
  is close to uniform at T = 20), the cosine's by ``1 / T`` whatever the embedding's scale. :func:`policy_diagnostics` measures
  how far each policy evaluation is from uniform (logged per epoch);
* Eq. (10) penalty ``p(s,s') = λ_i ||e_i^D(s) - e_i^D(s')|| + λ_h ||e_h^D(s) - e_h^D(s')||``
  (plain Euclidean norms, docs/method.md §6.2), in D's embedding space (:func:`penalty`);
* Eq. (13) reward ``r = f_D(s') - p(s,s')``; for non-positive pairs the history term is zero;
  the reward variants of Fig. 7 are ``score`` (``f_D``), ``penalty`` (``-p``), ``both``;
* Eq. (12), (14), (15) REINFORCE with K = 1 draw: G minimises
  ``-mean_s log p_G(s'|s) (r(s') - b)``, rewards are constants, and ``b`` is the mean reward
  of the *previous* mini-batch (0 before the first).

Algorithm 1 lives here, whole (:class:`Adversarial`: ``start_epoch`` and ``step``):

* line 1, pre-training (docs/method.md §6.4): in the first ``pretrain_epochs`` epochs D learns with
  uniform negatives and G is trained as a discriminator with the hinge loss (Eq. 8) on the same
  batches;
* lines 2-11, the game: the steps of an epoch alternate ``d_steps_per_g`` D steps (D's hinge
  update against one draw from G's policy over fresh candidates) and one G step (REINFORCE);
* the schedules: T starts at ``temperature`` in the first game epoch and is multiplied by
  ``temperature_decay`` each epoch after; G's learning rate is halved every ``lr_halve_every``
  epochs, like D's.

The trainer (:func:`tacr.train.run`) only loops over epochs and steps and calls ``step``; D's
update itself is the trainer's :class:`~tacr.train.Critic`.

Speed: with ``policy_distinct_rows`` G's policy pass evaluates each distinct (row, target item)
of the batch once and gathers (rGAN draws C = 20 of ~36K negatives for each of ~1,500 positives
on MovieLens-100K: 30 % of the candidate rows repeat). The values are the same; the weight
gradients of repeated rows are summed before the backward pass, so last bits differ.

Memory: G's update back-propagates through G's pass over all B x (C + 1) rows. Above
:data:`MAX_GRAD_ROWS` rows (the paper's batch: 4,317 x 36 = 155K rows of mostly distinct
histories, a ~7 GB autograd graph on CPU) the G step runs chunk by chunk over the positives, at
most that many rows a chunk: G's policy pass, the draws (chunk-invariant: one generator, rows in
order), D's reward and the backward pass of the chunk's share of the loss, whose graph is freed
before the next chunk. The loss is a sum over positives, so the gradient is the same up to float
summation order. The joint schedule, whose D update sits between the draws and the reward, draws
from a pass without gradient first and then recomputes the policy chunk by chunk. Every profile
the study runs (at most 54K rows a pass) stays on the one-pass path, bit for bit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..batch import Batch, distinct
from ..losses import hinge_loss, lr_at
from ..metrics import kendall_tau_rows

#: Kendall tau's random permutations (Fig. 8's control) come from a generator seeded with
#: ``seed + TAU_SEED_OFFSET``, apart from the sampler's: turning the diagnostic off
#: (``tau_positives=0``) or on changes no draw of the training.
TAU_SEED_OFFSET = 3_000_017
from .base import GroupIndex, Sampler

REWARDS = ("score", "penalty", "both")
#: Rows (positives and candidates) of G's largest differentiable pass; larger updates are chunked.
MAX_GRAD_ROWS = 65_536
POLICY_COLUMNS = ("policy_entropy", "policy_effective_candidates", "policy_kl_uniform", "policy_tv_uniform",
                  "policy_max_min_ratio", "policy_pos_norm", "policy_cand_norm")


def policy_probs(pos_emb: torch.Tensor, cand_emb: torch.Tensor, temperature: float, kind: str = "paper") -> torch.Tensor:
    """Eq. (16): (B, D) positive and (B, C, D) candidate embeddings -> (B, C) probabilities."""
    if temperature > 0:
        return policy_logits(pos_emb, cand_emb, temperature, kind).softmax(dim=1)
    return _greedy(pos_emb, cand_emb, kind)


def _similarity(pos_emb, cand_emb, kind: str) -> torch.Tensor:
    """``e_G(s')·e_G(s) / ||e_G(s')||`` (Eq. 16), or the cosine (also over ``||e_G(s)||``): (B, C)."""
    sim = torch.einsum("bcd,bd->bc", cand_emb, pos_emb) / cand_emb.norm(dim=2).clamp_min(1e-12)  # (B, C)
    return sim / pos_emb.norm(dim=1, keepdim=True).clamp_min(1e-12) if kind == "cosine" else sim


def policy_logits(pos_emb: torch.Tensor, cand_emb: torch.Tensor, temperature: float, kind: str = "paper") -> torch.Tensor:
    """The softmax argument of Eq. (16), (B, C); ``temperature`` must be positive."""
    return _similarity(pos_emb, cand_emb, kind) / temperature


def _greedy(pos_emb, cand_emb, kind: str = "paper"):
    sim = _similarity(pos_emb, cand_emb, kind)
    return F.one_hot(sim.argmax(dim=1), sim.shape[1]).to(sim.dtype)


@torch.no_grad()
def policy_diagnostics(logp: torch.Tensor, pos_emb: torch.Tensor, cand_emb: torch.Tensor) -> dict:
    """How far a policy is from uniform, averaged over its B rows of C candidates:

    * ``policy_entropy`` H = -sum p log p (nats; log C for uniform) and
      ``policy_effective_candidates`` exp(H) (C for uniform, 1 for a one-hot policy);
    * ``policy_kl_uniform`` KL(p || uniform) = log C - H;
    * ``policy_tv_uniform`` the total variation distance to uniform, 1/2 sum |p - 1/C|: under the
      best coupling, the share of draws that differ from a uniform draw;
    * ``policy_max_min_ratio`` the largest over the smallest probability (geometric mean over
      rows; probabilities are floored at 1e-30, so a greedy policy shows ~1e30);
    * ``policy_pos_norm`` and ``policy_cand_norm``, the mean ``||e_G(s)||`` and ``||e_G(s')||``.
    """
    C = logp.shape[1]
    logp = logp.double().clamp_min(math.log(1e-30))  # (B, C), float64: a near-uniform KL is ~1e-4
    p = logp.exp()
    H = -(p * logp).sum(1)  # (B,)
    return {"policy_entropy": float(H.mean()), "policy_effective_candidates": float(H.exp().mean()),
            "policy_kl_uniform": float((math.log(C) - H).mean()),
            "policy_tv_uniform": float(0.5 * (p - 1.0 / C).abs().sum(1).mean()),
            "policy_max_min_ratio": float((logp.max(1).values - logp.min(1).values).mean().exp()),
            "policy_pos_norm": float(pos_emb.norm(dim=-1).mean()), "policy_cand_norm": float(cand_emb.norm(dim=-1).mean())}


def penalty(pos_out, neg_out, lambda_i: float, lambda_h: float, same_history: bool = False) -> torch.Tensor:
    """Eq. (10) in D's embedding space, (B,); the history term is dropped for non-positive
    pairs (same user, Eq. 13 second case)."""
    p = lambda_i * (pos_out.e_i - neg_out.e_i).norm(dim=-1)
    if not same_history:
        p = p + lambda_h * (pos_out.e_h - neg_out.e_h).norm(dim=-1)
    return p


class Adversarial(Sampler):
    """The generator and REINFORCE game shared by rGAN, IRGAN and IRGAN++."""

    adversarial = True
    same_history = False  # candidates share the positive's user and history (IRGAN)
    reward_kind = "both"

    def __init__(self, train, config, generator, steps_per_epoch: int = 30, *, critic=None, gen_model=None, order=None):
        super().__init__(train, config, generator, steps_per_epoch, critic=critic, order=order)
        if critic is None or gen_model is None:
            raise ValueError(f"{self.name} needs a critic (the discriminator) and a generator model")
        if config.n_candidates < 1:
            raise ValueError(f"n_candidates must be >= 1, got {config.n_candidates}")
        self.D = critic.model
        self.G = gen_model
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=(0.9, 0.999), eps=1e-8,
                                      weight_decay=getattr(config, "weight_decay", 0.0))
        # Fig. 8's random control draws from its own generator: the diagnostic never moves training
        self.tau_gen = torch.Generator(device=self.device).manual_seed(int(getattr(config, "seed", 0)) + TAU_SEED_OFFSET)
        self.baseline = 0.0  # b of Eq. (14), from the previous mini-batch
        self.temperature = config.temperature
        self.epoch = 0
        self._step = 0  # step within the epoch: decides D or G
        self._g_steps = 0
        self._stats: dict[str, list] = {}
        self.max_grad_rows = MAX_GRAD_ROWS

    # -- candidates -------------------------------------------------------------------------
    def candidates(self, pos: Batch) -> Batch:
        """B*C candidate samples, positive-major: candidate c of positive b at b*C + c."""
        raise NotImplementedError

    # -- Algorithm 1 -------------------------------------------------------------------------
    @property
    def pretraining(self) -> bool:
        """Line 1 of Algorithm 1: the first ``pretrain_epochs`` epochs."""
        return self.epoch <= self.config.pretrain_epochs

    @property
    def game_epoch(self) -> int:
        """Epochs since pre-training ended (0 during pre-training)."""
        return max(self.epoch - self.config.pretrain_epochs, 0)

    def start_epoch(self, epoch: int) -> None:
        """Both schedules: T decays by ``temperature_decay`` per game epoch from ``temperature``;
        G's learning rate halves every ``lr_halve_every`` epochs."""
        self.epoch, self._step, self._g_steps = epoch, 0, 0
        if self.game_epoch >= 1:
            self.temperature = self.config.temperature * self.config.temperature_decay ** (self.game_epoch - 1)
        for group in self.opt_g.param_groups:
            group["lr"] = lr_at(self.config.lr_g, epoch, self.config.lr_halve_every)

    def step(self, rows: torch.Tensor) -> None:
        """One step of Algorithm 1 on a batch of positives: pre-training (D and G against
        uniform negatives), or a D step or a G step of the game."""
        pos = self.train.batch(rows)
        r = self.config.d_steps_per_g
        if self.pretraining:
            self.critic.pairwise(pos, self.train.batch(self.uniform_negative_rows((len(pos),))))
            self.pretrain_step(pos)
        elif self.config.schedule == "joint":
            self.joint_step(pos)
            self._g_steps += 1
        elif self._step % (r + 1) == r:
            self.g_step(pos)
            self._g_steps += 1
        else:
            self.critic.pairwise(pos, self.negatives(pos))
        self._step += 1

    # -- the policy -------------------------------------------------------------------------
    def _policy_parts(self, pos: Batch, cand: Batch):
        """Eq. (16) under G (differentiable): log-probabilities (B, C) with G's embeddings of the
        positives (B, D) and candidates (B, C, D)."""
        B, C = len(pos), self.config.n_candidates
        both = pos.cat(cand)  # one batched pass over positives and candidates
        if self.config.policy_distinct_rows:
            first, inv = distinct(both.rows * self.train.data.spec.n_items + both.item)  # by row and target item
            e_s = self.G(both.take(first)).e_s[inv]  # (B + B*C, D): each distinct sample once
        else:
            e_s = self.G(both).e_s  # (B + B*C, D)
        e_pos, e_cand = e_s[:B], e_s[B:].view(B, C, -1)  # (B, D), (B, C, D)
        kind = self.config.policy
        if self.temperature > 0:
            logp = policy_logits(e_pos, e_cand, self.temperature, kind).log_softmax(dim=1)
        else:
            logp = torch.log(_greedy(e_pos, e_cand, kind).clamp_min(1e-30))
        return logp, e_pos, e_cand

    def _policy(self, pos: Batch, cand: Batch) -> torch.Tensor:
        """Log-probabilities (B, C) of Eq. (16) under G (differentiable); logs the diagnostics."""
        logp, e_pos, e_cand = self._policy_parts(pos, cand)
        self._log(**policy_diagnostics(logp, e_pos, e_cand))
        return logp

    def _chunks(self, B: int) -> list[slice]:
        """Positives per differentiable pass of G: one slice, or chunks of at most
        ``max_grad_rows`` rows (see the module docstring)."""
        per = max(1, self.max_grad_rows // (self.config.n_candidates + 1))
        return [slice(0, B)] if B <= per else [slice(a, min(a + per, B)) for a in range(0, B, per)]

    def _draw(self, logp: torch.Tensor) -> torch.Tensor:
        """K = 1 index per positive from the policy, (B,)."""
        return torch.multinomial(logp.detach().exp(), 1, generator=self.gen).squeeze(1)

    def negatives(self, pos: Batch) -> Batch:
        """D's negatives: one draw per positive from G's policy over the candidates."""
        cand = self.candidates(pos)
        with torch.no_grad():
            logp = self._policy(pos, cand)
        k = self._draw(logp)
        return cand.take(torch.arange(len(pos), device=self.device) * self.config.n_candidates + k)

    def reward(self, pos_out, neg_out) -> torch.Tensor:
        """Eq. (13) and the Fig. 7 variants, (B,), computed by D without gradient."""
        kind = self.reward_kind
        if kind == "score":
            return neg_out.score
        p = penalty(pos_out, neg_out, self.config.lambda_i, self.config.lambda_h, self.same_history)
        return -p if kind == "penalty" else neg_out.score - p

    def g_step(self, pos: Batch) -> float:
        """One REINFORCE update of G (Eq. 15) on fresh candidates; returns the G loss."""
        cand = self.candidates(pos)
        if len(self._chunks(len(pos))) > 1:
            return self._reinforce(pos, cand)  # policy, draws and gradient chunk by chunk
        logp = self._policy(pos, cand)  # (B, C)
        k = self._draw(logp)  # (B,)
        return self._reinforce(pos, cand, logp, k)

    def joint_step(self, pos: Batch) -> float:
        """Algorithm 1, lines 5-9, to the letter: one draw from G's policy; D's hinge update on
        it (line 7); then G's REINFORCE update with the updated D's reward (lines 8-9)."""
        cand = self.candidates(pos)
        chunked = len(self._chunks(len(pos))) > 1
        with torch.set_grad_enabled(torch.is_grad_enabled() and not chunked):
            logp = self._policy(pos, cand)  # (B, C), differentiable for G's update below (one pass)
        k = self._draw(logp)  # (B,)
        self.critic.pairwise(pos, cand.take(torch.arange(len(pos), device=self.device) * self.config.n_candidates + k))
        return self._reinforce(pos, cand, None if chunked else logp, k)

    def _reinforce(self, pos: Batch, cand: Batch, logp: torch.Tensor | None = None, k: torch.Tensor | None = None) -> float:
        """Eq. (12)-(15) with K = 1: D's reward (Eq. 13) of the drawn candidates ``k``, the
        baseline of the previous batch, and G's update; returns the G loss.

        With ``logp`` (differentiable, (B, C)) the update is one pass. Without it, G's policy is
        evaluated chunk by chunk (:meth:`_chunks`), drawing ``k`` there unless given, and each
        chunk's share of the loss is back-propagated before the next chunk's pass."""
        B, C = len(pos), self.config.n_candidates
        chunks = [slice(0, B)] if logp is not None else self._chunks(B)
        self.opt_g.zero_grad(set_to_none=True)
        losses, rewards, pos_outs, policy, stepped = [], [], [], [], False
        for sl in chunks:
            if logp is not None:
                p, c, lp, kk = pos, cand, logp, k
            else:
                p = pos.take(torch.arange(sl.start, sl.stop, device=self.device))
                c = cand.take(torch.arange(sl.start * C, sl.stop * C, device=self.device))
                lp, e_pos, e_cand = self._policy_parts(p, c)
                if k is None:
                    kk = self._draw(lp)  # draws are chunk-invariant: one generator, rows in order
                    policy.append((lp.detach(), e_pos.detach(), e_cand.detach()))
                else:
                    kk = k[sl]
            n = len(p)
            chosen = c.take(torch.arange(n, device=self.device) * C + kk)
            with torch.no_grad():
                pos_out, chosen_out = self.D(p.cat(chosen)).split([n, n])
                r = self.reward(pos_out, chosen_out)  # (n,)
            picked = lp.gather(1, kk[:, None]).squeeze(1) * (r - self.baseline)  # (n,)
            loss = -picked.mean() if len(chunks) == 1 else -picked.sum() / B
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{self.name}: non-finite generator loss")
            if loss.requires_grad:  # T = 0: the greedy (deterministic) policy has no REINFORCE gradient
                loss.backward()
                stepped = True
            losses.append(loss.item())
            rewards.append(r)
            pos_outs.append(pos_out)
        if stepped:
            self.opt_g.step()
        if policy:
            self._log(**policy_diagnostics(*(torch.cat(parts) for parts in zip(*policy))))
        r = torch.cat(rewards)  # (B,)
        loss = sum(losses)
        self.baseline = float(r.mean())
        self._log(g_loss=loss, mean_reward=float(r.mean()))
        if len(pos_outs) > 1:
            pos_outs = [type(pos_out)(*(torch.cat([getattr(o, f) for o in pos_outs]) for f in ("score", "e_i", "e_h", "e_s")))]
        self._kendall(pos, cand, pos_outs[0])
        return loss

    def pretrain_step(self, pos: Batch) -> float:
        """Algorithm 1, line 1: G learns as a discriminator (hinge, Eq. 8) on uniform negatives."""
        neg = self.train.batch(self.uniform_negative_rows((len(pos),)))
        s_pos, s_neg = self.G(pos.cat(neg)).score.split([len(pos), len(neg)])
        loss = hinge_loss(s_pos, s_neg, self.config.margin)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{self.name}: non-finite generator pre-training loss")
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self._log(g_pretrain_loss=loss.item())
        return loss.item()

    # -- Fig. 8 ------------------------------------------------------------------------------
    @torch.no_grad()
    def _kendall(self, pos: Batch, cand: Batch, pos_out) -> None:
        """Kendall tau between D's score ranking and the -penalty ranking of each positive's
        candidates, and between the score ranking and a random permutation."""
        n = min(len(pos), self.config.tau_positives)
        C = self.config.n_candidates
        if n == 0 or C < 2:
            return
        sub = cand.take(torch.arange(n * C, device=self.device))
        out = self.D(sub)
        score = out.score.view(n, C)
        pos_rep = type(pos_out)(**{f: (getattr(pos_out, f)[:n].repeat_interleave(C, dim=0)) for f in ("score", "e_i", "e_h", "e_s")})
        neg_pen = -penalty(pos_rep, out, self.config.lambda_i, self.config.lambda_h, self.same_history).view(n, C)
        rand = torch.rand((n, C), generator=self.tau_gen, device=self.device)
        s = score.cpu().numpy()
        self._log(tau_penalty=float(np.nanmean(kendall_tau_rows(s, neg_pen.cpu().numpy()))),
                  tau_random=float(np.nanmean(kendall_tau_rows(s, rand.cpu().numpy()))))

    def _log(self, **values) -> None:
        for key, value in values.items():
            self._stats.setdefault(key, []).append(value)

    def stats(self) -> dict:
        """The epoch's means (G loss, mean reward, Kendall tau, pre-training loss), the policy
        temperature in force, the G steps and whether the epoch was pre-training."""
        out = {key: float(np.mean(v)) for key, v in self._stats.items()}
        out.update(policy_temperature=self.temperature, g_steps=self._g_steps, pretraining=self.pretraining,
                   game_epoch=self.game_epoch)
        self._stats = {}
        return out


class RGAN(Adversarial):
    """The paper's sampler: C uniformly drawn observed negatives; reward of Eq. (13)."""

    name = "rgan"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.config.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.config.reward!r}")
        self.reward_kind = self.config.reward

    def candidates(self, pos: Batch) -> Batch:
        return self.train.batch(self.uniform_negative_rows((len(pos), self.config.n_candidates)))


class IRGAN(Adversarial):
    """IRGAN: non-positive pairs (the positive's user with items that user never clicked);
    score-only reward."""

    name = "irgan"
    same_history = True
    reward_kind = "score"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        train = self.train
        n_items = train.data.spec.n_items
        pos = train.pos_rows
        self.n_items = n_items
        self.clicked = torch.unique(train.user[pos] * n_items + train.item[pos])  # sorted (user, item) keys

    def never_clicked_items(self, users: torch.Tensor, k: int) -> torch.Tensor:
        """(B,) users -> (B, k) items each user never clicked in training (redrawn on collision)."""
        items = self.randint(self.n_items, (len(users), k))
        for _ in range(20):
            key = users[:, None] * self.n_items + items
            idx = torch.searchsorted(self.clicked, key.reshape(-1)).clamp(max=len(self.clicked) - 1).view_as(key)
            hit = self.clicked[idx] == key
            if not hit.any():
                break
            items = torch.where(hit, self.randint(self.n_items, items.shape), items)
        return items

    def candidates(self, pos: Batch) -> Batch:
        C = self.config.n_candidates
        items = self.never_clicked_items(pos.user, C)  # (B, C)
        return pos.repeat(C).with_item(items.reshape(-1))


class IRGANPlusPlus(Adversarial):
    """IRGAN++: observed negatives with the same target item, topped up from the same category;
    score-only reward."""

    name = "irgan_pp"
    reward_kind = "score"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        neg = self.train.neg_rows
        item = self.train.item[neg]
        self.by_item = GroupIndex(neg, item)
        self.by_category = GroupIndex(neg, self.train.data.category[item])

    def candidates(self, pos: Batch) -> Batch:
        B, C = len(pos), self.config.n_candidates
        _, n_same_item = self.by_item.bounds(pos.item)
        same_item = self.by_item.draw_distinct(pos.item, self, C)  # (B, C), distinct where the item allows
        same_cat = self.by_category.draw_distinct(self.train.data.category[pos.item], self, C)
        uniform = self.uniform_negative_rows((B, C))
        slot = torch.arange(C, device=self.device)[None, :]
        rows = torch.where((slot < n_same_item[:, None]) & (same_item >= 0), same_item,
                           torch.where(same_cat >= 0, same_cat, uniform))
        return self.train.batch(rows)
