"""The sampler interface the trainer calls (docs/method.md §5), and row-index helpers shared by samplers.

A sampler owns everything a training step does besides the discriminator's own update:

* ``epoch_batches(epoch)`` — the row batches of an epoch (30 by default: positives, or all rows
  for the pointwise "logistic regression" sampler);
* ``start_epoch(epoch)`` — its schedules (adversarial samplers: temperature, G's learning rate);
* ``step(rows)`` — one training step on a batch of rows: it chooses the negatives and asks the
  :class:`Critic` (the trainer's discriminator D and its optimiser) for the update; adversarial
  samplers also train their generator here (Algorithm 1 lives in :mod:`.adversarial`);
* ``stats()`` — its per-epoch statistics (read and reset once per epoch).

:class:`SamplerConfig` holds every sampler knob with its default (the paper's, or the departure `docs/method.md` §11 lists); the trainer's
``TrainConfig`` derives from it, so the defaults exist once. Every draw uses the sampler's own
``torch.Generator``, so a seed fixes the whole run; the batch order has a generator of its own
(``order``), so runs of two samplers with one seed see the same batches in the same order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from ..batch import Batch, DeviceSplit


@dataclass(frozen=True)
class SamplerConfig:
    """The sampler knobs of docs/method.md §5-6 (``TrainConfig`` derives from this class)."""

    n_candidates: int = 35  # C
    temperature: float = 20.0  # T at the first game epoch (0: the greedy argmax policy)
    temperature_decay: float = 0.98  # per epoch
    lambda_i: float = 3.0  # Eq. (10)
    lambda_h: float = 5.0
    reward: str = "both"  # "score", "penalty", "both" (Fig. 7)
    margin: float = 1.0  # hinge margin γ of Eq. (8)
    under_ratio: int = 5  # negatives per positive for 1:5 under-sampling
    lr_g: float = 0.01
    lr_halve_every: int = 10  # D's and G's learning rates halve every this many epochs
    pretrain_epochs: int = 1  # Algorithm 1, line 1 (docs/method.md §6.4): counted in the epoch budget
    d_steps_per_g: int = 1  # D steps per G step in the game (a departure: alternate, docs/method.md §6.4)
    tau_positives: int = 64  # positives per G step whose C candidates are ranked for Kendall tau
    policy: str = "paper"  # Eq. (16) as written, or "cosine" (beyond the paper: T on a fixed scale)
    schedule: str = "alternate"  # D and G steps alternate (docs/method.md §6.4), or "joint" (Algorithm 1 literally)
    # G's policy pass evaluates a candidate drawn twice in one batch once (same values; weight
    # gradients summed in another order than one row at a time, so last bits differ from that).
    policy_distinct_rows: bool = True

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")


#: Eq. (16) as written (``e_G(s')·e_G(s) / (T ||e_G(s')||)``), or its cosine form (also divided
#: by ``||e_G(s)||``), whose logits lie in [-1/T, 1/T] whatever the embedding's scale.
POLICIES = ("paper", "cosine")
#: "alternate": an epoch's steps alternate ``d_steps_per_g`` D steps and one G step, each with
#: its own batch and candidates (docs/method.md §6); "joint": every step draws once from the
#: policy, updates D on that negative, then G with D's reward (Algorithm 1, lines 5-9, to the
#: letter), so D gets as many updates as under the non-adversarial samplers.
SCHEDULES = ("alternate", "joint")


class Critic(Protocol):
    """What a sampler needs from the trainer's discriminator: the model and its two updates."""

    model: torch.nn.Module

    def pairwise(self, pos: Batch, neg: Batch) -> float: ...

    def pointwise(self, batch: Batch) -> float: ...


class Sampler:
    """Base class: uniform positives in ``steps_per_epoch`` batches; subclasses choose negatives."""

    name = "base"
    loss = "pairwise"  # or "pointwise"
    adversarial = False

    def __init__(self, train: DeviceSplit, config: SamplerConfig, generator: torch.Generator,
                 steps_per_epoch: int = 30, *, critic: Critic | None = None, order: torch.Generator | None = None):
        if len(train.pos_rows) == 0 or len(train.neg_rows) == 0:
            raise ValueError("the training split needs both positives and observed negatives")
        self.train = train
        self.config = config
        self.gen = generator  # negatives, candidates, policy draws
        self.order = order if order is not None else generator  # the epochs' batch order
        self.steps_per_epoch = steps_per_epoch
        self.critic = critic

    @property
    def device(self) -> torch.device:
        return self.train.data.device

    def randint(self, high, size) -> torch.Tensor:
        """Uniform integers in [0, high) (``high`` a scalar or a tensor broadcast to ``size``)."""
        u = torch.rand(size, generator=self.gen, device=self.device)
        if isinstance(high, torch.Tensor):
            return torch.minimum((u * high).long(), (high - 1).clamp(min=0))
        return (u * high).long().clamp(max=high - 1)

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        rows = self.train.pos_rows
        perm = rows[torch.randperm(len(rows), generator=self.order, device=self.device)]
        return [b for b in torch.tensor_split(perm, self.steps_per_epoch) if len(b)]

    def uniform_negative_rows(self, shape) -> torch.Tensor:
        neg = self.train.neg_rows
        return neg[self.randint(len(neg), shape)]

    def start_epoch(self, epoch: int) -> None:
        """Called before each epoch (1-based)."""

    def step(self, rows: torch.Tensor) -> None:
        """One training step: D's update against this sampler's negatives (pairwise samplers)."""
        pos = self.train.batch(rows)
        self.critic.pairwise(pos, self.negatives(pos))

    def negatives(self, pos: Batch) -> Batch:  # pragma: no cover - interface
        raise NotImplementedError

    def stats(self) -> dict:
        """Per-epoch statistics for the trainer's row; reset after reading."""
        return {}


class GroupIndex:
    """Rows grouped by a key (user, item or category) for drawing within a group.

    ``draw(keys)`` returns uniformly drawn rows of each key's group (with replacement), and -1
    where the group is empty; ``draw_distinct`` draws without replacement where the group is
    large enough. Both are vectorised with ``searchsorted`` over the sorted keys.
    """

    def __init__(self, rows: torch.Tensor, keys: torch.Tensor):
        order = torch.argsort(keys, stable=True)
        self.rows = rows[order]  # (R,)
        self.keys = keys[order].contiguous()  # (R,) sorted

    def bounds(self, keys: torch.Tensor):
        keys = keys.contiguous()
        start = torch.searchsorted(self.keys, keys, right=False)
        end = torch.searchsorted(self.keys, keys, right=True)
        return start, end - start

    def draw(self, keys: torch.Tensor, sampler: Sampler, k: int = 1) -> torch.Tensor:
        """(B,) keys -> (B, k) rows drawn with replacement (-1 where the key has no rows)."""
        start, count = self.bounds(keys)
        offs = sampler.randint(count[:, None].expand(-1, k), (len(keys), k))  # (B, k)
        return self._rows(start, count, offs)

    def draw_distinct(self, keys: torch.Tensor, sampler: Sampler, k: int) -> torch.Tensor:
        """(B,) keys -> (B, k) rows without replacement where the group allows: a group of
        n >= k rows gives a uniformly random k-subset (Floyd's algorithm, vectorised over the
        batch); a group of n < k gives all its n rows, and its other k - n slots are drawn with
        replacement; -1 where the group is empty."""
        start, count = self.bounds(keys)
        offs = _floyd_subsets(count.clamp(min=k), k, sampler)  # (B, k) distinct in [0, max(n, k))
        small = count < k  # these groups cannot fill k distinct slots
        if small.any():
            slot = torch.arange(k, device=keys.device)[None, :]
            extra = sampler.randint(count[:, None].expand(-1, k), (len(keys), k))
            offs = torch.where(small[:, None], torch.where(slot < count[:, None], slot, extra), offs)
        return self._rows(start, count, offs)

    def _rows(self, start, count, offs):
        idx = (start[:, None] + offs).clamp(max=max(len(self.rows) - 1, 0))
        out = self.rows[idx] if len(self.rows) else torch.full_like(idx, -1)
        return torch.where(count[:, None] > 0, out, torch.full_like(out, -1))


def _floyd_subsets(n: torch.Tensor, k: int, sampler: Sampler) -> torch.Tensor:
    """(B,) sizes n >= k -> (B, k) distinct offsets in [0, n): a uniformly random k-subset per
    row by Floyd's algorithm (R. Floyd, CACM 1987), one vectorised pass per slot."""
    out = torch.empty((len(n), k), dtype=torch.long, device=n.device)
    for i in range(k):
        j = n - k + i  # (B,)
        t = sampler.randint(j + 1, (len(n),))  # uniform in [0, j]
        taken = (out[:, :i] == t[:, None]).any(dim=1)
        out[:, i] = torch.where(taken, j, t)
    return out
